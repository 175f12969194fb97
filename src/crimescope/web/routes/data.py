"""Data: sources, vintages, freshness, definitions, categories, rejected rows.

``/api/rejected.{json,csv}`` is generated from the ``rejected`` declaration
(:mod:`crimescope.app.declared`) and answers through :func:`rejected_view`."""

from __future__ import annotations

from fastapi import Query, Request

from ...stats.provenance import jsonable
from .. import views
from ..params import LIMITS, Fmt
from ._common import TABLE_RESPONSES, ctx_of, page_router, render, respond, respond_dict

router = page_router()

LIMIT = Query(100, ge=1, le=LIMITS["page_rows"], description="Rows per page")
OFFSET = Query(0, ge=0, le=LIMITS["max_offset"], description="Rows to skip")


@router.get("/api/data.{fmt}", tags=["data"], responses=TABLE_RESPONSES,
            summary="What the store holds: sources, vintages, freshness, batches, definitions")
def api_data(request: Request, fmt: Fmt):
    """Records per source and year (``rows``, as in the CSV), and in ``meta`` the sources with their
    vintage and freshness, the import batches, syncs, request limits and definitions.

    The same ``{meta, rows}`` shape as every other table answer; the summary's keys (``sources``,
    ``batches``, ``syncs``, ``limits``, ``definitions``, ``store``) were at the top level before
    (docs/web.md, "Compatibility")."""
    summary = views.data_summary(ctx_of(request))
    table = views.data_table(summary)
    if fmt == Fmt.json:
        doc = table.to_dict()
        doc["meta"] = {**doc["meta"], **{k: v for k, v in summary.items() if k not in doc["meta"]}}
        return respond_dict(doc)
    return respond(table, fmt, "data")


def rejected_view(ctx, *, limit: int, offset: int):
    """A page of the rejected rows with the web's bounds (the ``rejected`` analysis declared in
    :mod:`crimescope.app.declared` answers ``/api/rejected.{json,csv}`` through it)."""
    return views.rejected(ctx, limit, offset)


@router.get("/api/categories.{fmt}", tags=["data"], responses=TABLE_RESPONSES,
            summary="The offense categories: codes, counting unit, definition, source")
def api_categories(fmt: Fmt):
    """The offense categories: codes, counting unit, definition, source."""
    return respond(views.categories(), fmt, "categories")


@router.get("/data", include_in_schema=False)
def page_data(request: Request, limit: int = LIMIT, offset: int = OFFSET):
    ctx = ctx_of(request)
    summary = jsonable(views.data_summary(ctx))
    rej = rejected_view(ctx, limit=limit, offset=offset)
    return render(request, "data.html", page="data", summary=summary, rejected=rej,
                  rejected_rows=jsonable(rej.to_dict()["rows"]),
                  categories=views.categories().table.to_dict(orient="records"),
                  f={"limit": limit, "offset": offset})
