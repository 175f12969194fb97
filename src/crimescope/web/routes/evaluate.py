"""Did it work? The SDSC case study (or any cohorts of districts) on the dashboard, with JSON and CSV twins."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from typing import Optional

from fastapi import Query, Request
from fastapi.responses import Response

from ...stats.provenance import jsonable
from ..params import Fmt
from ._common import CATEGORY_PATTERN, TABLE_RESPONSES, ctx_of, dates, page_router, render

router = page_router()

METHODS_PATTERN = r"^(all|[a-z]+(,[a-z]+){0,9})$"


class Step(str, Enum):
    month = "month"
    week = "week"


def _q():
    return dict(
        category=Query("shooting", pattern=CATEGORY_PATTERN, description="Offense category"),
        step=Query(Step.month, description="Time step of the panel: month or week"),
        start=Query(None, description="First date of the panel (default: the first covered)"),
        end=Query(None, description="Last date of the panel (default: the last covered)"),
        methods=Query("all", pattern=METHODS_PATTERN, description="Comma-separated methods or 'all'"),
        shift=Query(0, ge=0, le=3, description="Also move every start by -N and +N months (sensitivity)"),
        polygon=Query(None, max_length=20000, description="A drawn treated area instead of the SDSC districts: "
                      "GeoJSON (lon/lat) or a 'lon lat, lon lat, ...' list"),
        area_start=Query(None, description="Start date of the strategy in the drawn area (with polygon)"),
        controls=Query(Controls.beat, description="Control areas away from the drawn area"),
    )


class Controls(str, Enum):
    district = "district"
    beat = "beat"
    ward = "ward"
    community_area = "community_area"


Q = _q()


def _case(request: Request, category: str, step: Step, start, end, methods: str, shift: int, polygon=None,
          area_start=None, controls=None):
    """The SDSC case study for one category, or one drawn area's (cached per snapshot generation)."""
    from ...evaluate.casestudy import sdsc_case_study
    from ...evaluate.run import parse_methods
    from ..views import _category

    cat = _category(category)
    names = parse_methods(methods)
    ctx = ctx_of(request)
    if polygon:
        from ...errors import ParameterError
        from ...evaluate.areas import polygon_area
        from ...evaluate.casestudy import area_case_study

        if area_start is None:
            raise ParameterError("a drawn area (polygon) needs area_start, the date the strategy began there")
        ck = controls.value if controls is not None else "beat"
        key = ("evaluate-area", cat.name, step.value, start, end, tuple(names), shift, polygon, area_start, ck)
        return ctx.cached(key, lambda: area_case_study(
            ctx.view(), cat.name, polygon_area(polygon, profile=ctx.source), area_start, step=step.value,
            start=start, end=end, control_kind=ck, methods=names, shift_months=shift))
    key = ("evaluate", cat.name, step.value, start, end, tuple(names), shift)
    return ctx.cached(key, lambda: sdsc_case_study(
        ctx.view(), [cat.name], step=step.value, start=start, end=end, methods=names, shift_months=shift))


@router.get("/api/evaluate.{fmt}", tags=["evaluate"], responses=TABLE_RESPONSES,
            summary="Effect of the Strategic Decision Support Centers by several methods, with their agreement")
def api_evaluate(request: Request, fmt: Fmt, category: str = Q["category"], step: Step = Q["step"],
                 start: Optional[dt.date] = Q["start"], end: Optional[dt.date] = Q["end"],
                 methods: str = Q["methods"], shift: int = Q["shift"], polygon: Optional[str] = Q["polygon"],
                 area_start: Optional[dt.date] = Q["area_start"], controls: Controls = Q["controls"]):
    """Effect of the Strategic Decision Support Centers (or, with `polygon` and `area_start`, of a strategy in
    one drawn area) by several methods: estimate, interval, p-value, relative change, assumptions and
    warnings per method (JSON: `meta`, `rows`, `evaluations`, `sensitivity`)."""
    dates(start=start, end=end)
    case = _case(request, category, step, start, end, methods, shift, polygon, area_start, controls)
    if fmt == Fmt.csv:
        text = case.summary().to_csv()
        s = case.sensitivity()
        if s is not None:
            text += "# sensitivity to the start dates (months moved)\n" + s.to_csv(index=False, lineterminator="\n")
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="evaluate.csv"'})
    return Response(json.dumps(jsonable(case.to_dict()), default=str, allow_nan=False),
                    media_type="application/json")


@router.get("/evaluate", include_in_schema=False)
def page_evaluate(request: Request, category: str = Q["category"], step: Step = Q["step"],
                  start: Optional[dt.date] = Q["start"], end: Optional[dt.date] = Q["end"],
                  methods: str = Q["methods"], shift: int = Q["shift"], polygon: Optional[str] = Q["polygon"],
                  area_start: Optional[dt.date] = Q["area_start"], controls: Controls = Q["controls"]):
    from ...evaluate import plots
    from .. import views

    dates(start=start, end=end)
    case = _case(request, category, step, start, end, methods, shift, polygon, area_start, controls)
    ev = next(iter(case.evaluations.values()))
    charts = {"methods": plots.methods_plotly(ev)}
    if "cs" in ev.results:
        charts["event_study"] = plots.event_study_plotly(ev.results["cs"])
    if "synth" in ev.results:
        charts["gaps"] = plots.gap_plotly(ev.results["synth"])
    summary = case.summary()
    sens = case.sensitivity()
    return render(request, "evaluate.html", page="evaluate", case=case, ev=ev, summary=summary,
                  rows=jsonable(summary.to_dict()["rows"]),
                  sensitivity=[] if sens is None else jsonable(sens.to_dict(orient="records")),
                  charts=jsonable(charts), cohorts=case.cohorts.to_frame().to_dict(orient="records"),
                  categories=views.categories().table.to_dict(orient="records"),
                  f={"category": category, "step": step.value, "start": start, "end": end, "methods": methods,
                     "shift": shift, **({"polygon": polygon, "area_start": area_start, "controls": controls.value}
                                        if polygon else {})})
