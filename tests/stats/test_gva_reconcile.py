"""GVA as a second source of shooting victims, and `reconcile` (police vs GVA).

Expected GVA totals are summed by hand from the shared CSV's n_killed / n_injured columns (with
the csv module, not the importer); police figures by direct SQL on the store's IUCR codes.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter

import pytest
from typer.testing import CliRunner

from _shared import SHARED, requires_shared
from crimescope.errors import CoverageError
from crimescope.store import Store

pytestmark = requires_shared
HOMICIDE = "('0110','0130','0141','0142')"
SHOOTING = "('041A','041B','0450','0451','0480','0481','0488','0489')"


def gva_csv():
    return SHARED / "chicago" / "other" / "gva_chicago_2016_2017.csv"


@pytest.fixture(scope="module")
def gva_store_path(chicago_full_store_path, tmp_path_factory):
    from crimescope.sources.gva import ingest_file

    p = tmp_path_factory.mktemp("gva") / "with_gva.duckdb"
    shutil.copyfile(chicago_full_store_path, p)
    with Store(p) as s:
        b = ingest_file(s, gva_csv())
        assert b.rejected == 0
    return p


@pytest.fixture(scope="module")
def gva_store(gva_store_path):
    s = Store(gva_store_path, read_only=True)
    yield s
    s.close()


@pytest.fixture(scope="module")
def by_hand():
    """{month: (killed, injured)} from the CSV."""
    killed, injured = Counter(), Counter()
    with open(gva_csv(), encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            killed[r["date"][:7]] += int(r["n_killed"])
            injured[r["date"][:7]] += int(r["n_injured"])
    return killed, injured


def test_gva_rows_are_victims_and_its_coverage_is_its_own(gva_store, by_hand):
    from crimescope.stats import count
    from crimescope.store import coverage

    killed, injured = by_hand
    (k, i) = gva_store.con.execute(
        "SELECT count(*) FILTER (WHERE iucr = 'GVAK'), count(*) FILTER (WHERE iucr = 'GVAI') "
        "FROM incidents WHERE source = 'gva'").fetchone()
    assert (k, i) == (sum(killed.values()), sum(injured.values())) == (1165, 5692)
    assert coverage.describe(gva_store, "gva") == \
        "GVA SHOT - INJURED 2016-01-01..2017-12-31; GVA SHOT - KILLED 2016-01-01..2017-12-31"
    assert count(gva_store, "people_shot", "2016-01-01", "2016-12-31", source="gva").meta["total"] == \
        sum(v for m, v in (killed + injured).items() if m.startswith("2016"))
    # GVA's categories never count police records: refused, not 0
    with pytest.raises(CoverageError, match="holds no people_shot records of chicago"):
        count(gva_store, "people_shot", "2016-01-01", "2016-12-31")
    # and GVA holds no police offense types
    with pytest.raises(CoverageError):
        count(gva_store, "robbery", "2016-01-01", "2016-12-31", source="gva")


def test_reconcile_by_month_reproduces_hand_checkable_totals(gva_store, by_hand):
    from crimescope.stats.reconcile import reconcile

    killed, injured = by_hand
    r = reconcile(gva_store, "2016-01-01", "2017-12-31", ["month"])
    t = r.table
    assert len(t) == 24
    police_h = dict(gva_store.con.execute(
        f"SELECT strftime(occurred_local, '%Y-%m'), count(*) FROM incidents WHERE source = 'chicago' "
        f"AND iucr IN {HOMICIDE} AND occurred_local >= '2016-01-01' AND occurred_local < '2018-01-01' GROUP BY 1"
    ).fetchall())
    police_s = dict(gva_store.con.execute(
        f"SELECT strftime(occurred_local, '%Y-%m'), count(*) FROM incidents WHERE source = 'chicago' "
        f"AND iucr IN {SHOOTING} AND occurred_local >= '2016-01-01' AND occurred_local < '2018-01-01' GROUP BY 1"
    ).fetchall())
    for row in t.itertuples(index=False):
        m = row.month
        assert row.police_homicide_victims == police_h[m], m
        assert row.police_shooting_incidents == police_s[m], m
        assert (row.gva_killed, row.gva_injured) == (killed[m], injured[m]), m
        assert row.ratio_killed == round(killed[m] / police_h[m], 3)
        assert row.ratio_injured == round(injured[m] / police_s[m], 3)
        assert row.ratio_total == round((killed[m] + injured[m]) / (police_h[m] + police_s[m]), 3)
    assert r.meta["totals"]["gva_people_shot"] == 1165 + 5692
    assert any("news and police reports" in x for x in r.meta["reasons"])


def test_reconcile_by_district_sums_to_the_citywide_months(gva_store):
    from crimescope.stats.reconcile import reconcile

    month = reconcile(gva_store, "2016-01-01", "2016-12-31", ["month"]).table.set_index("month")
    both = reconcile(gva_store, "2016-01-01", "2016-12-31", ["month", "district"]).table
    summed = both.groupby("month")[["police_homicide_victims", "gva_killed", "police_shooting_incidents",
                                    "gva_injured"]].sum()
    for col in summed.columns:
        assert (summed[col] == month[col]).all(), col


def test_reconcile_refuses_a_period_one_source_lacks(gva_store, chicago_full_store):
    from crimescope.stats.reconcile import reconcile

    with pytest.raises(CoverageError, match="reconcile needs both sources"):
        reconcile(gva_store, "2015-01-01", "2016-12-31")
    with pytest.raises(CoverageError):  # a store without GVA
        reconcile(chicago_full_store, "2016-01-01", "2016-12-31")


def test_reconcile_cli(gva_store_path):
    from crimescope.cli.main import app

    r = CliRunner().invoke(app, ["--store", str(gva_store_path), "reconcile", "--from", "2016-01-01",
                                 "--to", "2016-12-31", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert len(doc["rows"]) == 12 and doc["meta"]["reasons"]
    for key in ("unit", "rule", "source", "vintage"):  # what the figures count, as in every output
        assert doc["meta"].get(key), key
    for fmt in ("table", "csv"):
        r = CliRunner().invoke(app, ["--store", str(gva_store_path), "reconcile", "--from", "2016-01-01",
                                     "--to", "2016-12-31", "--format", fmt])
        assert r.exit_code == 0, r.output
        for line in ("unit: ", "rule: ", "source: ", "data vintage: "):
            assert line in r.output, (fmt, line)


def test_shooting_victims_claim_names_gva_and_the_police_figure(gva_store, by_hand):
    from crimescope.stats.claims import VERDICTS, check_claims, parse_claim

    killed, injured = by_hand
    gva_2016 = sum(v for m, v in (killed + injured).items() if m.startswith("2016"))
    chk = check_claims(gva_store, [parse_claim("4,331 shooting victims in 2016")]).checks[0]
    vals = {r["reason"]: r["value"] for r in chk.reasons}
    assert vals["second source"] == gva_2016 and vals["nearest comparable figure"] == 2721
    assert "news-based count that undercounts" in chk.unchecked
    # above the undercount: consistent with it, but not checked by it
    assert chk.verdict == VERDICTS[3] and "as an undercount would be" in chk.unchecked
    # below what even the undercount found: contradicted
    low = check_claims(gva_store, [parse_claim("3,000 people shot in 2016")]).checks[0]
    assert low.verdict == VERDICTS[2]
    # equal to GVA's figure: matches GVA, named
    eq = check_claims(gva_store, [parse_claim(f"{gva_2016} people shot in 2016")]).checks[0]
    assert eq.verdict == VERDICTS[0] and "Gun Violence Archive" in eq.as_row()["explained_by"]
