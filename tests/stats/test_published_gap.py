"""The claim check's "published police count" readings, on the quick-start store (the six
2012-2017 files plus the homicide extract 2001-2017) and the shared city tables.

The expected range is computed here from the sources themselves, not from the code under test:
the store's murder rows (IUCR 0110, 0130) per year by SQL, the published full-year figures by
reading the two city tables with the csv module (Marshall rows of Chicago with 12 months reported
or months not given; FiveThirtyEight's 2014 and 2015 finals). By hand on these files: 16 figures
of 2001-2015, the largest gap 2014's 411 (FiveThirtyEight) vs 427, 16/427 = 3.75%, so for 2016's
786 murders the range is ceil(786 * (1 - 16/427)) = 757 to 786.
"""

from __future__ import annotations

import csv
import datetime as dt
import math

import pytest

from _shared import SHARED, requires_shared
from crimescope.stats.cities import published_years
from crimescope.stats.claims import PUBLISHED, VERDICTS, Claim, check_claim, parse_claim

pytestmark = requires_shared


def _published_by_hand() -> list[tuple[int, int]]:
    d = SHARED / "cities"
    out = set()
    with open(d / "marshall_ucr_crime_1975_2015.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["department_name"] == "Chicago" and r["homs_sum"] != "NA" \
                    and r["months_reported"] in ("NA", "12"):
                out.add((int(r["year"]), int(r["homs_sum"])))
    with open(d / "fivethirtyeight_murder_2015_final.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["city"] == "Chicago":
                out |= {(2014, int(r["2014_murders"])), (2015, int(r["2015_murders"]))}
    return sorted(out)


def _murders(store, y: int) -> int:
    (n,) = store.con.execute("SELECT count(*) FROM incidents WHERE source = 'chicago' AND iucr IN ('0110', '0130') "
                             "AND occurred_local >= ? AND occurred_local < ?",
                             [dt.datetime(y, 1, 1), dt.datetime(y + 1, 1, 1)]).fetchone()
    return n


def _band(chk):
    (b,) = [r for r in chk.reasons if r["reason"] == PUBLISHED and "low" in r]
    return b


def test_published_years_are_the_full_year_figures_of_both_tables():
    got = [(r["year"], r["count"]) for r in published_years("Chicago")]
    assert got == _published_by_hand()
    assert (2014, 411) in got and (2014, 415) in got  # both tables' 2014, kept apart
    assert all(y <= 2015 for y, _ in got)  # the 2016 table is a partial year: not used


def test_the_range_is_the_largest_published_gap_measured_on_the_store(chicago_full_store):
    pub = [(y, n) for y, n in _published_by_hand() if y >= 2001]  # the years the store holds (homicide 2001-)
    store = {y: _murders(chicago_full_store, y) for y, _ in pub}
    assert all(n <= store[y] for y, n in pub)  # every published figure is below the store's count
    worst = max((store[y] - n) / store[y] for y, n in pub)
    n16 = _murders(chicago_full_store, 2016)
    assert (len(pub), n16, round(worst, 4)) == (16, 786, 0.0375)
    chk = check_claim(chicago_full_store, parse_claim("762 murders in 2016"))
    b = _band(chk)
    assert (b["low"], b["high"]) == (math.ceil(n16 * (1 - worst)), n16) == (757, 786)
    assert b["matches_claim"] and b["value"] is None
    assert chk.verdict == VERDICTS[1]
    # each year once, with every figure published for it (2014: FiveThirtyEight's and Marshall's)
    years = sorted({y for y, _ in pub})
    for y in years:
        figs = " and ".join(str(n) for yy, n in pub if yy == y)
        assert b["detail"].count(f"{y}: ") == 1 and f"{y}: {figs} vs {store[y]}" in b["detail"], y


@pytest.mark.parametrize("value, verdict", [
    (786, VERDICTS[0]),  # the store's own count
    (762, VERDICTS[1]),  # the CPD's published figure: inside the range
    (757, VERDICTS[1]),  # the range's low end
    (756, VERDICTS[2]),  # one below it: contradicted
    (500, VERDICTS[2]),  # clearly wrong
    (900, VERDICTS[2]),  # above every reading
])
def test_2016_murder_claims(chicago_full_store, value, verdict):
    chk = check_claim(chicago_full_store, Claim("murder", value, "2016-01-01", "2016-12-31"))
    assert chk.verdict == verdict
    assert ("close:" in chk.explain()) == (verdict == VERDICTS[1])
    if verdict == VERDICTS[2]:
        assert not _band(chk)["matches_claim"] and chk.as_row()["explained_by"] == ""


def test_a_homicide_claim_is_set_against_the_murder_count(chicago_full_store):
    """'762 homicides in 2016' counts all HOMICIDE rows (790); the published range is of murders (786)."""
    chk = check_claim(chicago_full_store, parse_claim("762 homicides in 2016"))
    assert chk.computed == 790 and (_band(chk)["low"], _band(chk)["high"]) == (757, 786)
    assert chk.verdict == VERDICTS[1]


def test_the_claims_own_published_year_is_a_reading_and_left_out_of_the_range(chicago_full_store):
    chk = check_claim(chicago_full_store, parse_claim("478 murders in 2015"))
    own = [r for r in chk.reasons if r["reason"] == PUBLISHED and "low" not in r]
    assert [(r["value"], r["matches_claim"]) for r in own] == [(478, True)]
    assert "2015:" not in _band(chk)["detail"]  # measured on the other years only
    assert chk.verdict == VERDICTS[1]


@pytest.mark.parametrize("claim", [
    Claim("murder", 90, "2016-01-01", "2016-12-31", district=11),  # no published district figures
    Claim("murder", 600, "2016-01-01", "2016-09-30"),  # not a whole year
    Claim("shooting", 2700, "2016-01-01", "2016-12-31"),  # not a murder count
])
def test_no_published_reading_where_none_was_measured(chicago_full_store, claim):
    chk = check_claim(chicago_full_store, claim)
    assert not [r for r in chk.reasons if r["reason"] == PUBLISHED]


def test_without_the_city_tables_the_reading_says_so_and_explains_nothing(chicago_full_store, monkeypatch):
    from crimescope.errors import CrimescopeError
    from crimescope.stats import cities

    def missing(shared_dir=None):
        raise CrimescopeError("city tables not found: set CRIMESCOPE_SHARED_DATA to the shared data folder")

    monkeypatch.setattr(cities, "_dir", missing)
    chk = check_claim(chicago_full_store, parse_claim("762 murders in 2016"))
    (r,) = [r for r in chk.reasons if r["reason"] == PUBLISHED]
    assert r["value"] is None and not r["matches_claim"] and r["detail"].startswith("not available: city tables")
    assert chk.verdict == VERDICTS[2]  # no measured gap, no explanation
