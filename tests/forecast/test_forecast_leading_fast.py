"""The optimised feature construction of LeadingIndicators equals a plain reference computation.

The reference below is the round-four code path written out directly: each related category
selected by comparing the category labels, every surface normalised to shares over the whole
(cells x origins) array, the training rows gathered afterwards. The model's fit (categories
factorised once and split once per fit, training rows gathered before scaling, the widest
all-history smooth computed once) must give the same training matrix bit for bit, the same
boosters and so the same forecast. Real-data figures pinned in test_forecast_round4.py check
the same on the store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crimescope.forecast.base import make_model, prepare_events
from crimescope.forecast.leading import BAGGED, LeadingIndicators, cell_kernel, decayed_cell_counts
from crimescope.spatial.grid import Grid

from forecast_synth import START


def _events(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = 700.0
    rows = []
    for cat, n, sd in (("target", 900, 900.0), ("drugs", 2500, 1500.0), ("fights", 1200, 600.0)):
        t = rng.uniform(0, days, n)
        # events cluster around a few spots, so surfaces have ties, zeros and hot cells
        spot = rng.integers(0, 6, n)
        cx = np.array([1500, 3000, 6000, 8000, 4500, 9000.0])[spot]
        cy = np.array([2000, 7000, 5000, 1500, 9000, 8500.0])[spot]
        rows.append(pd.DataFrame({"occurred_local": START + pd.to_timedelta(t, unit="D"),
                                  "x": np.clip(cx + rng.normal(0, sd, n), 1, 9999),
                                  "y": np.clip(cy + rng.normal(0, sd, n), 1, 9999), "category": cat}))
    ev = pd.concat(rows, ignore_index=True)
    ev.loc[rng.random(len(ev)) < 0.02, "x"] = np.nan  # some rows without a location
    return ev


def _reference_training(m: LeadingIndicators, events: pd.DataFrame, as_of, grid):
    """(X, y, draws, x_now, active_now) of the round-four code path, from the settings of ``m``."""
    ev = prepare_events(events, as_of, grid)
    located = ev.subset(ev.cell >= 0)
    cat = located.category
    if cat is None:
        target, related = located, {}
    else:
        is_target = (cat == m.target_category) if m.target_category is not None else ~np.isin(cat, list(m.related))
        target = located.subset(is_target)
        related = {c: located.subset(cat == c) for c in m.related}
    n = grid.n_cells
    H = float(m.target_days)
    start = target.start if target.n else ev.as_of
    train = np.array(sorted(o for o in (ev.as_of - H - k * float(m.origin_step_days) for k in range(m.n_origins))
                            if o > start))
    origins = np.append(train, ev.as_of)

    def surfaces(arr, specs):
        raw = {}
        for hl, bw in specs:
            if arr is None or arr.n == 0:
                yield np.zeros((n, origins.size))
                continue
            key = None if hl is None else float(hl)
            if key not in raw:
                raw[key] = decayed_cell_counts(arr.t, arr.cell, origins, n, key)
            v = raw[key] if bw == 0 else cell_kernel(grid, float(bw)) @ raw[key]
            tot = v.sum(axis=0)
            yield v * (1e4 / np.where(tot > 0, tot, 1.0))

    def all_surfaces():
        yield from surfaces(target, m.target_features)
        for c in m.related:
            yield from surfaces(related.get(c), m.related_features)
        yield np.repeat((grid.area / grid.cell_size ** 2)[:, None], origins.size, axis=1)
        if m.season:
            doy = 2 * np.pi * ((origins + 3) % 365.25) / 365.25
            yield np.broadcast_to(np.sin(doy), (n, origins.size))
            yield np.broadcast_to(np.cos(doy), (n, origins.size))

    all_hist = [s for s in m.target_features if s[0] is None]
    widest = max(all_hist or m.target_features, key=lambda s: s[1])
    active = next(surfaces(target, [widest])) > 0
    y = np.empty((n, train.size))
    for k, o in enumerate(train):
        i0, i1 = np.searchsorted(target.t, [o, o + H], side="left")
        y[:, k] = np.bincount(target.cell[i0:i1], minlength=n)
    act = active[:, :train.size]
    inactive_rate = float(y[~act].mean()) if (~act).any() else 0.0
    ci, ki = np.nonzero(act)
    yk = y[ci, ki]
    seeds = [m.random_state + k for k in range(m.n_seeds)]
    draws = [(yk > 0) | (np.random.default_rng(sd).random(yk.size) < m.zero_sample) for sd in seeds]
    union = np.logical_or.reduce(draws)
    ci, ki, yk = ci[union], ki[union], yk[union]
    feats = list(all_surfaces())
    X = np.column_stack([f[ci, ki] for f in feats])
    x_now = np.column_stack([f[:, -1] for f in feats])
    return X, yk, [d[union] for d in draws], x_now, active[:, -1], inactive_rate


@pytest.mark.parametrize("settings", [
    dict(BAGGED, n_origins=30, max_iter=20, min_samples_leaf=20),           # the registry's leading_bagged
    dict(n_origins=25, max_iter=15, min_samples_leaf=20, related_features=((None, 0), (30, 750))),
    dict(BAGGED, n_origins=20, max_iter=10, min_samples_leaf=20, target_category=None),
])
def test_fit_equals_the_reference_computation(settings, monkeypatch):
    import lightgbm as lgb

    grid = Grid.regular(0.0, 0.0, 25, 25, 400.0)
    ev = _events(3)
    as_of = START + pd.Timedelta(days=700)
    m = LeadingIndicators(related=("drugs", "fights", "absent"), **settings)
    if settings.get("target_category", "target") is not None:
        m.set_params(target_category="target")
    seen = []
    fit = lgb.LGBMRegressor.fit

    def spy(self, X, y, sample_weight=None, **kw):
        seen.append((np.array(X), np.array(y), np.array(sample_weight)))
        return fit(self, X, y, sample_weight=sample_weight, **kw)

    monkeypatch.setattr(lgb.LGBMRegressor, "fit", spy)
    got = m.fit(ev, as_of, grid=grid).predict(7).expected
    X, yk, draws, x_now, active_now, inactive_rate = _reference_training(m, ev, as_of, grid)
    assert len(seen) == m.n_seeds and X.shape[1] == len(m.feature_names_)
    for (Xs, ys, ws), d in zip(seen, draws):
        np.testing.assert_array_equal(Xs, X[d])  # bit for bit
        np.testing.assert_array_equal(ys, yk[d])
        np.testing.assert_array_equal(ws, np.where(yk[d] > 0, 1.0, 1.0 / m.zero_sample))
    np.testing.assert_array_equal(m._x_now, x_now)
    np.testing.assert_array_equal(m._active_now, active_now)
    assert m.inactive_rate_ == inactive_rate
    # the forecast of boosters trained on the reference rows
    monkeypatch.setattr(lgb.LGBMRegressor, "fit", fit)
    boosters = [m._booster(m.random_state + k).fit(X[d], yk[d], sample_weight=np.where(yk[d] > 0, 1.0,
                                                                                        1.0 / m.zero_sample))
                for k, d in enumerate(draws)]
    ref = np.full(grid.n_cells, inactive_rate)
    ref[active_now] = np.mean([b.predict(x_now[active_now]) for b in boosters], axis=0)
    np.testing.assert_array_equal(got, np.maximum(ref, 0.0))  # a class built directly is not rescaled
    assert not hasattr(m, "_split_cache") or m._split_cache is None  # the events are not kept


def test_split_is_computed_once_per_fit(monkeypatch):
    grid = Grid.regular(0.0, 0.0, 10, 10, 1000.0)
    ev = _events(1)
    calls = []
    import pandas as pd_mod

    real = pd_mod.factorize

    def counting(values, *a, **k):
        calls.append(len(values))
        return real(values, *a, **k)

    monkeypatch.setattr(pd_mod, "factorize", counting)
    m = make_model("leading_bagged", related=("drugs",), n_origins=10, max_iter=5, min_samples_leaf=20)
    m.for_target("target").fit(ev, START + pd.Timedelta(days=700), grid=grid)
    assert len(calls) == 1


def test_binary_objective_learns_the_chance_of_any_event():
    from crimescope.errors import ParameterError

    grid = Grid.regular(0.0, 0.0, 25, 25, 400.0)
    ev = _events(2)
    as_of = START + pd.Timedelta(days=700)
    kw = dict(related=("drugs", "fights"), target_category="target", n_origins=30, max_iter=20, min_samples_leaf=20)
    pois = LeadingIndicators(**kw).fit(ev, as_of, grid=grid)
    hit = LeadingIndicators(objective="binary", **kw).fit(ev, as_of, grid=grid)
    p = np.mean([b.predict(hit._x_now[hit._active_now]) for b in hit.models_], axis=0)
    assert ((p > 0) & (p < 1)).all()  # probabilities, not counts
    # the forecast is the Poisson mean with that probability of any event, per target window
    np.testing.assert_allclose(hit.predict(7).expected[hit._active_now], -np.log1p(-p), rtol=1e-12)
    np.testing.assert_allclose(hit.predict(14).expected, 2 * hit.predict(7).expected)
    # the same rows and features as the count model; only the label differs
    np.testing.assert_array_equal(hit._x_now, pois._x_now)
    target = ev[(ev.category == "target") & ev.x.notna()]
    assert hit.inactive_rate_ <= pois.inactive_rate_  # P(any) <= E[count] in the inactive cells
    assert 0.0 <= hit.inactive_rate_ < 1.0 and len(target) > 0
    with pytest.raises(ParameterError, match="invalid objective"):
        LeadingIndicators(objective="lambdarank", **kw).fit(ev, as_of, grid=grid)


def test_prepared_categories_are_factorised_once_with_the_column_values():
    grid = Grid.regular(0.0, 0.0, 25, 25, 400.0)
    ev = _events(4)
    as_of = START + pd.Timedelta(days=650)
    got = prepare_events(ev, as_of, grid)
    kept = ev[ev.x.notna() & (ev.occurred_local < as_of)].sort_values("occurred_local", kind="stable")
    assert got.category.dtype == object and list(got.category) == list(kept["category"])
    assert list(got.category_names[got.category_codes]) == list(got.category)
    sub = got.subset(got.cell % 2 == 0).since(got.t[len(got.t) // 2])
    assert list(sub.category_names[sub.category_codes]) == list(sub.category)
    # a missing category: no codes, the column's values as before (the fit factorises them itself)
    ev.loc[ev.index[:5], "category"] = None
    miss = prepare_events(ev, as_of, grid)
    assert miss.category_codes is None and miss.category_names is None
    ref = ev["category"].to_numpy(object)[(ev.x.notna() & (ev.occurred_local < as_of)).to_numpy()]
    assert sorted(map(str, miss.category)) == sorted(map(str, ref))
    kw = dict(related=("drugs", "fights"), target_category="target", n_origins=20, max_iter=8, min_samples_leaf=20)
    a = LeadingIndicators(**kw).fit(ev, as_of, grid=grid).predict(7).expected
    b = LeadingIndicators(**kw).fit(ev.dropna(subset=["category"]), as_of, grid=grid).predict(7).expected
    np.testing.assert_array_equal(a, b)  # rows without a category are neither the target nor an indicator
