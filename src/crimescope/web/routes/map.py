"""Map: choropleth by area (counts or rates per 100,000), hot spot and forecast layers."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ...errors import CrimescopeError
from ...stats.provenance import jsonable
from .. import views
from ..geometry import geojson_bytes
from ..params import AreaKind, Measure
from ._common import CATEGORY_PATTERN, ERROR_RESPONSES, ctx_of, dates, render

router = APIRouter()

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


@router.get("/api/geometry/{kind}.geojson", tags=["map"], responses={
    200: {"description": "GeoJSON FeatureCollection (WGS84)", "content": {"application/geo+json": {}}},
    **ERROR_RESPONSES})
def api_geometry(request: Request, kind: AreaKind):
    """Simplified boundaries of one area kind (served locally; cached)."""
    ctx = ctx_of(request)
    data = geojson_bytes(kind.value, ctx.shared_dir, ctx.source)
    return Response(data, media_type="application/geo+json",
                    headers={"Cache-Control": "public, max-age=86400"})


@router.get("/map", include_in_schema=False)
def page_map(request: Request, category: Optional[str] = CATEGORY, kind: AreaKind = KIND,
             start: Optional[dt.date] = START, end: Optional[dt.date] = END, measure: Measure = MEASURE,
             cell: int = CELL, hot: bool = Query(True), fc: bool = Query(True), model: str = MODEL):
    dates(start=start, end=end)
    ctx = ctx_of(request)
    category = category or ctx.profile.default_category
    if not ctx.profile.mapped_kinds():  # NYC: no boundaries shipped, the page says so (its API twin is a 400)
        res = views.citywide_total(ctx, category, start, end)
    else:
        res = views.map_counts(ctx, category, kind.value, start, end, measure.value)
    layers = {}
    next_day = res.meta["end"] + dt.timedelta(days=1)  # the forecast covers the 7 days after the map period
    for name, on, fn in (("hotspots", hot, lambda: views.hotspots(ctx, category, start, end, cell)),
                         ("forecast", fc, lambda: views.forecast(ctx, category, next_day, cell, model))):
        if not on:
            continue
        try:
            r = fn()
            layers[name] = {"meta": jsonable(r.meta), "rows": jsonable(r.to_dict()["rows"])}
        except CrimescopeError as exc:
            layers[name] = {"not_available": f"not available: {exc}"}
    return render(request, "map.html", page="map", res=res, rows=jsonable(res.to_dict()["rows"]), layers=layers,
                  categories=views.categories().table.to_dict(orient="records"),
                  f={"category": category, "kind": kind.value, "start": start, "end": end,
                     "measure": measure.value, "cell": cell, "hot": hot, "fc": fc, "model": model})
