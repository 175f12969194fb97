"""Map: choropleth by area (counts or rates per 100,000), hot spot and forecast layers."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from fastapi import Query, Request
from fastapi.responses import Response

from ...app import dashboard
from ...errors import CrimescopeError
from ...stats.provenance import jsonable
from .. import views
from ..geometry import geojson_bytes
from ..params import AreaKind, Measure
from ._common import CATEGORY_PATTERN, ERROR_RESPONSES, ctx_of, dates, page_router, render, result_doc

router = page_router()

CATEGORY = Query(None, pattern=CATEGORY_PATTERN,
                 description="Offense category (default: the city's default, shooting for Chicago)")
KIND = Query(AreaKind.community_area, description="Area kind of the choropleth")
START = Query(None, description="First date (default: January 1 of the end's year)")
END = Query(None, description="Last date (default: the last complete day)")
MEASURE = Query(Measure.count, description="count, or rate per 100,000 residents (community areas, districts)")
CELL = Query(1000, description="Grid cell size in feet: 500, 1000 or 2000")
MODEL = Query("best", pattern=r"^[a-z][a-z0-9_]{0,40}$",
              description="Forecast model: best (the last backtest's winner, else naive_52w) or a fast model name")


# /api/map.{fmt}, /api/hotspots.{fmt} and /api/forecast.{fmt} are generated from the declarations of
# `map`, `hotspots` and `forecast` (crimescope.app.declared)


@router.get("/api/geometry/{kind}.geojson", summary="Boundaries of one area kind (simplified GeoJSON, served locally)",
            tags=["map"], responses={
    200: {"description": "GeoJSON FeatureCollection (WGS84)", "content": {"application/geo+json": {}}},
    **ERROR_RESPONSES})
def api_geometry(request: Request, kind: AreaKind):
    """Simplified boundaries of one area kind (served locally; cached)."""
    ctx = ctx_of(request)
    data = geojson_bytes(kind.value, ctx.shared_dir, ctx.source)
    return Response(data, media_type="application/geo+json",
                    headers={"Cache-Control": "public, max-age=86400"})


#: hot spot rules the map page offers (declared once, with the brief's: ``app.dashboard.SPOT_RULES``)
SPOT_RULES = dashboard.SPOT_RULES


def _spot_layer(r, rule: str) -> dict:
    """The hot spot layer as the page draws it: the rows the rule keeps (``app.dashboard.hot_spot_cells``,
    which the brief's map uses too) and the rule in words."""
    kept, shown, by_bin = dashboard.hot_spot_cells(r, rule)
    rows = result_doc(r)["rows"]
    at = {x["cell_id"]: x for x in rows}
    keep = [at[c] for c in kept["cell_id"].tolist()]
    return {"meta": jsonable(r.meta), "rows": keep, "rule": rule, "shown": shown, "by_bin": by_bin}


def _forecast_layer(r, category_label: str, category: str) -> dict:
    """The forecast layer with a caption that matches what is drawn (accuracy measured or not yet)."""
    meta = jsonable(r.meta)
    if meta.get("pai") is None:
        caption = "accuracy not yet measured for this model"
        how = (f"no backtest of {category_label.lower()} has been run on this store; the command line's "
               f"`crimescope backtest --category {category}` measures it over past weeks, as the PAI (the share of "
               "events caught per share of area)")
        meta["notes"] = [f"{caption}: {how}" if n == meta.get("pai_text") else n for n in meta.get("notes", [])]
        meta["pai_text"] = f"{caption}: {how}"  # the page's copy; the /api/forecast twin keeps its own wording
    else:
        caption, how = meta["pai_text"], ""
    return {"meta": meta, "rows": result_doc(r)["rows"], "caption": caption, "how": how}


@router.get("/map", include_in_schema=False)
def page_map(request: Request, category: Optional[str] = CATEGORY, kind: AreaKind = KIND,
             start: Optional[dt.date] = START, end: Optional[dt.date] = END, measure: Measure = MEASURE,
             cell: int = CELL, hot: bool = Query(False), fc: bool = Query(False), model: str = MODEL,
             spots: str = Query("top", pattern=r"^(top|99|95|90)$"), basemap: bool = Query(False)):
    from ._common import Problem, area_options, category_choices

    dates(start=start, end=end)
    ctx = ctx_of(request)
    category = category or ctx.profile.default_category
    kinds = area_options(ctx)
    problem = None
    if measure == Measure.rate and kind.value in kinds and not kinds[kind.value]["rate"]:
        problem = Problem(400, "ParameterError", f"measure=rate: no population is published for "
                                                 f"{kinds[kind.value]['label']}s, so there is no rate per 100,000",
                          instead="Shown as counts instead (rates: community areas and districts).")
        measure = Measure.count
    if not ctx.profile.mapped_kinds():  # NYC: no boundaries shipped, the page says so (its API twin is a 400)
        res = views.citywide_total(ctx, category, start, end)
    else:
        res = views.map_counts(ctx, category, kind.value, start, end, measure.value)
    cat_label = views._category(category, ctx).label
    layers = {}
    next_day = res.meta["end"] + dt.timedelta(days=1)  # the forecast covers the 7 days after the map period
    for name, on, fn in (("hotspots", hot, lambda: _spot_layer(views.hotspots(ctx, category, start, end, cell),
                                                               spots)),
                         ("forecast", fc, lambda: _forecast_layer(views.forecast(ctx, category, next_day, cell, model),
                                                                  cat_label, category))):
        if not on:
            continue
        try:
            layers[name] = fn()
        except CrimescopeError as exc:
            layers[name] = {"not_available": f"not available: {exc}"}
    return render(request, "map.html", page="map", res=res, rows=result_doc(res)["rows"], layers=layers,
                  categories=category_choices(ctx), kinds=kinds, problem=problem, spot_rules=SPOT_RULES,
                  f={"category": category, "kind": kind.value, "start": start, "end": end,
                     "measure": measure.value, "cell": cell, "hot": hot, "fc": fc, "model": model, "spots": spots,
                     "basemap": basemap})
