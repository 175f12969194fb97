"""Concentration: hand-computed shares and Ginis (lorenzgini's documented examples), stability."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crimescope.errors import ParameterError
from crimescope.spatial.concentration import concentration, generalized_gini, gini, top_stability


def test_gini_examples_from_bernasco_steenbeek_package():
    # examples documented in the authors' R package lorenzgini (unbiased=FALSE)
    assert gini([10, 8, 2] + [0] * 7) == pytest.approx(0.78)
    assert generalized_gini([10, 8, 2] + [0] * 7) == pytest.approx(0.78)  # N >= n: unchanged
    assert gini([5, 2, 1] + [0] * 7) == pytest.approx(0.80)
    assert generalized_gini([5, 2, 1] + [0] * 7) == pytest.approx(0.75)  # 10/8*(0.8-1)+1
    assert gini([10] + [0] * 9) == pytest.approx(0.9)


def test_maximal_equality_given_sparse_events_scores_zero():
    # 3 events over 10 units, one each: as equal as 3 events can be -> generalized Gini 0
    c = [1, 1, 1] + [0] * 7
    assert gini(c) == pytest.approx(0.7)
    assert generalized_gini(c) == pytest.approx(0.0)


def test_top_shares_interpolate_lorenz_curve():
    r = concentration([5, 2, 1] + [0] * 7, top=[0.1, 0.2, 0.05, 1.0])
    # top 10% = the busiest unit: 5/8; top 20% = 7/8; top 5% = half a unit: 2.5/8
    assert r.top_share.tolist() == pytest.approx([5 / 8, 7 / 8, 2.5 / 8, 1.0])
    assert r.top_units.tolist() == pytest.approx([1, 2, 0.5, 10])
    assert r.share_units_with_events == pytest.approx(0.3)
    assert r.units_for_half == pytest.approx(0.08)  # 4 of the 5 events of unit 1 -> 0.8 of 10%
    assert r.n_events == 8 and r.n_units == 10
    t = r.table()
    assert list(t["measure"])[-1].startswith("generalized Gini")


def test_bad_counts_raise():
    with pytest.raises(ParameterError):
        concentration([1, -1, 2])
    with pytest.raises(ParameterError):
        concentration([])
    with pytest.raises(ParameterError):
        concentration([1, 2], top=[0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=2, max_size=200))
def test_gini_properties(counts):
    c = np.array(counts, float)
    if c.sum() == 0:
        return
    g, gg = gini(c), generalized_gini(c)
    assert 0 <= g <= 1 - 1 / c.size + 1e-12
    assert gg <= g + 1e-12 or c.sum() >= c.size  # the correction never raises the Gini
    if c.sum() >= c.size:
        assert gg == pytest.approx(g)
    # permutation invariance, and the brute-force definition
    assert gini(c[::-1]) == pytest.approx(g)
    brute = np.abs(c[:, None] - c[None, :]).sum() / (2 * c.size**2 * c.mean())
    assert g == pytest.approx(brute)
    r = concentration(c)
    assert np.all(np.diff(r.top_share) >= -1e-12)  # larger top fractions hold at least as much
    assert r.lorenz_events[-1] == pytest.approx(1.0)


def test_top_stability_hand_case():
    y1 = np.array([9, 8, 7, 0, 0, 1, 0, 0, 0, 0], float)
    y2 = np.array([9, 0, 6, 8, 0, 0, 0, 0, 0, 1], float)
    st_ = top_stability({2016: y1, 2017: y2}, top=0.3)  # k = 3 units
    row = st_.table.iloc[0]
    assert row["k"] == 3
    # 2016 top {0,1,2}, 2017 top {0,3,2}: 2 of 3 stay; jaccard 2/4
    assert row["overlap"] == pytest.approx(2 / 3)
    assert row["jaccard"] == pytest.approx(0.5)
    assert row["share_next_in_prev_top"] == pytest.approx((9 + 0 + 6) / 24)
    with pytest.raises(ParameterError):
        top_stability({2016: y1}, top=0.3)
