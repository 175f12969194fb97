"""Naive baselines: each cell's past count, as a daily rate, times the horizon."""

from __future__ import annotations

import numpy as np

from .base import EventArrays, Forecaster, check_number

__all__ = ["NaiveCounts"]


class NaiveCounts(Forecaster):
    """Expected count = cell's count over a window / window length x horizon.

    Parameters
    ----------
    window_days : float or None
        Length of the look-back window in days (364 = 52 weeks). ``None`` uses all
        history before ``as_of`` (rate over the span from the first event).

    Attributes
    ----------
    counts_ : ndarray
        Events per kept cell in the window.
    span_days_ : float
        Days the rate is computed over.
    """

    summary = "counts per cell over a look-back window (or all history), as a daily rate"

    def __init__(self, window_days: float | None = 364):
        self.window_days = window_days

    def _validate(self) -> None:
        check_number("window_days", self.window_days, low=0, low_open=True, none_ok=True)

    def _fit(self, ev: EventArrays) -> None:
        n = self.grid_.n_cells
        if self.window_days is None:
            sub = ev
            span = ev.as_of - ev.start
        else:
            sub = ev.since(ev.as_of - float(self.window_days))
            span = min(float(self.window_days), ev.as_of - ev.start)
        inside = sub.cell >= 0
        self.counts_ = np.bincount(sub.cell[inside], minlength=n).astype(float)
        self.span_days_ = max(float(span), 1.0)

    def _predict(self, horizon_days: float) -> np.ndarray:
        return self.counts_ * (horizon_days / self.span_days_)
