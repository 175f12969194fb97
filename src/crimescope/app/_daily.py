"""Daily counts of one category per area unit: what the trends view sums.

A trend is a category's count per week or month over an inclusive span of local
dates, citywide or in one area. A local date decides its week (the Monday) and its
month, and an inclusive span of dates is a run of days, so every trend of a category
is a sum over one table: the category counted by local date and by the four area
kinds, with the expression ``stats.count`` runs (``count_expr(..., by=["date",
"district", "beat", "ward", "community_area"])``), once per category. The store is
opened read-only, so the table never goes stale.

On the six shared files (1.7M rows) a table takes at most 0.4 s to build and 7 MB to
hold (int32 arrays; 55 MB for all 41 categories); a trend is then summed from it in
about 0.1 ms, where the library count of one span cost 60-90 ms and each area's share
of it about 3 ms (``docs/benchmarks/web.md``). ``tests/web/test_web_trends.py`` checks the sums
against ``stats.count(..., by=[interval, kind])``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import ParameterError

__all__ = ["AREA_KINDS", "DailyCounts"]

#: the area kinds a trend can be restricted to (besides "citywide")
AREA_KINDS = ("district", "beat", "ward", "community_area")
#: day numbers count from here (a Thursday)
_EPOCH = dt.date(1970, 1, 1)


def _day(d: dt.date) -> int:
    return (d - _EPOCH).days


def _sorted_runs(units, days, counts):
    """Sum ``counts`` per (unit, day); return the units, the start of each unit's run,
    and the days (ascending within a run) with their sums."""
    import numpy as np

    order = np.lexsort((days, units))
    u, d, c = units[order], days[order], counts[order]
    if len(u):
        new = np.flatnonzero((np.diff(u) != 0) | (np.diff(d) != 0)) + 1
        first = np.concatenate(([0], new))
        u, d, c = u[first], d[first], np.add.reduceat(c, first)
    unit_first = np.flatnonzero(np.concatenate(([True], np.diff(u) != 0))) if len(u) else np.zeros(0, "int64")
    starts = np.concatenate((unit_first, [len(u)])).astype("int64")
    return u[unit_first], starts, d, c


class DailyCounts:
    """Counts per local date of one category, citywide and per unit of each area kind.

    Build it with :meth:`from_store` (one scan of the store).

    Attributes
    ----------
    category : str
        The category's name.
    meta : dict
        What a library count of the category states (``stats.counts.base_meta``: unit,
        rule, definition, source, vintage), shared by every trend of the category.
    nbytes : int
        Memory held by the day tables.
    """

    def __init__(self, category: str, meta: dict, runs: dict[str, tuple]):
        self.category = category
        self.meta = meta
        self._runs = runs
        self.nbytes = int(sum(a.nbytes for r in runs.values() for a in r))

    @classmethod
    def from_store(cls, store, category) -> DailyCounts:
        """Count ``category`` by date and area kind over every date a request may ask for
        (``params.LIMITS``), with the expression ``stats.count`` runs, and index it per unit."""
        import numpy as np
        import pyarrow as pa

        from ..stats.counts import base_meta
        from ..stats.query import count_expr, incidents_table
        from ..web.params import LIMITS  # the dates a request may ask for

        from ..datasets import as_dataset

        from ..stats._aggregate import aggregates_of

        ds = as_dataset(store)
        cat = ds.category(category)
        agg = aggregates_of(ds.store)
        if agg is not None:  # the snapshot's count table of the category (the same expression, all dates)
            t = agg.table(ds.key, cat).cut(LIMITS["min_date"], LIMITS["max_date"])
        else:
            expr = count_expr(incidents_table(ds.ibis(), source=ds.key), cat, LIMITS["min_date"],
                              LIMITS["max_date"], by=["date", *AREA_KINDS])
            t = expr.to_pyarrow()  # Arrow keeps dates as day numbers: no Python objects per row
        days = t["date"].cast(pa.int32()).to_numpy().astype("int32")
        counts = t["count"].to_numpy().astype("int32")
        runs = {"citywide": _sorted_runs(np.zeros(len(days), "int32"), days, counts)}
        for kind in AREA_KINDS:
            known = t[kind].is_valid().to_numpy(zero_copy_only=False)
            units = t[kind].fill_null(0).cast(pa.int32()).to_numpy().astype("int32")
            runs[kind] = _sorted_runs(units[known], days[known], counts[known])
        return cls(cat.name, base_meta(ds, cat), runs)

    def period_counts(self, kind: str, area: int | None, start: dt.date, end: dt.date,
                      interval: str) -> dict[Any, int]:
        """Counts of the days ``start``..``end`` (inclusive) per period, citywide
        (``kind="citywide"``) or in unit ``area`` of ``kind``.

        Keys are those of the library's groupings: a week is its Monday (a date), a
        month is ``"YYYY-MM"``. Periods without a record are absent.
        """
        import numpy as np

        units, starts, days, counts = self._runs[kind]
        unit = 0 if kind == "citywide" else int(area)
        i = int(np.searchsorted(units, unit))
        if i == len(units) or units[i] != unit:
            return {}
        d, c = days[starts[i]:starts[i + 1]], counts[starts[i]:starts[i + 1]]
        lo, hi = np.searchsorted(d, _day(start)), np.searchsorted(d, _day(end), side="right")
        d, c = d[lo:hi], c[lo:hi]
        if not len(d):
            return {}
        if interval == "week":
            keys = d - (d + 3) % 7  # day 0 is a Thursday: this is the Monday of each day's week
        elif interval == "month":
            keys = d.astype("datetime64[D]").astype("datetime64[M]").astype("int64")
        else:
            raise ParameterError(f"interval: {interval!r} is not one of week, month")
        first = np.concatenate(([0], np.flatnonzero(np.diff(keys)) + 1))
        sums = np.add.reduceat(c, first).tolist()
        if interval == "week":
            return {_EPOCH + dt.timedelta(days=k): s for k, s in zip(keys[first].tolist(), sums)}
        return {f"{1970 + k // 12:04d}-{k % 12 + 1:02d}": s for k, s in zip(keys[first].tolist(), sums)}
