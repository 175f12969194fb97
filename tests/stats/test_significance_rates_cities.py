"""Rates (each area vs the rest of the city) and city comparisons (each city vs its
previous year) carry the exact test and Benjamini-Hochberg flags."""

from __future__ import annotations

import pandas as pd
import pytest

from _shared import requires_shared
from crimescope.stats import significance as sg


def test_area_tests_hand_built():
    """Three areas of 100,000 residents; area 3 has 3x the rate of the other two."""
    df = pd.DataFrame({"area": [1, 2, 3, None], "count": [20, 20, 60, 5],
                       "population": [1e5, 1e5, 1e5, None]})
    out, s = sg.area_tests(df)
    # area 3 vs the rest: 60 per 1e5 vs (20 + 20 + 5) per 2e5
    t = sg.rate_test(60, 1e5, 45, 2e5)
    assert out.at[2, "p_value"] == pytest.approx(t.p_value, rel=1e-3)
    assert out.at[2, "label"] == sg.LABEL_ABOVE and out.at[3, "label"] == "not tested"
    assert s["tested"] == 3 and out.at[2, "flagged"]


@requires_shared
def test_cities_vs_previous_year():
    from crimescope.stats.cities import cities

    r = cities("homicides", 2015)
    t = r.table.set_index("city")
    # Chicago 2015: 478 vs 2014 in the same table, populations as exposures
    from crimescope.stats.cities import _dir, _marshall

    m = _marshall(str(_dir()))
    prev = m[(m["year"] == 2014) & (m["department_name"] == "Chicago")].iloc[0]
    cur = m[(m["year"] == 2015) & (m["department_name"] == "Chicago")].iloc[0]
    ref = sg.rate_test(int(cur["homs_sum"]), cur["total_pop"], int(prev["homs_sum"]), prev["total_pop"])
    assert t.at["Chicago", "p_value"] == pytest.approx(ref.p_value, rel=1e-3)
    assert r.meta["tests"]["tested"] >= 60 and "Benjamini-Hochberg" in r.meta["tests"]["method"]
    top = cities("homicides", 2015, top=5).table
    assert top["q_value"].tolist() == r.table.head(5)["q_value"].tolist()  # the family is every city


@requires_shared
def test_rates_by_district_columns(chicago_store):
    from crimescope.stats.rates import rates

    r = rates(chicago_store, "homicide", "2016-01-01", "2016-12-31", by="district")
    assert list(r.table.columns)[-7:] == ["rate_ratio", "ci_low", "ci_high", "p_value", "q_value", "flagged", "label"]
    assert r.meta["tests"]["tested"] == int(r.table["p_value"].notna().sum())
