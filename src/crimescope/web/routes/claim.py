"""Claim check: a published figure in, the verdict and its explanation out."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from fastapi import Query, Request

from ...stats.provenance import jsonable
from .. import views
from ..params import LIMITS
from ._common import CATEGORY_PATTERN, category_records, ctx_of, dates, page_router, render

router = page_router()

Q = dict(
    text=Query(None, max_length=LIMITS["claim_chars"],
               description="The claim as a sentence, e.g. '762 murders in 2016' or '110 homicides so far "
                           "this year' (with as_of)"),
    as_of=Query(None, description="Date of the claim (needed for 'so far this year')"),
    category=Query(None, pattern=CATEGORY_PATTERN, description="Category (instead of text)"),
    value=Query(None, ge=0, le=1e9, description="Claimed number (instead of text)"),
    start=Query(None, description="Period start (instead of text)"),
    end=Query(None, description="Period end (instead of text)"),
    district=Query(None, ge=0, le=1000, description="Police district (default citywide)"),
    community_area=Query(None, ge=0, le=1000, description="Community area (default citywide)"),
    tolerance=Query(0.0, ge=0, le=1e6, description="Absolute difference still counted as a match"),
)


def _check(request, text, as_of, category, value, start, end, district, community_area, tolerance):
    dates(as_of=as_of, start=start, end=end)
    return views.claim(ctx_of(request), text, as_of, category, value, start, end, district, community_area,
                       tolerance)


# /api/claim.{fmt} is generated from the declaration of `claim` (crimescope.app.declared)


@router.get("/claim", include_in_schema=False)
def page_claim(request: Request, text: Optional[str] = Q["text"], as_of: Optional[dt.date] = Q["as_of"],
               category: Optional[str] = Q["category"], value: Optional[float] = Q["value"],
               start: Optional[dt.date] = Q["start"], end: Optional[dt.date] = Q["end"],
               district: Optional[int] = Q["district"], community_area: Optional[int] = Q["community_area"],
               tolerance: float = Q["tolerance"]):
    f = {"text": text, "as_of": as_of, "category": category, "value": value, "start": start, "end": end,
         "district": district, "community_area": community_area, "tolerance": tolerance}
    res = None
    if text or category:
        res = _check(request, text, as_of, category, value, start, end, district, community_area, tolerance)
    from ._common import area_options

    kinds = area_options(ctx_of(request))
    return render(request, "claim.html", page="claim", res=res,
                  districts=kinds["district"]["units"] if "district" in kinds else [],
                  doc=jsonable(res.to_dict()) if res is not None else None,
                  explanation=res.explain() if res is not None else "",
                  categories=category_records(ctx_of(request), of_context=False), f=f)
