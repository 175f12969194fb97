"""Counts answered from a per-snapshot aggregate instead of a scan of the incidents.

A read-only snapshot never changes, so what the counting functions compute from it can be
summed from one small table per (source, category): the category counted by local date and
the four area kinds, with the expression ``stats.count`` runs
(``count_expr(..., by=["date", "district", "beat", "ward", "community_area"])``). On the six
shared files (1.7M rows) such a table has at most ~300,000 rows (battery) and takes one scan
of the store (0.1-0.4 s) to build; every span, area and calendar grouping of the category is
then a filter and a group-by over it (a few milliseconds), where a store query costs
50-300 ms (its SQL compilation alone 20-80 ms).

The aggregate is opt-in: a store object carries one as its ``aggregates`` attribute
(:class:`Aggregates`; the web server gives one to each generation it serves, so every
thread and request of a generation shares it). Without it, or when a request is not
expressible from it (a vintage or batch, a grouping other than date / week / month / year
and the area kinds), the functions query the store as before. The answers are identical to
the store path, frame for frame: ``tests/stats/test_aggregate.py`` compares them on the real
store over random spans, categories, areas and groupings (hypothesis).

Each table is built once per key even when many threads ask at the same moment
(single-flight: one lock per key), lazily on first use.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, Callable, Hashable, Sequence

__all__ = ["Aggregates", "aggregates_of", "count_frame", "ytd_frame", "daily_frame", "district_window_sums",
           "district_window_counts",
           "span_counter",
           "AREA_KINDS", "TIME_GROUPS"]

#: the area columns kept in the aggregate (every grouping of them is answered)
AREA_KINDS = ("district", "beat", "ward", "community_area")
#: the calendar groupings derived from the local date
TIME_GROUPS = ("date", "week", "month", "year")
_EPOCH = dt.date(1970, 1, 1)


class Aggregates:
    """Per-category count tables of one read-only store (snapshot), built once each on first use.

    ``memo(key, compute)`` keeps any other value derived from the same snapshot (e.g. the
    dispersion of a pace); both are single-flight. ``nbytes`` is the memory the tables hold.
    """

    def __init__(self, store):
        self._store = store  # used only to build (a cursor per build, so any thread may build)
        self._values: dict[Hashable, Any] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.builds = 0

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
                self._locks.pop(key, None)
            return value

    def has(self, key: Hashable) -> bool:
        """Whether :meth:`memo` holds ``key`` already (nothing is computed)."""
        with self._lock:
            return key in self._values

    def table(self, source: str, cat):
        """The category's counts by date and area kind (a pyarrow Table sorted by date)."""
        return self.memo(("counts", source, cat.name, cat.rule), lambda: self._build(source, cat))

    def _build(self, source: str, cat):
        from .query import count_expr, incidents_table

        view = _CursorStore(self._store)
        try:
            t = count_expr(incidents_table(view.ibis(), source=source), cat, None, None, ["date", *AREA_KINDS])
            tbl = t.to_pyarrow()
        finally:
            view.close()
        self.builds += 1
        return _Indexed(tbl)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return int(sum(v.nbytes for v in self._values.values() if isinstance(v, _Indexed)))

    def held_bytes(self) -> dict[str, int]:
        """Bytes of array data held, per kind of kept value (``counts``: the count tables,
        ``cell_days``, ``events``, ``cases``, ``span_counter``...; small values count 0)."""
        with self._lock:
            items = list(self._values.items())
        out: dict[str, int] = {}
        for key, v in items:
            kind = key[0] if isinstance(key, tuple) and key else str(key)
            out[kind] = out.get(kind, 0) + _array_bytes(v)
        return out


def _array_bytes(v, depth: int = 0) -> int:
    """The bytes of the NumPy / Arrow data in ``v`` (an array, a table, a tuple of them, or an
    object whose attributes are), 0 for anything else."""
    nb = getattr(v, "nbytes", None)
    if isinstance(nb, int) and not isinstance(v, (int, float)):
        return nb
    if depth > 1:
        return 0
    if isinstance(v, (tuple, list)):
        return sum(_array_bytes(x, depth + 1) for x in v)
    if hasattr(v, "__dict__") and not isinstance(v, type):
        return sum(_array_bytes(x, depth + 1) for x in vars(v).values())
    return 0


class _CursorStore:
    """A store-like object on a fresh cursor (a build may run on any thread)."""

    def __init__(self, store):
        self.con = store.cursor() if hasattr(store, "cursor") else store.con
        self._own = hasattr(store, "cursor")
        self._ibis = None

    def ibis(self):
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def close(self):
        if self._own:
            self.con.close()


class _Indexed:
    """One category's aggregate, with its day numbers as a NumPy array for fast span cuts."""

    def __init__(self, tbl):
        import numpy as np
        import pyarrow as pa

        order = np.argsort(tbl["date"].cast(pa.int32()).to_numpy(), kind="stable")
        self.tbl = tbl.take(pa.array(order))
        self.days = self.tbl["date"].cast(pa.int32()).to_numpy()
        self.nbytes = int(self.tbl.nbytes + self.days.nbytes)

    def column(self, name: str):
        """Column ``name`` as a float64 NumPy array (NaN for nulls), kept once built."""
        cols = self.__dict__.setdefault("_columns", {})
        if name not in cols:
            import pyarrow as pa

            cols[name] = self.tbl[name].cast(pa.float64()).to_numpy(zero_copy_only=False)
        return cols[name]

    def cut(self, start: dt.date | None, end: dt.date | None, spans=None, md_max: int | None = None):
        """Rows of days ``start..end`` (inclusive), within ``spans`` when given, and with month*100+day
        <= ``md_max`` when given."""
        import numpy as np
        import pyarrow as pa

        lo = 0 if start is None else int(np.searchsorted(self.days, (start - _EPOCH).days))
        hi = len(self.days) if end is None else int(np.searchsorted(self.days, (end - _EPOCH).days, side="right"))
        t = self.tbl.slice(lo, hi - lo)
        keep = None
        if spans is not None:
            d = self.days[lo:hi]
            keep = np.zeros(len(d), bool)
            for a, b in spans:
                keep |= (d >= (a - _EPOCH).days) & (d <= (b - _EPOCH).days)
        if md_max is not None:
            dates = self.days[lo:hi].astype("datetime64[D]")
            months = dates.astype("datetime64[M]")
            md = (months.astype("int64") % 12 + 1) * 100 + (dates - months).astype("int64") + 1
            keep = (md <= md_max) if keep is None else (keep & (md <= md_max))
        if keep is not None:
            t = t.filter(pa.array(keep))
        return t


class _SpanCounter:
    """Cumulative daily counts of one category (citywide or one district): any span's count is
    two lookups (``count(a, b)``: days ``a..b`` inclusive), the same integers as summing the
    count table's rows of those days."""

    def __init__(self, indexed: "_Indexed", district: int | None):
        import numpy as np

        days = indexed.days
        counts = indexed.tbl["count"].fill_null(0).to_numpy(zero_copy_only=False).astype("int64")
        if district is not None:
            col = indexed.tbl["district"]
            import pyarrow.compute as pc

            keep = pc.fill_null(pc.equal(col.cast("int64"), int(district)), False).to_numpy(zero_copy_only=False)
            days, counts = days[keep], counts[keep]
        self.days, first = np.unique(days, return_index=True)  # days are sorted: runs of one day
        self.cum = np.concatenate([[0], np.cumsum(np.add.reduceat(counts, first) if len(counts) else counts)])

    def count(self, start: dt.date, end: dt.date) -> int:
        lo = int(self.days.searchsorted((start - _EPOCH).days, side="left"))
        hi = int(self.days.searchsorted((end - _EPOCH).days, side="right"))
        return int(self.cum[hi] - self.cum[lo]) if hi > lo else 0

    def counts(self, spans) -> list[int]:
        """``[count(a, b) for a, b in spans]`` in two searches (0 for an empty span)."""
        import numpy as np

        if not spans:
            return []
        lo = self.days.searchsorted(np.array([(a - _EPOCH).days for a, _ in spans]), side="left")
        hi = self.days.searchsorted(np.array([(b - _EPOCH).days for _, b in spans]), side="right")
        return np.where(hi > lo, self.cum[hi] - self.cum[lo], 0).tolist()


def span_counter(store, source: str, cat, district: int | None = None) -> _SpanCounter | None:
    """The category's :class:`_SpanCounter` of the snapshot (built once per key, single-flight),
    or None when the store carries no aggregate."""
    agg = aggregates_of(store)
    if agg is None:
        return None
    key = ("span_counter", source, cat.name, cat.rule, None if district is None else int(district))
    return agg.memo(key, lambda: _SpanCounter(agg.table(source, cat), district))


def aggregates_of(store) -> Aggregates | None:
    """The aggregate a store (or a Dataset, through its store) carries, or None."""
    agg = getattr(store, "aggregates", None)
    return agg if isinstance(agg, Aggregates) else None


def _usable(store, by, vintage, batch) -> Aggregates | None:
    if vintage is not None or batch is not None:
        return None
    if any(b not in AREA_KINDS and b not in TIME_GROUPS for b in by):
        return None
    return aggregates_of(store)


def _with_groups(t, by):
    """``t`` with a column per time grouping in ``by`` (typed as the store query types them)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    for b in by:
        if b == "week":  # the Monday of the day's week (day 0 is a Thursday)
            d = t["date"].cast(pa.int32()).to_numpy()
            t = t.append_column("week", pa.array(d - (d + 3) % 7, pa.int32()).cast(pa.date32()))
        elif b == "month":
            t = t.append_column("month", pc.strftime(t["date"].cast(pa.timestamp("s")), format="%Y-%m"))
        elif b == "year":
            t = t.append_column("year", pc.year(t["date"]).cast(pa.int32()))
    return t


def _group(t, by: Sequence[str]):
    """Sum ``count`` per ``by`` (sorted ascending, nulls last, as the store query orders), as pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .query import to_pandas_arrow

    if not by:
        total = pc.sum(t["count"]).as_py() or 0
        return to_pandas_arrow(pa.table({"count": pa.array([total], pa.int64())}))
    if len(by) == 1 and by[0] in AREA_KINDS:
        df = _group_area(t, by[0])
        if df is not None:
            return df
    g = t.group_by(list(by), use_threads=False).aggregate([("count", "sum")])
    g = g.select([*by, "count_sum"]).rename_columns([*by, "count"])
    try:  # pyarrow >= 25: null placement per key
        g = g.sort_by([(b, "ascending", "at_end") for b in by])
    except (TypeError, ValueError):  # pragma: no cover - older pyarrow
        g = g.sort_by([(b, "ascending") for b in by], null_placement="at_end")
    return to_pandas_arrow(g)


def _group_area(t, name: str):
    """``_group(t, [name])`` for one integer area column, with NumPy (the Arrow group-by, sort and
    conversion cost more than the sums on a map's few hundred units): the same frame (the codes
    ascending then the empty code last; the column int as Arrow converts it, float64 with NaN when
    an empty code is a row; the counts int64). None when the columns are not of those types."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    col, cnt = t[name], t["count"]
    if not pa.types.is_integer(col.type) or not pa.types.is_integer(cnt.type) or cnt.null_count:
        return None
    n = cnt.to_numpy().astype("int64")
    if col.null_count:
        valid = col.is_valid().to_numpy(zero_copy_only=False)
        codes = col.fill_null(0).to_numpy()[valid]
        empty = int(n[~valid].sum())
        n = n[valid]
    else:
        codes, empty = col.to_numpy(), None
    uniq, inverse = np.unique(codes, return_inverse=True)
    sums = np.zeros(len(uniq), "int64")
    np.add.at(sums, inverse, n)
    if empty is None:
        keys = uniq.astype(col.type.to_pandas_dtype())
    else:
        keys, sums = np.append(uniq.astype("float64"), np.nan), np.append(sums, empty)
    return pd.DataFrame({name: keys, "count": sums})


def count_frame(store, source: str, cat, start, end, by: Sequence[str], *, spans=None, vintage=None, batch=None):
    """``to_pandas(count_expr(table, cat, start, end, by))`` from the aggregate (``table``
    restricted to ``spans`` when given), or None when the store has none or the request is
    not expressible from it."""
    agg = _usable(store, by, vintage, batch)
    if agg is None:
        return None
    t = agg.table(source, cat).cut(start, end, spans)
    return _group(_with_groups(t, by), by)


def ytd_frame(store, source: str, cat, as_of: dt.date, years: int, by: Sequence[str], *, spans=None,
              vintage=None, batch=None):
    """``to_pandas(ytd_expr(table, cat, as_of, years, by))`` from the aggregate, or None."""
    by = [b for b in by if b != "year"]
    agg = _usable(store, by, vintage, batch)
    if agg is None:
        return None
    t = agg.table(source, cat).cut(dt.date(as_of.year - years, 1, 1), as_of, spans,
                                   md_max=as_of.month * 100 + as_of.day)
    return _group(_with_groups(t, ["year", *by]), ["year", *by])


class _DistrictCum:
    """One category's counts per day and district as cumulative sums (built once per snapshot): the
    sum of any span in every district is two row look-ups. ``districts``: the category's district
    codes, ascending, the empty district (``_NO_DISTRICT``) first; ``cum[i]`` / ``rows[i]``: the
    records / count-table rows of the days before ``days[i]`` per district (``days``: the days the
    category has rows, ascending)."""

    def __init__(self, ix: "_Indexed"):
        import numpy as np

        dist = ix.column("district")
        dist = np.where(np.isnan(dist), _NO_DISTRICT, dist)
        n = np.nan_to_num(ix.column("count")).astype("int64")
        self.days, day_i = np.unique(ix.days, return_inverse=True)
        self.districts, dist_i = np.unique(dist, return_inverse=True)
        shape = (len(self.days) + 1, len(self.districts))
        cum, rows = np.zeros(shape, "int64"), np.zeros(shape, "int64")
        np.add.at(cum, (day_i + 1, dist_i), n)
        np.add.at(rows, (day_i + 1, dist_i), 1)
        self.cum, self.rows = np.cumsum(cum, axis=0), np.cumsum(rows, axis=0)
        self.nbytes = int(self.cum.nbytes + self.rows.nbytes + self.days.nbytes + self.districts.nbytes)

    def bounds(self, spans):
        """Row indexes ``(lo, hi)`` of the day spans ``[(first, last), ...]`` (day numbers, inclusive)."""
        import numpy as np

        a = np.asarray([x for x, _ in spans], "int64")
        b = np.asarray([y for _, y in spans], "int64")
        return np.searchsorted(self.days, a, side="left"), np.searchsorted(self.days, b, side="right")


#: the empty district in :class:`_DistrictCum` (a number that sorts first; NaN does not compare)
_NO_DISTRICT = -1.0e18


def _merged(spans):
    """Day-number spans sorted and merged where they overlap or touch (the same set of days)."""
    out = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def district_window_counts(store, source: str, cats, windows, ranges, held=None, *, vintage=None, batch=None):
    """What :func:`district_window_sums` sums, as arrays: ``(districts, counts)`` with ``districts``
    ascending float codes (NaN, the empty district, first) and ``counts[d, c, w]`` the records of
    category ``c`` in window ``w`` in district ``d`` (int64), or None without an aggregate (or with a
    vintage or batch). From each category's cumulative counts per day and district (``_DistrictCum``,
    memoised per snapshot): the same districts and integers as the sums over the count table's rows."""
    import numpy as np

    from .query import as_date

    agg = _usable(store, ["district"], vintage, batch)
    if agg is None:
        return None
    rng = [((as_date(s) - _EPOCH).days, (as_date(e) - _EPOCH).days) for s, e in ranges]
    wins = [((as_date(s) - _EPOCH).days, (as_date(e) - _EPOCH).days) for s, e in windows.values()]
    in_ranges = _merged(rng)
    parts = []
    for i, c in enumerate(cats):
        dc = agg.memo(("district_cum", source, c.name, c.rule), lambda c=c: _DistrictCum(agg.table(source, c)))
        lo, hi = dc.bounds(rng)
        present = (dc.rows[hi] - dc.rows[lo]).sum(axis=0) > 0  # a row in the ranges
        allowed = in_ranges  # the days counted: in the ranges, and those the store wholly holds
        if held is not None and held.get(i) is not None:
            hs = _merged([((a - _EPOCH).days, (b - _EPOCH).days) for a, b in held[i]])
            allowed = [(max(a, h0), min(b, h1)) for a, b in in_ranges for h0, h1 in hs if max(a, h0) <= min(b, h1)]
        pieces = [(w, (max(a, x), min(b, y))) for w, (a, b) in enumerate(wins) for x, y in allowed
                  if max(a, x) <= min(b, y)]
        sums = np.zeros((len(dc.districts), len(wins)), "int64")
        if pieces:
            lo, hi = dc.bounds([sp for _, sp in pieces])
            diff = dc.cum[hi] - dc.cum[lo]  # (pieces, districts): disjoint pieces per window
            for k, (w, _) in enumerate(pieces):
                sums[:, w] += diff[k]
        parts.append((dc.districts, present, sums))
    keep = [d[p] for d, p, _ in parts]
    uniq = np.unique(np.concatenate(keep)) if keep else np.zeros(0)
    counts = np.zeros((len(uniq), len(cats), len(wins)), "int64")
    for i, (d, p, sums) in enumerate(parts):
        # a category's districts without a record in the ranges add 0 (their sums are 0)
        idx = np.searchsorted(uniq, d[p])
        counts[idx, i, :] = sums[p]
    return np.where(uniq == _NO_DISTRICT, np.nan, uniq), counts


def district_window_sums(store, source: str, cats, windows, ranges, held=None, *, vintage=None, batch=None):
    """``window_sums(daily, cats, windows, ["district"])`` of CompStat's daily rows (``daily_frame`` over
    ``ranges``, category ``i`` restricted to the days of ``held[i]`` when given) from the count
    tables (:func:`district_window_counts`), or None without an aggregate (or with a vintage or
    batch). The same frame up to its row order: a district (or the empty district) is a row when any
    category has a record in ``ranges``; the sums per category and window are the same integers."""
    import pandas as pd

    got = district_window_counts(store, source, cats, windows, ranges, held, vintage=vintage, batch=batch)
    if got is None:
        return None
    districts, counts = got
    names = [f"{c.name}|{w}" for c in cats for w in windows]
    if not len(districts):
        return pd.DataFrame(columns=["district", *names])
    cols = {f"{c.name}|{w}": counts[:, i, k] for i, c in enumerate(cats) for k, w in enumerate(windows)}
    return pd.concat([pd.DataFrame({"district": districts}), pd.DataFrame(cols)], axis=1)


def daily_frame(store, source: str, cats, ranges, by: Sequence[str], *, vintage=None, batch=None):
    """What ``window_sums`` needs of ``to_pandas(daily_expr(table, cats, ranges, by))``, from the
    aggregate, or None: rows ``by..., date, mask, n`` with one bit per row (category ``i``:
    ``1 << i``). The per-category, per-window sums equal the store query's (whose rows may
    carry several bits), which is all the callers use."""
    import pandas as pd
    import pyarrow as pa

    from .query import as_date, to_pandas_arrow

    agg = _usable(store, by, vintage, batch)
    if agg is None:
        return None
    parts = []
    lo = min(as_date(s) for s, _ in ranges)
    hi = max(as_date(e) for _, e in ranges)
    spans = [(as_date(s), as_date(e)) for s, e in ranges]
    for i, c in enumerate(cats):
        t = agg.table(source, c).cut(lo, hi, spans)
        g = t.group_by([*by, "date"], use_threads=False).aggregate([("count", "sum")])
        g = g.select([*by, "date", "count_sum"]).rename_columns([*by, "date", "n"])
        g = g.append_column("mask", pa.array([1 << i] * len(g), pa.int64()))
        parts.append(g.select([*by, "date", "mask", "n"]))
    out = pa.concat_tables(parts) if parts else None
    if out is None:
        return pd.DataFrame(columns=[*by, "date", "mask", "n"])
    return to_pandas_arrow(out)
