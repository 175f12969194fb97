"""Plan: where the help should go next week (places, quotas, equity cap), with its JSON/CSV/GeoJSON twins.

The handlers only parse the URL and call :func:`crimescope.plan.make_plan`; the harm
forecast and the candidate places of a (day, model, weights, places, cell) are cached,
so changing the budget or the constraints in the URL re-solves without refitting.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from typing import Optional

from fastapi import Query, Request
from fastapi.responses import Response

from ...errors import ParameterError
from ...stats.provenance import jsonable
from .. import views
from ..params import Fmt
from ._common import ERROR_RESPONSES, TABLE_RESPONSES, ctx_of, dates, page_router, render, respond

router = page_router()

#: fast models only on the web (each plan refits the model per category of the mix)
PLAN_MODELS = ("smooth_counts", "naive_52w", "naive_all", "retro_hotspot", "prospective_hotspot")

Q = dict(
    as_of=Query(None, description="First day of the plan's week (default: the day after the last complete day)"),
    budget=Query("40", pattern=r"^\s*\d{1,6}(\.\d{1,4})?\s*(places?|sqmi|%|h|hours?)?\s*$",
                 description="Places ('40'), area ('0.5sqmi', '1%') or patrol hours a week ('60h')"),
    weights=Query("default", max_length=300, pattern=r"^[A-Za-z0-9_=:.,\s]+$",
                  description="Harm weights: 'default', a category, or 'category=weight,...'"),
    model=Query("smooth_counts", description=f"Forecast model: one of {', '.join(PLAN_MODELS)}"),
    places=Query("grid", pattern=r"^(grid|block|beat|h3:[789])$", description="grid, block, beat or h3:7-9"),
    cell=Query(500, description="Forecast grid cell size, feet: 500, 1000 or 2000"),
    quotas=Query("none", max_length=300, pattern=r"^[A-Za-z0-9:.,\-\s]+$",
                 description="none, proportional, 'LO-HI' or 'DISTRICT:LO-HI,...'"),
    equity_cap=Query(None, gt=0, le=100, description="No community area above this multiple of its victim share"),
    spacing=Query(0.0, ge=0, le=1500, description="Minimum distance between places, feet (at most 1,500 here)"),
    planner=Query("ip", pattern=r"^(ip|greedy)$", description="ip (exact integer program) or greedy"),
)


def _plan(request: Request, as_of, budget, weights, model, places, cell, quotas, equity_cap, spacing, planner):
    from ...plan.core import make_plan, parse_budget, parse_quotas
    from ...plan.harm import harm_forecast, load_harm_events, parse_weights
    from ...plan.places import build_places, parse_place_kind
    from ...stats.provenance import data_vintage

    dates(as_of=as_of)
    if model not in PLAN_MODELS:
        raise ParameterError(f"invalid model={model!r}: expected one of {', '.join(PLAN_MODELS)}")
    if cell not in views.CELL_SIZES:
        raise ParameterError(f"invalid cell={cell!r}: expected one of {', '.join(map(str, views.CELL_SIZES))}")
    kind = parse_place_kind(places)
    hw = parse_weights(weights)
    parse_quotas(quotas)
    ctx = ctx_of(request)
    day = as_of or (views.as_of_default(ctx) + dt.timedelta(days=1))
    parse_budget(budget, city_area=1.0)
    grid = views._grid(ctx, cell)
    key = ("plan_surface", day, model, tuple(hw.weights.items()), kind, int(cell))

    def surface():
        import numpy as np
        import pandas as pd

        from ...plan.harm import event_weights

        ev = load_harm_events(ctx.view(), hw, end=day - dt.timedelta(days=1), related=())
        fc = harm_forecast(ev, hw, model, np.datetime64(day.isoformat()), grid, 7)
        hist = ev[ev["occurred_local"] >= pd.Timestamp(day) - pd.Timedelta(days=365)]
        pl = build_places(kind, grid, hist, event_weights(hist, hw), ctx.shared_dir)
        return ev, fc, pl, data_vintage(ctx.view())

    ev, fc, pl, vintage = ctx.cached(key, surface)
    return make_plan(ev, as_of=day.isoformat(), grid=grid, budget=budget, weights=hw, model=model, places=pl,
                     quotas=quotas, equity_cap=equity_cap, spacing=spacing, planner=planner, vintage=vintage,
                     forecast=fc, time_limit=10.0, data_dir=ctx.shared_dir)


@router.get("/api/plan.geojson", summary="A week's deployment plan as GeoJSON: the places and their expected harm",
            tags=["plan"], responses={
    200: {"description": "GeoJSON FeatureCollection (WGS84) of the chosen places with `meta`",
          "content": {"application/geo+json": {}}}, **ERROR_RESPONSES})
def api_plan_geojson(request: Request, as_of: Optional[dt.date] = Q["as_of"], budget: str = Q["budget"],
                     weights: str = Q["weights"], model: str = Q["model"], places: str = Q["places"],
                     cell: int = Q["cell"], quotas: str = Q["quotas"], equity_cap: Optional[float] = Q["equity_cap"],
                     spacing: float = Q["spacing"], planner: str = Q["planner"]):
    """The plan's places as GeoJSON, ``meta`` (rule, source, vintage, constraints) at the top level."""
    plan = _plan(request, as_of, budget, weights, model, places, cell, quotas, equity_cap, spacing, planner)
    return Response(json.dumps(jsonable(plan.to_geojson()), allow_nan=False), media_type="application/geo+json")


@router.get("/api/plan.{fmt}", tags=["plan"], responses=TABLE_RESPONSES,
            summary="A week's deployment plan: places, expected harm covered, the rule and its limits")
def api_plan(request: Request, fmt: Fmt, as_of: Optional[dt.date] = Q["as_of"], budget: str = Q["budget"],
             weights: str = Q["weights"], model: str = Q["model"], places: str = Q["places"], cell: int = Q["cell"],
             quotas: str = Q["quotas"], equity_cap: Optional[float] = Q["equity_cap"], spacing: float = Q["spacing"],
             planner: str = Q["planner"]):
    """A deployment plan for the week from ``as_of``: places, expected harm, high-harm hours, visits,
    with the solver's gap and the cost of each constraint in ``meta``."""
    plan = _plan(request, as_of, budget, weights, model, places, cell, quotas, equity_cap, spacing, planner)
    return respond(plan.result(), fmt, "plan")


@router.get("/plan", include_in_schema=False)
def page_plan(request: Request, as_of: Optional[dt.date] = Q["as_of"], budget: str = Q["budget"],
              weights: str = Q["weights"], model: str = Q["model"], places: str = Q["places"], cell: int = Q["cell"],
              quotas: str = Q["quotas"], equity_cap: Optional[float] = Q["equity_cap"], spacing: float = Q["spacing"],
              planner: str = Q["planner"]):
    plan = _plan(request, as_of, budget, weights, model, places, cell, quotas, equity_cap, spacing, planner)
    buf = io.BytesIO()
    fig = plan.plot_map(None)
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    f = {"as_of": plan.meta["period"][:10], "budget": budget, "weights": weights, "model": model, "places": places,
         "cell": cell, "quotas": quotas, "equity_cap": equity_cap, "spacing": spacing, "planner": planner}
    return render(request, "plan.html", page="plan", plan=plan, meta=jsonable(plan.meta),
                  rows=jsonable(plan.table.to_dict(orient="records")), f=f, models=PLAN_MODELS,
                  map_png="data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"))
