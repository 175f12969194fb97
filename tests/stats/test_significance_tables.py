"""The tests on ytd and compstat tables: columns pinned in CSV/JSON/table, values equal the
significance functions, uncovered years refused, provenance kept.

Store: the tiny hand-made store (stats_fixtures.build_tiny_store: homicide rows in 2015,
2016 and 2017 only) and, for real figures, the shared 2012-2017 store.
"""

from __future__ import annotations

import io
import json
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from _shared import requires_shared
from crimescope.stats import compstat, significance as sg, ytd
from crimescope.store import Store
from test_counting_cli import make_app, store_file  # noqa: F401  (fixture)

YTD_COLUMNS = ["year", "start", "end", "count", "change_vs_prev_year", "pct_vs_prev_year", "avg_previous_years", "coverage",
               "rate_ratio", "ci_low", "ci_high", "p_value", "label", "avg_rate_ratio", "avg_ci_low",
               "avg_ci_high", "avg_p_value", "avg_label", "avg_dispersion"]
COMPSTAT_COLUMNS = ["category", "unit", "area", "district", "period", "start", "end", "count", "prev_start",
                    "prev_end", "prev_count", "change", "pct_change", "rate_ratio", "ci_low", "ci_high",
                    "p_value", "label", "q_value", "flagged"]


def run(store_file, *args):
    return CliRunner().invoke(make_app(), ["--store", str(store_file), *args])


def _csv(text):
    comments = [l for l in text.splitlines() if l.startswith("# ")]
    return comments, pd.read_csv(io.StringIO(text), comment="#")


def test_ytd_csv_columns_and_values(store_file):
    res = run(store_file, "ytd", "-c", "homicide", "--as-of", "2017-03-08", "--years", "2", "--format", "csv")
    assert res.exit_code == 0, res.output
    comments, df = _csv(res.output)
    assert list(df.columns) == YTD_COLUMNS
    # homicide Jan 1-Mar 8: 2015: 1, 2016: 4 (rows 1-4, 68 days: leap year), 2017: 2 (67 days)
    assert df["count"].tolist() == [1, 4, 2]
    t = sg.rate_test(2, 67, 4, 68)
    row = df[df["year"] == 2017].iloc[0]
    assert row["p_value"] == pytest.approx(t.p_value, rel=1e-3)
    assert row["rate_ratio"] == pytest.approx((2 / 67) / (4 / 68), abs=1e-4)
    assert row["label"] == sg.LABEL_WITHIN
    a = sg.average_test(2, 67, [1, 4], [67, 68])
    assert row["avg_p_value"] == pytest.approx(a.p_value, rel=1e-3)
    assert row["avg_dispersion"] == pytest.approx(a.dispersion, abs=1e-4)
    assert pd.isna(df.loc[df["year"] == 2015, "p_value"]).all()  # no year before in the table
    for key in ("# unit: victims", "# rule: homicide", "# source: ", "# data vintage:", "exact conditional",
                "quasi-Poisson"):
        assert any(key in c for c in comments), key


def test_ytd_json_meta_and_table(store_file):
    res = run(store_file, "ytd", "-c", "homicide", "--as-of", "2017-03-08", "--years", "2", "--format", "json")
    doc = json.loads(res.output)
    assert list(doc["rows"][0]) == YTD_COLUMNS
    comp = doc["meta"]["comparison"][0]
    assert set(comp["test_vs_last_year"]) == set(sg.TEST_COLUMNS)
    assert comp["test_vs_avg"]["label"] == sg.LABEL_WITHIN
    assert "quasi-Poisson" in doc["meta"]["tests"]["vs_avg"]
    for key in ("unit", "rule", "source", "vintage"):
        assert doc["meta"][key]
    res = run(store_file, "ytd", "-c", "homicide", "--as-of", "2017-03-08", "--years", "2")
    assert res.exit_code == 0 and "avg_label" in res.output and "rate ratio" in res.output


def test_ytd_uncovered_year_is_not_tested(store_file, tmp_path):
    """A store that holds 2015-01-01 on: 2014's comparison is refused, not run on 0."""
    import datetime as dt
    import shutil

    import pandas as pd

    from crimescope.store import coverage

    p = tmp_path / "from2015.duckdb"
    shutil.copyfile(store_file, p)
    with Store(p) as s:
        coverage.declare(s, "chicago", {"*": [(dt.date(2015, 1, 1), dt.date(2017, 12, 31))]})
    with Store(p, read_only=True) as s:
        r = ytd(s, "homicide", "2017-03-08", years=3)
    t = r.table.set_index("year")
    assert pd.isna(t.loc[2014, "count"]) and t.loc[2014, "coverage"] == "none"  # no figure, not 0
    assert t.loc[2015, "p_value"] is None and "2014 not covered" in t.loc[2015, "label"]
    assert t.loc[2017, "avg_p_value"] is None and "2014 not covered" in t.loc[2017, "avg_label"]
    assert t.loc[2017, "p_value"] is not None  # 2016 vs 2017 is covered: tested


def test_compstat_csv_json_columns(store_file):
    res = run(store_file, "compstat", "--as-of", "2017-03-08", "-c", "homicide", "-c", "robbery", "--format", "csv")
    assert res.exit_code == 0, res.output
    comments, df = _csv(res.output)
    assert list(df.columns) == COMPSTAT_COLUMNS
    tested = df["p_value"].notna()
    # no record in either span: outside the family
    assert ((df["count"] + df["prev_count"] == 0) == ~tested).all()
    n = int(tested.sum())
    assert any(f"0 of {n} cells are beyond normal variation" in c and "Benjamini-Hochberg" in c for c in comments)
    assert not df["flagged"].any() and (df["label"] == sg.LABEL_WITHIN).all()
    # q-values are BH over the tested cells' p-values
    q = sg.bh_qvalues(df.loc[tested, "p_value"].tolist())
    assert df.loc[tested, "q_value"].tolist() == pytest.approx(q, rel=1e-3)
    res = run(store_file, "compstat", "--as-of", "2017-03-08", "-c", "homicide", "--format", "json")
    doc = json.loads(res.output)
    assert list(doc["rows"][0]) == COMPSTAT_COLUMNS
    assert doc["meta"]["tests"]["table"].startswith("Benjamini-Hochberg")
    for key in ("unit", "rule", "source", "vintage"):
        assert doc["meta"][key]
    res = run(store_file, "compstat", "--as-of", "2017-03-08", "-c", "homicide")
    assert res.exit_code == 0 and "q_value" in res.output and "Benjamini-Hochberg" in res.output


@requires_shared
def test_ytd_homicide_2017_on_shared_data(chicago_store):
    """The issue's example: 113 vs 110 homicides (+2.7%) is within normal variation."""
    r = ytd(chicago_store, "homicide", "2017-03-08", years=5)
    row = r.table[r.table["year"] == 2017].iloc[0]
    assert (row["count"], r.table[r.table["year"] == 2016].iloc[0]["count"]) == (113, 110)
    from statsmodels.stats.rates import test_poisson_2indep

    ref = test_poisson_2indep(113, 67, 110, 68, method="exact-cond").pvalue
    assert row["p_value"] == pytest.approx(ref, rel=1e-3)
    assert row["label"] == sg.LABEL_WITHIN
    assert any("within normal variation" in n for n in r.meta["notes"])


@requires_shared
def test_compstat_shared_flags_are_few_and_stated(chicago_store):
    r = compstat(chicago_store, "2017-03-08")
    t = r.table
    assert list(t.columns) == COMPSTAT_COLUMNS
    summary = r.meta["tests"]
    assert summary["flagged"] == int(t["flagged"].sum()) and summary["tested"] == int(t["p_value"].notna().sum())
    assert summary["flagged"] < 0.05 * summary["tested"]
    # a flagged cell has a small q; every q is at least its p
    assert (t.loc[t["flagged"], "q_value"] <= 0.05).all()
    tested = t[t["p_value"].notna()]
    assert (tested["q_value"].astype(float) >= tested["p_value"].astype(float) - 1e-12).all()
