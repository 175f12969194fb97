"""Plan: where the help should go next week (places, quotas, equity cap), with its JSON/CSV/GeoJSON twins.

The analysis is declared once (``plan`` in :mod:`crimescope.app.declared`): its
``/api/plan.{json,csv}`` and ``/api/plan.geojson`` twins are generated from that
declaration and answer through :func:`plan_view`, as the ``/plan`` page does. The view
applies the web's bounds (fast models, grid cells of 500, 1000 or 2000 ft, a 10 s solver
limit) and caches the harm forecast and the candidate places of a (day, model, weights,
places, cell), so changing the budget or the constraints in the URL re-solves without refitting.
"""

from __future__ import annotations

import base64
import datetime as dt
import io

from fastapi import Request

from ...app.declared import PLAN, PLAN_MODELS
from ...errors import ParameterError
from ...stats.provenance import jsonable
from .. import views
from ._common import dates, page_router, render

router = page_router()

__all__ = ["router", "plan_view", "PLAN_MODELS"]


def plan_view(ctx, *, as_of, budget, weights, model, places, cell, quotas, equity_cap, spacing, planner,
              **command_line_only):
    """The plan of the week from ``as_of`` (default: the day after the last complete day) with the
    web's bounds; the command-line-only settings (horizon, exclusions, hours, time limit) are not
    offered here and keep the web's values (a week, none, one hour per place, 10 s)."""
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


def _page(request: Request, plan, values: dict):
    buf = io.BytesIO()
    fig = plan.plot_map(None)
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    f = {"as_of": plan.meta["period"][:10], **{k: values[k] for k in (
        "budget", "weights", "model", "places", "cell", "quotas", "equity_cap", "spacing", "planner")}}
    return render(request, "plan.html", page="plan", plan=plan, meta=jsonable(plan.meta),
                  rows=jsonable(plan.table.to_dict(orient="records")), f=f, models=PLAN_MODELS,
                  map_png="data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"))


def _add_page():
    from ...app.api import page_for

    router.add_api_route("/plan", page_for(PLAN, _page), methods=["GET"], include_in_schema=False)


_add_page()
