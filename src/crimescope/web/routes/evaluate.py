"""Did it work? The SDSC case study (or any cohorts of districts) on the dashboard, with JSON and CSV twins.

The analysis is declared once (``evaluate`` in :mod:`crimescope.app.declared`): its
``/api/evaluate.{json,csv}`` twins are generated from that declaration and answer through
:func:`case_view`, as the ``/evaluate`` page does.
"""

from __future__ import annotations

from fastapi import Request

from ...app.declared import EVALUATE
from ...stats.provenance import jsonable
from ._common import page_router, render

router = page_router()

__all__ = ["router", "case_view", "CaseAnswer"]


class CaseAnswer:
    """A case study as the ``/api/evaluate`` twins answer it: CSV = the summary (``#`` provenance lines)
    then the sensitivity table; JSON = ``meta``, ``rows``, ``evaluations``, ``sensitivity``."""

    def __init__(self, case):
        self.case = case

    def to_csv(self) -> str:
        text = self.case.summary().to_csv()
        s = self.case.sensitivity()
        if s is not None:
            text += "# sensitivity to the start dates (months moved)\n" + s.to_csv(index=False, lineterminator="\n")
        return text

    def to_dict(self) -> dict:
        return jsonable(self.case.to_dict())


def case_view(ctx, *, category: str, step: str, start, end, methods: str, shift: int, polygon=None,
              area_start=None, controls: str = "beat", **command_line_only) -> CaseAnswer:
    """The SDSC case study for one category, or one drawn area's (cached per snapshot generation).

    The command line's treated areas (``--areas``, ``--cohorts``, ``--cells``...) and panel
    settings are not offered here: the web evaluates the shipped SDSC districts by district,
    or the drawn ``polygon`` from ``area_start``."""
    from ...evaluate.casestudy import sdsc_case_study
    from ...evaluate.run import parse_methods
    from ..views import _category

    cat = _category(category)
    names = parse_methods(methods)
    if polygon:
        from ...errors import ParameterError
        from ...evaluate.areas import polygon_area
        from ...evaluate.casestudy import area_case_study

        if area_start is None:
            raise ParameterError("a drawn area (polygon) needs area_start, the date the strategy began there")
        ck = controls or "beat"
        key = ("evaluate-area", cat.name, step, start, end, tuple(names), shift, polygon, area_start, ck)
        return CaseAnswer(ctx.cached(key, lambda: area_case_study(
            ctx.view(), cat.name, polygon_area(polygon, profile=ctx.source), area_start, step=step,
            start=start, end=end, control_kind=ck, methods=names, shift_months=shift)))
    key = ("evaluate", cat.name, step, start, end, tuple(names), shift)
    return CaseAnswer(ctx.cached(key, lambda: sdsc_case_study(
        ctx.view(), [cat.name], step=step, start=start, end=end, methods=names, shift_months=shift)))


def _page(request: Request, answer: CaseAnswer, values: dict):
    from ...evaluate import plots
    from .. import views

    case = answer.case
    ev = next(iter(case.evaluations.values()))
    charts = {"methods": plots.methods_plotly(ev)}
    if "cs" in ev.results:
        charts["event_study"] = plots.event_study_plotly(ev.results["cs"])
    if "synth" in ev.results:
        charts["gaps"] = plots.gap_plotly(ev.results["synth"])
    summary = case.summary()
    sens = case.sensitivity()
    polygon = values["polygon"]
    from ...evaluate.base import labels

    return render(request, "evaluate.html", page="evaluate", case=case, ev=ev, summary=summary, labels=labels(),
                  rows=jsonable(summary.to_dict()["rows"]),
                  sensitivity=[] if sens is None else jsonable(sens.to_dict(orient="records")),
                  charts=jsonable(charts), cohorts=case.cohorts.to_frame().to_dict(orient="records"),
                  categories=views.categories().table.to_dict(orient="records"),
                  f={**{k: values[k] for k in ("category", "step", "start", "end", "methods", "shift")},
                     **({"polygon": polygon, "area_start": values["area_start"], "controls": values["controls"]}
                        if polygon else {})})


def _add_page():
    from ...app.api import page_for

    router.add_api_route("/evaluate", page_for(EVALUATE, _page), methods=["GET"], include_in_schema=False)


_add_page()
