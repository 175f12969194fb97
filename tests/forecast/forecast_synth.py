"""Synthetic events for the forecasting tests (generated in code, fixed seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2015-01-01")


def planted(n: int = 1500, days: float = 400, hot_share: float = 0.3, seed: int = 0,
            hot_xy: tuple[float, float] = (2250.0, 7250.0)) -> pd.DataFrame:
    """Uniform events on a 10,000 ft square plus a share concentrated on one spot."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, days, n)
    x = rng.uniform(0, 10_000, n)
    y = rng.uniform(0, 10_000, n)
    hot = rng.random(n) < hot_share
    x[hot] = hot_xy[0] + rng.normal(0, 80, hot.sum())
    y[hot] = hot_xy[1] + rng.normal(0, 80, hot.sum())
    return pd.DataFrame({"occurred_local": START + pd.to_timedelta(t, unit="D"), "x": x, "y": y})


def hawkes(mu: float, theta: float, omega: float, sigma: float, T: float, L: float, seed: int):
    """A simulated space-time Hawkes process by branching: uniform background on an L x L
    square at ``mu`` events/day, each event having Poisson(theta) children after an
    Exp(omega) delay, displaced by N(0, sigma^2) in x and y (sigma=0: same place)."""
    rng = np.random.default_rng(seed)
    n0 = rng.poisson(mu * T)
    t = list(rng.uniform(0, T, n0))
    x = list(rng.uniform(0, L, n0))
    y = list(rng.uniform(0, L, n0))
    i = 0
    while i < len(t):
        for _ in range(rng.poisson(theta)):
            tc = t[i] + rng.exponential(1 / omega)
            if tc < T:
                t.append(tc)
                x.append(x[i] + rng.normal(0, sigma) if sigma else x[i])
                y.append(y[i] + rng.normal(0, sigma) if sigma else y[i])
        i += 1
    return np.array(t), np.array(x), np.array(y)


def frame(t, x, y) -> pd.DataFrame:
    return pd.DataFrame({"occurred_local": START + pd.to_timedelta(t, unit="D"), "x": x, "y": y})
