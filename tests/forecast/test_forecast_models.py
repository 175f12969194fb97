"""Models find a planted hot spot and recover the parameters of simulated Hawkes processes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crimescope.forecast import SEPP, GridHawkes, NaiveCounts, ProspectiveHotspot, RetrospectiveHotspot
from crimescope.forecast.base import make_model, registry
from crimescope.forecast.hawkes_grid import same_cell_pairs, trunc_exp_rate
from crimescope.forecast.sepp import spacetime_pairs, trunc_rayleigh_sigma
from crimescope.spatial.grid import Grid

from forecast_synth import START, frame, hawkes, planted

GRID = Grid.regular(0.0, 0.0, 20, 20, 500.0)


@pytest.mark.parametrize("name", sorted(registry()))
def test_planted_hot_spot_is_found(name):
    ev = planted(n=1500, days=400, seed=11)
    m = make_model(name)
    if name == "learned":
        m.set_params(n_origins=8, max_iter=40)
    fc = m.fit(ev, START + pd.Timedelta(days=400), grid=GRID).predict(7)
    assert int(np.argmax(fc.expected)) == int(GRID.locate([2250.0], [7250.0])[0])
    # and the total is the right order of magnitude (1500 events / 400 days * 7)
    assert 0.5 * 26 < fc.expected.sum() < 2 * 26


def test_naive_counts_by_hand():
    ev = pd.DataFrame({"occurred_local": pd.to_datetime(["2016-01-01", "2016-06-01", "2016-12-01", "2016-12-31"]),
                       "x": [250.0, 250.0, 750.0, 750.0], "y": [250.0, 250.0, 250.0, 250.0]})
    g = Grid.regular(0, 0, 2, 1, 500.0)
    f = NaiveCounts(window_days=100).fit(ev, "2017-01-01", grid=g).predict(10)
    np.testing.assert_allclose(f.expected, [0.0, 2 * 10 / 100])
    f = NaiveCounts(window_days=None).fit(ev, "2017-01-01", grid=g).predict(10)
    np.testing.assert_allclose(f.expected, np.array([2.0, 2.0]) * 10 / 366)


def test_quartic_and_bowers_weights_by_hand():
    g = Grid.regular(0, 0, 3, 1, 500.0)  # centroids at x = 250, 750, 1250
    ev = pd.DataFrame({"occurred_local": pd.to_datetime(["2016-12-30"]), "x": [250.0], "y": [250.0]})
    r = RetrospectiveHotspot(bandwidth=1000.0).fit(ev, "2017-01-01", grid=g)
    np.testing.assert_allclose(r.surface_, [1.0, (1 - 0.25) ** 2, 0.0])
    p = ProspectiveHotspot(bandwidth=1000.0).fit(ev, "2017-01-01", grid=g)
    np.testing.assert_allclose(p.surface_, [1.0, 1 / 2, 1 / 3])  # 0, 1, 2 cells away, age 0 weeks


def test_pair_enumeration_matches_brute_force():
    rng = np.random.default_rng(2)
    n = 300
    t = np.sort(np.round(rng.uniform(0, 50, n), 1))  # many ties
    x = np.round(rng.uniform(0, 3000, n), -2)
    y = np.round(rng.uniform(0, 3000, n), -2)
    c, p, dt, r2 = spacetime_pairs(t, x, y, 10.0, 500.0)
    got = set(zip(c.tolist(), p.tolist()))
    D = t[:, None] - t[None, :]
    R2 = (x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2
    want = set(zip(*np.nonzero((D > 0) & (D <= 10.0) & (R2 <= 500.0 ** 2))))
    assert got == {(int(a), int(b)) for a, b in want}
    cell = rng.integers(0, 5, n)
    order = np.lexsort((t, cell))
    cc, tt = cell[order], t[order]
    c2, p2, d2 = same_cell_pairs(cc, tt, 10.0)
    D2 = tt[:, None] - tt[None, :]
    want2 = set(zip(*np.nonzero((D2 > 0) & (D2 <= 10.0) & (cc[:, None] == cc[None, :]))))
    assert set(zip(c2.tolist(), p2.tolist())) == {(int(a), int(b)) for a, b in want2}
    np.testing.assert_allclose(d2, tt[c2] - tt[p2])


def test_truncated_mle_helpers_invert_their_means():
    for w in (0.05, 0.3, 2.0):
        C = 30.0
        mean = 1 / w - C / np.expm1(w * C)
        assert trunc_exp_rate(mean, C) == pytest.approx(w, rel=1e-6)
    for s in (100.0, 400.0):
        D = 1000.0
        er2 = 2 * s * s - D * D / np.expm1(D * D / (2 * s * s))
        assert trunc_rayleigh_sigma(er2, D) == pytest.approx(s, rel=1e-6)


def test_sepp_recovers_simulated_parameters():
    # background 3/day uniform on 20,000 ft square, theta 0.4, mean delay 5 days, sigma 300 ft
    t, x, y = hawkes(mu=3.0, theta=0.4, omega=0.2, sigma=300.0, T=730, L=20_000, seed=1)
    g = Grid.regular(0.0, 0.0, 40, 40, 500.0)
    m = SEPP(window_days=730, time_cutoff_days=60, space_cutoff=2000.0, bg_bandwidth=2000.0)
    m.fit(frame(t, x, y), START + pd.Timedelta(days=730), grid=g)
    # tolerances: about 3 standard errors at ~3,600 events (checked over seeds 1-5)
    assert m.theta_ == pytest.approx(0.4, abs=0.06)
    assert m.omega_ == pytest.approx(0.2, rel=0.2)
    assert m.sigma_ == pytest.approx(300.0, rel=0.1)
    assert m.n_pairs_ < 20 * t.size  # sparse: linear in events, not N^2
    assert m.p_background_.mean() == pytest.approx(0.6, abs=0.07)


def test_sepp_finds_no_triggering_in_poisson_data():
    rng = np.random.default_rng(4)
    n = 2000
    t, x, y = rng.uniform(0, 365, n), rng.uniform(0, 20_000, n), rng.uniform(0, 20_000, n)
    g = Grid.regular(0.0, 0.0, 40, 40, 500.0)
    m = SEPP(bg_bandwidth=2000.0).fit(frame(t, x, y), START + pd.Timedelta(days=365), grid=g)
    assert m.theta_ < 0.06


def test_grid_hawkes_recovers_simulated_parameters():
    # offspring at the parent's exact place (same cell), as in Mohler et al. (2015)
    t, x, y = hawkes(mu=4.0, theta=0.5, omega=0.25, sigma=0.0, T=1000, L=10_000, seed=2)
    m = GridHawkes(window_days=1000, cutoff_days=120).fit(frame(t, x, y), START + pd.Timedelta(days=1000), grid=GRID)
    assert m.theta_ == pytest.approx(0.5, abs=0.06)
    assert m.omega_ == pytest.approx(0.25, rel=0.2)
    assert m.mu_.sum() == pytest.approx(4.0, rel=0.12)


def test_ensemble_is_the_weighted_mean_of_its_members():
    from crimescope.errors import ParameterError
    from crimescope.forecast.ensemble import EnsembleMean

    ev = planted(n=800, days=400, seed=5)
    as_of = START + pd.Timedelta(days=400)
    a = make_model("naive_all").fit(ev, as_of, grid=GRID).predict(7).expected
    b = make_model("naive_52w").fit(ev, as_of, grid=GRID).predict(7).expected
    e = EnsembleMean(members=("naive_all", "naive_52w"), weights=(3, 1)).fit(ev, as_of, grid=GRID)
    np.testing.assert_allclose(e.predict(7).expected, 0.75 * a + 0.25 * b)
    for bad in [{"members": ("naive_all", "oracle")}, {"members": "naive_all"}, {"weights": (1, -1)},
                {"weights": (1,)}]:
        with pytest.raises(ParameterError, match="^invalid "):
            EnsembleMean(**{"members": ("naive_all", "naive_52w"), **bad}).fit(ev, as_of, grid=GRID)
