"""Overview: year-to-date box per category, CompStat table by district."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from fastapi import Query, Request

from .. import views
from ..params import LIMITS, split_list
from ._common import CATEGORY_PATTERN, category_choices, ctx_of, dates, page_router, render, result_doc

router = page_router()

AS_OF = Query(None, description="As-of date (YYYY-MM-DD); default: the store's last complete day")
CATS = Query(None, max_length=400, description="Comma-separated categories (default: the CompStat set)")


# /api/overview.{fmt} and /api/compstat.{fmt} are generated from the declarations of `overview` and
# `compstat` (crimescope.app.declared)


@router.get("/", include_in_schema=False)
def page_overview(request: Request, as_of: Optional[dt.date] = AS_OF, categories: Optional[str] = CATS,
                  category: Optional[str] = Query(None, pattern=CATEGORY_PATTERN),
                  sort: Optional[str] = Query(None, pattern=r"^-?[a-z0-9_]{1,32}$")):
    dates(as_of=as_of)
    ctx = ctx_of(request)
    cats = split_list(categories, LIMITS["categories"], "categories")
    ov = views.overview(ctx, as_of, cats)
    cs = views.compstat(ctx, as_of, cats)
    chosen = category or cs.meta["categories"][0]
    if chosen not in cs.meta["categories"]:
        views.compstat(ctx, as_of, cats, chosen)  # raises the ParameterError
    a = ov.meta["as_of"]
    all_categories = category_choices(ctx)
    return render(request, "overview.html", page="overview", ov=ov, ov_rows=result_doc(ov)["rows"],
                  cs=cs, cs_rows=views.compstat_wide(cs, chosen), category=chosen, as_of=a,
                  categories=categories or "", sort=sort or "", chosen=cats, all_categories=all_categories,
                  labels={c["name"]: c["label"] for c in all_categories},
                  district_names=ctx.profile.area_names("district"),
                  params={"as_of": as_of, "categories": categories, "category": category})
