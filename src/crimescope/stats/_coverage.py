"""Coverage in the counting functions: one call at the top of each, one entry in ``meta``.

``covered(store, source, cat, start, end)`` refuses (CoverageError) a period the store does
not hold at all and returns the Coverage otherwise; ``attach`` writes it into a result's
``meta`` (``meta["coverage"]`` and, when partial, a note); ``mark_partial`` adds a
``partial`` column to a table grouped by year, month or week when any group's calendar
period is not wholly counted (cut by the period asked for, or by the store's coverage):
true on those groups.
"""

from __future__ import annotations

import datetime as dt

from ..store import coverage as _cov

__all__ = ["covered", "attach", "mark_partial", "period_of_group", "restrict"]

TIME_GROUPS = ("year", "month", "week")


def covered(store, source: str, cat, start, end, *, vintage=None, batch=None):
    """The Coverage of ``cat`` over ``start..end``; CoverageError when none of it is held, or
    when the vintage (batch) asked for is older than the store's batches for it."""
    return _cov.require(store, source, cat, start, end, vintage=vintage, batch=batch)


def restrict(t, spans):
    """``t`` filtered to the days of ``spans`` (the days the store wholly holds a category): a
    partly held period counts the held days only (e.g. no homicide-only years in gun violence)."""
    import functools
    import operator

    from .query import date_predicate

    if not spans:
        return t.filter(date_predicate(t, "1900-01-01", "1900-01-01") & (t.source != t.source))
    return t.filter(functools.reduce(operator.or_, [date_predicate(t, a, b) for a, b in spans]))


def attach(meta: dict, cov, key: str = "coverage") -> dict:
    meta[key] = cov.as_dict()
    if not cov.full:
        notes = meta.setdefault("notes", [])
        if cov.text() not in notes:
            notes.append(cov.text())
    return meta


def period_of_group(name: str, value) -> tuple[dt.date, dt.date] | None:
    """The calendar span of a year / month ('YYYY-MM') / week (its Monday) group value."""
    try:
        if name == "year":
            y = int(value)
            return dt.date(y, 1, 1), dt.date(y, 12, 31)
        if name == "month":
            y, m = (int(x) for x in str(value).split("-")[:2])
            nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
            return dt.date(y, m, 1), nxt - dt.timedelta(days=1)
        if name == "week":
            d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
            return d, d + dt.timedelta(days=6)
    except (TypeError, ValueError):
        return None
    return None


def period_keys(name: str, start: dt.date, end: dt.date) -> list:
    """The group values of grouping ``name`` (``week``: its Monday, a date; ``month``:
    ``'YYYY-MM'``) of every period touching ``start``..``end``, in order: the keys a
    count by that grouping gives (:data:`stats.query.GROUPS`), with the empty periods too."""
    if name == "week":
        first = start - dt.timedelta(days=start.weekday())
        return [first + dt.timedelta(days=7 * i) for i in range(((end - first).days // 7) + 1)]
    if name == "month":
        keys, y, m = [], start.year, start.month
        while (y, m) <= (end.year, end.month):
            keys.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return keys
    raise ValueError(f"period_keys: {name!r} is not week or month")


def year_earlier_key(name: str, key):
    """The period a year before ``key``: 52 weeks earlier (weeks), the same month (months)."""
    if name == "week":
        return key - dt.timedelta(days=364)
    return f"{int(key[:4]) - 1:04d}{key[4:]}"


def mark_partial(df, by, cov):
    """Add ``partial`` (bool) when ``by`` has a year, month or week grouping."""
    groups = [b for b in by if b in TIME_GROUPS]
    if not groups or len(df) == 0:
        return df
    held = cov.covered

    def part(row) -> bool:
        for g in groups:
            span = period_of_group(g, row[g])
            if span is None:
                continue
            inside = _cov._intersect([span], held)
            if inside != [span]:
                return True
        return False

    flags = [part(r) for r in df.to_dict(orient="records")]
    if any(flags):  # the column appears only when a group is cut (tables stay as they were otherwise)
        df["partial"] = flags
    return df
