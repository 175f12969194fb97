"""Work shared by the fits of one backtest changes no result, bit for bit.

Inside ``forecast.base.shared_fit_work`` (which ``backtest`` opens) each event frame is validated,
located and sorted once and cut at each origin, the leading-indicator models at one origin reuse
each other's surfaces, and each forecast is sorted once for all coverages. Every record, every
reliability bin and every equity total must equal those of the same backtest with the block
replaced by a no-op (each fit preparing its events afresh, every score computed by
``score_coverage`` and ``flag_fraction`` as before).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import pytest

from crimescope.forecast import backtest as bt_mod
from crimescope.forecast.backtest import backtest, weekly_origins
from crimescope.forecast.base import make_model, prepare_events, shared_fit_work
from crimescope.forecast.metrics import FlagOrder, flag_fraction, score_coverage, score_coverages
from crimescope.spatial.grid import Grid

from forecast_synth import START

GRID = Grid.regular(0.0, 0.0, 25, 25, 400.0)


def _events(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for cat, n, sd in (("target", 900, 900.0), ("drugs", 2000, 1500.0), ("fights", 1000, 600.0)):
        t = rng.uniform(0, 600, n)
        spot = rng.integers(0, 5, n)
        cx = np.array([1500, 3000, 6000, 8000, 4500.0])[spot]
        cy = np.array([2000, 7000, 5000, 1500, 9000.0])[spot]
        rows.append(pd.DataFrame({"occurred_local": START + pd.to_timedelta(t, unit="D"),
                                  "x": np.clip(cx + rng.normal(0, sd, n), 1, 9999),
                                  "y": np.clip(cy + rng.normal(0, sd, n), 1, 9999), "category": cat}))
    ev = pd.concat(rows, ignore_index=True)
    ev.loc[rng.random(len(ev)) < 0.02, "x"] = np.nan
    # rows at exactly the same instant, and rows exactly at an origin (midnight)
    ev.loc[:20, "occurred_local"] = START + pd.Timedelta(days=300)
    ev.loc[21:30, "occurred_local"] = START + pd.Timedelta(days=539)
    return ev.sample(frac=1.0, random_state=1).reset_index(drop=True)  # not in time order


def _models():
    small = dict(n_origins=20, max_iter=8, min_samples_leaf=20)
    return {
        "naive_all": make_model("naive_all"),
        "smooth_counts": make_model("smooth_counts"),
        "stkde": make_model("stkde"),
        "ensemble": make_model("ensemble"),
        "leading_bagged": make_model("leading_bagged", related=("drugs", "fights"), **small),
        "leading_indicators": make_model("leading_indicators", related=("drugs", "fights"), **small),
        "leading_reported": make_model("leading_indicators", related=("fights",), **small),
    }


def _run(ev, origins, models):
    return backtest(ev, GRID, models, origins, horizons=[1, 7], coverages=["1%", "5%", "0.25sqmi"],
                    target_category="target", keep_forecasts=True)


def _flag_fraction_reference(score, area, limit):
    """``metrics.flag_fraction`` as it was written before the sort was shared."""
    score = np.asarray(score, dtype=float)
    area = np.asarray(area, dtype=float)
    out = np.zeros(score.size)
    if limit <= 0 or score.size == 0:
        return out
    order = np.argsort(-score, kind="stable")
    s = score[order]
    a = area[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    ends = np.r_[starts[1:], s.size]
    garea = np.add.reduceat(a, starts)
    cum = np.cumsum(garea)
    full = cum <= limit * (1 + 1e-12)
    n_full = int(full.sum())
    frac_g = np.zeros(starts.size)
    frac_g[:n_full] = 1.0
    if n_full < starts.size:
        before = cum[n_full - 1] if n_full else 0.0
        frac_g[n_full] = max(0.0, (limit - before) / garea[n_full])
    out[order] = np.repeat(frac_g, ends - starts)
    return out


def _score_reference(expected, observed, area, coverage):
    """``metrics.score_coverage`` as it was written before the sort was shared."""
    from crimescope.forecast.metrics import CoverageScore, parse_coverage

    cov = parse_coverage(coverage)
    expected, observed, area = (np.asarray(v, dtype=float) for v in (expected, observed, area))
    total = float(area.sum())
    limit = cov.area_of(total)
    f = _flag_fraction_reference(expected / area, area, limit)
    fb = _flag_fraction_reference(observed / area, area, limit)
    return CoverageScore(coverage=cov.label, flagged_area=float((f * area).sum()), total_area=total,
                         n_events=float(observed.sum()), hits=float((f * observed).sum()),
                         best_hits=float((fb * observed).sum()))


class _FlagOrderReference:
    def __init__(self, score, area):
        self.score, self.area = score, area

    def fraction(self, limit):
        return _flag_fraction_reference(self.score, self.area, limit)


def test_backtest_with_shared_work_equals_fits_done_afresh(monkeypatch):
    ev = _events()
    origins = weekly_origins(START + pd.Timedelta(days=525), START + pd.Timedelta(days=560))
    shared = _run(ev, origins, _models())
    # the same backtest with nothing shared and the scores of the code before
    monkeypatch.setattr(bt_mod, "shared_fit_work", contextlib.nullcontext)
    monkeypatch.setattr("crimescope.forecast.metrics.FlagOrder", _FlagOrderReference)
    monkeypatch.setattr(bt_mod, "score_coverages", lambda exp, obs, area, covs, *a: [
        _score_reference(exp, obs, area, c) for c in covs])
    fresh = _run(ev, origins, _models())
    assert len(shared.records) == len(origins) * 7 * 2 * 3
    cols = [c for c in shared.records.columns if c not in ("fit_seconds", "fit_cpu_seconds")]
    pd.testing.assert_frame_equal(shared.records[cols], fresh.records[cols], check_exact=True)
    pd.testing.assert_frame_equal(shared.reliability, fresh.reliability, check_exact=True)
    for k in fresh.forecasts:
        np.testing.assert_array_equal(shared.forecasts[k], fresh.forecasts[k])
    for k, tot in fresh.cell_totals.items():
        for part, v in tot.items():
            np.testing.assert_array_equal(shared.cell_totals[k][part], v)
    # the leading models are not trivial and not all the same
    f7 = {m: shared.forecasts[(m, 7.0)] for m in ("leading_bagged", "leading_indicators", "leading_reported")}
    assert not np.array_equal(f7["leading_bagged"], f7["leading_indicators"])
    assert all(np.all(v >= 0) and v.sum() > 0 for v in f7.values())


def test_leading_models_reuse_each_others_surfaces(monkeypatch):
    import crimescope.forecast.leading as leading

    ev = _events(3)
    as_of = START + pd.Timedelta(days=546)
    calls = []
    real = leading.decayed_cell_counts
    monkeypatch.setattr(leading, "decayed_cell_counts", lambda *a: calls.append(a[-1]) or real(*a))
    models = _models()
    names = ("leading_bagged", "leading_indicators", "leading_reported")
    alone = [len(calls)]
    for n in names:
        models[n].clone().for_target("target").fit(ev, as_of, grid=GRID)
        alone.append(len(calls))
    calls.clear()
    with shared_fit_work():
        got = [models[n].clone().for_target("target").fit(ev, as_of, grid=GRID) for n in names]
        after_first = len(calls)
    assert after_first == alone[1] - alone[0]  # the first computes what it needs once
    # the others found every surface they need: leading_indicators' and leading_reported's are a subset
    assert len(calls) == after_first
    for n, m in zip(names, got):
        ref = models[n].clone().for_target("target").fit(ev, as_of, grid=GRID)
        np.testing.assert_array_equal(m._x_now, ref._x_now)
        np.testing.assert_array_equal(m.predict(7).expected, ref.predict(7).expected)


def test_prepared_events_are_cut_like_a_fresh_preparation():
    ev = _events(7)
    cuts = [START + pd.Timedelta(days=d) for d in (0, 1, 300, 300.5, 539, 599, 2000)]
    with shared_fit_work() as store:
        got = [prepare_events(ev, c, GRID) for c in cuts]
        assert len([k for k in store if k[0] == "events"]) == 1  # prepared once for every cut
        with pytest.raises(ValueError):  # a shared array cannot be changed by a model
            got[2].t[0] = 0.0
    for c, g in zip(cuts, got):  # outside the block each call prepares afresh
        want = prepare_events(ev, c, GRID)
        assert g.as_of == want.as_of and g.n == want.n
        for a in ("t", "x", "y", "cell", "category"):
            np.testing.assert_array_equal(getattr(g, a), getattr(want, a))
    assert got[0].n == 0 and got[-1].n == want.n and 0 < got[3].n < got[4].n
    # a frame without categories, and another grid: prepared separately, cut the same way
    plain = ev.drop(columns="category")
    other = Grid.regular(0.0, 0.0, 10, 10, 1000.0)
    with shared_fit_work() as store:
        a = prepare_events(plain, cuts[4], other)
        b = prepare_events(ev, cuts[4], GRID)
        assert a.category is None and b.category is not None and len(store) == 2
    np.testing.assert_array_equal(a.cell, prepare_events(plain, cuts[4], other).cell)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_sort_scores_every_coverage_as_before(seed):
    rng = np.random.default_rng(seed)
    n = 400
    area = np.where(rng.random(n) < 0.1, rng.uniform(0.2, 1.0, n), 1.0)
    exp = np.round(rng.gamma(0.3, 1.0, n), 2)  # many ties, some zeros
    exp[rng.random(n) < 0.3] = 0.0
    obs = rng.poisson(exp * 0.8).astype(float)
    covs = ["0.5%", "1%", "5%", "30%", "100%", 0.000001]
    for c, s in zip(covs, score_coverages(exp, obs, area, covs)):
        assert s == _score_reference(exp, obs, area, c) == score_coverage(exp, obs, area, c)
    order = FlagOrder(exp / area, area)
    for limit in (0.0, 0.3, 1.0, 7.5, area.sum(), 2 * area.sum()):
        want = _flag_fraction_reference(exp / area, area, limit)
        np.testing.assert_array_equal(order.fraction(limit), want)
        np.testing.assert_array_equal(flag_fraction(exp / area, area, limit), want)
    assert FlagOrder(np.array([]), np.array([])).fraction(1.0).size == 0


def test_learned_keeps_the_active_rows_of_every_origin_as_before(monkeypatch):
    import lightgbm as lgb

    from crimescope.forecast.learned import LearnedPoisson

    ev = _events(4)
    ev = ev[ev["category"] == "target"].drop(columns="category")
    as_of = START + pd.Timedelta(days=546)
    seen = []
    fit = lgb.LGBMRegressor.fit
    monkeypatch.setattr(lgb.LGBMRegressor, "fit", lambda self, X, y, **kw: seen.append((X, y)) or fit(self, X, y, **kw))
    m = LearnedPoisson(n_origins=30, max_iter=5, min_samples_leaf=5).fit(ev, as_of, grid=GRID)
    # the reference: every cell of every origin stacked, then the active rows selected
    H = float(m.target_days)
    tt, tc = m._target
    from crimescope.forecast.base import to_days

    od = float(to_days(m.as_of_))
    rows = [(m._features(od - H - 7.0 * k), m._counts(tt, tc, od - H - 7.0 * k, od - 7.0 * k))
            for k in range(30) if od - H - 7.0 * k > m._t0]
    X = np.vstack([r[0] for r in rows])
    y = np.concatenate([r[1] for r in rows])
    active = m._active(X)
    assert len(seen) == 1 and 0 < active.sum() < active.size
    np.testing.assert_array_equal(seen[0][0], X[active])
    np.testing.assert_array_equal(seen[0][1], y[active])
    assert m.inactive_rate_ == float(y[~active].mean()) and m.n_train_rows_ == int(active.sum())
    a, b = m.predict(7).expected, m.predict(1).expected  # the booster's output is computed once per fit
    np.testing.assert_allclose(b, a / 7, rtol=1e-12)
