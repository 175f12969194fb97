"""``/api/NAME.json`` and ``/api/NAME.csv`` routes generated from the analysis declarations."""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Optional

__all__ = ["router", "endpoint_for", "file_endpoint_for", "page_for", "answer", "build_router"]


_ENUMS: dict = {}


def _enum(p):
    """A str Enum of a choice parameter's values (the schema lists them; FastAPI checks them)."""
    from enum import Enum

    values = p.options()
    key = (p.name, values)
    if key not in _ENUMS:
        _ENUMS[key] = Enum("".join(w.title() for w in p.name.split("_")) + "Choice", {str(v): str(v) for v in values},
                           type=str)
    return _ENUMS[key]


def _query(p):
    """(annotation, Query) of a declared Param as the API offers it."""
    from fastapi import Query

    from ..web.routes._common import CATEGORY_PATTERN

    p = p.on("api")
    req = ... if p.required else None
    if p.kind == "category":
        return Optional[str], Query(req, pattern=CATEGORY_PATTERN, description=p.help)
    if p.kind == "text":
        default = req if p.required or p.default is None else p.default
        return (str if p.required or p.default is not None else Optional[str]), \
            Query(default, max_length=p.max_length or 200, pattern=p.pattern, description=p.help)
    if p.kind == "date":
        return (dt.date if p.required else Optional[dt.date]), Query(req, description=p.help)
    if p.kind in ("by", "categories"):
        return Optional[str], Query(None, max_length=400, description=p.help + " Comma-separated.")
    if p.kind in ("int", "float"):
        t = int if p.kind == "int" else float
        default = req if p.required or p.default is None else p.default
        # a required or defaulted number is never null (the schema says integer, not integer-or-null)
        typ = t if (p.required or p.default is not None) else Optional[t]
        return typ, Query(default, ge=p.ge, gt=p.gt, le=p.le, description=p.help)
    if p.kind == "bool":
        return bool, Query(bool(p.default), description=p.help)
    if p.kind == "choice":
        e = _enum(p)
        return (e if p.required or p.default is not None else Optional[e]), \
            Query(req if p.required or p.default is None else e(p.default), description=p.help)
    raise ValueError(f"param {p.name}: no query parameter for kind {p.kind!r}")  # pragma: no cover


#: media types of the one-format routes (``Analysis.api_files``)
FILE_MEDIA = {"geojson": "application/geo+json"}


def answer(analysis, request, values: dict):
    """The result of ``analysis`` for one request: parse once (as the API offers the parameters),
    run on the request's city through the web's view when it declares one (the web's bounds, cached
    per server), else cached per parameters."""
    from ..web.routes._common import ctx_of, dates
    from .registry import resolve

    ctx = ctx_of(request)
    dates(**{p.name: values.get(p.name) for p in analysis.params if p.offered("api") and p.on("api").kind == "date"})
    parsed = analysis.parse(values, on="api")
    key = (analysis.name, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(parsed.items())))
    if analysis.web is not None:
        return resolve(analysis.web)(ctx, **parsed)
    if analysis.store:
        return ctx.cached(key, lambda: analysis.run(ctx.dataset(), taxonomy=ctx.dataset().taxonomy(), **parsed))
    return ctx.cached(key, lambda: analysis.run(None, taxonomy=None, **parsed))


def _signature(endpoint, analysis, head):
    params = list(head)
    for p in analysis.params:
        if p.offered("api"):
            ann, default = _query(p)
            params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=default))
    endpoint.__signature__ = inspect.Signature(params)
    endpoint.__doc__ = analysis.doc("api")


def endpoint_for(analysis):
    """The handler of ``/api/{name}.{fmt}``: parse once, run on the request's city, cache, answer."""
    from fastapi import Request

    from ..web.params import Fmt
    from ..web.routes._common import respond

    def endpoint(request: Request, fmt: Fmt, **values):
        return respond(answer(analysis, request, values), fmt, analysis.route_name)

    _signature(endpoint, analysis, [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        inspect.Parameter("fmt", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Fmt)])
    endpoint.__name__ = f"api_{analysis.name}"
    return endpoint


def file_endpoint_for(analysis, fmt: str):
    """The handler of a one-format route ``/api/{name}.{fmt}`` (``Analysis.api_files``): the result's
    ``to_<fmt>()`` document, whose ``meta`` carries its provenance."""
    import json

    from fastapi import Request
    from fastapi.responses import Response

    from ..stats.provenance import jsonable

    def endpoint(request: Request, **values):
        doc = getattr(answer(analysis, request, values), f"to_{fmt}")()
        return Response(json.dumps(jsonable(doc), allow_nan=False), media_type=FILE_MEDIA[fmt])

    _signature(endpoint, analysis, [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)])
    endpoint.__name__ = f"api_{analysis.name}_{fmt}"
    return endpoint


def page_for(analysis, draw):
    """The handler of a dashboard page showing ``analysis``: the same declared query parameters and
    the same answer as its ``/api/`` twins, drawn by ``draw(request, result, values)`` (``values``:
    the parsed parameters, for the page's form)."""
    from fastapi import Request

    def endpoint(request: Request, **values):
        res = answer(analysis, request, values)
        return draw(request, res, analysis.parse(values, on="api"))

    _signature(endpoint, analysis, [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)])
    endpoint.__name__ = f"page_{analysis.name}"
    return endpoint


def build_router():
    from fastapi import APIRouter

    from ..web.routes._common import ERROR_RESPONSES, TABLE_RESPONSES
    from .registry import analyses

    r = APIRouter()
    for a in analyses().values():
        for fmt, summary in a.api_files.items():  # before /api/NAME.{fmt}, which would take the path
            if fmt not in FILE_MEDIA:
                raise ValueError(f"{a.name}: no one-format route for {fmt!r} (one of {', '.join(FILE_MEDIA)})")
            r.add_api_route(f"/api/{a.route_name}.{fmt}", file_endpoint_for(a, fmt), methods=["GET"],
                            tags=list(a.tags), summary=summary, responses={
                                200: {"description": f"{fmt} document with `meta` (unit, rule, source, vintage) "
                                                     "at the top level", "content": {FILE_MEDIA[fmt]: {}}},
                                **ERROR_RESPONSES})
        if a.api:
            r.add_api_route(f"/api/{a.route_name}.{{fmt}}", endpoint_for(a), methods=["GET"], tags=list(a.tags),
                            responses=TABLE_RESPONSES, summary=a.route_summary)
    return r


def __getattr__(name):  # the router is built on first use (FastAPI is the [web] extra)
    if name == "router":
        return build_router()
    raise AttributeError(name)
