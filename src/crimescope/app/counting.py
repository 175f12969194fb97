"""The counting analyses: one function each, taking a Dataset and parameters, returning a result.

Declared in :mod:`crimescope.app.declared`; the CLI commands (``count``, ``ytd``,
``compstat``, ``rates``, ``cities``, ``pace``) and their ``/api/`` twins are generated
from those declarations, and the dashboard (``web.views``) calls these functions.
"""

from __future__ import annotations

from ..errors import ParameterError

__all__ = ["count", "ytd", "compstat", "compstat_category", "compstat_table", "rates", "cities", "pace",
           "default_categories"]


def count(ds, *, taxonomy=None, category, start, end, by=(), vintage=None):
    """Records of a category between two inclusive local dates, optionally grouped (``stats.count``)."""
    from ..stats.counts import count as _count

    return _count(ds, category, start, end, list(by or ()), vintage=vintage, taxonomy=taxonomy)


def ytd(ds, *, taxonomy=None, category, as_of=None, years=5, by=(), vintage=None):
    """Year to date vs the same span of earlier years (``stats.ytd``)."""
    from ..stats.periods import ytd as _ytd

    return _ytd(ds, category, as_of, years, list(by or ()), vintage=vintage, taxonomy=taxonomy)


def default_categories(ds) -> list[str]:
    """The city's CompStat / Overview categories (its profile's; Chicago's are the built-in set)."""
    from ..stats.periods import DEFAULT_COMPSTAT_CATEGORIES

    return list(ds.profile.default_categories or DEFAULT_COMPSTAT_CATEGORIES)


def compstat(ds, *, taxonomy=None, as_of=None, categories=(), by="district", vintage=None, category=None,
             all=False):  # noqa: A002 - the CLI's --all
    """CompStat: week, 28 days and YTD, citywide and by district, vs a year earlier (``stats.compstat``).

    ``categories``: default the city's CompStat set. ``category``: keep that category's rows
    only (it must be one of ``categories``). ``all`` only changes what the terminal table
    shows (:func:`compstat_table`).
    """
    from ..stats.periods import compstat as _compstat

    if by not in ("district", "none", None):
        raise ParameterError("--by must be 'district' or 'none'")
    cats = list(categories or ()) or default_categories(ds)
    res = _compstat(ds, as_of, cats, by_district=(by == "district"), vintage=vintage, taxonomy=taxonomy)
    return compstat_category(res, category)


def compstat_category(res, category: str | None):
    """The rows of one category of a CompStat result (``category`` None: the result itself)."""
    from ..stats.provenance import StatResult

    if category is None:
        return res
    cats = res.meta["categories"]
    if category not in cats:
        raise ParameterError(f"category: {category!r} is not among the CompStat categories {', '.join(cats)}")
    return StatResult(res.table[res.table["category"] == category].reset_index(drop=True), dict(res.meta))


def compstat_table(res, params: dict):
    """What ``crimescope compstat`` shows as a table: the citywide rows and every cell beyond
    normal variation (the Benjamini-Hochberg flags), with a line saying how many rows are left
    out; ``--all`` (``params["all"]``) and the CSV and JSON formats give every row."""
    from ..stats.provenance import StatResult

    if params.get("all"):
        return res
    t = res.table
    flags = t["flagged"].eq(True).to_numpy()  # untested cells (no record in either span) are not flagged
    keep = (t["area"] == "citywide").to_numpy() | flags
    left = int((~keep).sum())
    if left == 0:
        return res
    meta = dict(res.meta)
    flagged = int((flags & (t["area"] != "citywide").to_numpy()).sum())
    meta["notes"] = list(meta.get("notes", [])) + [
        f"shown: the citywide rows and the {flagged} district rows beyond normal variation; "
        f"{left} district rows within normal variation are left out (--all shows every row; "
        "--format csv or json gives them all)"]
    return StatResult(t[keep].reset_index(drop=True), meta)


def rates(ds, *, taxonomy=None, category, start, end, by="community_area", census=None, shared_dir=None):
    """Rates per 100,000 residents by community area, district (apportioned) or citywide (``stats.rates``)."""
    from ..stats.rates import rates as _rates

    return _rates(ds, category, start, end, by=by, census=census, taxonomy=taxonomy, shared_dir=shared_dir)


def cities(ds=None, *, taxonomy=None, metric="homicides", year, top=None):
    """City-level counts and rates per 100,000 from the published UCR tables (no store, ``stats.cities``)."""
    from ..stats.cities import cities as _cities

    return _cities(metric, year, top=top)


def pace(ds, *, taxonomy=None, category, as_of=None, district=None, years=10):
    """The year-end count implied by the year to date, with 80% and 95% intervals (``stats.pace``)."""
    from ..stats.pace import pace as _pace

    return _pace(ds, category, as_of, district=district, max_years=years, taxonomy=taxonomy)
