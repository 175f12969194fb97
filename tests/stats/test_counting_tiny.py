"""Counts, YTD, CompStat, arrests, events and vintages on a tiny hand-made store.

Every expectation below is counted by hand from the rows listed in
``stats_fixtures.build_tiny_store``'s docstring.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from crimescope.errors import CategoryError, CrimescopeError, ParameterError
from crimescope.stats import compstat, count, last_complete_day, load_events, ytd
from crimescope.stats.arrests import arrests
from crimescope.stats.periods import compstat_windows, pct_change
from crimescope.stats.query import same_day_year_ago
from crimescope.store import Store
from stats_fixtures import add_batch, insert, row


def test_count_total_and_inclusive_dates(tiny_store):
    # 2016 homicide rows: 1, 2, 3 (two victims of case C2), 4 (0142) -> 4 victims
    assert count(tiny_store, "homicide", "2016-01-01", "2016-12-31").table["count"].tolist() == [4]
    assert count(tiny_store, "murder", "2016-01-01", "2016-12-31").table["count"].tolist() == [3]
    # row 8 at 23:59 on Mar 8 is in, row 9 at 00:00 on Mar 9 is out
    assert count(tiny_store, "homicide", "2017-03-08", "2017-03-08").table["count"].tolist() == [1]
    assert count(tiny_store, "homicide", "2017-03-09", "2017-03-09").table["count"].tolist() == [1]
    # row 1 at 00:00 on Jan 1 belongs to Jan 1, not Dec 31
    assert count(tiny_store, "homicide", "2015-12-31", "2015-12-31").table["count"].tolist() == [0]


def test_count_groupings(tiny_store):
    r = count(tiny_store, "homicide", "2016-01-01", "2017-12-31", by=["year", "district"])
    got = {(y, d): n for y, d, n in r.table[["year", "district", "count"]].itertuples(index=False)}
    # 2016: d1 rows 1,4; d2 rows 2,3.  2017: d3 row 6; d2 row 8; d1 row 9
    assert got == {(2016, 1): 2, (2016, 2): 2, (2017, 1): 1, (2017, 2): 1, (2017, 3): 1}
    r = count(tiny_store, "gun_violence", "2017-01-01", "2017-12-31", by="month")
    # Jan: row 5; Feb: row 6; Mar: rows 7, 8, 9
    assert dict(zip(r.table["month"], r.table["count"])) == {"2017-01": 1, "2017-02": 1, "2017-03": 3}
    r = count(tiny_store, "homicide", "2017-03-01", "2017-03-31", by=["week", "dow", "hour"])
    # row 8: Wed 2017-03-08 23:59 (week of Mon 03-06); row 9: Thu 03-09 00:00 (same week)
    assert r.table.to_dict(orient="records") == [
        {"week": dt.date(2017, 3, 6), "dow": 2, "hour": 23, "count": 1},
        {"week": dt.date(2017, 3, 6), "dow": 3, "hour": 0, "count": 1},
    ]


def test_fbi_code_category_and_unknown_district_group(tiny_store):
    # violent_index = FBI 01A/02/03/04A/04B: 2017 rows 5 (04B), 6 (01A), 7 (04B), 8, 9 (01A), 11 (03), 14 (03)
    r = count(tiny_store, "violent_index", "2017-01-01", "2017-12-31", by="district")
    assert r.table["count"].sum() == 7
    nulls = r.table[r.table["district"].isna()]
    assert nulls["count"].tolist() == [1]  # row 11 has no district


def test_every_output_states_unit_rule_source_vintage(tiny_store):
    r = count(tiny_store, "homicide", "2016-01-01", "2016-12-31", by="district")
    csv = r.to_csv()
    head = [ln for ln in csv.splitlines() if ln.startswith("#")]
    text = "\n".join(head)
    assert "unit: victims" in text and "rule: homicide: iucr in (0110, 0130, 0141, 0142)" in text
    assert "Chicago Data Portal" in text and "max updated_at 2018-01-10 12:00:00" in text
    df = pd.read_csv(__import__("io").StringIO(csv), comment="#")
    assert list(df.columns) == ["district", "count"]
    js = r.to_dict()
    assert js["meta"]["unit"].startswith("victims") and js["meta"]["vintage"]["batches"] == 1
    assert js["rows"] == [{"district": 1, "count": 2}, {"district": 2, "count": 2}]
    assert "unit: incidents" in count(tiny_store, "robbery", "2016-01-01", "2016-12-31").to_text()


def test_ytd_hand_counts(tiny_store):
    r = ytd(tiny_store, "homicide", "2017-03-08", years=2)
    t = r.table
    assert t["year"].tolist() == [2015, 2016, 2017]
    # 2015 Jan1-Mar8: none (row 13 is Mar 1 2015 -> yes, in) -> 1; 2016: rows 1,2,3,4 -> 4; 2017: rows 6, 8 -> 2
    assert t["count"].tolist() == [1, 4, 2]
    assert t["end"].tolist() == [dt.date(2015, 3, 8), dt.date(2016, 3, 8), dt.date(2017, 3, 8)]
    c = r.meta["comparison"][0]
    assert c["change_vs_last_year"] == -2 and c["pct_vs_last_year"] == -50.0
    assert c["avg_previous_years"] == 2.5 and c["pct_vs_avg"] == -20.0


def test_ytd_leap_day_rules(tiny_store):
    # as-of Feb 29 2016: 2016 Jan1-Feb29 = rows 1, 4 -> 2; 2015 Jan1-Feb28 -> 0 (row 13 is Mar 1)
    r = ytd(tiny_store, "homicide", "2016-02-29", years=1)
    assert r.table["count"].tolist() == [0, 2]
    assert r.table["end"].tolist() == [dt.date(2015, 2, 28), dt.date(2016, 2, 29)]
    assert r.meta["comparison"][0]["pct_vs_last_year"] is None  # base 0
    # as-of Feb 28 2017: 2017 -> row 6; 2016 Jan1-Feb28 -> row 1 only (row 4 is on Feb 29)
    r = ytd(tiny_store, "homicide", "2017-02-28", years=1)
    assert r.table["count"].tolist() == [1, 1]
    assert same_day_year_ago(dt.date(2016, 2, 29)) == dt.date(2015, 2, 28)
    assert same_day_year_ago(dt.date(2016, 2, 29), 4) == dt.date(2012, 2, 29)


def test_ytd_dec31_equals_year(tiny_store):
    r = ytd(tiny_store, "robbery", "2017-12-31", years=1)
    # robbery 2016: row 10; 2017: rows 11, 14 (Dec 31 23:59)
    assert r.table["count"].tolist() == [1, 2]
    for y, n in zip(r.table["year"], r.table["count"]):
        assert count(tiny_store, "robbery", f"{y}-01-01", f"{y}-12-31").table["count"].iloc[0] == n


def test_ytd_by_district_fills_zero_years(tiny_store):
    r = ytd(tiny_store, "homicide", "2017-03-08", years=1, by="district")
    got = {(y, d): n for y, d, n in r.table[["year", "district", "count"]].itertuples(index=False)}
    assert got == {(2016, 1): 2, (2016, 2): 2, (2016, 3): 0, (2017, 1): 0, (2017, 2): 1, (2017, 3): 1}


def test_compstat_hand_counts(tiny_store):
    r = compstat(tiny_store, "2017-03-08", categories=["homicide", "robbery"])
    t = r.table
    city = t[(t["area"] == "citywide") & (t["category"] == "homicide")].set_index("period")
    # week 03-02..03-08: row 8 -> 1; prev 2016-03-02..08: none -> 0 (pct None)
    assert city.loc["week", "count"] == 1 and city.loc["week", "prev_count"] == 0
    assert pd.isna(city.loc["week", "pct_change"])
    # 28d 02-09..03-08: rows 6, 8 -> 2; prev 2016-02-10..03-08: rows 2, 3, 4 -> 3
    assert (city.loc["28d", "count"], city.loc["28d", "prev_count"]) == (2, 3)
    assert city.loc["28d", "pct_change"] == pct_change(2, 3) == -33.3
    # ytd: 2, 4
    assert (city.loc["ytd", "count"], city.loc["ytd", "prev_count"]) == (2, 4)
    rob = t[(t["category"] == "robbery") & (t["period"] == "week")]
    # row 11 (2017-03-05, no district) and row 10 (2016-03-05, district 1)
    assert rob[rob["area"] == "citywide"][["count", "prev_count"]].values.tolist() == [[1, 1]]
    nod = rob[(rob["area"] == "district") & rob["district"].isna()]
    assert nod[["count", "prev_count"]].values.tolist() == [[1, 0]]
    # district rows sum to citywide for every category and period
    d = t[t["area"] == "district"].groupby(["category", "period"])[["count", "prev_count"]].sum()
    c = t[t["area"] == "citywide"].set_index(["category", "period"])[["count", "prev_count"]]
    pd.testing.assert_frame_equal(d.sort_index(), c.sort_index(), check_dtype=False)


def test_compstat_windows_leap():
    w = compstat_windows(dt.date(2016, 2, 29))
    assert w["week"] == ((dt.date(2016, 2, 23), dt.date(2016, 2, 29)), (dt.date(2015, 2, 22), dt.date(2015, 2, 28)))
    assert w["ytd"][1] == (dt.date(2015, 1, 1), dt.date(2015, 2, 28))
    w = compstat_windows(dt.date(2017, 3, 1))
    assert w["28d"][1] == (dt.date(2016, 2, 3), dt.date(2016, 3, 1))  # 28 days incl. Feb 29


def test_last_complete_day(tiny_store):
    # latest occurrence 2017-12-31 23:59; latest update 2018-01-10 -> 2017-12-31
    assert last_complete_day(tiny_store) == dt.date(2017, 12, 31)
    s = Store(":memory:")
    insert(s, [row(1, "2020-05-03 10:00", "0110", updated_at=dt.datetime(2020, 5, 3, 12, 0))])
    assert last_complete_day(s) == dt.date(2020, 5, 2)  # extracted during May 3: May 3 incomplete
    # rows written without an ingest batch cover nothing: no year to date is answered from them
    from crimescope.errors import CoverageError

    with pytest.raises(CoverageError, match="no data for homicide from 2020-01-01 to 2020-05-02"):
        ytd(s, "homicide", years=0)
    # an empty store covers nothing: refused as not in the store (404), not as a bad parameter
    with pytest.raises(CoverageError, match="the store has no chicago records") as err:
        last_complete_day(Store(":memory:"))
    assert err.value.http_status == 404 and err.value.exit_code == 2


def test_arrests_share(tiny_store):
    r = arrests(tiny_store, "homicide", "2016-01-01", "2017-12-31")
    # 7 homicide rows in 2016-2017 (1,2,3,4,6,8,9), one with arrest (8)
    assert r.table[["count", "arrests"]].values.tolist() == [[7, 1]]
    assert r.table["arrest_share"].iloc[0] == round(1 / 7, 4)
    assert "not the FBI clearance rate" in r.to_csv()
    r = arrests(tiny_store, "robbery", "2016-01-01", "2017-12-31", by="year")
    assert r.table[["year", "count", "arrests"]].values.tolist() == [[2016, 1, 1], [2017, 2, 0]]


def test_load_events(tiny_store):
    ev = load_events(tiny_store, "murder", "2017-01-01", "2017-03-08")
    assert ev["id"].tolist() == ["6", "8"]
    assert list(ev.columns) == ["id", "occurred_local", "x", "y", "lon", "lat", "beat", "district", "ward",
                                "community_area", "has_location", "iucr", "primary_type"]
    assert str(ev["occurred_local"].dtype).startswith("datetime64")
    assert len(load_events(tiny_store, "homicide")) == 8  # unbounded dates: rows 1-4, 6, 8, 9, 13


def test_vintage_uses_history(tiny_store):
    # id 2 was first delivered as a battery (batch 1, updated 2017-06-01) and became a
    # homicide in batch 2 (updated 2018-05-01); the other rows were updated 2018-01-10
    s = tiny_store
    add_batch(s, 2, "later.csv", "2018-06-01 00:00:00+00")
    s.con.execute("DELETE FROM incidents WHERE id = '2'")
    insert(s, [row(2, "2016-03-01 10:00", "0486", district=2, updated_at=dt.datetime(2017, 6, 1),
                   superseded_by_batch=2)], table="incident_history")
    insert(s, [row(2, "2016-03-01 10:00", "0110", district=2, updated_at=dt.datetime(2018, 5, 1), batch_id=2)])

    def n(**kw):
        return count(s, "homicide", "2016-01-01", "2016-12-31", **kw).table["count"].iloc[0]

    assert n() == 4                      # rows 1, 2, 3, 4
    assert n(vintage="2018-03-01") == 3  # id 2 still a battery
    # the store's first batch was taken 2018-01-10: of the state at 2017-12-31 it holds only id 2's
    # first version, so that vintage is refused (never answered 0) and the refusal says which it can do
    from crimescope.errors import CoverageError

    with pytest.raises(CoverageError, match="reproduce vintages from 2018-01-10 12:00:00 on"):
        n(vintage="2017-12-31")
    assert n(vintage="2018-05-01") == 4  # a date means the end of that day
    assert n(batch=1) == 3 and n(batch=2) == 4
    v = count(s, "homicide", "2016-01-01", "2016-12-31", vintage="2018-03-01").meta["vintage"]
    assert v["as_of_vintage"].startswith("2018-03-01 23:59:59") and v["max_updated_at"] == "2018-01-10 12:00:00"


@pytest.mark.parametrize("kwargs, err", [
    (dict(category="homicide", start="2017-02-30", end="2017-03-01"), ParameterError),
    (dict(category="homicide", start="2017-03-01", end="2017-02-01"), ParameterError),
    (dict(category="homicides", start="2017-01-01", end="2017-02-01"), CategoryError),
    (dict(category="homicide", start="2017-01-01", end="2017-02-01", by="neighbourhood"), ParameterError),
])
def test_bad_parameters(tiny_store, kwargs, err):
    with pytest.raises(err) as exc:
        count(tiny_store, **kwargs)
    assert isinstance(exc.value, CrimescopeError)
