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
    cells = _result_cells(result)
    if cells is None:
        return result.to_dict()
    meta, names, cols, n = cells
    if cols is None:  # duplicate names: to_dict's records, as before
        rows = [{k: _cell(v) for k, v in r.items()} for r in result.frame().to_dict(orient="records")]
        return {"meta": meta, "rows": rows}
    rows = [dict(zip(names, values)) for values in zip(*(cols[k][0] for k in names))] if names else \
        [{} for _ in range(n)]
    return {"meta": meta, "rows": rows}


def _result_cells(result):
    """``(meta, names, {name: (cells, kind)}, rows)`` of a :class:`~crimescope.result.Result` whose
    ``to_dict`` is the base class's: the JSON-safe meta and each column's cells as :func:`result_doc`
    puts them in its rows (``kind``: "int", "float", "bool" when every cell is of that type or None,
    else None); ``cols`` is None when column names repeat. None for another result class."""
    from ...result import Result

    if not isinstance(result, Result) or type(result).to_dict is not Result.to_dict:
        return None
    frame = result.frame()
    names = list(frame.columns)
    meta = jsonable(result.meta)
    if len(set(names)) != len(names):
        return meta, names, None, len(frame)
    cols: dict = {}
    for name, col in frame.items():
        got = _column_cells(col)
        if got is None:  # other dtypes (dates, objects): the values to_dict's records hold, then _cell
            values = list(col)  # what itertuples reads of a column
            if col.dtype == object:  # to_dict boxes object columns' NumPy scalars
                from pandas.core.dtypes.cast import maybe_box_native

                values = [maybe_box_native(v) for v in values]
            got = ([_cell(v) for v in values], None)
        cols[name] = got
    return meta, names, cols, len(frame)


def _column_cells(col):
    """A column's cells as ``_cell`` gives them from ``to_dict(orient="records")``, and their kind
    (see :func:`_result_cells`), read with one ``tolist`` for the NumPy int, float and bool dtypes,
    the NaN-missing string dtype and the NA-masked Int, Float and boolean dtypes; None for another
    dtype (the caller boxes it as ``to_dict`` does)."""
    import numpy as np
    import pandas as pd

    dt_ = col.dtype
    if isinstance(dt_, np.dtype):
        if dt_.kind in "iu":
            return col.tolist(), "int"
        if dt_.kind == "b":
            return col.tolist(), "bool"
        if dt_.kind == "f":
            values = col.tolist()
            finite = np.isfinite(col.to_numpy())
            if not finite.all():
                for i in np.flatnonzero(~finite).tolist():
                    values[i] = None
            return values, "float"
        return None
    if isinstance(dt_, pd.StringDtype) and dt_.na_value is np.nan:
        return [v if type(v) is str else _cell(v) for v in col.tolist()], None
    if isinstance(dt_, (pd.Int64Dtype, pd.Int32Dtype, pd.Float64Dtype, pd.BooleanDtype)):
        # NA-masked: to_dict gives Python ints / floats / bools and pd.NA (None here)
        arr = col.array
        data, mask = arr._data, arr._mask  # noqa: SLF001 - the masked array's values and NA mask
        values = data.tolist()
        if dt_.kind == "f":
            mask = mask | ~np.isfinite(data)
        if mask.any():
            for i in np.flatnonzero(mask).tolist():
                values[i] = None
        return values, ("float" if dt_.kind == "f" else "bool" if dt_.kind == "b" else "int")
    return None


#: a JSON string literal as ``json.dumps`` writes it (``ensure_ascii``: the C function when available)
_json_str = json.encoder.encode_basestring_ascii
_NULL, _TRUE, _FALSE = "null", "true", "false"


def _json_cell(v) -> str:
    """One value as ``json.dumps(v, default=str, allow_nan=False)`` writes it (common types first)."""
    t = type(v)
    if v is None:
        return _NULL
    if t is str:
        return _json_str(v)
    if t is bool:
        return _TRUE if v else _FALSE
    if t is int:
        return int.__repr__(v)
    if t is float and math.isfinite(v):
        return float.__repr__(v)
    return json.dumps(v, default=str, allow_nan=False)


#: JSON texts of floats already written (``float.__repr__`` is most of a large answer's encoding: hot spot
#: cells' coordinates and z scores recur from answer to answer); cleared when it grows past the bound
_FLOAT_TEXT: dict[float, str] = {}
_FLOAT_TEXT_MAX = 400_000
#: the texts written ahead by :func:`keep_float_texts` (put back when the bound clears the others)
_FLOAT_KEPT: dict[float, str] = {}


def _float_texts(values) -> list[str]:
    """``float.__repr__`` of each value (None: null), the texts kept in :data:`_FLOAT_TEXT`. Zeros
    are written each time (0.0 and -0.0 are one dictionary key, not one text)."""
    memo = _FLOAT_TEXT
    if len(memo) > _FLOAT_TEXT_MAX:
        memo.clear()
        memo.update(_FLOAT_KEPT)
    out = list(map(memo.get, values))  # None: not kept yet (or a zero, or a missing value)
    if None in out:
        rep = float.__repr__
        for i, t in enumerate(out):
            if t is None:
                v = values[i]
                if v is None:
                    out[i] = _NULL
                else:
                    out[i] = t = rep(v)
                    if v:
                        memo[v] = t
    return out


def keep_float_texts(*arrays) -> None:
    """Write the JSON texts of these floats into :data:`_FLOAT_TEXT` before the answers that hold them
    (the server's warming: its grids' cell coordinates, the hot spot z scores); a text kept is
    ``float.__repr__`` of its key, so this changes no answer, only when its texts are written."""
    import numpy as np

    for a in arrays:
        values = np.asarray(a, dtype="float64").ravel().tolist()
        _FLOAT_KEPT.update(zip(values, _float_texts(values)))
    _FLOAT_KEPT.pop(0.0, None)  # zeros are written each time (0.0 and -0.0 are one key)


def _json_column(values, kind) -> list[str]:
    """The JSON texts of a column's cells (``_json_cell`` of each, by the column's kind)."""
    if kind == "int":
        return [_NULL if v is None else int.__repr__(v) for v in values]
    if kind == "float":
        return _float_texts(values)
    if kind == "bool":
        return [_NULL if v is None else _TRUE if v else _FALSE for v in values]
    return [_json_cell(v) for v in values]


def doc_json(result, meta_hook=None) -> str:
    """``json.dumps(result_doc(result), default=str, allow_nan=False)``, the same text, written column
    by column (each cell encoded once by its column's type, no row dicts, one join): the standard
    encoder was most of a hot spot answer's CPU (up to 1 MB of rows). ``meta_hook(meta)`` may change
    the meta first (as ``respond`` adds the data status)."""
    cells = _result_cells(result)
    if cells is None or cells[2] is None or not all(type(k) is str for k in cells[1]):
        doc = result_doc(result)
        if meta_hook is not None:
            meta_hook(doc.get("meta"))
        return json.dumps(doc, default=str, allow_nan=False)
    meta, names, cols, n = cells
    if meta_hook is not None:
        meta_hook(meta)
    head = '{"meta": ' + json.dumps(meta, default=str, allow_nan=False) + ', "rows": ['
    if not names or not n:
        return head + ", ".join(["{}"] * (n if not names else 0)) + "]}"
    # row-major fragments: per row '{' key0 value0 ', ' key1 value1 ... '}, ' (the last ', ' cut)
    step = 2 * len(names) + 1
    parts: list = [None] * (n * step)
    for i, name in enumerate(names):
        parts[2 * i::step] = [("{" if i == 0 else ", ") + _json_str(name) + ": "] * n
        parts[2 * i + 1::step] = _json_column(*cols[name])
    parts[step - 1::step] = ["}, "] * n
    return head + "".join(parts)[:-2] + "]}"


def respond(result, fmt: Fmt, filename: str) -> Response:
    """A ``StatResult`` as JSON (``{meta, rows}``) or CSV (caption lines then the table)."""
    if fmt == Fmt.csv:
        return Response(result.to_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'inline; filename="{filename}.csv"'})
    return Response(doc_json(result, _add_data_status), media_type="application/json")


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
    return [{"name": r["name"], "label": r["label"], "unit": r["unit"]} for r in category_records(ctx)]


def category_records(ctx, of_context: bool = True) -> list[dict]:
    """``views.categories(ctx).table.to_dict(orient="records")`` (``of_context=False``:
    ``views.categories()``, the request's ``source`` parameter alone), once per city and snapshot
    (the taxonomy does not change while a server runs; the pickers of every page read it)."""
    from .. import views

    return ctx.cached(("category_records", of_context), lambda: views.categories(
        ctx if of_context else None).table.to_dict(orient="records"))


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
