"""The OpenAPI document states the limits the server enforces, so a client (or schemathesis) can
build valid requests from it alone.

FastAPI writes what a parameter's Python type and ``Query(ge=, le=, pattern=)`` say. The limits
checked in the handlers are added here, once for every route, from the same constants the
handlers check against:

- every date: the supported range (``params.LIMITS`` min/max date) as a ``pattern`` on the
  year (JSON Schema has no minimum for dates) and in the description;
- ``source``: the registered cities (an ``enum``);
- ``category``: the categories of the shipped cities (an ``enum``; a category the asked
  city does not define is a 404); ``categories``: a comma list of them;
- ``cell``: the grid cell sizes (``views.CELL_SIZES``); ``census``: the shipped census years
  (``stats.rates.CENSUS_YEARS``); the forecast layer's ``model``:
  ``best`` or one of ``views.FORECAST_MODELS``; the plan's ``model`` (``PLAN_MODELS``),
  ``budget`` (places are whole), evaluation ``methods`` (the registered methods) and the
  analyses' ``by`` (``stats.query.GROUPINGS``).

What one parameter cannot say about another (a trend over districts needs the district's
number, a claim needs its text or a category and a value, a period's end is not before its
start, at most so many days) is in the operation's description and answered 400; docs/web.md
lists these as the intentional schemathesis findings.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

__all__ = ["refine_schema", "date_pattern", "DEPENDENT_RULES"]

#: the cross-parameter rules of the routes (answered 400 with the rule in the message)
DEPENDENT_RULES = {
    "/api/trends.{fmt}": "area_kind other than citywide needs area, a number the boundaries of that kind have, "
                         "and area needs an area kind; "
                         "the area kind one the city has; end not before start; at most 3,660 days",
    "/api/claim.{fmt}": "text (a sentence the parser reads), or category and value (with start and end, or "
                        "as_of); Chicago only",
    "/api/map.{fmt}": "kind one the city has; end not before start; at most 1,098 days; "
                      "measure=rate only for area kinds with a population",
    "/api/geometry/{kind}.geojson": "kind one the city has boundaries of",
    "/api/compstat.{fmt}": "category one of the CompStat categories asked",
    "/api/plan.{fmt}": "weights and quotas in their small languages (see the parameters); a % budget at most 100; "
                       "as_of after the store's first record of the mix",
    "/api/plan.geojson": "weights and quotas in their small languages (see the parameters); a % budget at most 100; "
                         "as_of after the store's first record of the mix",
    "/api/arrests.{fmt}": "end not before start",
    "/api/rates.{fmt}": "end not before start; a city with a shipped population table (not New York City's "
                        "shootings)",
    "/api/hotspots.{fmt}": "end not before start; at most 1,098 days",
    "/api/evaluate.{fmt}": "end not before start; the period inside the span the store covers; a drawn "
                           "area (polygon) needs area_start, the date the strategy began there",
}


#: a plan budget: a whole number of places (at least 1), or an area or patrol hours (a decimal)
BUDGET_PATTERN = r"^\s*([1-9][0-9]{0,5}\s*(places?)?|[0-9]{1,6}(\.[0-9]{1,4})?\s*(sqmi|%|h|hours?))\s*$"


def _year_range(lo: int, hi: int) -> str:
    """A regular expression matching exactly the four-digit years ``lo`` to ``hi`` (1000-9999)."""
    parts = []
    y = lo
    while y <= hi:
        # the widest block of years starting at y that is aligned and inside [y, hi]
        for width in (1000, 100, 10, 1):
            if y % width == 0 and y + width - 1 <= hi:
                break
        digits = len(str(width)) - 1  # free trailing digits
        fixed = str(y)[: 4 - digits]
        parts.append(fixed + "[0-9]" * digits)
        y += width
    return "(" + "|".join(parts) + ")"


def date_pattern(lo, hi) -> str:
    """A ``pattern`` for ISO dates whose year is in ``lo.year .. hi.year``; with ``format: date``
    (which rules out 2017-02-30) and ``lo``/``hi`` on a January 1 and a December 31, exactly the
    dates from ``lo`` to ``hi``."""
    return rf"^{_year_range(lo.year, hi.year)}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _variants(schema: dict) -> Iterable[dict]:
    """The schema and, for ``Optional[...]`` (``anyOf`` with null), its non-null branch."""
    yield schema
    for sub in schema.get("anyOf", ()):
        if sub.get("type") != "null":
            yield sub


def _category_names() -> list[str]:
    from ..categories.taxonomy import taxonomy_for
    from ..datasets import profiles

    names: list[str] = []
    for prof in profiles().values():
        for name in taxonomy_for(prof):  # iterates over the names
            if name not in names:
                names.append(name)
    return sorted(names)


def refine_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the enforced limits to the parameters of every operation of ``schema`` (in place)."""
    from ..datasets import profiles
    from .params import LIMITS
    from ..evaluate import registry as evaluation_methods
    from ..stats.query import GROUPINGS
    from ..stats.rates import CENSUS_YEARS
    from .routes.plan import PLAN_MODELS
    from .views import CELL_SIZES, FORECAST_MODELS

    lo, hi = LIMITS["min_date"], LIMITS["max_date"]
    pattern = date_pattern(lo, hi)
    cities = list(profiles())
    cats = _category_names()
    alt = "|".join(re.escape(c) for c in cats)
    for path, ops in schema.get("paths", {}).items():
        for op in ops.values():
            for param in op.get("parameters", ()):
                name, top = param["name"], param.get("schema", {})
                for s in _variants(top):
                    if s.get("type") == "string" and s.get("format") == "date":
                        s["pattern"] = pattern
                        param["description"] = (param.get("description", "").rstrip(". ")
                                                + f" (YYYY-MM-DD, {lo} to {hi})").lstrip()
                    elif name == "source" and s.get("type") == "string":
                        s.pop("pattern", None)
                        s["enum"] = cities
                    elif name == "category" and s.get("type") == "string":
                        s.pop("pattern", None)
                        s["enum"] = cats
                    elif name == "categories" and s.get("type") == "string":
                        n = LIMITS["categories"]
                        s["pattern"] = rf"^({alt})(,({alt})){{0,{n - 1}}}$"
                    elif name == "cell" and s.get("type") == "integer":
                        s["enum"] = list(CELL_SIZES)
                    elif name == "census" and s.get("type") == "integer":
                        s["enum"] = list(CENSUS_YEARS)
                    elif name == "model" and path.startswith("/api/forecast") and s.get("type") == "string":
                        s.pop("pattern", None)
                        s["enum"] = ["best", *FORECAST_MODELS]
                    elif name == "model" and path.startswith("/api/plan") and s.get("type") == "string":
                        s["enum"] = list(PLAN_MODELS)
                    elif name == "budget" and path.startswith("/api/plan") and s.get("type") == "string":
                        s["pattern"] = BUDGET_PATTERN
                    elif name == "by" and s.get("type") == "string":
                        g = "|".join(GROUPINGS)
                        s["pattern"] = rf"^,*\s*({g})\s*(,+\s*({g})\s*)*,*$"
                    elif name == "methods" and path.startswith("/api/evaluate") and s.get("type") == "string":
                        m = "|".join(sorted(evaluation_methods()))
                        s["pattern"] = rf"^(all|({m})(,({m})){{0,9}})$"
            rule = DEPENDENT_RULES.get(path)
            if rule and "Parameters that depend on each other" not in op.get("description", ""):
                op["description"] = (op.get("description", "").rstrip()
                                     + f"\n\nParameters that depend on each other (answered 400 otherwise): {rule}.")
    return schema
