"""Emerging hot spots: the 17 categories on hand-built cubes, Mann-Kendall, space-time Gi*, the cube."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crimescope.errors import ParameterError
from crimescope.spatial.emerging import (CATEGORIES, classify, emerging_hot_spots, mann_kendall, space_time_cube,
                                         space_time_gi_star)
from crimescope.spatial.gistar import gi_star_z, grid_band_weights
from crimescope.spatial.grid import Grid

H, C, _ = "H", "C", "."
UP, DOWN, FLAT = (3.0, 0.001), (-3.0, 0.001), (0.5, 0.6)

#: (name, significance pattern over 10 steps, trend (z, p)) — one row per category
CASES = [
    ("no_pattern", "..........", FLAT),
    ("no_pattern", "HHH.......", FLAT),           # past hot, final not significant, < 90%
    ("new_hot", ".........H", FLAT),
    ("consecutive_hot", ".......HHH", UP),        # a run at the end, < 90%: trend irrelevant
    ("intensifying_hot", "HHHHHHHHHH", UP),
    ("intensifying_hot", ".HHHHHHHHH", UP),       # 9 of 10 = 90%
    ("persistent_hot", "HHHHHHHHHH", FLAT),
    ("diminishing_hot", "HHHHHHHHHH", DOWN),
    ("sporadic_hot", "H..H.....H", FLAT),
    ("sporadic_hot", "HH..HHHHHH", UP),           # not one run, 8/10 < 90%: trend irrelevant
    ("oscillating_hot", "C........H", FLAT),
    ("oscillating_hot", "CCCCCCCC.H", FLAT),
    ("historical_hot", "HHHHHHHHH.", DOWN),
    ("new_cold", ".........C", FLAT),
    ("consecutive_cold", "........CC", FLAT),
    ("intensifying_cold", "CCCCCCCCCC", DOWN),    # cold getting colder: z falls
    ("persistent_cold", "CCCCCCCCCC", FLAT),
    ("diminishing_cold", "CCCCCCCCCC", UP),
    ("sporadic_cold", ".C.C.C...C", FLAT),
    ("oscillating_cold", "HHHHHHHHHC", FLAT),     # final cold after hot history (not historical hot)
    ("historical_cold", "CCCCCCCCC.", FLAT),
]


def _cube(patterns):
    hot = np.array([[c == "H" for c in p] for p in patterns])
    cold = np.array([[c == "C" for c in p] for p in patterns])
    return hot, cold


def test_every_category_on_hand_built_cube():
    pats = [p for _, p, _ in CASES]
    hot, cold = _cube(pats)
    tz = np.array([t[0] for _, _, t in CASES])
    tp = np.array([t[1] for _, _, t in CASES])
    got = classify(hot, cold, tz, tp)
    assert list(got) == [c for c, _, _ in CASES]
    assert set(got) == set(CATEGORIES)  # all 17 covered


def test_sporadic_with_nine_of_ten_hot_is_trend_class():
    # 9 hot of 10 with a gap is >= 90%: classified by trend, not sporadic
    hot, cold = _cube(["HH.HHHHHHH", "HH.HHHHHHH"])
    got = classify(hot, cold, [0.1, 3.0], [0.9, 0.001])
    assert list(got) == ["persistent_hot", "intensifying_hot"]


def test_classify_rejects_bins_hot_and_cold():
    with pytest.raises(ParameterError):
        classify(np.ones((1, 3), bool), np.ones((1, 3), bool), [0], [1])


def test_mann_kendall_hand_values():
    S, tau, z, p = mann_kendall([[1, 2, 3, 4, 5, 6, 7], [1, 2, 2, 3, 3, 3, 4], [5, 5, 5, 5, 5, 5, 5]])
    assert S.tolist() == [21, 17, 0]
    # var with ties (sizes 2 and 3): (7*6*19 - (2*1*9 + 3*2*11)) / 18 = 714/18
    assert z[1] == pytest.approx(16 / np.sqrt(714 / 18))
    assert z[0] == pytest.approx(20 / np.sqrt(7 * 6 * 19 / 18))
    assert tau[0] == 1.0 and z[2] == 0 and p[2] == 1.0
    assert p[0] == pytest.approx(0.0026667, rel=1e-3)


def test_space_time_gi_star_equals_gi_star_on_explicit_space_time_weights():
    g = Grid.regular(0, 0, 4, 3, 1.0)
    rng = np.random.default_rng(5)
    X = rng.poisson(1.0, (g.n_cells, 6)).astype(float)
    w = grid_band_weights(g, 1.0).toarray()
    z = space_time_gi_star(X, w, time_window=1)
    # explicit (n*T) x (n*T) weights: (j, s) neighbour of (i, t) if w_ij and t-1 <= s <= t
    n, T = X.shape
    big = np.zeros((n * T, n * T))
    for t in range(T):
        for s in (t - 1, t):
            if s >= 0:
                big[t * n:(t + 1) * n, s * n:(s + 1) * n] = w
    zz = gi_star_z(X.T.ravel(), big).reshape(T, n).T
    assert np.allclose(z, zz, atol=1e-10)


def test_cube_weeks_start_monday_and_counts_add_up():
    g = Grid.regular(0, 0, 2, 1, 10.0)
    t = pd.to_datetime(["2016-01-04 00:00", "2016-01-10 23:59", "2016-01-11 00:00", "2016-01-20 00:00", "2016-01-21 00:00"])
    df = pd.DataFrame({"x": [1, 1, 15, 15, np.nan], "y": [1, 1, 1, 1, 1], "occurred_local": t})
    cube = space_time_cube(df, g, freq="week")
    assert cube.steps.tolist()[0] == np.datetime64("2016-01-04")
    assert cube.counts.tolist() == [[2, 0, 0], [0, 1, 1]]
    assert cube.n_no_location == 1 and cube.n_events == 4
    m = space_time_cube(df, g, freq="month", start="2016-01-01", end="2016-02-29")
    assert m.counts.tolist() == [[2, 0], [2, 0]] and m.step_end[-1] == np.datetime64("2016-03-01")
    with pytest.raises(ParameterError):
        space_time_cube(df, g, freq="day")


def test_end_to_end_planted_new_and_persistent_hot_spots():
    g = Grid.regular(0, 0, 30, 30, 100.0)
    rng = np.random.default_rng(11)
    rows = []
    start = np.datetime64("2016-01-04")
    T = 12
    for wk in range(T):
        n = 60
        xs, ys = rng.uniform(0, 3000, n), rng.uniform(0, 3000, n)
        ts = start + np.timedelta64(7 * wk, "D") + rng.integers(0, 7, n).astype("timedelta64[D]")
        rows.append((xs, ys, ts))
        # persistent: every week 12 events around (500, 500)
        rows.append((rng.normal(550, 60, 12), rng.normal(550, 60, 12), np.repeat(ts[:1], 12)))
        if wk == T - 1:  # new: only in the final week, around (2500, 2500)
            rows.append((rng.normal(2450, 60, 25), rng.normal(2450, 60, 25), np.repeat(ts[:1], 25)))
    x = np.concatenate([r[0] for r in rows])
    y = np.concatenate([r[1] for r in rows])
    t = np.concatenate([r[2] for r in rows])
    res = emerging_hot_spots(x=x, y=y, t=t, grid=g, freq="week", band=150.0, time_window=0)
    cat = dict(zip(res.cube.locations.tolist(), res.category))
    assert cat[int(g.locate([550.0], [550.0])[0])] in ("persistent_hot", "intensifying_hot", "diminishing_hot")
    assert cat[int(g.locate([2450.0], [2450.0])[0])] == "new_hot"
    s = res.summary()
    assert len(s) == 17 and s["locations"].sum() == res.cube.n_locations
    assert "band 150" in res.rule
