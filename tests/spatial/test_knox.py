"""Knox test: planted near repeats found, shuffled times show none, exact band edges, brute-force counts."""

from __future__ import annotations

import numpy as np
import pytest

from crimescope.errors import ParameterError
from crimescope.spatial.knox import knox_test


def _background(rng, n=1500, span=40_000.0, days=365):
    x, y = rng.uniform(0, span, n), rng.uniform(0, span, n)
    t = np.datetime64("2016-01-01") + rng.integers(0, days, n).astype("timedelta64[D]")
    return x, y, t


def _planted(seed=0):
    rng = np.random.default_rng(seed)
    x, y, t = _background(rng)
    src = rng.integers(0, x.size, 250)  # a follow-up within ~200 ft and 0..6 days of 250 events
    ang, r = rng.uniform(0, 2 * np.pi, 250), rng.uniform(10, 200, 250)
    return (np.r_[x, x[src] + r * np.cos(ang)], np.r_[y, y[src] + r * np.sin(ang)],
            np.r_[t, t[src] + rng.integers(0, 7, 250).astype("timedelta64[D]")])


def test_finds_planted_near_repeats():
    x, y, t = _planted()
    r = knox_test(x=x, y=y, t=t, distance_band=400, n_distance_bands=3, day_band=7, n_day_bands=3,
                  permutations=199, seed=1)
    near = r.row_labels.index(">0 to <400 ft")
    assert r.ratio[near, 0] > 5 and r.p_value[near, 0] == pytest.approx(1 / 200)
    # the table's cells add up to all pairs, observed and expected alike
    assert r.observed.sum() == r.n_pairs
    assert r.expected.sum() == pytest.approx(r.n_pairs)


def test_no_effect_when_times_are_shuffled():
    x, y, t = _planted()
    t = np.random.default_rng(99).permutation(t)
    r = knox_test(x=x, y=y, t=t, distance_band=400, n_distance_bands=3, day_band=7, n_day_bands=3,
                  permutations=199, seed=1)
    near = r.row_labels.index(">0 to <400 ft")
    assert r.p_value[near, 0] > 0.05
    assert 0.5 < r.ratio[near, 0] < 1.6


def test_band_edges_are_half_open_and_brute_force_agrees():
    # pairs at exactly 400 ft and exactly 14 days fall in the SECOND bands
    x = np.array([0.0, 400.0, 0.0, 0.0, 5000.0])
    y = np.array([0.0, 0.0, 0.0, 399.999, 5000.0])
    d0 = np.datetime64("2016-03-01")
    t = np.array([d0, d0 + 14, d0 + 13, d0 + 27, d0 + 100]).astype("datetime64[ns]")
    r = knox_test(x=x, y=y, t=t, distance_band=400, n_distance_bands=2, day_band=14, n_day_bands=2,
                  permutations=9, seed=0)
    obs = r.table("observed")
    # brute force with the documented edges
    lab_d = lambda d: "same location" if d == 0 else (">0 to <400 ft" if d < 400 else  # noqa: E731
                                                       "400 to <800 ft" if d < 800 else ">= 800 ft")
    lab_t = lambda dt: "0 to 13 days" if dt < 14 else "14 to 27 days" if dt < 28 else ">= 28 days"  # noqa: E731
    days = t.astype("datetime64[D]").astype(int)
    expect = obs * 0
    for i in range(5):
        for j in range(i + 1, 5):
            expect.loc[lab_d(np.hypot(x[i] - x[j], y[i] - y[j])), lab_t(abs(days[i] - days[j]))] += 1
    assert (obs.values == expect.values).all()
    assert obs.loc["400 to <800 ft", "14 to 27 days"] == 1  # (0,0,d0) - (400,0,d0+14)
    assert obs.loc["same location", "0 to 13 days"] == 1    # (0,0,d0) - (0,0,d0+13)


def test_brute_force_counts_on_random_data():
    rng = np.random.default_rng(4)
    x, y, t = _background(rng, n=300, span=5000, days=120)
    r = knox_test(x=x, y=y, t=t, distance_band=250, n_distance_bands=4, day_band=10, n_day_bands=4,
                  permutations=19, seed=3, same_location=False)
    d = np.hypot(x[:, None] - x[None], y[:, None] - y[None])
    days = t.astype("datetime64[D]").astype(int)
    dt = np.abs(days[:, None] - days[None])
    iu = np.triu_indices(300, 1)
    db = np.minimum(d[iu] // 250, 4).astype(int)
    tb = np.minimum(dt[iu] // 10, 4).astype(int)
    brute = np.zeros((5, 5), int)
    np.add.at(brute, (db, tb), 1)
    assert (r.observed == brute).all()


def test_seed_reproducible_and_validation():
    x, y, t = _planted(1)
    a = knox_test(x=x, y=y, t=t, permutations=29, seed=5)
    b = knox_test(x=x, y=y, t=t, permutations=29, seed=5)
    assert np.array_equal(a.p_value, b.p_value) and np.array_equal(a.expected, b.expected)
    with pytest.raises(ParameterError):
        knox_test(x=x, y=y, t=t, day_band=0)
    with pytest.raises(ParameterError):
        knox_test(x=x, y=y)  # no times
    assert "Knox ratios" in a.render()
    assert set(a.to_frame().columns) == {"distance_band", "time_band", "observed", "expected", "ratio", "p_value"}


def test_expected_matches_exact_permutation_mean():
    # 5 events: the exact null mean over all 120 time permutations vs 3000 Monte Carlo draws
    from itertools import permutations

    x = np.array([0.0, 100, 150, 900, 950])
    y = np.array([0.0, 50, 0, 0, 30])
    d0 = np.datetime64("2016-01-01")
    t = np.array([d0, d0 + 2, d0 + 9, d0 + 3, d0 + 30]).astype("datetime64[ns]")
    r = knox_test(x=x, y=y, t=t, distance_band=200, n_distance_bands=2, day_band=7, n_day_bands=2,
                  permutations=3000, seed=2, same_location=False)
    days = t.astype("datetime64[D]").astype(int)
    exact = np.zeros_like(r.expected)
    for perm in permutations(range(5)):
        tp = days[list(perm)]
        for i in range(5):
            for j in range(i + 1, 5):
                dd = np.hypot(x[i] - x[j], y[i] - y[j])
                exact[min(int(dd // 200), 2), min(abs(tp[i] - tp[j]) // 7, 2)] += 1
    exact /= 120
    assert np.allclose(r.expected, exact, atol=0.06)


def test_result_does_not_depend_on_input_order():
    x, y, t = _planted(2)
    a = knox_test(x=x, y=y, t=t, permutations=49, seed=7)
    o = np.random.default_rng(0).permutation(x.size)
    b = knox_test(x=x[o], y=y[o], t=t[o], permutations=49, seed=7)
    assert np.array_equal(a.observed, b.observed) and np.array_equal(a.p_value, b.p_value)
