"""Deployment plans from forecasts: which places, how much per district, and when (issue 15).

Place-based only: a plan names places and hours of the week, never people.

* :mod:`~crimescope.plan.harm` - harm weights and the expected-harm surface;
* :mod:`~crimescope.plan.places` - candidate places (grid cells, block faces, beats, H3 cells);
* :mod:`~crimescope.plan.solver` - the integer program (HiGHS) and the greedy ranking;
* :mod:`~crimescope.plan.core` - budgets, quotas, equity cap, spacing, exclusions -> :class:`Plan`;
* :mod:`~crimescope.plan.when` - high-harm hours and Koper-style visit schedules;
* :mod:`~crimescope.plan.backtest` - plans scored on the week after, against greedy and hot spots.
"""

from __future__ import annotations

from .._lazy import lazy_exports

__all__ = ["make_plan", "plan_places", "Plan", "parse_budget", "parse_weights", "build_places",
           "backtest_plans", "PlanBacktest", "PLANNERS", "DEFAULT_WEIGHTS"]

_P = "crimescope.plan"
_WHERE = {
    "make_plan": f"{_P}.core", "plan_places": f"{_P}.core", "Plan": f"{_P}.core", "parse_budget": f"{_P}.core",
    "parse_weights": f"{_P}.harm", "DEFAULT_WEIGHTS": f"{_P}.harm", "build_places": f"{_P}.places",
    "backtest_plans": f"{_P}.backtest", "PlanBacktest": f"{_P}.backtest", "PLANNERS": f"{_P}.solver",
}

__getattr__, __dir__ = lazy_exports(_P, _WHERE)
