"""Grid Hawkes process (Mohler et al. 2015) fitted by expectation-maximisation.

In each kept cell ``c`` the intensity is ``mu_c + theta * sum_j g(t - t_j)`` over the
cell's earlier events ``j``, with an exponential trigger ``g(s) = omega exp(-omega s)``
truncated to ``0 < s <= cutoff_days`` (normalised on that support). Only pairs of
events in the same cell and strictly ordered in time trigger one another, so
exactly repeated times (multi-victim incidents, times rounded to the hour) never
make the likelihood degenerate. Pairs are enumerated from the time-sorted events
of each cell (memory linear in the number of pairs within the cut-off).
"""

from __future__ import annotations

import numpy as np

from .base import EventArrays, Forecaster, check_number

__all__ = ["GridHawkes", "trunc_exp_rate", "trunc_exp_cdf"]


def trunc_exp_cdf(s: np.ndarray, omega: float, cutoff: float) -> np.ndarray:
    """P(delay <= s) for an exponential of rate ``omega`` truncated to (0, cutoff]."""
    s = np.clip(s, 0.0, cutoff)
    return -np.expm1(-omega * s) / -np.expm1(-omega * cutoff)


def trunc_exp_rate(mean_delay: float, cutoff: float, lo: float = 1e-4, hi: float = 1e4) -> float:
    """Rate whose exponential truncated to (0, cutoff] has the given mean (MLE given weights).

    The truncated mean ``1/w - C/(exp(wC) - 1)`` decreases from ``C/2`` to 0; solved by
    bisection on ``log w`` within ``[lo, hi]`` per day.
    """
    if not np.isfinite(mean_delay) or mean_delay <= 0:
        return hi
    a, b = np.log(lo), np.log(hi)
    for _ in range(60):
        m = 0.5 * (a + b)
        w = np.exp(m)
        wc = w * cutoff
        tm = 1.0 / w - (cutoff / np.expm1(wc) if wc < 700 else 0.0)
        if tm > mean_delay:
            a = m
        else:
            b = m
    return float(np.exp(0.5 * (a + b)))


def same_cell_pairs(cell: np.ndarray, t: np.ndarray, cutoff: float):
    """(child i, parent j, delay) for events of the same cell with 0 < t_i - t_j <= cutoff.

    ``cell`` and ``t`` must be sorted by (cell, t).
    """
    if t.size == 0:
        e = np.empty(0, np.int64)
        return e, e, np.empty(0)
    span = float(t.max() - t.min()) + 2 * cutoff + 1.0
    key = cell.astype(np.float64) * span + (t - t.min())
    lo = np.searchsorted(key, key - cutoff * (1 + 1e-9) - 1e-9, side="left")
    hi = np.searchsorted(key, key, side="left")  # strictly earlier: ties excluded
    cnt = hi - lo
    child = np.repeat(np.arange(t.size, dtype=np.int64), cnt)
    starts = np.repeat(lo - np.cumsum(np.r_[0, cnt[:-1]]), cnt)
    parent = np.arange(child.size, dtype=np.int64) + starts
    dt = t[child] - t[parent]
    ok = (dt > 0) & (dt <= cutoff)  # exact test (the keys above carry rounding)
    return child[ok], parent[ok], dt[ok]


class GridHawkes(Forecaster):
    """Per-cell background rate plus self-excitation within the cell (Mohler et al. 2015).

    Parameters
    ----------
    window_days : float
        Training window before ``as_of``.
    cutoff_days : float
        Longest delay at which an event can trigger another.
    max_iter, tol : int, float
        EM stops after ``max_iter`` iterations or when parameters change by < tol (relative).

    Attributes
    ----------
    mu_ : ndarray
        Background events per day in each kept cell.
    theta_ : float
        Expected number of direct offspring per event (branching ratio).
    omega_ : float
        Trigger decay rate per day (mean delay about ``1/omega_``).
    n_iter_ : int
        EM iterations run; ``loglik_`` the final log-likelihood.
    """

    summary = "grid Hawkes (Mohler 2015): per-cell background + exponential self-excitation, EM"

    def __init__(self, window_days: float = 730, cutoff_days: float = 120, max_iter: int = 200,
                 tol: float = 1e-5):
        self.window_days = window_days
        self.cutoff_days = cutoff_days
        self.max_iter = max_iter
        self.tol = tol

    def _validate(self) -> None:
        check_number("window_days", self.window_days, low=0, low_open=True)
        check_number("cutoff_days", self.cutoff_days, low=0, low_open=True)
        check_number("max_iter", self.max_iter, low=1, integer=True)
        check_number("tol", self.tol, low=0, low_open=True)

    def _fit(self, ev: EventArrays) -> None:
        n_cells = self.grid_.n_cells
        t_start = ev.as_of - float(self.window_days)
        sub = ev.since(t_start)
        sub = sub.subset(sub.cell >= 0)
        order = np.lexsort((sub.t, sub.cell))
        cell, t = sub.cell[order], sub.t[order]
        T = max(min(float(self.window_days), ev.as_of - ev.start), 1.0)
        C = float(self.cutoff_days)
        child, parent, dt = same_cell_pairs(cell, t, C)
        counts = np.bincount(cell, minlength=n_cells).astype(float)
        mu = counts / (2 * T)
        theta, omega = 0.5, 1.0 / 7.0
        remain = ev.as_of - t  # time each event had to trigger within the window
        n_iter = 0
        for n_iter in range(1, int(self.max_iter) + 1):
            norm = -np.expm1(-omega * C)
            g = theta * omega * np.exp(-omega * dt) / norm
            lam = mu[cell] + np.bincount(child, weights=g, minlength=t.size)
            lam = np.maximum(lam, 1e-300)
            p_bg = mu[cell] / lam
            p_tr = g / lam[child]
            s_tr = p_tr.sum()
            mu_new = np.bincount(cell, weights=p_bg, minlength=n_cells) / T
            comp = trunc_exp_cdf(remain, omega, C).sum()
            theta_new = float(min(s_tr / comp, 0.999)) if comp > 0 else 0.0
            omega_new = trunc_exp_rate(float((p_tr * dt).sum() / s_tr), C) if s_tr > 0 else omega
            delta = max(abs(theta_new - theta) / max(theta, 1e-9), abs(omega_new - omega) / omega,
                        float(np.max(np.abs(mu_new - mu)) / max(mu.max(), 1e-12)) if mu.size else 0.0)
            mu, theta, omega = mu_new, theta_new, omega_new
            if delta < float(self.tol):
                break
        norm = -np.expm1(-omega * C)
        g = theta * omega * np.exp(-omega * dt) / norm
        lam = np.maximum(mu[cell] + np.bincount(child, weights=g, minlength=t.size), 1e-300)
        self.loglik_ = float(np.log(lam).sum() - mu.sum() * T - theta * trunc_exp_cdf(remain, omega, C).sum())
        self.mu_, self.theta_, self.omega_, self.n_iter_ = mu, theta, omega, n_iter
        recent = t >= ev.as_of - C
        self._recent_cell, self._recent_age = cell[recent], ev.as_of - t[recent]

    def _predict(self, horizon_days: float) -> np.ndarray:
        C = float(self.cutoff_days)
        a = self._recent_age
        trig = self.theta_ * (trunc_exp_cdf(a + horizon_days, self.omega_, C) - trunc_exp_cdf(a, self.omega_, C))
        out = self.mu_ * horizon_days
        out = out + np.bincount(self._recent_cell, weights=trig, minlength=self.grid_.n_cells)
        return np.maximum(out, 0.0)
