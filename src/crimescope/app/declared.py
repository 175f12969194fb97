"""The shipped analyses, each declared once (CLI command and /api/ twins are generated)."""

from __future__ import annotations

from .registry import Analysis, Param, register

CATEGORY = Param("category", "category", "Category name (see `crimescope categories`).", required=True,
                 flag="--category", short="-c")
START = Param("start", "date", "First local date, inclusive (YYYY-MM-DD).", required=True, flag="--from")
END = Param("end", "date", "Last local date, inclusive (YYYY-MM-DD).", required=True, flag="--to")
BY = Param("by", "by", "Group by (repeatable or comma-separated): year, month, month_of_year, week, date, dow, "
           "hour, district, beat, ward, community_area, iucr, fbi_code, primary_type.", default=())


def _arrests(ds, *, taxonomy, category, start, end, by):
    from ..stats.arrests import arrests

    return arrests(ds, category, start, end, by, taxonomy=taxonomy)


ARRESTS = register(Analysis(
    name="arrests",
    summary="Share of records with the arrest flag (not the FBI clearance rate).",
    description="Records, records with the arrest flag and their share, per grouping, between two "
                "inclusive local dates (stats.arrests).",
    params=(CATEGORY, START, END, BY),
    run=_arrests,
    tags=("counting",),
))
