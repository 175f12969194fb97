"""Randomization inference of Callaway-Sant'Anna and of WDD, and WDD's window dispersion, by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crimescope.evaluate import make_method
from crimescope.evaluate.did import aggregate, att_gt, ri_interval, simple_att
from crimescope.evaluate.wdd import _placebo_test, _zs, window_dispersion

from evaluate_fixtures import synthetic_panel


# ------------------------------------------------------------ CS: simple ATT
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10 ** 6), cg=st.sampled_from(["nevertreated", "notyettreated"]),
       ant=st.integers(0, 2))
def test_fast_simple_att_equals_the_aggregation_of_group_time_effects(seed, cg, ant):
    rng = np.random.default_rng(seed)
    n, T = 12, 20
    y = rng.poisson(8, (n, T)).astype(float)
    g = np.full(n, -1)
    starts = rng.choice(np.arange(4, T), 3)
    for i, s in zip(rng.choice(n, 6, replace=False), np.repeat(starts, 2)):
        g[i] = s
    ref = aggregate(att_gt(y, g, cg, ant), "simple")["att"]
    assert simple_att(y, g, cg, ant) == pytest.approx(ref, abs=1e-10, nan_ok=True)


def test_simple_att_of_the_treatment_indicator_is_one():
    # the observed statistic under a hypothesised effect tau is |ATT - tau|
    g = np.array([5, 5, 8, -1, -1, -1, -1])
    D = np.zeros((7, 12))
    for i, s in enumerate(g):
        if s >= 0:
            D[i, s:] = 1
    assert simple_att(D, g) == pytest.approx(1.0)


def test_ri_interval_by_hand():
    # 9 permutations: statistics 0, +-1, +-2, +-3, +-4; observed 3.5 -> p = (1 + #{|b| >= 3.5}) / 10 = 0.3
    by = np.array([0, 1, -1, 2, -2, 3, -3, 4, -4], float)
    lo, hi, p = ri_interval(3.5, 1.0, by, np.zeros(9), 0.8)
    assert p == pytest.approx(0.3)
    # kept tau: p(tau) = (1 + #{|b| >= |3.5 - tau|}) / 10 > 0.2, i.e. at least two |b| >= |3.5 - tau|:
    # |3.5 - tau| <= 4, tau in [-0.5, 7.5] (grid step 16 x 3.5 / 1600 = 0.035)
    assert lo == pytest.approx(-0.5, abs=0.036) and hi == pytest.approx(7.5, abs=0.036)


@pytest.fixture(scope="module")
def panels():
    treated = (0, 3, 6, 9, 12, 15)
    return (synthetic_panel(seed=5, treated=treated, effect=1.0),
            synthetic_panel(seed=5, treated=treated, effect=0.5), treated)


def test_cs_randomization_finds_a_planted_halving_and_not_a_placebo(panels):
    null, planted, treated = panels
    coh = {null.unit_ids[i]: null.periods[40] for i in treated}
    a = make_method("cs", n_permutations=499, biters=199).fit(planted, coh).result
    b = make_method("cs", n_permutations=499, biters=199).fit(null, coh).result
    assert a.p_value < 0.05 and a.ci_high < 0 and a.covers(-0.5)
    assert b.p_value > 0.05 and b.ci_low < 0 < b.ci_high
    assert "randomization" in a.meta["inference"]
    inf = a.tables["inference"]
    assert len(inf) == 2 and inf["p_value"].notna().all()
    # the RI p-value is a rank: a multiple of 1 / (n_permutations + 1)
    assert round(a.p_value * 500, 9) == int(round(a.p_value * 500))
    # the normal (bootstrap) figures remain one setting away, with the same estimate
    c = make_method("cs", inference="normal", biters=199).fit(planted, coh).result
    assert c.estimate == pytest.approx(a.estimate) and c.ci_low == pytest.approx(a.meta["normal_ci"][0])


def test_cs_randomization_size_on_seeded_null_panels():
    """30 seeded Poisson panels with no effect: the 5% test rejects at most 4 times (binomial 5%: P(>4) < 2%)."""
    rejected = 0
    for seed in range(30):
        p = synthetic_panel(seed=100 + seed)
        coh = {p.unit_ids[i]: p.periods[36 + (i % 2) * 6] for i in (1, 4, 7, 10)}
        rejected += make_method("cs", n_permutations=199, biters=99).fit(p, coh).result.p_value < 0.05
    assert rejected <= 4


# -------------------------------------------------------------------- WDD
def test_window_dispersion_by_hand():
    # 3 areas x 4 periods before the start, windows of 2: one pseudo-start (s' = 2)
    y = np.array([[2, 2, 4, 4], [3, 3, 3, 3], [5, 5, 5, 5]], float)
    d = window_dispersion(y, s=4, win=2)
    # area 0: Y0 = 4, Y1 = 8, C0 = C1 = 16, k = 1/4: d = 4, v = 8 + 4 + 32/16 = 14 -> 16/14
    # area 1: Y0 = Y1 = 6, C0 = 14, C1 = 18, k = 6/14: d = -4 k = -12/7, v = 12 + k^2 32
    # area 2: Y0 = Y1 = 10, C0 = 10, C1 = 14, k = 1: d = -4, v = 20 + 24 = 44 -> 16/44
    k1 = 6 / 14
    expected = (16 / 14 + (12 / 7) ** 2 / (12 + k1 ** 2 * 32) + 16 / 44) / 3
    assert expected < 1 and d["phi"] == 1.0  # floored at Poisson
    y2 = y.copy()
    y2[0, 2:] = 10  # area 0 jumps: over-dispersed
    d2 = window_dispersion(y2, s=4, win=2)
    Y0, Y1, C0, C1 = 4, 20, 16, 16
    r0 = ((Y1 - Y0) - Y0 / C0 * (C1 - C0)) ** 2 / (Y1 + Y0 + (Y0 / C0) ** 2 * (C1 + C0))
    k1 = 6 / 14
    r1 = ((6 - 6) - k1 * (30 - 14)) ** 2 / (12 + k1 ** 2 * (14 + 30))
    r2 = ((10 - 10) - 1 * (26 - 10)) ** 2 / (20 + 1 * (10 + 26))
    assert d2["phi"] == pytest.approx((r0 + r1 + r2) / 3, rel=1e-12)
    assert d2["n_areas"] == 3 and d2["n_windows"] == 1 and d2["window"] == 2


def test_wdd_placebo_p_value_by_hand():
    # 4 areas; target = area 0; placebo targets = each other area alone, control = the rest (no buffer)
    pre = np.array([10.0, 10.0, 10.0, 10.0])
    post = np.array([4.0, 10.0, 13.0, 8.0])
    treated = np.array([True, False, False, False])
    M = np.eye(4, dtype=bool)[1:]
    C = ~np.eye(4, dtype=bool)[1:]
    obs = (10.0, 4.0, 30.0, 31.0)  # control of the target: areas 1-3
    p, lo, hi, n = _placebo_test(pre, post, treated, obs, M, C, 0.5)
    zo = abs(_zs(10.0, 4.0, 30.0, 31.0))
    zp = [abs(_zs(10.0, post[j], 30.0, post.sum() - post[j])) for j in (1, 2, 3)]
    assert n == 3 and p == pytest.approx((1 + sum(z >= zo for z in zp)) / 4)
    assert lo < 4.0 / (10 * 31 / 30) - 1 < hi  # the interval holds the estimate


def test_wdd_placebo_finds_a_planted_halving_and_not_a_placebo(panels):
    null, planted, treated = panels
    coh = {null.unit_ids[i]: null.periods[40] for i in treated}
    a = make_method("wdd").fit(planted, coh).result
    b = make_method("wdd").fit(null, coh).result
    assert a.p_value < 0.05 and a.relative_high < 0 and a.covers(-0.5)
    assert b.p_value > 0.05 and b.relative_low < 0 < b.relative_high
    assert "randomization" in a.meta["inference"] and a.meta["placebo_sets"] >= 400
    assert a.meta["normal_p_value"] == pytest.approx(a.table.iloc[0]["p_value"])
    # Wheeler & Ratcliffe's Poisson test as published is one setting away
    c = make_method("wdd", inference="normal", dispersion="poisson").fit(planted, coh).result
    assert c.estimate == pytest.approx(a.estimate) and c.meta["dispersion"] == 1.0
