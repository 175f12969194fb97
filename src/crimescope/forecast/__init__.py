"""Where violence goes next: place-based forecasting models, metrics and backtests.

Every model follows one contract (:mod:`crimescope.forecast.base`) and is listed
in :func:`registry`. Nothing here predicts anything about a person: the unit of
every forecast is a grid cell. Public names load lazily.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "Forecaster": "crimescope.forecast.base",
    "Forecast": "crimescope.forecast.base",
    "registry": "crimescope.forecast.base",
    "make_model": "crimescope.forecast.base",
    "NaiveCounts": "crimescope.forecast.naive",
    "RetrospectiveHotspot": "crimescope.forecast.hotspot",
    "ProspectiveHotspot": "crimescope.forecast.hotspot",
    "SpaceTimeKDE": "crimescope.forecast.stkde",
    "GridHawkes": "crimescope.forecast.hawkes_grid",
    "SEPP": "crimescope.forecast.sepp",
    "SmoothedCounts": "crimescope.forecast.smooth",
    "LearnedPoisson": "crimescope.forecast.learned",
    "LeadingIndicators": "crimescope.forecast.leading",
    "EnsembleMean": "crimescope.forecast.ensemble",
    "OffsetAverage": "crimescope.forecast.offset_avg",
    "score_coverage": "crimescope.forecast.metrics",
    "poisson_loglik": "crimescope.forecast.metrics",
    "backtest": "crimescope.forecast.backtest",
    "BacktestResult": "crimescope.forecast.backtest",
    "weekly_origins": "crimescope.forecast.backtest",
    "write_report": "crimescope.forecast.report",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'crimescope.forecast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
