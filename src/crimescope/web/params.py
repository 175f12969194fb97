"""Query parameters shared by the pages and the API, validated once.

Everything a view shows is determined by its URL query (so any view can be
shared). Dates are inclusive local ISO dates; limits keep every request bounded.
Errors are :class:`crimescope.errors.ParameterError` (HTTP 400 in the one error shape).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

from ..errors import ParameterError

__all__ = ["LIMITS", "AreaKind", "Interval", "Fmt", "check_date", "check_span", "split_list"]

#: bounds on what one request may ask for
LIMITS = {
    "min_date": dt.date(2001, 1, 1),      # first year of the Chicago portal data
    "max_date": dt.date(2100, 12, 31),
    "trend_days": 3660,                   # ten years of weekly / monthly points
    "map_days": 1098,                     # three years on the map (and its hot spots)
    "page_rows": 500,                     # rejected rows per page
    "max_offset": 10_000_000,
    "categories": 12,                     # categories per overview / compstat request
    "claim_chars": 300,
    "layer_rows": 20_000,                 # grid cells per hot spot / forecast layer answer
}


def _mapped_kinds() -> list[str]:
    """Area kinds with a boundary, over the shipped city profiles (declared once, in the profiles)."""
    from ..datasets import profiles

    out: list[str] = []
    for p in profiles().values():
        out += [k for k in p.mapped_kinds() if k not in out]
    return out


#: the area kinds a choropleth or geometry request may name (a city answers only its own)
AreaKind = Enum("AreaKind", {k: k for k in _mapped_kinds()}, type=str)
#: citywide, or an area kind
TrendArea = Enum("TrendArea", {"citywide": "citywide", **{k: k for k in _mapped_kinds()}}, type=str)


class Interval(str, Enum):
    week = "week"
    month = "month"


class Measure(str, Enum):
    count = "count"
    rate = "rate"


class Fmt(str, Enum):
    json = "json"
    csv = "csv"


def check_date(value: dt.date | None, name: str) -> dt.date | None:
    """``value`` inside the supported range (2001-01-01 .. 2100-12-31), else ParameterError."""
    if value is None:
        return None
    lo, hi = LIMITS["min_date"], LIMITS["max_date"]
    if not lo <= value <= hi:
        raise ParameterError(f"{name}: {value} is outside the supported range {lo} to {hi}")
    return value


def check_span(start: dt.date, end: dt.date, max_days: int, what: str) -> None:
    if end < start:
        raise ParameterError(f"{what}: end {end} is before start {start}")
    days = (end - start).days + 1
    if days > max_days:
        raise ParameterError(f"{what}: {days} days asked, at most {max_days} allowed per request")


def split_list(text: str | None, limit: int, name: str) -> list[str]:
    items = [t.strip() for t in (text or "").split(",") if t.strip()]
    if len(items) > limit:
        raise ParameterError(f"{name}: at most {limit} values allowed, got {len(items)}")
    return list(dict.fromkeys(items))
