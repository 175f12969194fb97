"""What the store holds: per source, which offense types for which dates (coverage).

A figure for a period or category the store does not hold must be refused, never
answered with 0. Coverage is derived at ingest from what each batch actually
contains and kept in the ``coverage`` table (see docs/schema.md and docs/counting.md):

* a batch with rows of at least :data:`ALL_TYPES_MIN` primary types is a full extract:
  it covers **all offense types** (scope ``*``); a batch with fewer covers only the
  primary types it contains (the homicide-only extract covers ``HOMICIDE`` only);
* the dates covered are the runs of consecutive calendar months in which the batch has
  rows of that scope, as whole months, the last capped at the day before the batch's
  latest update time (a day is complete once data was extracted after it ended) - so a
  month without a row is not covered;
* a sync page run reads the whole dataset, so its scope is declared ``*``; a source
  whose scope is known can declare it (:func:`declare`), which replaces the derived
  rows of that source.

A category is covered on a day when an all-types span contains the day, or when every
primary type its codes occur under in that source (from the rows themselves) has a span
containing it. :func:`check` answers ``full`` / ``partial`` (with the covered and missing
spans) / ``none`` for a (source, category, period); :func:`require` raises
:class:`~crimescope.errors.CoverageError` for ``none``. Stores written before coverage
was recorded get it derived from their rows when first opened for writing (and in memory
when opened read-only).
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass, field

from ..errors import CoverageError

__all__ = ["ALL_TYPES", "ALL_TYPES_MIN", "Coverage", "record_batch", "backfill", "declare", "spans",
           "category_spans", "check", "require", "describe", "merge_spans"]

#: the scope of a full extract: every offense type
ALL_TYPES = "*"
#: a batch with rows of at least this many primary types is a full extract
ALL_TYPES_MIN = 10
#: scope marker of a batch that delivered no good rows (nothing covered)
_EMPTY = "-"

DDL = """
CREATE TABLE IF NOT EXISTS coverage (
    source VARCHAR NOT NULL,
    batch_id INTEGER,               -- NULL for a declared scope
    scope VARCHAR NOT NULL,         -- '*' = all offense types, else a primary type; '-' = no rows
    first_date DATE,
    last_date DATE,
    n_rows BIGINT,
    how VARCHAR NOT NULL,           -- 'derived' or 'declared'
    extracted_at TIMESTAMP          -- latest updated_at among the batch's rows (NULL: none given)
);
"""

Span = tuple[dt.date, dt.date]


def merge_spans(spans) -> list[Span]:
    """Sorted, merged inclusive date spans (adjacent days join)."""
    out: list[list[dt.date]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + dt.timedelta(days=1):
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _intersect(xs: list[Span], ys: list[Span]) -> list[Span]:
    out = []
    for a, b in xs:
        for c, d in ys:
            lo, hi = max(a, c), min(b, d)
            if lo <= hi:
                out.append((lo, hi))
    return merge_spans(out)


def _subtract(period: Span, covered: list[Span]) -> list[Span]:
    s, e = period
    out, cur = [], s
    for a, b in merge_spans(covered):
        if b < cur or a > e:
            continue
        if a > cur:
            out.append((cur, a - dt.timedelta(days=1)))
        cur = max(cur, b + dt.timedelta(days=1))
    if cur <= e:
        out.append((cur, e))
    return out


def _d(v) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v


def _month_span(m: int) -> tuple[dt.date, dt.date]:
    y, mo = divmod(m, 12)
    first = dt.date(y, mo + 1, 1)
    nxt = dt.date(y + (mo == 11), (mo + 1) % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def _runs(rows, cap) -> list[tuple[dt.date, dt.date, int]]:
    """(first, last, n) per run of consecutive months with rows, as whole months, the last capped
    at ``cap``; ``rows`` = (month index, first, last, n) sorted by month."""
    out: list[list] = []
    for m, _first, _last, n in rows:
        if out and m == out[-1][3] + 1:
            out[-1][1], out[-1][2], out[-1][3] = _month_span(m)[1], out[-1][2] + n, m
        else:
            out.append([_month_span(m)[0], _month_span(m)[1], n, m])
    res = []
    for first, last, n, _ in out:
        if cap is not None:
            last = min(last, cap)
        if first <= last:
            res.append((first, last, int(n)))
    return res


def _derive(con, relation: str, params=(), *, all_types: bool = False) -> list[tuple]:
    """(scope, first, last, n_rows, extracted_at) rows for the good rows of ``relation`` (one batch)."""
    from .sqltext import bind

    (n_types, max_upd) = con.execute(
        bind(f"SELECT count(DISTINCT primary_type), max(updated_at) FROM {relation}", params)).fetchone()
    if not n_types and not all_types:
        (n,) = con.execute(bind(f"SELECT count(*) FROM {relation}", params)).fetchone()
        if not n:
            return []
    cap = (_d(max_upd) - dt.timedelta(days=1)) if max_upd is not None else None
    whole = all_types or (n_types or 0) >= ALL_TYPES_MIN
    key = f"'{ALL_TYPES}'" if whole else "coalesce(primary_type, '')"
    rows = con.execute(bind(
        f"""SELECT {key} AS scope, year(occurred_local) * 12 + month(occurred_local) - 1 AS m,
                   min(occurred_local), max(occurred_local), count(*)
            FROM {relation} WHERE occurred_local IS NOT NULL GROUP BY ALL ORDER BY scope, m""",
        params)).fetchall()
    out = []
    by_scope: dict[str, list] = {}
    for scope, m, first, last, n in rows:
        by_scope.setdefault(scope, []).append((m, first, last, n))
    for scope, ms in by_scope.items():
        for first, last, n in _runs(ms, cap):
            out.append((scope, first, last, n, max_upd))
    return out


def _ensure_table(con) -> None:
    con.execute(DDL)


def record_batch(store, staged: str, batch) -> None:
    """Record what the good rows of ``staged`` cover, for ``batch`` (inside its transaction)."""
    con = store.con
    _ensure_table(con)
    rel = f"(SELECT * FROM {staged} WHERE _reason IS NULL)"
    rows = _derive(con, rel, all_types=(batch.kind == "sync"))
    _insert(con, batch.source, batch.batch_id, rows or [(_EMPTY, None, None, 0, None)], "derived")
    _forget(store)


def _insert(con, source, batch_id, rows, how) -> None:
    if rows:  # literals, not parameters: parameters make DuckDB import pandas (store/sqltext.py)
        from .sqltext import values_rows

        con.execute("INSERT INTO coverage VALUES " + values_rows(
            [source, None if batch_id is None else int(batch_id), sc, a, b, None if n is None else int(n), how, x]
            for sc, a, b, n, x in rows))


def _has_table(con) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'coverage'").fetchone()[0])


def _missing_batches(con, has_table: bool) -> list[tuple[int, str, str]]:
    q = "SELECT batch_id, source, kind FROM batches WHERE status = 'done'"
    if has_table:
        q += " AND batch_id NOT IN (SELECT batch_id FROM coverage WHERE batch_id IS NOT NULL)"
    return [(int(b), s, k) for b, s, k in con.execute(q + " ORDER BY batch_id").fetchall()]


_VERSIONS = ("(SELECT source, primary_type, iucr, fbi_code, occurred_local, updated_at, batch_id FROM incidents "
             "UNION ALL SELECT source, primary_type, iucr, fbi_code, occurred_local, updated_at, batch_id "
             "FROM incident_history)")


def _derive_missing(con, missing) -> list[tuple]:
    out = []
    for bid, source, kind in missing:
        rel = f"(SELECT * FROM {_VERSIONS} WHERE batch_id = ?)"
        rows = _derive(con, rel, [bid], all_types=(kind == "sync"))
        out += [(source, bid, *r) for r in (rows or [(_EMPTY, None, None, 0, None)])]
    return out


def backfill(store) -> int:
    """Derive and store coverage for finished batches that have none (stores written before
    coverage was recorded). Returns the number of batches filled."""
    con = store.con
    _ensure_table(con)
    missing = _missing_batches(con, True)
    if not missing:
        return 0
    rows = _derive_missing(con, missing)
    with store.transaction():
        for source, bid, sc, a, b, n, x in rows:
            _insert(con, source, bid, [(sc, a, b, n, x)], "derived")
    _forget(store)
    return len(missing)


def declare(store, source: str, scopes: dict[str, list[Span]]) -> None:
    """Declare a source's coverage (``{scope: [(first, last), ...]}``, scope ``*`` = all types);
    it replaces what was derived for that source."""
    con = store.con
    _ensure_table(con)
    with store.transaction():
        con.execute("DELETE FROM coverage WHERE source = ? AND how = 'declared'", [source])
        for scope, ss in scopes.items():
            _insert(con, source, None, [(scope, a, b, None, None) for a, b in merge_spans(ss)], "declared")
    _forget(store)


def declare_batch(store, source: str, batch_id: int, first, last, *, scope: str = ALL_TYPES,
                  extracted_at=None) -> None:
    """Declare what one batch covers (``scope`` ``*`` = all offense types, ``first..last``),
    for a batch whose rows were written other than by an importer (hand-made stores)."""
    from ..stats.query import as_date

    con = store.con
    _ensure_table(con)
    con.execute("DELETE FROM coverage WHERE batch_id = ?", [int(batch_id)])
    _insert(con, source, int(batch_id), [(scope, as_date(first), as_date(last), None, extracted_at)], "declared batch")
    _forget(store)


# -- reading --------------------------------------------------------------------------

# spans() reads a small table but derives from the rows for stores opened read-only that
# predate coverage (a scan); cached per store object and the state of ``batches``.
_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _forget(store) -> None:
    try:
        _CACHE.pop(store, None)
    except TypeError:
        pass


def _state(con):
    return con.execute("SELECT count(*), max(batch_id), count(finished_at) FROM batches").fetchone()


def _memo(store, key, fn):
    from ..datasets import Dataset
    from ..stats._aggregate import aggregates_of

    if isinstance(store, Dataset):  # a Dataset per request: cached with the store under it
        store = store.store
    agg = aggregates_of(store)
    if agg is not None:  # a read-only snapshot: its batches never change, so no state to check
        return agg.memo(("coverage", *key), fn)
    try:
        per = _CACHE.setdefault(store, {})
    except TypeError:
        return fn()
    # A store opened read-only holds DuckDB's shared lock, so no process can write to it while it
    # is open: its batches cannot change and one look at their state serves for its lifetime.
    if not (getattr(store, "read_only", False) and "_state" in per):
        state = _state(store.con)
        if per.get("_state") != state:
            per.clear()
            per["_state"] = state
    if key not in per:
        per[key] = fn()
    return per[key]


def _memo_has(store, key) -> bool:
    """Whether :func:`_memo` holds ``key`` for ``store`` (a stale answer only costs a query: the
    caller then computes what :func:`_memo` would have)."""
    from ..datasets import Dataset
    from ..stats._aggregate import aggregates_of

    if isinstance(store, Dataset):
        store = store.store
    agg = aggregates_of(store)
    if agg is not None:
        return agg.has(("coverage", *key))
    try:
        per = _CACHE.get(store)
    except TypeError:
        return False
    return per is not None and key in per


def _all_rows(store) -> list[tuple]:
    con = store.con
    has = _has_table(con)
    rows = []
    if has:
        rows = [tuple(r) for r in con.execute(
            "SELECT source, batch_id, scope, first_date, last_date, n_rows, how, extracted_at FROM coverage").fetchall()]
    missing = _missing_batches(con, has)
    rows += [(*r[:6], "derived", r[6]) for r in _derive_missing(con, missing)]
    return rows


def _rows(store, source: str, vintage=None, batch: int | None = None) -> list[tuple]:
    rows = [r for r in _memo(store, ("rows",), lambda: _all_rows(store))
            if r[0] == source and r[2] != _EMPTY and r[3] is not None]
    if any(r[6] == "declared" for r in rows):
        rows = [r for r in rows if r[6] == "declared"]
    if batch is not None:
        rows = [r for r in rows if r[1] is None or r[1] <= int(batch)]
    if vintage is not None:
        from ..stats.query import parse_vintage

        v = parse_vintage(vintage)
        rows = [r for r in rows if r[7] is not None and r[7] <= v]
    return rows


def spans(store, source: str, *, vintage=None, batch: int | None = None) -> dict[str, list[Span]]:
    """``{scope: merged spans}`` for a source (declared rows replace derived ones); with
    ``vintage`` (or ``batch``), only the batches extracted by then (delivered up to it)."""
    def compute():
        rows = _rows(store, source, vintage, batch)
        out: dict[str, list] = {}
        for _, _, scope, a, b, _, _, _ in rows:
            out.setdefault(scope, []).append((_d(a), _d(b)))
        return {k: merge_spans(v) for k, v in sorted(out.items(), key=lambda kv: (kv[0] != ALL_TYPES, kv[0]))}
    return _memo(store, ("spans", source, str(vintage), batch), compute)


def describe(store, source: str) -> str:
    """One line: ``all types 2012-01-01..2017-12-31; HOMICIDE 2001-01-01..2017-12-31``."""
    def compute():
        parts = []
        for scope, ss in spans(store, source).items():
            name = "all types" if scope == ALL_TYPES else scope
            parts.append(f"{name} " + ", ".join(f"{a}..{b}" for a, b in ss))
        return "; ".join(parts) if parts else "nothing"
    return _memo(store, ("describe", source), compute)  # every coverage check states it


def _codes_where(cats) -> tuple[str, list]:
    """SQL matching the records of any of ``cats`` by their IUCR or FBI codes, and its parameters."""
    iucr = sorted(set().union(*(c.iucr or () for c in cats)))
    fbi = sorted(set().union(*(c.fbi or () for c in cats)))
    conds, params = [], []
    if iucr:
        conds.append(f"iucr IN ({', '.join('?' * len(iucr))})")
        params += iucr
    if fbi:
        conds.append(f"fbi_code IN ({', '.join('?' * len(fbi))})")
        params += fbi
    return " OR ".join(conds), params


def _category_types(store, source: str, cat) -> frozenset[str]:
    def compute():
        where, params = _codes_where([cat])
        q = (f"SELECT DISTINCT coalesce(primary_type, '') FROM {_VERSIONS} "
             f"WHERE source = ? AND ({where})")
        return frozenset(r[0] for r in store.con.execute(q, [source, *params]).fetchall())
    return _memo(store, ("types", source, cat.rule), compute)


def prefetch_category_types(store, source: str, cats) -> None:
    """Find the record types of several categories (what :func:`category_spans` reads) in one scan
    of the stored versions instead of one scan each: a table of many categories (CompStat's seven)
    in a fresh process pays about one category's cost. The same sets as one query per category
    (tests/store/test_coverage_prefetch.py)."""
    cats = [c for c in cats if (c.iucr or c.fbi) and not (getattr(c, "sources", ()) and source not in c.sources)
            and not _memo_has(store, ("types", source, c.rule))]  # a served snapshot has them all: no scan
    if len(cats) < 2:
        return
    where, params = _codes_where(cats)
    rows = store.con.execute(f"SELECT DISTINCT iucr, fbi_code, coalesce(primary_type, '') FROM {_VERSIONS} "
                             f"WHERE source = ? AND ({where})", [source, *params]).fetchall()
    for c in cats:
        iu, fb = set(c.iucr or ()), set(c.fbi or ())
        types = frozenset(t for i, f, t in rows if i in iu or f in fb)
        _memo(store, ("types", source, c.rule), lambda types=types: types)


def category_spans(store, source: str, cat, *, vintage=None, batch: int | None = None) -> list[Span]:
    """The days on which the store holds every record of ``cat`` for ``source`` (as of a
    vintage or batch: from the batches extracted by then)."""
    if getattr(cat, "sources", ()) and source not in cat.sources:
        return []  # a category of another source's records (e.g. GVA victims): never held here

    def compute():
        sp = spans(store, source, vintage=vintage, batch=batch)
        out = list(sp.get(ALL_TYPES, []))
        types = _category_types(store, source, cat)
        if types:
            acc = None
            for t in sorted(types):
                acc = list(sp.get(t, [])) if acc is None else _intersect(acc, sp.get(t, []))
            out += acc or []
        return tuple(merge_spans(out))
    # kept with the spans and the record types it is made of (a CompStat checks 42 spans)
    return list(_memo(store, ("category_spans", source, cat.rule, str(vintage), batch), compute))


@dataclass
class Coverage:
    """How far the store covers a (source, category, period).

    Attributes
    ----------
    source, category : str
    start, end : date
        The period asked for (inclusive local dates).
    status : str
        ``full`` (every day covered), ``partial`` or ``none``.
    covered, missing : list of (date, date)
        The covered and the uncovered parts of the period.
    holds : list of (date, date)
        Every span the store holds for this category and source.
    store_holds : str
        What the store holds for the source (``describe``).
    """

    source: str
    category: str
    start: dt.date
    end: dt.date
    status: str
    covered: list[Span] = field(default_factory=list)
    missing: list[Span] = field(default_factory=list)
    holds: list[Span] = field(default_factory=list)
    store_holds: str = ""
    #: set when a vintage (or batch) was asked that the store's batches do not reach back to
    vintage: str | None = None
    #: the earliest vintage the store can reproduce the period at (None: none)
    reproducible_from: str | None = None

    @property
    def full(self) -> bool:
        return self.status == "full"

    def spans_text(self, spans) -> str:
        return ", ".join(f"{a}..{b}" for a, b in spans) or "no dates"

    def text(self) -> str:
        """One sentence for notes and error messages."""
        if self.vintage is not None:
            can = (f"it can reproduce vintages from {self.reproducible_from} on for this period"
                   if self.reproducible_from else "it cannot reproduce any earlier vintage of this period "
                   "(the records carry no update time, or no batch covers it)")
            return (f"vintage {self.vintage}: the store holds no version of the {self.category} records "
                    f"of {self.start}..{self.end} that old (its batches were extracted later); {can}")
        held = (f"the store holds {self.category} records of {self.source} for "
                f"{self.spans_text(self.holds)}" if self.holds else
                f"the store holds no {self.category} records of {self.source}")
        if self.status == "full":
            return f"coverage: full ({held})"
        if self.status == "none":
            return (f"no data for {self.category} from {self.start} to {self.end}: {held} "
                    f"(store: {self.store_holds})")
        return (f"partial coverage: only {self.spans_text(self.covered)} of {self.start}..{self.end} "
                f"is in the store ({held}); figures count the covered days only")

    def as_dict(self) -> dict:
        f = lambda ss: [[a.isoformat(), b.isoformat()] for a, b in ss]  # noqa: E731
        return {"status": self.status, "source": self.source, "category": self.category,
                "period": [self.start.isoformat(), self.end.isoformat()],
                "covered": f(self.covered), "missing": f(self.missing), "holds": f(self.holds),
                "store_holds": self.store_holds, "vintage": self.vintage,
                "reproducible_from": self.reproducible_from, "text": self.text()}


def _supports(store) -> bool:
    from ..stats._aggregate import aggregates_of

    agg = aggregates_of(store)
    if agg is not None:  # a snapshot of a store: its metadata tables are there
        return True
    try:
        store.con.execute("SELECT 1 FROM batches LIMIT 1")
        return True
    except Exception:  # a compute engine without the store's metadata tables
        return False


def reproducible_from(store, source: str, cat, start, end) -> dt.datetime | None:
    """The earliest vintage at which the store holds every day of ``start..end`` for ``cat``:
    the extraction time (latest update time) of the last batch needed; None if it never does."""
    period = [(start, end)]
    times = sorted({r[7] for r in _rows(store, source) if r[7] is not None})
    for t in times:
        held = category_spans(store, source, cat, vintage=t)
        if _intersect(period, held) == period:
            return t
    return None


def check(store, source: str, category, start, end, *, taxonomy=None, vintage=None,
          batch: int | None = None) -> Coverage:
    """Coverage of ``category`` (name or Category) from ``start`` to ``end`` for ``source``;
    with ``vintage`` (or ``batch``), from the batches extracted by then (delivered up to it)."""
    from ..categories import get_category
    from ..stats.query import check_range

    cat = get_category(category, taxonomy)
    s, e = check_range(start, end)
    if not _supports(store):
        return Coverage(source, cat.name, s, e, "full", [(s, e)], [], [(s, e)],
                        "unknown (engine without store metadata)")
    holds = category_spans(store, source, cat, vintage=vintage, batch=batch)
    covered = _intersect([(s, e)], holds)
    missing = _subtract((s, e), covered)
    status = "full" if not missing else ("none" if not covered else "partial")
    cov = Coverage(source, cat.name, s, e, status, covered, missing, holds, describe(store, source))
    if vintage is not None or batch is not None:
        now = category_spans(store, source, cat)
        if _intersect([(s, e)], now) != covered:  # the vintage loses days the store holds now
            cov.vintage = str(vintage) if vintage is not None else f"batch {batch}"
            t = reproducible_from(store, source, cat, s, e)
            cov.reproducible_from = t.isoformat(sep=" ") if t is not None else None
    return cov


def require(store, source: str, category, start, end, *, taxonomy=None, vintage=None,
            batch: int | None = None, allow_partial: bool = True) -> Coverage:
    """:func:`check`, raising CoverageError when nothing (or, without ``allow_partial``, not
    everything) of the period is covered, and when a ``vintage`` (or ``batch``) asks for a state
    of the records that the store's batches do not reach back to."""
    cov = check(store, source, category, start, end, taxonomy=taxonomy, vintage=vintage, batch=batch)
    if cov.vintage is not None:
        raise CoverageError(cov.text(), coverage=cov)
    if cov.status == "none" or (cov.status == "partial" and not allow_partial):
        raise CoverageError(cov.text(), coverage=cov)
    return cov


def last_covered_day(store, source: str) -> dt.date | None:
    """The last day any scope of ``source`` covers."""
    ends = [b for ss in spans(store, source).values() for _, b in ss]
    return max(ends) if ends else None


def summary(store) -> dict:
    """``{source: {"text": describe, "spans": {scope: [[first, last], ...]}}}`` for ``info``."""
    sources = [r[0] for r in store.con.execute("SELECT DISTINCT source FROM batches ORDER BY 1").fetchall()]
    out = {}
    for s in sources:
        sp = spans(store, s)
        out[s] = {"text": describe(store, s),
                  "spans": {("all types" if k == ALL_TYPES else k): [[a.isoformat(), b.isoformat()] for a, b in v]
                            for k, v in sp.items()}}
    return out
