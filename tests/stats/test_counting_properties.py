"""Property tests on random small stores: groupings sum to the total, YTD as of Dec 31
equals the year's count, CompStat districts sum to citywide."""

from __future__ import annotations

import datetime as dt

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from crimescope.stats import compstat, count, ytd
from crimescope.store import Store
from stats_fixtures import add_batch, insert, row

CODES = ["0110", "0142", "041A", "0450", "031A", "0320", "051A", "0820", "143A"]

rows_strategy = st.lists(
    st.tuples(
        st.datetimes(min_value=dt.datetime(2015, 1, 1), max_value=dt.datetime(2017, 12, 31, 23, 59)),
        st.sampled_from(CODES),
        st.one_of(st.none(), st.integers(1, 4)),
        st.one_of(st.none(), st.integers(1, 3)),
    ),
    min_size=0, max_size=40,
)

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make(rows) -> Store:
    s = Store(":memory:")
    add_batch(s, 1, "random", "2018-01-10 12:00:00+00")
    insert(s, [row(i, ts.replace(second=0, microsecond=0), code, district=d, community_area=ca)
               for i, (ts, code, d, ca) in enumerate(rows)])
    return s


@SETTINGS
@given(rows_strategy, st.sampled_from(["homicide", "gun_violence", "violent_index", "robbery"]),
       st.sampled_from([["district"], ["month"], ["dow", "hour"], ["community_area", "year"], ["week"]]))
def test_groupings_sum_to_total(rows, category, by):
    s = make(rows)
    total = count(s, category, "2015-01-01", "2017-12-31").table["count"].iloc[0]
    grouped = count(s, category, "2015-01-01", "2017-12-31", by=by).table
    assert grouped["count"].sum() == total
    # and the total is the number of generated rows of the category's codes
    codes = {"homicide": {"0110", "0142"}, "gun_violence": {"0110", "0142", "041A", "0450"},
             "violent_index": {"0110", "041A", "0450", "031A", "0320", "051A"},
             "robbery": {"031A", "0320"}}[category]
    assert total == sum(1 for r in rows if r[1] in codes)


@SETTINGS
@given(rows_strategy)
def test_ytd_dec31_is_year_count(rows):
    s = make(rows)
    t = ytd(s, "gun_violence", "2017-12-31", years=2).table
    for y, n in zip(t["year"], t["count"]):
        assert n == sum(1 for r in rows if r[0].year == y and r[1] in {"0110", "0142", "041A", "0450"})


@SETTINGS
@given(rows_strategy, st.dates(min_value=dt.date(2016, 1, 1), max_value=dt.date(2017, 12, 31)))
def test_compstat_districts_sum_to_citywide(rows, as_of):
    s = make(rows)
    t = compstat(s, as_of, categories=["homicide", "robbery"]).table
    d = t[t["area"] == "district"].groupby(["category", "period"])[["count", "prev_count"]].sum()
    c = t[t["area"] == "citywide"].set_index(["category", "period"])[["count", "prev_count"]]
    assert (d.reindex(c.index).fillna(0).astype(int) == c).all().all()
    ytd_city = c.loc[("robbery", "ytd"), "count"]
    assert ytd_city == sum(1 for r in rows if r[1] in {"031A", "0320"}
                           and dt.date(as_of.year, 1, 1) <= r[0].date() <= as_of)
