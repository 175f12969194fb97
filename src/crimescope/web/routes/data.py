"""Data: sources, vintages, freshness, definitions, categories, rejected rows."""

from __future__ import annotations

from fastapi import Query, Request

from ...stats.provenance import jsonable
from .. import views
from ..params import LIMITS, Fmt
from ._common import TABLE_RESPONSES, ctx_of, page_router, render, respond, respond_dict

router = page_router()

LIMIT = Query(100, ge=1, le=LIMITS["page_rows"], description="Rows per page")
OFFSET = Query(0, ge=0, le=LIMITS["max_offset"], description="Rows to skip")


@router.get("/api/data.{fmt}", tags=["data"], responses=TABLE_RESPONSES)
def api_data(request: Request, fmt: Fmt):
    """Sources, vintages, freshness, batches and definitions (CSV: records per source and year)."""
    summary = views.data_summary(ctx_of(request))
    if fmt == Fmt.json:
        return respond_dict({**summary, "meta": views.data_table(summary).meta})
    from ._common import respond as _respond

    return _respond(views.data_table(summary), fmt, "data")


@router.get("/api/rejected.{fmt}", tags=["data"], responses=TABLE_RESPONSES)
def api_rejected(request: Request, fmt: Fmt, limit: int = LIMIT, offset: int = OFFSET):
    """Rows the importer refused, with the reason (paged)."""
    return respond(views.rejected(ctx_of(request), limit, offset), fmt, "rejected")


@router.get("/api/categories.{fmt}", tags=["data"], responses=TABLE_RESPONSES)
def api_categories(fmt: Fmt):
    """The offense categories: codes, counting unit, definition, source."""
    return respond(views.categories(), fmt, "categories")


@router.get("/data", include_in_schema=False)
def page_data(request: Request, limit: int = LIMIT, offset: int = OFFSET):
    ctx = ctx_of(request)
    summary = jsonable(views.data_summary(ctx))
    rej = views.rejected(ctx, limit, offset)
    return render(request, "data.html", page="data", summary=summary, rejected=rej,
                  rejected_rows=jsonable(rej.to_dict()["rows"]),
                  categories=views.categories().table.to_dict(orient="records"),
                  f={"limit": limit, "offset": offset})
