"""Self-exciting point process in continuous space and time (Mohler et al. 2011 style).

Intensity ``lambda(t, x, y) = mu(x, y) + sum_{t_j < t} theta * g(t - t_j) * f(x - x_j, y - y_j)``:

* ``mu`` a time-constant background density: a Gaussian-smoothed raster of the
  events weighted by their probability of being background (a fixed-bandwidth
  version of Mohler's stochastic-declustering KDE);
* ``g`` an exponential delay of rate ``omega`` truncated to ``(0, time_cutoff_days]``;
* ``f`` an isotropic Gaussian of sd ``sigma`` truncated to radius ``space_cutoff``.

EM on a *truncated* branching structure: only pairs of events within both cut-offs
can be parent and child, and they are enumerated with a KD-tree on
``(x / space_cutoff, y / space_cutoff, t / time_cutoff)`` (Chebyshev radius 1), so
memory grows with the number of such pairs (linear in events at a fixed local
density), never with N x N. Events at exactly the same time never trigger each
other (strict ordering), so repeated times and places are harmless.
"""

from __future__ import annotations

import numpy as np

from .base import EventArrays, Forecaster, check_number
from .hawkes_grid import trunc_exp_cdf, trunc_exp_rate
from .hotspot import pairs_within
from .stkde import gaussian_cell_mass

__all__ = ["SEPP", "spacetime_pairs", "trunc_rayleigh_sigma"]


def spacetime_pairs(t: np.ndarray, x: np.ndarray, y: np.ndarray, time_cutoff: float,
                    space_cutoff: float):
    """(child, parent, dt, r2) for pairs with 0 < t_child - t_parent <= time_cutoff, r <= space_cutoff."""
    from scipy.spatial import cKDTree

    e = np.empty(0, np.int64)
    if t.size < 2:
        return e, e, np.empty(0), np.empty(0)
    pts = np.column_stack([x / space_cutoff, y / space_cutoff, (t - t.min()) / time_cutoff])
    tree = cKDTree(pts)
    pr = tree.query_pairs(1.0 + 1e-9, p=np.inf, output_type="ndarray")
    if pr.size == 0:
        return e, e, np.empty(0), np.empty(0)
    a, b = pr[:, 0].astype(np.int64), pr[:, 1].astype(np.int64)
    dt = t[a] - t[b]
    child = np.where(dt > 0, a, b)
    parent = np.where(dt > 0, b, a)
    dt = np.abs(dt)
    r2 = (x[child] - x[parent]) ** 2 + (y[child] - y[parent]) ** 2
    keep = (dt > 0) & (dt <= time_cutoff) & (r2 <= space_cutoff * space_cutoff)
    order = np.argsort(child[keep], kind="stable")
    return child[keep][order], parent[keep][order], dt[keep][order], r2[keep][order]


def trunc_rayleigh_sigma(mean_r2: float, cutoff: float) -> float:
    """sigma whose 2-D Gaussian truncated to radius ``cutoff`` has the given mean squared distance.

    E[r^2] = 2 s^2 - D^2 / (exp(D^2 / 2 s^2) - 1), increasing in s from 0 to D^2/2.
    """
    if not np.isfinite(mean_r2) or mean_r2 <= 0:
        return cutoff * 1e-3
    a, b = np.log(cutoff * 1e-4), np.log(cutoff * 1e2)
    for _ in range(60):
        m = 0.5 * (a + b)
        s = np.exp(m)
        z = cutoff * cutoff / (2 * s * s)
        er2 = 2 * s * s - (cutoff * cutoff / np.expm1(z) if z < 700 else 0.0)
        if er2 < mean_r2:
            a = m
        else:
            b = m
    return float(np.exp(0.5 * (a + b)))


class _Raster:
    """Gaussian-smoothed weighted histogram: a background density (per area unit)."""

    def __init__(self, x0: float, y0: float, nx: int, ny: int, pixel: float, sigma: float):
        self.x0, self.y0, self.nx, self.ny, self.pixel, self.sigma = x0, y0, nx, ny, pixel, sigma

    @classmethod
    def covering(cls, bounds, pixel: float, sigma: float) -> "_Raster":
        xmin, ymin, xmax, ymax = bounds
        pad = 3 * sigma
        nx = int(np.ceil((xmax - xmin + 2 * pad) / pixel)) + 1
        ny = int(np.ceil((ymax - ymin + 2 * pad) / pixel)) + 1
        return cls(xmin - pad, ymin - pad, nx, ny, pixel, sigma)

    def index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        c = np.clip(np.floor((x - self.x0) / self.pixel).astype(np.int64), 0, self.nx - 1)
        r = np.clip(np.floor((y - self.y0) / self.pixel).astype(np.int64), 0, self.ny - 1)
        return r * self.nx + c

    def set_domain(self, grid) -> None:
        """Edge correction: the share of each pixel's kernel falling on kept cells.

        Without it the density is underestimated near the boundary of the area
        (half the kernel falls where no event can be), and the trigger would
        absorb the difference as spurious self-excitation.
        """
        from scipy.ndimage import gaussian_filter

        px = self.x0 + (np.arange(self.nx) + 0.5) * self.pixel
        py = self.y0 + (np.arange(self.ny) + 0.5) * self.pixel
        gx, gy = np.meshgrid(px, py)
        inside = (grid.locate(gx.ravel(), gy.ravel()) >= 0).astype(float).reshape(self.ny, self.nx)
        frac = gaussian_filter(inside, self.sigma / self.pixel, mode="constant", truncate=4.0)
        self._edge = np.where(inside > 0, 1.0 / np.maximum(frac, 0.25), 1.0).ravel()

    def density(self, idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
        from scipy.ndimage import gaussian_filter

        h = np.bincount(idx, weights=weights, minlength=self.nx * self.ny).reshape(self.ny, self.nx)
        sm = gaussian_filter(h, self.sigma / self.pixel, mode="constant", truncate=4.0)
        out = np.maximum(sm, 0.0).ravel() / (self.pixel * self.pixel)
        edge = getattr(self, "_edge", None)
        return out * edge if edge is not None else out


class SEPP(Forecaster):
    """Background density + space-time exponential/Gaussian trigger, fitted by truncated EM.

    Parameters
    ----------
    window_days : float
        Training window before ``as_of``.
    time_cutoff_days, space_cutoff : float
        Support of the trigger (days; CRS units). Pairs farther apart are never linked.
    bg_bandwidth : float
        Standard deviation of the Gaussian smoothing the background (CRS units).
    max_iter, tol : int, float
        EM stopping rule (relative change of theta, omega, sigma).

    Attributes
    ----------
    theta_ : float
        Branching ratio (expected direct offspring per event).
    omega_ : float
        Trigger decay per day; ``sigma_`` trigger spatial sd (CRS units).
    p_background_ : ndarray
        Probability each training event is a background event.
    n_pairs_ : int
        Candidate parent-child pairs within the cut-offs (memory is linear in this).
    n_iter_ : int
        EM iterations run.
    """

    summary = "SEPP (Mohler 2011 style): background KDE + space-time trigger, truncated sparse EM"

    def __init__(self, window_days: float = 365, time_cutoff_days: float = 90,
                 space_cutoff: float = 2000.0, bg_bandwidth: float = 1500.0,
                 max_iter: int = 100, tol: float = 1e-4):
        self.window_days = window_days
        self.time_cutoff_days = time_cutoff_days
        self.space_cutoff = space_cutoff
        self.bg_bandwidth = bg_bandwidth
        self.max_iter = max_iter
        self.tol = tol

    def _validate(self) -> None:
        check_number("window_days", self.window_days, low=0, low_open=True)
        check_number("time_cutoff_days", self.time_cutoff_days, low=0, low_open=True)
        check_number("space_cutoff", self.space_cutoff, low=0, low_open=True)
        check_number("bg_bandwidth", self.bg_bandwidth, low=0, low_open=True)
        check_number("max_iter", self.max_iter, low=1, integer=True)
        check_number("tol", self.tol, low=0, low_open=True)

    def _fit(self, ev: EventArrays) -> None:
        T = max(min(float(self.window_days), ev.as_of - ev.start), 1.0)
        C = float(self.time_cutoff_days)
        D = float(self.space_cutoff)
        sub = ev.since(ev.as_of - T)
        sub = sub.subset(sub.cell >= 0)  # the model lives on the grid's area (drops far geocodes)
        t, x, y = sub.t, sub.x, sub.y
        n = t.size
        xmin, ymin, xmax, ymax = (b for b in self._grid_extent())
        if n:
            xmin, ymin = min(xmin, x.min()), min(ymin, y.min())
            xmax, ymax = max(xmax, x.max()), max(ymax, y.max())
        h = float(self.bg_bandwidth)
        pixel = max(h / 3.0, max(xmax - xmin, ymax - ymin) / 1500.0)
        raster = _Raster.covering((xmin, ymin, xmax, ymax), pixel, h)
        raster.set_domain(self.grid_)
        pix = raster.index(x, y)
        child, parent, dt, r2 = spacetime_pairs(t, x, y, C, D)
        theta, omega, sigma = 0.2, 1.0 / 7.0, D / 4.0
        p_bg = np.ones(n)
        remain = ev.as_of - t
        n_iter = 0
        for n_iter in range(1, int(self.max_iter) + 1):
            mu_r = raster.density(pix, p_bg) / T  # events per area per day
            g = self._trigger(dt, r2, theta, omega, sigma)
            mu_i = mu_r[pix]
            lam = np.maximum(mu_i + np.bincount(child, weights=g, minlength=n), 1e-300)
            p_bg = mu_i / lam
            p_tr = g / lam[child]
            s_tr = float(p_tr.sum())
            comp = float(trunc_exp_cdf(remain, omega, C).sum())
            theta_new = min(s_tr / comp, 0.999) if comp > 0 else 0.0
            if s_tr > 1e-9:
                omega_new = trunc_exp_rate(float((p_tr * dt).sum() / s_tr), C)
                sigma_new = trunc_rayleigh_sigma(float((p_tr * r2).sum() / s_tr), D)
            else:
                omega_new, sigma_new = omega, sigma
            delta = max(abs(theta_new - theta) / max(theta, 1e-9), abs(omega_new - omega) / omega,
                        abs(sigma_new - sigma) / sigma)
            theta, omega, sigma = theta_new, omega_new, sigma_new
            if delta < float(self.tol):
                break
        self.theta_, self.omega_, self.sigma_ = float(theta), float(omega), float(sigma)
        self.p_background_ = p_bg
        self.n_pairs_ = int(child.size)
        self.n_iter_ = n_iter
        # background per cell per day: density at the centroid x clipped area
        mu_r = raster.density(pix, p_bg) / T
        cx, cy = self.grid_.centroids()
        self.background_ = mu_r[raster.index(cx, cy)] * self.grid_.area
        recent = remain <= C
        self._recent = (t[recent], x[recent], y[recent])

    def _grid_extent(self):
        xmin, ymin, xmax, ymax = self.grid_.bounds()
        return float(xmin.min()), float(ymin.min()), float(xmax.max()), float(ymax.max())

    def _trigger(self, dt, r2, theta, omega, sigma):
        C = float(self.time_cutoff_days)
        D = float(self.space_cutoff)
        tnorm = -np.expm1(-omega * C)
        snorm = 2 * np.pi * sigma * sigma * -np.expm1(-D * D / (2 * sigma * sigma))
        return theta * omega * np.exp(-omega * dt) / tnorm * np.exp(-r2 / (2 * sigma * sigma)) / snorm

    def _predict(self, horizon_days: float) -> np.ndarray:
        C = float(self.time_cutoff_days)
        D = float(self.space_cutoff)
        out = self.background_ * horizon_days
        t, x, y = self._recent
        if t.size:
            age = self.as_of_days_ - t
            w = self.theta_ * (trunc_exp_cdf(age + horizon_days, self.omega_, C)
                               - trunc_exp_cdf(age, self.omega_, C))
            cx, cy = self.grid_.centroids()
            i, j, _ = pairs_within(cx, cy, x, y, D + self.grid_.cell_size)
            sig = self.sigma_
            mass = gaussian_cell_mass(self.grid_, i, x[j], y[j], sig)
            mass /= -np.expm1(-D * D / (2 * sig * sig))  # truncated kernel renormalised
            out = out + np.bincount(i, weights=mass * w[j], minlength=self.grid_.n_cells)
        return np.maximum(out, 0.0)

    @property
    def as_of_days_(self) -> float:
        from .base import to_days

        return float(to_days(self.as_of_))
