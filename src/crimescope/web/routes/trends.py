"""Trends: weekly or monthly series with the year before overlaid, any category and area."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from fastapi import APIRouter, Query, Request

from ...stats.provenance import jsonable
from .. import views
from ..params import Interval, TrendArea
from ._common import CATEGORY_PATTERN, ctx_of, dates, render

router = APIRouter()


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
    category = category or ctx_of(request).profile.default_category
    res = views.trends(ctx_of(request), category, area_kind.value, area, start, end, interval.value)
    return render(request, "trends.html", page="trends", res=res, rows=jsonable(res.to_dict()["rows"]),
                  categories=views.categories().table.to_dict(orient="records"),
                  f={"category": category, "area_kind": area_kind.value, "area": area, "start": start,
                     "end": end, "interval": interval.value})
