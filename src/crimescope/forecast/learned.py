"""A learned model: gradient-boosted Poisson regression on per-cell lagged counts.

In the spirit of the NIJ Real-Time Crime Forecasting Challenge winners: for each
kept cell and each *past* origin ``o`` (every ``origin_step_days`` back from
``as_of``, with the target window ``[o, o + target_days)`` ending no later than
``as_of``), features are computed from events before ``o`` only and the target is
the count in the window. The fitted model is applied at ``o = as_of``.

Features: counts over the last 1, 4, 13 and 52 weeks (``lags_weeks``), the same
summed over the queen neighbours (and the ring of order 2 for 52 weeks), the
all-history daily rate, counts of related categories (rows whose ``category``
differs from ``target_category``) over 4 and 52 weeks, the kept fraction of the
cell's area, and the season (sine/cosine of the origin's day of year).

Cells with no event ever within two rings of neighbours ("inactive") get one
pooled rate, their mean target over the training origins; the booster is trained
on the other rows only, which keeps training fast (most of a city's cells have
never had a shooting nearby).
"""

from __future__ import annotations

import numpy as np

from .base import EventArrays, Forecaster, check_number, invalid

__all__ = ["LearnedPoisson"]


class LearnedPoisson(Forecaster):
    """LightGBM with a Poisson objective on lagged per-cell counts.

    Defaults (52 weekly training origins, 80 rounds at rate 0.1) were chosen on
    2016 origins before the 2017 backtest (docs/forecasting.md).

    Parameters
    ----------
    target_days : float
        Length of the target window the model is trained on; a forecast over
        another horizon is scaled by ``horizon / target_days``.
    n_origins : int
        Number of past origins used for training.
    origin_step_days : float
        Days between training origins.
    lags_weeks : tuple of int
        Look-back windows (weeks) of the count features.
    target_category : str or None
        When events carry a ``category`` column, the category to forecast; the
        other rows become related-category features. None: every row is a target.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf : boosting rounds, step, leaves
        per tree, least training rows per leaf.
    random_state : int
        Seed of the booster.

    Attributes
    ----------
    model_ : lightgbm.LGBMRegressor
        The fitted booster (one thread, deterministic).
    feature_names_ : list of str
    n_train_rows_ : int
        Active training rows (cell x origin) the booster saw.
    inactive_rate_ : float
        Expected events per ``target_days`` in an inactive cell.
    """

    summary = "gradient-boosted Poisson regression on lagged cell/neighbour counts and season"

    def __init__(self, target_days: float = 7, n_origins: int = 52, origin_step_days: float = 7,
                 lags_weeks: tuple = (1, 4, 13, 52), target_category: str | None = None,
                 max_iter: int = 80, learning_rate: float = 0.1, max_leaf_nodes: int = 15,
                 min_samples_leaf: int = 20, random_state: int = 0):
        self.target_days = target_days
        self.n_origins = n_origins
        self.origin_step_days = origin_step_days
        self.lags_weeks = lags_weeks
        self.target_category = target_category
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def _validate(self) -> None:
        check_number("target_days", self.target_days, low=0, low_open=True)
        check_number("n_origins", self.n_origins, low=1, integer=True)
        check_number("origin_step_days", self.origin_step_days, low=0, low_open=True)
        if not self.lags_weeks or any(not isinstance(v, (int, np.integer)) or v < 1 for v in self.lags_weeks):
            raise invalid("lags_weeks", self.lags_weeks, "a non-empty tuple of positive integers")
        check_number("max_iter", self.max_iter, low=1, integer=True)
        check_number("learning_rate", self.learning_rate, low=0, low_open=True, high=1)
        check_number("max_leaf_nodes", self.max_leaf_nodes, low=2, integer=True)
        check_number("min_samples_leaf", self.min_samples_leaf, low=1, integer=True)
        check_number("random_state", self.random_state, low=0, integer=True)

    def _target_times(self, ev: EventArrays) -> np.ndarray:
        located = ev.subset(ev.cell >= 0)
        if self.target_category is not None and located.category is not None:
            return located.t[located.category == self.target_category]
        return located.t

    # ---------------------------------------------------------------- features
    def _counts(self, t: np.ndarray, cell: np.ndarray, a: float, b: float) -> np.ndarray:
        i0, i1 = np.searchsorted(t, [a, b], side="left")
        return np.bincount(cell[i0:i1], minlength=self.grid_.n_cells).astype(float)

    def _features(self, o: float) -> np.ndarray:
        tt, tc = self._target
        cols = []
        for L in self.lags_weeks:
            cols.append(self._counts(tt, tc, o - 7 * L, o))
        c_long = self._counts(tt, tc, o - 7 * max(self.lags_weeks), o)
        for L in sorted(self.lags_weeks)[:2]:
            cols.append(self._w1 @ self._counts(tt, tc, o - 7 * L, o))
        cols.append(self._w1 @ c_long)
        cols.append(self._w2 @ c_long)
        span = max(o - self._t0, 1.0)
        rate = self._counts(tt, tc, -np.inf, o) / span * 7.0
        cols += [rate, self._w1 @ rate, self._w2 @ rate]
        if self._related is not None:
            rt, rc = self._related
            for L in (4, 52):
                c = self._counts(rt, rc, o - 7 * L, o)
                cols.append(c)
                cols.append(self._w1 @ c)
        cols.append(self._area_frac)
        doy = 2 * np.pi * ((o + 3) % 365.25) / 365.25  # 1970-01-01 was day 0
        n = self.grid_.n_cells
        cols.append(np.full(n, np.sin(doy)))
        cols.append(np.full(n, np.cos(doy)))
        return np.column_stack(cols)

    def _names(self) -> list[str]:
        names = [f"count_{L}w" for L in self.lags_weeks]
        names += [f"nb_count_{L}w" for L in sorted(self.lags_weeks)[:2]]
        names += [f"nb_count_{max(self.lags_weeks)}w", f"nb2_count_{max(self.lags_weeks)}w",
                  "rate_all_weekly", "nb_rate_all_weekly", "nb2_rate_all_weekly"]
        if self._related is not None:
            names += ["related_4w", "nb_related_4w", "related_52w", "nb_related_52w"]
        return names + ["area_fraction", "season_sin", "season_cos"]

    def _fit(self, ev: EventArrays) -> None:
        located = ev.subset(ev.cell >= 0)
        self._t0 = ev.start
        if self.target_category is not None and located.category is not None:
            is_t = located.category == self.target_category
            self._target = (located.t[is_t], located.cell[is_t])
            self._related = (located.t[~is_t], located.cell[~is_t])
        else:
            self._target = (located.t, located.cell)
            self._related = None
        self._w1 = self.grid_.neighbours(1).tocsr()
        w2 = self.grid_.neighbours(2).tocsr()
        self._w2 = (w2 - self._w1).tocsr()
        self._area_frac = self.grid_.area / (self.grid_.cell_size ** 2)
        H = float(self.target_days)
        tt, tc = self._target
        self.feature_names_ = self._names()
        # each origin's active rows (and the inactive rows' targets) kept as they are built: the same
        # rows in the same order as stacking every row and selecting the active ones afterwards
        X, y, y_inactive = [], [], []
        for k in range(int(self.n_origins)):
            o = ev.as_of - H - k * float(self.origin_step_days)
            if o <= self._t0:
                break
            f = self._features(o)
            yk = self._counts(tt, tc, o, o + H)
            act = self._active(f)
            X.append(f[act])
            y.append(yk[act])
            y_inactive.append(yk[~act])
        if not X:
            self.model_ = None
            self._fallback = self._counts(tt, tc, -np.inf, ev.as_of) / max(ev.as_of - self._t0, 1.0) * H
            self.n_train_rows_ = 0
            self.inactive_rate_ = 0.0
            self._x_now = None
            return
        X = np.concatenate(X)
        y = np.concatenate(y)
        y_inactive = np.concatenate(y_inactive)
        self.n_train_rows_ = int(y.size)
        # cells with no event ever within two rings: one pooled rate (no trees needed)
        self.inactive_rate_ = float(y_inactive.mean()) if y_inactive.size else 0.0
        if y.sum() <= 0:
            self.model_ = None
            self._fallback = np.full(self.grid_.n_cells, self.inactive_rate_)
        else:
            self.model_ = self._booster().fit(X, y)
        self._x_now = self._features(ev.as_of)

    def _active(self, X: np.ndarray) -> np.ndarray:
        names = self.feature_names_
        cols = [names.index(c) for c in ("rate_all_weekly", "nb_rate_all_weekly", "nb2_rate_all_weekly")]
        return (X[:, cols] > 0).any(axis=1)

    def _booster(self):
        try:
            import lightgbm as lgb
        except ImportError as exc:  # pragma: no cover - depends on the environment
            from ..errors import CrimescopeError

            raise CrimescopeError("the learned model needs LightGBM: pip install 'crimescope[models]'") from exc
        return lgb.LGBMRegressor(
            objective="poisson", n_estimators=int(self.max_iter), learning_rate=float(self.learning_rate),
            num_leaves=int(self.max_leaf_nodes), min_child_samples=int(self.min_samples_leaf),
            reg_lambda=1.0, random_state=int(self.random_state), deterministic=True, force_row_wise=True,
            n_jobs=1, verbose=-1)

    def _predict(self, horizon_days: float) -> np.ndarray:
        scale = horizon_days / float(self.target_days)
        if self.model_ is None:
            return self._fallback * scale
        active = self._active(self._x_now)
        out = np.full(self.grid_.n_cells, self.inactive_rate_)
        if active.any():
            # the booster's output at the current features does not depend on the horizon: once per fit
            if getattr(self, "_pred_now", None) is None or self._pred_now[0] is not self.model_:
                self._pred_now = (self.model_, self.model_.predict(self._x_now[active]))
            out[active] = self._pred_now[1]
        return np.maximum(out, 0.0) * scale
