"""Trends: weekly or monthly series with the year before overlaid, any category and area."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from fastapi import Query, Request

from .. import views
from ..params import Interval, TrendArea
from ._common import (CATEGORY_PATTERN, Problem, area_options, category_choices, ctx_of, dates, page_router, render,
                      result_doc)

router = page_router()


def _q():
    return dict(
        category=Query(None, pattern=CATEGORY_PATTERN,
                       description="Offense category (default: the city's default, shooting for Chicago)"),
        area_kind=Query(TrendArea.citywide, description="citywide or an area kind"),
        area=Query(None, ge=0, le=100000, description="Area number (with area_kind)"),
        start=Query(None, description="First date (default: 364 days before end)"),
        end=Query(None, description="Last date (default: the last complete day)"),
        interval=Query(Interval.week, description="week or month"),
    )


Q = _q()


# /api/trends.{fmt} is generated from the declaration of `trends` (crimescope.app.declared)


@router.get("/trends", include_in_schema=False)
def page_trends(request: Request, category: Optional[str] = Q["category"], area_kind: TrendArea = Q["area_kind"],
                area: Optional[int] = Q["area"], start: Optional[dt.date] = Q["start"],
                end: Optional[dt.date] = Q["end"], interval: Interval = Q["interval"]):
    dates(start=start, end=end)
    ctx = ctx_of(request)
    category = category or ctx.profile.default_category
    kinds = area_options(ctx)
    kind, problem = area_kind.value, None
    if kind != "citywide" and kind not in kinds:
        problem = Problem(400, "ParameterError", f"area_kind: {ctx.profile.name} has no {kind.replace('_', ' ')} "
                                                 "boundaries", instead="Shown citywide instead.")
        kind, area = "citywide", None
    elif kind != "citywide" and (area is None or str(area) not in {c for c, _ in kinds[kind]["units"]}):
        word = kinds[kind]["label"]
        what = f"there is no {word} {area}" if area is not None else f"a {word} needs its number"
        problem = Problem(400, "ParameterError", f"area: {what}",
                          instead=f"Shown citywide instead: choose a {word} from the list below.")
    shown_kind, shown_area = ("citywide", None) if problem is not None else (kind, area)
    res = views.trends(ctx, category, shown_kind, shown_area, start, end, interval.value)
    return render(request, "trends.html", page="trends", res=res, rows=result_doc(res)["rows"],
                  categories=category_choices(ctx), kinds=kinds, problem=problem,
                  f={"category": category, "area_kind": kind, "area": area, "start": start,
                     "end": end, "interval": interval.value},
                  twin={"category": category, "area_kind": shown_kind, "area": shown_area, "start": start,
                        "end": end, "interval": interval.value})
