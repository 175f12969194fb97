"""Helpers shared by the route modules: the context, JSON/CSV answers, page rendering."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import math
import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from ...stats.provenance import jsonable
from ..params import Fmt, check_date

__all__ = ["ctx_of", "respond", "respond_dict", "result_doc", "render", "dates", "CATEGORY_PATTERN", "ERROR_RESPONSES",
           "PageRoute", "Problem", "page_router"]

CATEGORY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"

_ERR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
#: documented error answers of every route (all in the one error shape)
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid parameter (ParameterError, ValidationError)", **_ERR},
    404: {"description": "unknown category or path (CategoryError, NotFound)", **_ERR},
    500: {"description": "internal error (no details are sent)", **_ERR},
    503: {"description": "store or shared data not available (StoreError)", **_ERR},
}
TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "JSON (`{meta, rows}`: meta states unit, rule, source, vintage) or CSV "
                         "(leading `# ` lines state them)",
          "content": {"application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}},
    **ERROR_RESPONSES,
}


def ctx_of(request: Request):
    return request.app.state.ctx


def _cell(v):
    """``jsonable(v)`` with the common cases first (a str, int, bool or finite float is itself)."""
    t = type(v)
    if v is None or t is str or t is int or t is bool:
        return v
    if t is float:
        return v if math.isfinite(v) else None
    return jsonable(v)


def result_doc(result) -> dict:
    """``result.to_dict()`` (``{meta, rows}``, JSON-safe), built with :func:`_cell` per table cell:
    the same document, at a third of the cost on tables of thousands of cells (hot spots, CompStat).
    A result of another class, or with its own ``to_dict``, is asked for it."""
    from ...result import Result

    if not isinstance(result, Result) or type(result).to_dict is not Result.to_dict:
        return result.to_dict()
    frame = result.frame()
    names = list(frame.columns)
    if len(set(names)) != len(names):  # duplicate names: to_dict's records, as before
        rows = [{k: _cell(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]
        return {"meta": jsonable(result.meta), "rows": rows}
    cols: dict = {}
    rest = []
    for name in names:
        values = _column_cells(frame[name])
        if values is None:
            rest.append(name)
        else:
            cols[name] = values
    if rest:  # other dtypes (NA-masked, dates, objects): to_dict's boxing, then _cell per value
        records = frame[rest].to_dict(orient="records")
        for name in rest:
            cols[name] = [_cell(r[name]) for r in records]
    rows = [dict(zip(names, values)) for values in zip(*(cols[n] for n in names))] if names else \
        [{} for _ in range(len(frame))]
    return {"meta": jsonable(result.meta), "rows": rows}


def _column_cells(col):
    """A column's cells as ``_cell`` gives them from ``to_dict(orient="records")``, read with one
    ``tolist`` for the NumPy int, float and bool dtypes and the NaN-missing string dtype; None for
    another dtype (the caller boxes it as ``to_dict`` does)."""
    import numpy as np
    import pandas as pd

    dt_ = col.dtype
    if isinstance(dt_, np.dtype):
        if dt_.kind in "iub":
            return col.tolist()
        if dt_.kind == "f":
            values = col.tolist()
            finite = np.isfinite(col.to_numpy())
            if not finite.all():
                for i in np.flatnonzero(~finite).tolist():
                    values[i] = None
            return values
        return None
    if isinstance(dt_, pd.StringDtype) and dt_.na_value is np.nan:
        return [v if type(v) is str else _cell(v) for v in col.tolist()]
    return None


def respond(result, fmt: Fmt, filename: str) -> Response:
    """A ``StatResult`` as JSON (``{meta, rows}``) or CSV (caption lines then the table)."""
    if fmt == Fmt.csv:
        return Response(result.to_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'inline; filename="{filename}.csv"'})
    doc = result_doc(result)
    _add_data_status(doc.get("meta"))
    return Response(json.dumps(doc, default=str, allow_nan=False), media_type="application/json")


def _add_data_status(meta) -> None:
    """``meta["data_status"]`` while the snapshot served is behind the store (see WebContext.data_status)."""
    from .._context import request_data_status

    status = request_data_status()
    if status and isinstance(meta, dict):
        meta["data_status"] = status


def respond_dict(doc: dict) -> Response:
    return Response(json.dumps(jsonable(doc), default=str, allow_nan=False), media_type="application/json")


def dates(**named: dt.date | None) -> None:
    for name, value in named.items():
        check_date(value, name)


def qs(params: dict) -> str:
    """Query string of the non-empty parameters (for links between the views); the request's
    ``source`` (city) is carried along unless ``params`` names one."""
    from .._context import _SOURCE

    params = dict(params)
    if _SOURCE.get() is not None:
        params.setdefault("source", _SOURCE.get())
    return urlencode({k: (v.value if hasattr(v, "value") else v) for k, v in params.items()
                      if v not in (None, "", False)})


def render(request: Request, template: str, **context: Any) -> HTMLResponse:
    from .._context import _SOURCE

    t = request.app.state.templates.get_template(template)
    source = _SOURCE.get()
    city = ctx_of(request).profile if source is not None else None
    problem = context.pop("problem", None) or _PROBLEM.get()
    from .._context import request_data_status

    context.setdefault("data_status", request_data_status())  # the base template's banner
    html = t.render(request=request, qs=qs, source=source, city=city, problem=problem,
                    city_qs=f"?{urlencode({'source': source})}" if source else "", **context)
    return HTMLResponse(html, status_code=problem.status if problem is not None else 200)


# ------------------------------------------------------------------ a wrong URL on a page
class Problem:
    """What was wrong with a page's URL, shown in a box above the form of the page drawn without it."""

    def __init__(self, status: int, type_: str, message: str, dropped: tuple[str, ...] = (),
                 instead: str | None = None):
        self.status, self.type, self.message, self.dropped = int(status), type_, message, tuple(dropped)
        self.instead = instead  # what the page shows instead, when the route says it itself


_PROBLEM: contextvars.ContextVar["Problem | None"] = contextvars.ContextVar("crimescope_page_problem", default=None)
_PARAM_AT = re.compile(r"^(?:invalid\s+)?([a-z_]+)\s*(?:[:=])")


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _describe(exc: Exception, names: list[str]) -> tuple[int, str, str, list[str]]:
    """(status, type, message, the URL parameters it names) of a page's error."""
    if isinstance(exc, RequestValidationError):
        from ..errors import _validation_message

        bad = [str(e["loc"][-1]) for e in exc.errors() if e.get("loc") and e["loc"][0] == "query"]
        return 400, "ValidationError", _validation_message(exc), bad
    status = int(getattr(exc, "http_status", 400) or 400)
    msg = str(exc)
    m = _PARAM_AT.match(msg)
    bad = [m.group(1)] if m and m.group(1) in names else [n for n in names if f"{n}=" in msg or f"{n}:" in msg]
    if type(exc).__name__ == "CategoryError" and "category" in names:
        bad = bad or ["category"]
    return status, type(exc).__name__, msg, bad


def _with_query(request: Request, items: list[tuple[str, str]]) -> Request:
    scope = dict(request.scope)
    scope["query_string"] = urlencode(items).encode("ascii")
    return Request(scope, request.receive)


class PageRoute(APIRoute):
    """A route whose HTML page, asked with a wrong parameter, is drawn without it (then with the
    defaults) under a box that explains the problem; the status stays the error's (400, 404).
    The /api/ routes and non-browser clients get the one error shape as before."""

    def get_route_handler(self):
        original = super().get_route_handler()
        if self.path.startswith("/api/"):
            return original

        async def handler(request: Request):
            from ...errors import CrimescopeError

            try:
                return await original(request)
            except (RequestValidationError, CrimescopeError) as exc:
                if not _wants_html(request) or _PROBLEM.get() is not None:
                    raise
                items = list(request.query_params.multi_items())
                status, type_, message, bad = _describe(exc, [k for k, _ in items])
                if status >= 500:
                    raise
                tries = []
                if bad:
                    tries.append([(k, v) for k, v in items if k not in bad])
                tries.append([(k, v) for k, v in items if k == "source"])
                for query in tries:
                    dropped = tuple(dict.fromkeys(k for k, v in items if (k, v) not in query))
                    token = _PROBLEM.set(Problem(status, type_, message, dropped))
                    try:
                        return await original(_with_query(request, query))
                    except (RequestValidationError, CrimescopeError):
                        continue
                    finally:
                        _PROBLEM.reset(token)
                raise exc

        return handler


def page_router() -> APIRouter:
    """The router of a route module (its pages recover from a wrong URL parameter, see PageRoute)."""
    return APIRouter(route_class=PageRoute)


# ------------------------------------------------------------------ forms built from what exists
def category_choices(ctx) -> list[dict]:
    """The categories of the request's city (its taxonomy): ``{name, label, unit}`` per category."""
    from .. import views

    return [{"name": r["name"], "label": r["label"], "unit": r["unit"]}
            for r in views.categories(ctx).table.to_dict(orient="records")]


def area_options(ctx) -> dict[str, dict]:
    """Per area kind of the city with shipped boundaries: its label, whether a population is
    published for it (rates per 100,000), and its units as ``(code, label)`` for the pickers."""
    from ..geometry import area_choices

    prof = ctx.profile
    out = {}
    for kind in prof.mapped_kinds():
        spec = prof.area_kind(kind)
        out[kind] = {"label": kind.replace("_", " "), "rate": bool(spec.population),
                     "units": area_choices(kind, ctx.shared_dir, prof.key)}
    return out
