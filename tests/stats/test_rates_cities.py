"""Rates per 100,000 (census populations, district apportionment) and city tables."""

from __future__ import annotations

import datetime as dt

import pytest

from _shared import requires_shared
from crimescope.errors import ParameterError
from crimescope.stats import city_counts, rates_per_100k
from crimescope.stats.rates import community_area_population, district_population
from crimescope.store import Store
from stats_fixtures import add_batch, insert, row

pytestmark = [requires_shared, pytest.mark.shared]


def test_census_populations():
    p10 = community_area_population(2010)
    p20 = community_area_population(2020)
    assert p10["population"].sum() == 2_695_598 and p20["population"].sum() == 2_746_388
    assert p10["community_area"].tolist() == list(range(1, 78)) == p20["community_area"].tolist()
    assert p20.loc[p20["community_area"] == 1, "population"].item() == 55628  # id "01" in the file
    with pytest.raises(ParameterError):
        community_area_population(2000)


def test_district_apportionment_preserves_city_total():
    d = district_population(2020)
    assert d["population"].sum() == pytest.approx(2_746_388, abs=1)
    assert set(d["district"]) >= {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 22, 24, 25}
    assert (d["population"] >= 0).all()
    # Rogers Park (CA 1, 55,628 in 2020) lies inside district 24: district 24 has at least most of it
    assert d.set_index("district").loc[24, "population"] > 0.9 * 55628


def test_rates_hand_computed():
    s = Store(":memory:")
    add_batch(s, 1, "x", "2018-01-10 12:00:00+00")
    insert(s, [row(1, "2016-05-01 10:00", "0110", community_area=1, district=24),
               row(2, "2016-06-01 10:00", "0110", community_area=1, district=24),
               row(3, "2016-07-01 10:00", "0110", community_area=None, district=None)])
    r = rates_per_100k(s, "homicide", "2016-01-01", "2016-12-31", by="community_area", census=2010)
    t = r.table.set_index("community_area", drop=False)
    assert t.loc[1, "count"] == 2 and t.loc[1, "rate_per_100k"] == round(2 / 54991 * 1e5, 2)
    assert t.loc[1, "annualized_rate_per_100k"] == round(2 / 54991 * 1e5 * 365.25 / 366, 2)
    assert t.loc[2, "count"] == 0 and t["count"].sum() == 3  # the no-area row is kept
    assert r.meta["census"] == 2010 and "2010 census" in r.to_csv()
    r = rates_per_100k(s, "homicide", "2016-01-01", "2016-12-31", by="citywide", census=2010)
    assert r.table["rate_per_100k"].item() == round(3 / 2_695_598 * 1e5, 2)
    r = rates_per_100k(s, "homicide", "2016-01-01", "2016-12-31", by="district")
    assert r.meta["census"] == 2020 and "area overlap" in r.to_csv()
    assert r.table["count"].sum() == 3


def test_cities_marshall_and_partial_year():
    r = city_counts("homicides", 2015)
    chi = r.table[r.table["city"] == "Chicago"].iloc[0]
    assert (chi["count"], chi["population"]) == (478, 2728695)
    assert chi["rate_per_100k"] == round(478 / 2728695 * 1e5, 2) and not chi["partial_year"]
    assert "National" not in set(r.table["city"])
    r = city_counts("homicides", 2016)
    assert r.table["partial_year"].all() and "PARTIAL" in r.to_csv()
    chi = r.table[r.table["city"] == "Chicago, Illinois"].iloc[0]
    assert (chi["count"], chi["as_of"], chi["same_span_2015"]) == (536, dt.date(2016, 10, 2), 378)
    r = city_counts("robberies", 1990, top=3)
    assert len(r.table) == 3 and r.table["count"].is_monotonic_decreasing
    with pytest.raises(ParameterError):
        city_counts("robberies", 2016)
