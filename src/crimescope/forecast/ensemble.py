"""A weighted mean of registered models' forecasts (each member refitted on the same data)."""

from __future__ import annotations

import numpy as np

from .base import EventArrays, Forecaster, check_number, invalid

__all__ = ["EnsembleMean"]


class EnsembleMean(Forecaster):
    """Expected counts = weighted mean of the members' expected counts.

    Parameters
    ----------
    members : tuple of str
        Registry names of the member models (built with their registry defaults).
    weights : tuple of float or None
        Non-negative weights, one per member (None: equal weights).
    random_state : int
        Passed to members that take one.

    Attributes
    ----------
    members_ : list of fitted Forecaster
    weights_ : ndarray (normalised to sum to 1)
    """

    summary = "weighted mean of member models' forecasts"

    def __init__(self, members: tuple = ("naive_all", "grid_hawkes"), weights: tuple | None = None,
                 random_state: int = 0):
        self.members = members
        self.weights = weights
        self.random_state = random_state

    def _validate(self) -> None:
        from .base import registry

        check_number("random_state", self.random_state, low=0, integer=True)
        reg = registry()
        if not self.members or isinstance(self.members, str) or any(m not in reg for m in self.members):
            raise invalid("members", self.members, f"a tuple of model names from {sorted(reg)}")
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=float)
            if w.shape != (len(self.members),) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
                raise invalid("weights", self.weights, "one non-negative weight per member, not all zero")

    def fit(self, events, as_of, *, grid):  # members see the raw events, like any model
        self._validate()
        from .base import make_model

        fitted = []
        for name in self.members:
            m = make_model(name)
            if "random_state" in m.get_params():
                m.set_params(random_state=self.random_state)
            fitted.append(m.fit(events, as_of, grid=grid))
        w = np.ones(len(fitted)) if self.weights is None else np.asarray(self.weights, dtype=float)
        self.members_ = fitted
        self.weights_ = w / w.sum()
        self.grid_ = grid
        self.as_of_ = fitted[0].as_of_
        self.n_events_ = fitted[0].n_events_
        return self

    def _fit(self, ev: EventArrays) -> None:  # pragma: no cover - fit is overridden
        raise NotImplementedError

    def _predict(self, horizon_days: float) -> np.ndarray:
        return sum(w * m.predict(horizon_days).expected for w, m in zip(self.weights_, self.members_))
