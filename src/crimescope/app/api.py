"""``/api/NAME.json`` and ``/api/NAME.csv`` routes generated from the analysis declarations."""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Optional

__all__ = ["router"]


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
    from fastapi import Query

    from ..web.routes._common import CATEGORY_PATTERN

    req = ... if p.required else None
    if p.kind == "category":
        return Optional[str], Query(req, pattern=CATEGORY_PATTERN, description=p.help)
    if p.kind == "text":
        return Optional[str], Query(req, max_length=p.max_length or 200, pattern=p.pattern, description=p.help)
    if p.kind == "date":
        return (dt.date if p.required else Optional[dt.date]), Query(req, description=p.help)
    if p.kind in ("by", "categories"):
        return Optional[str], Query(None, max_length=400, description=p.help + " Comma-separated.")
    if p.kind in ("int", "float"):
        t = int if p.kind == "int" else float
        default = req if p.required or p.default is None else p.default
        # a required or defaulted number is never null (the schema says integer, not integer-or-null)
        typ = t if (p.required or p.default is not None) else Optional[t]
        return typ, Query(default, ge=p.ge, le=p.le, description=p.help)
    if p.kind == "bool":
        return bool, Query(bool(p.default), description=p.help)
    if p.kind == "choice":
        e = _enum(p)
        return (e if p.required or p.default is not None else Optional[e]), \
            Query(req if p.required or p.default is None else e(p.default), description=p.help)
    raise ValueError(f"param {p.name}: no query parameter for kind {p.kind!r}")  # pragma: no cover


def _resolve(ref):
    """A function, or ``"module:function"`` imported on first use (the app layer does not import the web)."""
    if callable(ref):
        return ref
    from importlib import import_module

    mod, _, fn = ref.partition(":")
    return getattr(import_module(mod), fn)


def endpoint_for(analysis):
    """The handler of ``/api/{name}.{fmt}``: parse once, run on the request's city, cache, answer."""
    from fastapi import Request

    from ..web.params import Fmt
    from ..web.routes._common import ctx_of, dates, respond

    def endpoint(request: Request, fmt: Fmt, **values):
        ctx = ctx_of(request)
        dates(**{p.name: values.get(p.name) for p in analysis.params if p.kind == "date" and p.api})
        parsed = analysis.parse(values)
        key = (analysis.name, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(parsed.items())))
        if analysis.web is not None:  # the dashboard's view: the web's bounds, cached per server
            res = _resolve(analysis.web)(ctx, **parsed)
        elif analysis.store:
            res = ctx.cached(key, lambda: analysis.run(ctx.dataset(), taxonomy=ctx.dataset().taxonomy(), **parsed))
        else:
            res = ctx.cached(key, lambda: analysis.run(None, taxonomy=None, **parsed))
        return respond(res, fmt, analysis.route_name)

    params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
              inspect.Parameter("fmt", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Fmt)]
    for p in analysis.params:
        if not p.api:
            continue
        ann, default = _query(p)
        params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=default))
    endpoint.__signature__ = inspect.Signature(params)
    endpoint.__name__ = f"api_{analysis.name}"
    endpoint.__doc__ = analysis.summary + ("\n\n" + analysis.description if analysis.description else "")
    return endpoint


def build_router():
    from fastapi import APIRouter

    from ..web.routes._common import TABLE_RESPONSES
    from .registry import analyses

    r = APIRouter()
    for a in analyses().values():
        if a.api:
            r.add_api_route(f"/api/{a.route_name}.{{fmt}}", endpoint_for(a), methods=["GET"], tags=list(a.tags),
                            responses=TABLE_RESPONSES, summary=a.summary)
    return r


def __getattr__(name):  # the router is built on first use (FastAPI is the [web] extra)
    if name == "router":
        return build_router()
    raise AttributeError(name)
