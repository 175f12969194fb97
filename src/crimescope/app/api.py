"""``/api/NAME.json`` and ``/api/NAME.csv`` routes generated from the analysis declarations."""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Optional

__all__ = ["router"]


def _query(p):
    from fastapi import Query

    from ..web.routes._common import CATEGORY_PATTERN

    if p.kind == "category":
        return Optional[str], Query(None if not p.required else ..., pattern=CATEGORY_PATTERN, description=p.help)
    if p.kind == "date":
        return (dt.date if p.required else Optional[dt.date]), Query(... if p.required else None, description=p.help)
    if p.kind == "by":
        return Optional[str], Query(None, max_length=200, description=p.help + " Comma-separated.")
    if p.kind == "int":
        return Optional[int], Query(None if not p.required else ..., description=p.help)
    return Optional[str], Query(None if not p.required else ..., max_length=200, description=p.help)


def endpoint_for(analysis):
    """The handler of ``/api/{name}.{fmt}``: parse once, run on the request's city, cache, answer."""
    from fastapi import Request

    from ..web.params import Fmt
    from ..web.routes._common import ctx_of, dates, respond

    def endpoint(request: Request, fmt: Fmt, **values):
        ctx = ctx_of(request)
        dates(**{p.name: values.get(p.name) for p in analysis.params if p.kind == "date"})
        parsed = analysis.parse(values)
        key = (analysis.name, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(parsed.items())))
        res = ctx.cached(key, lambda: analysis.run(ctx.dataset(), taxonomy=ctx.dataset().taxonomy(), **parsed))
        return respond(res, fmt, analysis.name)

    params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
              inspect.Parameter("fmt", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Fmt)]
    for p in analysis.params:
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
            r.add_api_route(f"/api/{a.name}.{{fmt}}", endpoint_for(a), methods=["GET"], tags=list(a.tags),
                            responses=TABLE_RESPONSES, summary=a.summary)
    return r


def __getattr__(name):  # the router is built on first use (FastAPI is the [web] extra)
    if name == "router":
        return build_router()
    raise AttributeError(name)
