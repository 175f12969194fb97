"""The Ibis expression layer: every aggregation of the counting module, written once.

Each ``*_expr`` function takes an Ibis table expression with the columns of the
``incidents`` table (see ``crimescope.store.schema``) and returns an Ibis
expression. Nothing here is DuckDB-specific: the same expressions run on any Ibis
backend that has the ``incidents`` / ``incident_history`` tables (DuckDB by default,
PySpark for the Spark issue). The public functions in ``counts``, ``periods``, ...
build the table with :func:`incidents_table`, execute and return pandas.

Dates are inclusive local dates: ``start``..``end`` selects rows whose
``occurred_local`` (Chicago wall time) is >= ``start 00:00`` and < ``end + 1 day 00:00``.
"""

from __future__ import annotations

import datetime as dt
import weakref
from typing import TYPE_CHECKING, Iterable, Sequence

from ..categories import Category, get_category
from ..errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = [
    "GROUPINGS",
    "to_pandas",
    "to_pandas_arrow",
    "as_date",
    "incidents_table",
    "versions_table",
    "category_predicate",
    "date_predicate",
    "with_groupings",
    "count_expr",
    "ytd_expr",
    "daily_expr",
    "window_sums",
    "arrests_expr",
    "events_expr",
    "same_day_year_ago",
]

#: groupings accepted by ``--by`` and their meaning
GROUPINGS: dict[str, str] = {
    "year": "calendar year of the occurrence (local time)",
    "month": "calendar month, 'YYYY-MM'",
    "month_of_year": "month number 1-12 (all years together)",
    "week": "week starting Monday, given as the Monday's date",
    "date": "local calendar date",
    "dow": "day of week, 0 = Monday ... 6 = Sunday",
    "hour": "hour of the day 0-23 (local wall time)",
    "district": "police district",
    "beat": "police beat",
    "ward": "city council ward",
    "community_area": "community area 1-77",
    "iucr": "IUCR code",
    "fbi_code": "FBI code",
    "primary_type": "primary type as published",
}

_VERSION_COLS = None  # set lazily from the schema


def as_date(value, name: str = "date") -> dt.date:
    """A ``datetime.date`` from a date, a datetime or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime().date()
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ParameterError(f"{name}: {value!r} is not a date (use YYYY-MM-DD)") from None


def _ts(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day)


def same_day_year_ago(d: dt.date, years: int = 1) -> dt.date:
    """The same month and day ``years`` earlier; February 29 maps to February 28."""
    y = d.year - years
    if d.month == 2 and d.day == 29:
        try:
            return dt.date(y, 2, 29)
        except ValueError:
            return dt.date(y, 2, 28)
    return dt.date(y, d.month, d.day)


def _version_columns() -> list[str]:
    from ..store.schema import INCIDENT_COLUMN_NAMES

    return list(INCIDENT_COLUMN_NAMES)


# Ibis table expressions are immutable; looking one up costs a schema query, so they
# are kept per backend object. Keyed by identity (Ibis backends compare equal when they
# point at the same database name, e.g. two ':memory:' stores), with a weak reference
# to check the entry is still that backend.
_TABLES: dict = {}


def to_pandas(expr):
    """The result of an Ibis expression as pandas: the one conversion every query uses.

    Goes through Arrow (``expr.to_pyarrow()``) rather than Ibis' own ``to_pandas``,
    whose pandas formatter reads the deprecated ``future.infer_string`` option and
    warns on every call under pandas 3. A table gives a DataFrame (date columns as
    ``datetime64[s]``, as Ibis gives them), a column a Series, a scalar a Python value.
    """
    return to_pandas_arrow(expr.to_pyarrow())


def to_pandas_arrow(out):
    """:func:`to_pandas` of an Arrow result (a table, an array or a scalar)."""
    import pyarrow as pa

    if isinstance(out, pa.Scalar):
        return out.as_py()
    if isinstance(out, (pa.ChunkedArray, pa.Array)):
        s = out.to_pandas(date_as_object=False)
        return s.astype("datetime64[s]") if pa.types.is_date(out.type) else s
    df = out.to_pandas(date_as_object=False)
    for f in out.schema:
        if pa.types.is_date(f.type):
            df[f.name] = df[f.name].astype("datetime64[s]")
    return df


def _table(backend, name: str):
    key = (id(backend), name)
    hit = _TABLES.get(key)
    if hit is not None and hit[0]() is backend:
        return hit[1]
    t = backend.table(name)
    try:
        ref = weakref.ref(backend)
    except TypeError:  # not weak-referenceable: no cache
        return t
    if len(_TABLES) > 256:
        _TABLES.clear()
    _TABLES[key] = (ref, t)
    return t


def parse_vintage(vintage) -> dt.datetime:
    """A vintage as a timestamp; a bare date (or 'YYYY-MM-DD') means the end of that day."""
    v = vintage
    if isinstance(v, str):
        try:
            v2 = dt.datetime.fromisoformat(v.strip())
        except ValueError:
            raise ParameterError(f"vintage: {vintage!r} is not a date or timestamp") from None
        return v2 + dt.timedelta(days=1, microseconds=-1) if len(v.strip()) == 10 else v2
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return _ts(v) + dt.timedelta(days=1, microseconds=-1)
    if hasattr(v, "to_pydatetime"):
        return v.to_pydatetime()
    raise ParameterError(f"vintage: {vintage!r} is not a date or timestamp")


def versions_table(backend, *, source: str | None = "chicago") -> "ir.Table":
    """Every stored version: current rows (``_cur`` = 1) and superseded ones (``_cur`` = 0)."""
    import ibis

    cols = _version_columns()
    cur = _table(backend, "incidents")
    hist = _table(backend, "incident_history")
    both = cur.select(*cols, _cur=ibis.literal(1)).union(
        hist.select(*cols, _cur=ibis.literal(0)), distinct=False
    )
    if source is not None:
        both = both.filter(both.source == source)
    return both


def incidents_table(backend, *, source: str | None = "chicago", vintage=None,
                    batch: int | None = None) -> "ir.Table":
    """The ``incidents`` table of a backend, optionally as it stood at a vintage.

    Parameters
    ----------
    backend : ibis backend
        E.g. ``store.ibis()``; must hold ``incidents`` and ``incident_history``.
    source : str or None
        Keep only this source (None: all sources).
    vintage : datetime, date or str, optional
        Per (source, id), the version with the greatest ``updated_at <= vintage``
        among current and superseded versions (a date means the end of that day).
    batch : int, optional
        Per (source, id), the version delivered by the greatest batch id ``<= batch``:
        the store as it was right after that ingest batch.
    """
    import ibis

    cur = _table(backend, "incidents")
    if vintage is None and batch is None:
        t = cur
    else:
        both = versions_table(backend, source=source)
        if vintage is not None:
            v = parse_vintage(vintage)
            both = both.filter(both.updated_at <= v)
        if batch is not None:
            both = both.filter(both.batch_id <= int(batch))
        order = [ibis.desc(both.updated_at), ibis.desc(both._cur), ibis.desc(both.batch_id)]
        if batch is not None:
            order = [ibis.desc(both.batch_id), ibis.desc(both._cur)]
        rn = ibis.row_number().over(group_by=[both.source, both.id], order_by=order)
        t = both.mutate(_rn=rn).filter(lambda x: x._rn == 0).drop("_rn", "_cur")
    if source is not None:
        t = t.filter(t.source == source)
    return t


def category_predicate(t: "ir.Table", category: Category | str):
    """Boolean expression: the row belongs to ``category`` (codes only)."""
    cat = get_category(category)
    preds = []
    if cat.iucr:
        preds.append(t.iucr.isin(sorted(cat.iucr)))
    if cat.fbi:
        preds.append(t.fbi_code.isin(sorted(cat.fbi)))
    if not preds:  # pragma: no cover - the taxonomy loader refuses this
        raise ParameterError(f"category {cat.name!r} has no codes")
    out = preds[0]
    for p in preds[1:]:
        out = out | p
    return out


def check_range(start, end) -> tuple[dt.date | None, dt.date | None]:
    s = as_date(start, "start") if start is not None else None
    e = as_date(end, "end") if end is not None else None
    if s is not None and e is not None and e < s:
        raise ParameterError(f"end {e} is before start {s}")
    return s, e


def date_predicate(t: "ir.Table", start, end):
    """Boolean expression: ``start <= local date <= end`` (either may be None)."""
    import ibis

    s, e = check_range(start, end)
    pred = ibis.literal(True)
    if s is not None:
        pred = pred & (t.occurred_local >= _ts(s))
    if e is not None:
        pred = pred & (t.occurred_local < _ts(e + dt.timedelta(days=1)))
    return pred


def check_by(by: Iterable[str] | str | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        by = [b for b in by.split(",") if b]
    out = []
    for b in by:
        b = b.strip()
        if b not in GROUPINGS:
            raise ParameterError(f"--by {b!r} is not one of: {', '.join(GROUPINGS)}")
        if b not in out:
            out.append(b)
    return out


def _grouping(t: "ir.Table", name: str):
    ts = t.occurred_local
    if name == "year":
        return ts.year()
    if name == "month":
        return ts.strftime("%Y-%m")
    if name == "month_of_year":
        return ts.month()
    if name == "week":
        return ts.truncate("W").date()
    if name == "date":
        return ts.date()
    if name == "dow":
        return ts.day_of_week.index()
    if name == "hour":
        return ts.hour()
    return t[name]


def with_groupings(t: "ir.Table", by: Sequence[str]) -> dict:
    """``{name: expression}`` for each grouping in ``by``."""
    return {b: _grouping(t, b).name(b) for b in check_by(by)}


def count_expr(table: "ir.Table", category, start, end, by: Sequence[str] = ()) -> "ir.Table":
    """Rows of ``category`` between ``start`` and ``end`` (inclusive local dates).

    Returns a table with one column per grouping in ``by`` and ``count``.
    """
    t = table.filter(category_predicate(table, category), date_predicate(table, start, end))
    groups = with_groupings(t, by)
    if not groups:
        return t.aggregate(count=t.count())
    return t.aggregate(count=t.count(), by=list(groups.values())).order_by(list(groups))


def ytd_expr(table: "ir.Table", category, as_of, years: int = 5,
             by: Sequence[str] = ()) -> "ir.Table":
    """January 1 .. as-of month/day, for the as-of year and ``years`` previous years.

    One scan: rows of years ``Y-years..Y`` whose (month, day) <= the as-of's. With an
    as-of of February 29, non-leap years end on February 28 (there is no Feb 29 to
    include); with an as-of of February 28, leap years end on February 28 too.
    Columns: ``year``, the groupings, ``count``.
    """
    a = as_date(as_of, "as_of")
    if years < 0:
        raise ParameterError("years must be >= 0")
    md = a.month * 100 + a.day
    ts = table.occurred_local
    t = table.filter(
        category_predicate(table, category),
        ts >= _ts(dt.date(a.year - years, 1, 1)),
        ts < _ts(a + dt.timedelta(days=1)),
        ts.month() * 100 + ts.day() <= md,
    )
    groups = with_groupings(t, [b for b in check_by(by) if b != "year"])
    keys = [t.occurred_local.year().name("year"), *groups.values()]
    return t.aggregate(count=t.count(), by=keys).order_by(["year", *groups])


def daily_expr(table: "ir.Table", categories: Sequence[Category | str],
               ranges: Sequence[tuple], by: Sequence[str] = ()) -> "ir.Table":
    """Rows of any of ``categories`` within any of the inclusive date ``ranges``,
    counted per group, local date and category bit mask.

    Columns: the groupings, ``date``, ``mask`` (bit *i* set when the row belongs to
    ``categories[i]``), ``n``. This is the one scan behind CompStat: the result is
    small (groups x days x a few masks), and the per-category, per-window sums are
    taken from it by :func:`window_sums`, so a dozen categories and windows cost one
    pass over the incidents.
    """
    import functools
    import operator

    import ibis

    cats = [get_category(c) for c in categories]
    if not cats:
        raise ParameterError("at least one category is needed")
    if len(cats) > 62:
        raise ParameterError("at most 62 categories at once")
    in_dates = functools.reduce(operator.or_, [date_predicate(table, s, e) for s, e in ranges])
    # the bounding range first: a plain range lets the engine skip row groups (zone maps)
    bound = date_predicate(table, min(as_date(s) for s, _ in ranges), max(as_date(e) for _, e in ranges))
    t = table.filter(bound, in_dates)
    mask = functools.reduce(operator.add, [
        ibis.ifelse(category_predicate(t, c), ibis.literal(1 << i, type="int64"), ibis.literal(0, type="int64"))
        for i, c in enumerate(cats)])
    t = t.mutate(mask=mask).filter(lambda x: x.mask > 0)
    groups = with_groupings(t, by)
    keys = [*groups.values(), t.occurred_local.date().name("date"), t.mask]
    return t.aggregate(n=t.count(), by=keys)


def window_sums(daily, categories: Sequence[Category | str],
                windows: dict[str, tuple[dt.date, dt.date]], by: Sequence[str] = ()):
    """Sum a ``daily_expr`` result (pandas) per category and window, per group.

    ``categories`` must be in the order given to ``daily_expr``. Returns a pandas
    DataFrame: the groupings, then one column ``"{category}|{window}"`` per pair
    (inclusive date windows). Groups with no rows are absent.
    """
    import numpy as np
    import pandas as pd

    by = check_by(by)
    cats = [get_category(c) for c in categories]
    names = [f"{c.name}|{w}" for c in cats for w in windows]
    if len(daily) == 0:
        return pd.DataFrame(columns=[*by, *names])
    dates = pd.to_datetime(daily["date"]).to_numpy().astype("datetime64[D]")
    n = daily["n"].to_numpy(dtype="int64")
    mask = daily["mask"].to_numpy(dtype="int64")
    if by:
        if len(by) > 1:
            gkeys = daily[by].astype(object).where(daily[by].notna(), None)
            idx, uniq = pd.MultiIndex.from_frame(gkeys).factorize()
            out = pd.DataFrame(list(uniq), columns=by)
        else:
            idx, uniq = pd.factorize(daily[by[0]], use_na_sentinel=False)
            out = pd.DataFrame({by[0]: uniq})
    else:
        idx = np.zeros(len(daily), dtype="int64")
        out = pd.DataFrame(index=[0])
    size = len(out)
    in_win = [(dates >= np.datetime64(s, "D")) & (dates <= np.datetime64(e, "D")) for s, e in windows.values()]
    cols = {}
    for i, c in enumerate(cats):
        nc = n * ((mask >> i) & 1)
        for w, m in zip(windows, in_win):
            cols[f"{c.name}|{w}"] = np.bincount(idx, weights=nc * m, minlength=size).astype("int64")
    return pd.concat([out.reset_index(drop=True), pd.DataFrame(cols)], axis=1)


def arrests_expr(table: "ir.Table", category, start, end, by: Sequence[str] = ()) -> "ir.Table":
    """Records, records with the arrest flag, and the share, per grouping."""
    import ibis

    t = table.filter(category_predicate(table, category), date_predicate(table, start, end))
    groups = with_groupings(t, by)
    m = dict(
        count=t.count(),
        arrests=ibis.ifelse(t.arrest.fill_null(False), 1, 0).sum(),
        arrest_unknown=ibis.ifelse(t.arrest.isnull(), 1, 0).sum(),
    )
    agg = t.aggregate(by=list(groups.values()), **m) if groups else t.aggregate(**m)
    agg = agg.mutate(arrest_share=agg.arrests.cast("float64") / agg["count"].cast("float64"))
    return agg.order_by(list(groups)) if groups else agg


EVENT_COLUMNS = ["id", "occurred_local", "x", "y", "lon", "lat", "beat", "district", "ward",
                 "community_area", "has_location", "iucr", "primary_type"]


def events_expr(table: "ir.Table", category, start=None, end=None) -> "ir.Table":
    """The rows of a category in a date range, with the columns of ``EVENT_COLUMNS``."""
    t = table.filter(category_predicate(table, category), date_predicate(table, start, end))
    return t.select(*EVENT_COLUMNS).order_by(["occurred_local", "id"])
