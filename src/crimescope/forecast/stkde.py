"""Space-time kernel density: Gaussian in space (integrated over each cell), exponential in time."""

from __future__ import annotations

import numpy as np

from .base import EventArrays, Forecaster, check_number, recent_rate, scale_surface
from .hotspot import pairs_within

__all__ = ["SpaceTimeKDE", "gaussian_cell_mass"]


def gaussian_cell_mass(grid, cells: np.ndarray, x: np.ndarray, y: np.ndarray,
                       sigma: float | np.ndarray) -> np.ndarray:
    """Mass of an isotropic Gaussian centred at (x, y) falling in each (square) cell.

    Exact for unclipped cells; for cells clipped by the boundary the square's mass
    is multiplied by the kept fraction of its area (an approximation).
    """
    from scipy.special import ndtr

    xmin, ymin, xmax, ymax = (b[cells] for b in grid.bounds())
    mx = ndtr((xmax - x) / sigma) - ndtr((xmin - x) / sigma)
    my = ndtr((ymax - y) / sigma) - ndtr((ymin - y) / sigma)
    frac = grid.area[cells] / (grid.cell_size * grid.cell_size)
    return mx * my * np.minimum(frac, 1.0)


class SpaceTimeKDE(Forecaster):
    """Events weighted by ``exp(-age / time_scale_days)``, spread by a Gaussian of sd ``bandwidth``.

    Each event's Gaussian is integrated over the cells (truncated at 4 sd), so a
    cell's value is the weighted expected share of events landing in it. The
    surface is scaled to the recent daily rate times the horizon.

    Defaults were chosen on 2016 origins (weekly gun violence, 500 ft cells, hit
    rate at 1% of the area) before the 2017 backtest: a narrow kernel and a slow,
    two-year decay beat both short memories and plain all-history counts.

    Parameters
    ----------
    bandwidth : float
        Spatial standard deviation in CRS units (feet).
    time_scale_days : float
        e-folding age of an event's weight.
    window_days : float
        Events older than this are ignored.
    rate_window_days : float
        Window for the city-wide daily rate that scales the surface.

    Attributes
    ----------
    surface_ : ndarray
        Weighted kernel mass per cell; ``rate_`` events per day.
    """

    summary = "space-time KDE: Gaussian in space, exponential decay in time"

    def __init__(self, bandwidth: float = 250.0, time_scale_days: float = 730.0,
                 window_days: float = 2190, rate_window_days: float = 364):
        self.bandwidth = bandwidth
        self.time_scale_days = time_scale_days
        self.window_days = window_days
        self.rate_window_days = rate_window_days

    def _validate(self) -> None:
        check_number("bandwidth", self.bandwidth, low=0, low_open=True)
        check_number("time_scale_days", self.time_scale_days, low=0, low_open=True)
        check_number("window_days", self.window_days, low=0, low_open=True)
        check_number("rate_window_days", self.rate_window_days, low=0, low_open=True)

    def _fit(self, ev: EventArrays) -> None:
        sub = ev.since(ev.as_of - float(self.window_days))
        w = np.exp(-(ev.as_of - sub.t) / float(self.time_scale_days))
        if sub.n:
            xy = np.column_stack([sub.x, sub.y])
            uniq, inv = np.unique(xy, axis=0, return_inverse=True)
            px, py = uniq[:, 0], uniq[:, 1]
            pw = np.bincount(inv.ravel(), weights=w, minlength=uniq.shape[0])
        else:
            px = py = pw = np.empty(0)
        h = float(self.bandwidth)
        cx, cy = self.grid_.centroids()
        reach = 4.0 * h + self.grid_.cell_size * 0.75
        i, j, _ = pairs_within(cx, cy, px, py, reach)
        mass = gaussian_cell_mass(self.grid_, i, px[j], py[j], h) * pw[j]
        self.surface_ = np.bincount(i, weights=mass, minlength=self.grid_.n_cells)
        self.rate_ = recent_rate(ev, float(self.rate_window_days))

    def _predict(self, horizon_days: float) -> np.ndarray:
        return scale_surface(self.surface_, self.rate_ * horizon_days)
