"""Hot-spot surfaces: retrospective (quartic kernel) and prospective (Bowers et al. 2004).

Both produce a risk surface over the cell centroids; the surface is scaled so its
total equals the area's recent daily rate times the horizon, so the output is an
expected count per cell like every other model's.
"""

from __future__ import annotations

import numpy as np

from .base import EventArrays, Forecaster, check_number, recent_rate, scale_surface

__all__ = ["RetrospectiveHotspot", "ProspectiveHotspot", "pairs_within", "BOWERS_UNIT_FT"]

#: Bowers, Johnson & Pease (2004) measured distance in their 50 m grid cells: 50 m in US survey feet
BOWERS_UNIT_FT = 50.0 / 0.3048006096


def _unique_points(x: np.ndarray, y: np.ndarray, w: np.ndarray):
    """Collapse repeated locations (block-midpoint geocodes) into weighted points."""
    if x.size == 0:
        return x, y, w
    xy = np.column_stack([x, y])
    uniq, inv = np.unique(xy, axis=0, return_inverse=True)
    return uniq[:, 0], uniq[:, 1], np.bincount(inv.ravel(), weights=w, minlength=uniq.shape[0])


def pairs_within(cx: np.ndarray, cy: np.ndarray, x: np.ndarray, y: np.ndarray, radius: float):
    """Index pairs (cell i, point j) and distances with distance <= radius (KD-tree)."""
    from scipy.spatial import cKDTree

    if x.size == 0 or cx.size == 0:
        e = np.empty(0, np.int64)
        return e, e, np.empty(0)
    tc = cKDTree(np.column_stack([cx, cy]))
    tp = cKDTree(np.column_stack([x, y]))
    m = tc.sparse_distance_matrix(tp, radius, output_type="ndarray")
    return m["i"].astype(np.int64), m["j"].astype(np.int64), m["v"]


class RetrospectiveHotspot(Forecaster):
    """Quartic-kernel density of the events of a look-back window, at the cell centroids.

    The weight of an event at distance ``d`` from a centroid is ``(1 - (d/h)^2)^2``
    for ``d < h`` (the quartic / biweight kernel used by crime-mapping packages).

    Parameters
    ----------
    bandwidth : float
        Kernel radius ``h`` in CRS units (feet).
    window_days : float
        Look-back window in days.

    Attributes
    ----------
    surface_ : ndarray
        Kernel sum at each cell centroid.
    rate_ : float
        Events per day over the window (scales the surface to counts).
    """

    summary = "quartic-kernel density of the last window's events (retrospective hot spots)"

    def __init__(self, bandwidth: float = 1000.0, window_days: float = 364):
        self.bandwidth = bandwidth
        self.window_days = window_days

    def _validate(self) -> None:
        check_number("bandwidth", self.bandwidth, low=0, low_open=True)
        check_number("window_days", self.window_days, low=0, low_open=True)

    def _fit(self, ev: EventArrays) -> None:
        sub = ev.since(ev.as_of - float(self.window_days))
        px, py, pw = _unique_points(sub.x, sub.y, np.ones(sub.n))
        cx, cy = self.grid_.centroids()
        h = float(self.bandwidth)
        i, j, d = pairs_within(cx, cy, px, py, h)
        k = (1.0 - (d / h) ** 2) ** 2 * pw[j]
        self.surface_ = np.bincount(i, weights=k, minlength=self.grid_.n_cells)
        self.rate_ = recent_rate(ev, float(self.window_days))

    def _predict(self, horizon_days: float) -> np.ndarray:
        return scale_surface(self.surface_, self.rate_ * horizon_days)


class ProspectiveHotspot(Forecaster):
    """Prospective hot spots (Bowers, Johnson & Pease 2004).

    Risk at a cell = sum over past events within ``bandwidth`` and ``time_window_days``
    of ``1 / (1 + d / cell_size) * 1 / (1 + age_weeks)``, where ``d`` is the
    distance from the event to the cell centroid in CRS units and ``age_weeks`` the
    whole weeks since the event: recent, near events weigh most.

    Parameters
    ----------
    bandwidth : float
        Spatial cut-off in CRS units (400 m = about 1,300 ft in the paper).
    time_window_days : float
        Temporal cut-off in days (the paper used 1-2 months).
    rate_window_days : float
        Window over which the city-wide daily rate that scales the surface is taken.
    distance_unit : float or None
        The ``d`` of the weight is measured in this many CRS units; None: the grid's
        cell size (500 ft on the default grid). Bowers et al. measured it in their 50 m
        cells (about 164 ft), so on a 500 ft grid None decays about three times more
        slowly with distance than the paper's weight (docs/forecasting.md).

    Attributes
    ----------
    surface_, rate_ : as for :class:`RetrospectiveHotspot`.
    """

    summary = "Bowers (2004) prospective hot spots: near and recent events weigh most"

    def __init__(self, bandwidth: float = 1300.0, time_window_days: float = 56,
                 rate_window_days: float = 364, distance_unit: float | None = None):
        self.bandwidth = bandwidth
        self.time_window_days = time_window_days
        self.rate_window_days = rate_window_days
        self.distance_unit = distance_unit

    def _validate(self) -> None:
        check_number("bandwidth", self.bandwidth, low=0, low_open=True)
        check_number("time_window_days", self.time_window_days, low=0, low_open=True)
        check_number("rate_window_days", self.rate_window_days, low=0, low_open=True)
        check_number("distance_unit", self.distance_unit, low=0, low_open=True, none_ok=True)

    def _fit(self, ev: EventArrays) -> None:
        sub = ev.since(ev.as_of - float(self.time_window_days))
        age_w = np.floor((ev.as_of - sub.t) / 7.0)
        # collapse identical (x, y, week) triples
        if sub.n:
            key = np.column_stack([sub.x, sub.y, age_w])
            uniq, inv = np.unique(key, axis=0, return_inverse=True)
            px, py, pa = uniq[:, 0], uniq[:, 1], uniq[:, 2]
            pw = np.bincount(inv.ravel(), minlength=uniq.shape[0]).astype(float)
        else:
            px = py = pa = pw = np.empty(0)
        cx, cy = self.grid_.centroids()
        i, j, d = pairs_within(cx, cy, px, py, float(self.bandwidth))
        unit = self.grid_.cell_size if self.distance_unit is None else float(self.distance_unit)
        k = pw[j] / (1.0 + d / unit) / (1.0 + pa[j])
        self.surface_ = np.bincount(i, weights=k, minlength=self.grid_.n_cells)
        self.rate_ = recent_rate(ev, float(self.rate_window_days))

    def _predict(self, horizon_days: float) -> np.ndarray:
        return scale_surface(self.surface_, self.rate_ * horizon_days)
