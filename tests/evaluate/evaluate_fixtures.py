"""Synthetic panels for the evaluation tests, generated in code (a uniquely named module)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from crimescope.evaluate.panel import Panel


def synthetic_panel(n_units: int = 22, n_periods: int = 60, seed: int = 0, step: str = "month",
                    effect: float = 1.0, treated=(), start: int = 40) -> Panel:
    """Poisson counts with area and period effects; ``effect`` multiplies the treated areas from ``start``."""
    rng = np.random.default_rng(seed)
    if step == "month":
        periods = [dt.date(2012 + m // 12, m % 12 + 1, 1) for m in range(n_periods)]
    else:
        periods = [dt.date(2012, 1, 2) + dt.timedelta(days=7 * w) for w in range(n_periods)]
    a = rng.uniform(5, 30, n_units)
    season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(n_periods) / (12 if step == "month" else 52))
    mu = a[:, None] * season[None, :]
    for i in treated:
        mu[i, start:] *= effect
    meta = {"title": "synthetic panel", "unit": "events per area per period", "rule": "simulated",
            "source": "generated in tests/evaluate/conftest.py", "vintage": {}, "notes": []}
    return Panel(rng.poisson(mu).astype(float), [str(i + 1) for i in range(n_units)], periods, step,
                 "synthetic", "simulated", meta)
