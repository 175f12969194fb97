"""Helpers shared by the route modules: the context, JSON/CSV answers, page rendering."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from ...stats.provenance import jsonable
from ..params import Fmt, check_date

__all__ = ["ctx_of", "respond", "respond_dict", "render", "dates", "CATEGORY_PATTERN", "ERROR_RESPONSES"]

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


def respond(result, fmt: Fmt, filename: str) -> Response:
    """A ``StatResult`` as JSON (``{meta, rows}``) or CSV (caption lines then the table)."""
    if fmt == Fmt.csv:
        return Response(result.to_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'inline; filename="{filename}.csv"'})
    doc = result.to_dict()
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
    from .._context import request_data_status

    context.setdefault("data_status", request_data_status())  # the base template's banner
    return HTMLResponse(t.render(request=request, qs=qs, source=source, city=city,
                                 city_qs=f"?{urlencode({'source': source})}" if source else "", **context))
