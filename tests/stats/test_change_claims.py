"""Claims about change: read, reproduced or not, and tested like every comparison."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from _shared import requires_shared
from crimescope.errors import CoverageError, ParameterError
from crimescope.stats import significance as sg
from crimescope.stats.change_claims import ChangeClaim, check_change_claims, parse_change_claim
from crimescope.stats.claims import check_claims, parse_claim
from crimescope.store import Store
from test_counting_cli import make_app, store_file  # noqa: F401  (fixture)
from typer.testing import CliRunner


@pytest.mark.parametrize("text,cat,pct,start,end", [
    ("shootings are up 50%", "shooting", 50, "2017-01-01", "2017-03-08"),
    ("homicides down 20% this year", "homicide", -20, "2017-01-01", "2017-03-08"),
    ("Murders fell by 3.5 percent in 2016", "murder", -3.5, "2016-01-01", "2016-12-31"),
    ("robberies have gone up 12% so far in 2017 in district 11", "robbery", 12, "2017-01-01", "2017-03-08"),
    ("homicides rose 10% in 2017", "homicide", 10, "2017-01-01", "2017-03-08"),  # said during 2017: so far
])
def test_reader(text, cat, pct, start, end):
    c = parse_claim(text, as_of="2017-03-08")  # the claims reader hands change sentences over
    assert isinstance(c, ChangeClaim)
    assert (c.category, c.value, c.period()) == (cat, pct, (dt.date.fromisoformat(start), dt.date.fromisoformat(end)))
    assert (c.district == 11) == ("district 11" in text)


def test_reader_refuses_and_passes_counts_on():
    assert parse_change_claim("110 homicides so far this year") is None
    with pytest.raises(ParameterError, match="--as-of"):
        parse_change_claim("shootings are up 50% this year")
    with pytest.raises(ParameterError, match="no category"):
        parse_change_claim("unicorns are up 50% in 2016")


def test_tiny_store_verdicts(store_file):
    """Tiny store, Jan 1-Mar 8: homicide 2017: 2 (rows 6, 8), 2016: 4 (rows 1-4): -50%."""
    with Store(store_file, read_only=True) as s:
        r = check_change_claims(s, [ChangeClaim("homicide", -50, "2017-01-01", "2017-03-08"),
                                    ChangeClaim("homicide", 50, "2017-01-01", "2017-03-08")])
    t = r.table
    assert t["count"].tolist() == [2, 2] and t["prev_count"].tolist() == [4, 4]
    assert t["computed_pct"].tolist() == [-50.0, -50.0]
    assert t["reproduced"].tolist() == [True, False]
    exact = sg.rate_test(2, 67, 4, 68)
    assert t["p_value"].tolist() == pytest.approx([exact.p_value] * 2, rel=1e-3)
    assert t.at[0, "verdict"] == "reproduced; the change is within normal variation"
    assert t.at[1, "verdict"].startswith("not reproduced; the change is within normal variation")
    assert "exact conditional" in r.meta["tests"] and r.meta["vintage"]


def test_uncovered_year_is_refused(store_file, tmp_path):
    """A store that holds 2016-01-01 on: a 2015 vs 2014 change is refused, never tested on zeros."""
    import shutil

    from crimescope.store import coverage

    p = tmp_path / "narrow.duckdb"
    shutil.copyfile(store_file, p)
    with Store(p) as s:
        coverage.declare(s, "chicago", {"*": [(dt.date(2016, 1, 1), dt.date(2017, 3, 8))]})
    with Store(p, read_only=True) as s, pytest.raises(CoverageError, match="does not cover homicide in 2014"):
        check_change_claims(s, [ChangeClaim("homicide", 10, "2015-01-01", "2015-12-31")])


def test_cli_change_claim_json(store_file):
    res = CliRunner().invoke(make_app(), ["--store", str(store_file), "claim", "homicides are down 50% this year",
                                          "--as-of", "2017-03-08", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    row = doc["rows"][0]
    assert row["reproduced"] is True and row["label"] == sg.LABEL_WITHIN
    assert doc["checks"][0]["verdict"] == row["verdict"]
    for key in ("unit", "rule", "source", "vintage"):
        assert doc["meta"][key]
    res = CliRunner().invoke(make_app(), ["--store", str(store_file), "claim", "homicides are down 50% this year",
                                          "--as-of", "2017-03-08"])
    assert "verdict: REPRODUCED; THE CHANGE IS WITHIN NORMAL VARIATION" in res.output


@requires_shared
def test_shared_examples(chicago_store):
    """2016's shooting surge: +43.2% (2,721 vs 1,900 in the 2012-2017 files) is beyond normal
    variation; a claimed +55% is not reproduced and lies outside the interval (rate ratio
    1.43, 95% CI 1.35-1.52)."""
    r = check_claims(chicago_store, [parse_claim("shootings rose 55% in 2016"),
                                     parse_claim("homicides are up 2.7% this year", as_of="2017-03-08")])
    t = r.table
    assert (t.at[0, "count"], t.at[0, "prev_count"]) == (2721, 1900)
    assert t.at[0, "label"] == sg.LABEL_UP and not t.at[0, "reproduced"] and not t.at[0, "claimed_within_ci"]
    assert t.at[1, "reproduced"] and t.at[1, "label"] == sg.LABEL_WITHIN
