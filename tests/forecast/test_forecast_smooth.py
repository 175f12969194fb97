"""Smoothed long-memory counts (``smooth_counts``) and the 2016-fitted ensemble, by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crimescope.errors import ParameterError
from crimescope.forecast import NaiveCounts, SmoothedCounts
from crimescope.forecast.base import make_model
from crimescope.forecast.smooth import decay_weights, decayed_span, quartic_spread
from crimescope.spatial.grid import Grid

G3 = Grid.regular(0.0, 0.0, 3, 3, 100.0)  # centroids at 50, 150, 250


def test_decay_weights_and_span_by_hand():
    np.testing.assert_allclose(decay_weights(np.array([0.0, 10.0, 20.0]), 10.0), [1.0, 0.5, 0.25])
    np.testing.assert_allclose(decay_weights(np.array([0.0, 1e6]), None), [1.0, 1.0])
    assert decayed_span(100.0, None) == 100.0
    assert decayed_span(0.0, None) == 1.0  # never below a day
    # integral of 2^(-a/10) over [0, 10] = 10/ln2 * (1 - 1/2)
    assert decayed_span(10.0, 10.0) == pytest.approx(10 / math.log(2) * 0.5)
    assert decayed_span(1e9, 365.0) == pytest.approx(365 / math.log(2))


def test_constant_rate_is_recovered_with_decay():
    # one event a day for 2000 days in one cell: rate 1/day whatever the half-life
    t = pd.Timestamp("2010-01-01") + pd.to_timedelta(np.arange(2000) + 0.5, unit="D")
    ev = pd.DataFrame({"occurred_local": t, "x": 150.0, "y": 150.0})
    as_of = pd.Timestamp("2010-01-01") + pd.Timedelta(days=2000)
    for hl in (30.0, 365.0, None):
        m = SmoothedCounts(half_life_days=hl, smooth_weight=0.0).fit(ev, as_of, grid=G3)
        assert m.predict(7).expected.sum() == pytest.approx(7.0, rel=2e-3)


def test_quartic_spread_by_hand():
    # a point at the centre cell's centroid, h = 150: centre d=0 (k=1), 4 edge
    # neighbours d=100 (k=(1-(100/150)^2)^2 = 25/81), 4 corners d=141.4 (k=(1-20000/22500)^2 = 1/81)
    out = quartic_spread(G3, np.array([150.0]), np.array([150.0]), np.array([2.0]), 150.0).reshape(3, 3)
    total = 1 + 4 * 25 / 81 + 4 / 81
    assert out[1, 1] == pytest.approx(2.0 / total)
    assert out[0, 1] == pytest.approx(2.0 * 25 / 81 / total)
    assert out[0, 0] == pytest.approx(2.0 * 1 / 81 / total)
    assert out.sum() == pytest.approx(2.0)


def test_quartic_spread_lone_points_keep_their_cell_or_vanish_outside():
    # h = 10 ft: no centroid within reach of (10, 10), so it stays in cell 0; (900, 900) is off the grid
    out = quartic_spread(G3, np.array([10.0, 10.0, 900.0]), np.array([10.0, 10.0, 900.0]),
                         np.array([1.0, 1.0, 5.0]), 10.0)
    np.testing.assert_allclose(out, [2.0] + [0.0] * 8)
    assert quartic_spread(G3, np.empty(0), np.empty(0), np.empty(0), 100.0).sum() == 0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 299), st.floats(0, 299), st.floats(0.1, 5)), min_size=1, max_size=20),
       st.floats(1, 400))
def test_quartic_spread_preserves_mass_of_points_in_the_grid(pts, h):
    x, y, w = (np.array(v) for v in zip(*pts))
    out = quartic_spread(G3, x, y, w, h)
    assert np.all(out >= 0)
    assert out.sum() == pytest.approx(w.sum(), rel=1e-9)


def test_no_smoothing_and_no_decay_is_naive_all():
    ev = pd.DataFrame({"occurred_local": pd.to_datetime(["2016-01-01", "2016-06-01", "2016-12-01", "2016-12-31"]),
                       "x": [50.0, 50.0, 250.0, 150.0], "y": [50.0, 50.0, 250.0, 150.0]})
    a = SmoothedCounts(half_life_days=None, smooth_weight=0.0).fit(ev, "2017-01-01", grid=G3).predict(10)
    b = NaiveCounts(window_days=None).fit(ev, "2017-01-01", grid=G3).predict(10)
    np.testing.assert_allclose(a.expected, b.expected)


def test_blend_is_the_weighted_mix_of_counts_and_smooth():
    ev = pd.DataFrame({"occurred_local": pd.to_datetime(["2016-01-01", "2016-12-31"]),
                       "x": [150.0, 50.0], "y": [150.0, 50.0]})
    as_of = "2017-01-01"
    m = SmoothedCounts(half_life_days=100.0, bandwidth=150.0, smooth_weight=0.25).fit(ev, as_of, grid=G3)
    age = np.array([366.0, 1.0])
    w = 2.0 ** (-age / 100.0)
    raw = np.zeros(9)
    raw[4] += w[0]
    raw[0] += w[1]
    smooth = quartic_spread(G3, np.array([150.0, 50.0]), np.array([150.0, 50.0]), w, 150.0)
    span = 100 / math.log(2) * (1 - 2.0 ** (-366 / 100))
    np.testing.assert_allclose(m.predict(7).expected, 7 * (0.75 * raw + 0.25 * smooth) / span)
    assert m.span_days_ == pytest.approx(span)


def test_window_drops_old_events():
    ev = pd.DataFrame({"occurred_local": pd.to_datetime(["2015-01-01", "2016-12-01"]),
                       "x": [50.0, 250.0], "y": [50.0, 250.0]})
    f = SmoothedCounts(half_life_days=None, smooth_weight=0.0, window_days=100).fit(
        ev, "2017-01-01", grid=G3).predict(100)
    np.testing.assert_allclose(f.expected, [0.0] * 8 + [1.0])


@pytest.mark.parametrize("bad", [{"smooth_weight": 1.5}, {"smooth_weight": -0.1}, {"bandwidth": 0},
                                 {"half_life_days": "long"}, {"window_days": -1}])
def test_bad_settings(bad):
    ev = pd.DataFrame({"occurred_local": pd.to_datetime(["2016-01-01"]), "x": [50.0], "y": [50.0]})
    key = next(iter(bad))
    with pytest.raises(ParameterError, match=rf"^invalid {key}="):
        SmoothedCounts(**bad).fit(ev, "2017-01-01", grid=G3)


def test_ensemble_fit_is_its_weighted_members():
    rng = np.random.default_rng(0)
    n = 300
    ev = pd.DataFrame({"occurred_local": pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.uniform(0, 360, n), unit="D"),
                       "x": rng.uniform(0, 300, n), "y": rng.uniform(0, 300, n)})
    e = make_model("ensemble_fit").fit(ev, "2017-01-01", grid=G3)
    np.testing.assert_allclose(e.weights_.sum(), 1.0)
    a = make_model("smooth_counts").fit(ev, "2017-01-01", grid=G3).predict(7).expected
    b = make_model("stkde").fit(ev, "2017-01-01", grid=G3).predict(7).expected
    np.testing.assert_allclose(e.predict(7).expected, 0.77 * a + 0.23 * b)
