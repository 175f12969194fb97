"""The deployment plan as an analysis of a Dataset (declared in :mod:`crimescope.app.declared`).

:func:`plan` is what ``crimescope plan`` and a Python call compute: the harm forecast of
the weights' categories on the records before ``as_of``, then the plan over the chosen
places (:func:`crimescope.plan.make_plan`). The dashboard's ``/plan`` page and its
``/api/plan.*`` twins answer through :func:`crimescope.web.routes.plan.plan_view` (the
web's fast models and bounds, the forecast cached per server).
"""

from __future__ import annotations

from typing import Any

__all__ = ["plan", "PLANNERS"]

#: the planners of :func:`crimescope.plan.make_plan`
PLANNERS = ("ip", "greedy")


def plan(ds, *, taxonomy, as_of: str, budget: str, weights: str = "default", model: str = "smooth_counts",
         horizon: str = "7d", places: str = "grid", cell: Any = "500ft", quotas: str = "none",
         equity_cap: float | None = None, spacing: float = 0.0, exclude: list[str] | None = None,
         planner: str = "ip", hours_per_place: float = 1.0, visit_minutes: float = 15.0,
         time_limit: float = 60.0):
    """A deployment plan from ``as_of`` (a local date/time; only earlier records are used).

    ``cell`` is the forecast grid's cell size in feet (``500``, ``"500ft"``); the other
    parameters are those of :func:`crimescope.plan.make_plan`. Returns a
    :class:`~crimescope.plan.core.Plan` (``result()``, ``to_csv()``, ``to_dict()``,
    ``to_geojson()``: every rendering carries the plan's ``meta``).
    """
    from ..errors import ParameterError
    from ..forecast.base import make_model, parse_time
    from ..plan.core import make_plan
    from ..plan.harm import load_harm_events, parse_weights
    from ..plan.places import parse_place_kind
    from ..spatial.grid import Grid
    from ..stats.provenance import data_vintage

    if planner not in PLANNERS:
        raise ParameterError(f"invalid planner={planner!r}: expected ip or greedy")
    parse_place_kind(places)
    hw = parse_weights(weights, taxonomy)
    cut = parse_time(as_of)
    grid = Grid.chicago(cell_feet(cell))
    m = make_model(model)
    related = sorted({c for name in hw.categories for c in m.for_target(name).related_categories()})
    events = load_harm_events(ds, hw, end=str(cut)[:10], related=related, taxonomy=taxonomy)
    vintage = data_vintage(ds, "chicago")
    return make_plan(events, as_of=cut, grid=grid, budget=budget, weights=hw, model=m, horizon=horizon,
                     places=places, quotas=quotas, equity_cap=equity_cap, spacing=spacing, exclude=exclude,
                     planner=planner, hours_per_place=hours_per_place, visit_minutes=visit_minutes,
                     time_limit=time_limit, vintage=vintage)


def cell_feet(cell: Any) -> float:
    """A grid cell size in feet from ``500``, ``"500"`` or ``"500ft"`` (ParameterError otherwise)."""
    import re

    from ..forecast.base import invalid

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ft|feet)?\s*", str(cell) if cell is not None else "")
    if isinstance(cell, bool) or not m or float(m.group(1)) <= 0:
        raise invalid("cell", cell, "a positive cell size in feet such as '500ft'")
    return float(m.group(1))
