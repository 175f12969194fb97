"""Long-memory smoothed counts: decayed all-history cell counts blended with their quartic smooth."""

from __future__ import annotations

import math

import numpy as np

from .base import EventArrays, Forecaster, check_number
from .hotspot import _unique_points, pairs_within

__all__ = ["SmoothedCounts", "decay_weights", "decayed_span", "quartic_spread"]


def decay_weights(age_days: np.ndarray, half_life_days: float | None) -> np.ndarray:
    """``2 ** (-age / half_life)`` (all ones when ``half_life_days`` is None)."""
    age = np.asarray(age_days, dtype=float)
    if half_life_days is None:
        return np.ones_like(age)
    return np.exp2(-age / float(half_life_days))


def decayed_span(history_days: float, half_life_days: float | None) -> float:
    """Integral of the decay weight over the history: the 'days' a weighted count covers.

    Weighted count / this span is a daily rate (for a constant rate, exactly that rate).
    Never less than one day.
    """
    history_days = max(float(history_days), 0.0)
    if half_life_days is None:
        span = history_days
    else:
        hl = float(half_life_days)
        span = hl / math.log(2.0) * -math.expm1(-math.log(2.0) * history_days / hl)
    return max(span, 1.0)


def quartic_spread(grid, x: np.ndarray, y: np.ndarray, w: np.ndarray, bandwidth: float) -> np.ndarray:
    """Spread each weighted point over the kept cells whose centroid lies within ``bandwidth``.

    Each point's weight is shared in proportion to the quartic kernel
    ``(1 - (d/h)^2)^2`` at the cell centroids, so the total is preserved; a point
    with no centroid within reach keeps its weight in its own cell (dropped if
    it is outside the grid).
    """
    n = grid.n_cells
    px, py, pw = _unique_points(np.asarray(x, float), np.asarray(y, float), np.asarray(w, float))
    if px.size == 0:
        return np.zeros(n)
    h = float(bandwidth)
    cx, cy = grid.centroids()
    i, j, d = pairs_within(cx, cy, px, py, h)
    k = (1.0 - (d / h) ** 2) ** 2
    norm = np.bincount(j, weights=k, minlength=px.size)
    out = np.bincount(i, weights=k * (pw[j] / np.where(norm[j] > 0, norm[j], 1.0)), minlength=n).astype(float)
    lone = norm <= 0
    if np.any(lone):
        own = np.asarray(grid.locate(px[lone], py[lone]), np.int64)
        ok = own >= 0
        out += np.bincount(own[ok], weights=pw[lone][ok], minlength=n)
    return out


class SmoothedCounts(Forecaster):
    """Decayed all-history counts per cell, blended with a quartic-kernel smooth of the same counts.

    Every past event gets the weight ``2 ** (-age / half_life_days)``. The cell's
    weighted count ``c`` and the kernel-smoothed weighted count ``s`` (each event
    shared between the cells whose centroid lies within ``bandwidth``, kernel
    ``(1 - (d/h)^2)^2``, mass preserved) are blended as
    ``(1 - smooth_weight) * c + smooth_weight * s`` and divided by the weighted
    length of the history, giving a daily rate; times the horizon, an expected count.
    This is the "smoothed long-term counts" baseline the NIJ forecasting
    challenge found hard to beat.

    Defaults were chosen on 2016 origins only (weekly gun violence, 500 ft cells,
    hit rate at 1%; see docs/forecasting.md): a grid over half-life 180 days to none,
    bandwidth 300-2000 ft and weight 0.25-1, taking the centre of the plateau.

    Parameters
    ----------
    half_life_days : float or None
        Age at which an event counts half; None weights all history equally.
    bandwidth : float
        Quartic kernel radius in CRS units (feet).
    smooth_weight : float
        Share of the smoothed component, in [0, 1] (0 = decayed cell counts only).
    window_days : float or None
        Events older than this are ignored (None: all history).

    Attributes
    ----------
    rate_ : ndarray
        Expected events per day in each kept cell.
    span_days_ : float
        Weighted length of the history the counts are divided by.
    """

    summary = "decayed all-history counts blended with their quartic-kernel smooth"

    def __init__(self, half_life_days: float | None = 365.0, bandwidth: float = 1250.0,
                 smooth_weight: float = 0.625, window_days: float | None = None):
        self.half_life_days = half_life_days
        self.bandwidth = bandwidth
        self.smooth_weight = smooth_weight
        self.window_days = window_days

    def _validate(self) -> None:
        check_number("half_life_days", self.half_life_days, low=0, low_open=True, none_ok=True)
        check_number("bandwidth", self.bandwidth, low=0, low_open=True)
        check_number("smooth_weight", self.smooth_weight, low=0, high=1)
        check_number("window_days", self.window_days, low=0, low_open=True, none_ok=True)

    def _fit(self, ev: EventArrays) -> None:
        n = self.grid_.n_cells
        sub = ev if self.window_days is None else ev.since(ev.as_of - float(self.window_days))
        history = ev.as_of - sub.start if self.window_days is None else \
            min(float(self.window_days), ev.as_of - ev.start)
        w = decay_weights(ev.as_of - sub.t, self.half_life_days)
        inside = sub.cell >= 0
        raw = np.bincount(sub.cell[inside], weights=w[inside], minlength=n)
        a = float(self.smooth_weight)
        smooth = quartic_spread(self.grid_, sub.x, sub.y, w, self.bandwidth) if a > 0 else np.zeros(n)
        self.span_days_ = decayed_span(history, self.half_life_days)
        self.rate_ = ((1.0 - a) * raw + a * smooth) / self.span_days_

    def _predict(self, horizon_days: float) -> np.ndarray:
        return self.rate_ * horizon_days
