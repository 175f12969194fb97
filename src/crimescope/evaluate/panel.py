"""The area-by-period panel every evaluation method reads, built in one place.

:func:`build_panel` counts the records of one category per area (district, beat,
ward, community area) and per full week (Monday to Sunday) or calendar month, over a
span the store covers, and returns a :class:`Panel`: a dense ``units x periods``
count matrix, zeros included, with the metadata that says what it counts.

Coverage rule (today): the requested span must lie inside the span the store holds
for the category. A category's covered span is the latest first record and the
earliest last record among its leaf categories (``gun_violence`` = homicide +
shooting is covered only where both are), because a store may hold one offense far
longer than another (the shared store has homicides from 2001 but other crimes from
2012 only): counting a span before the first record as zeros would invent a drop.
A span outside the covered one is refused with a :class:`ParameterError` naming the
covered span; the panel's covered span is recorded in ``meta["coverage"]``. The span may
begin or end up to ``END_GRACE_DAYS`` (3) days beyond the first or last record: the first
or last days of a year often hold no homicide at all, and refusing them would refuse
every January and December.

Periods are full periods inside ``start..end``: the start moves forward to the next
Monday (week) or first of a month (month), the end back to the last Sunday or month
end, so no period is partly counted. The first treated period of an area is the
period that *contains* its start date (partial exposure counts as treated).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CategoryError, CoverageError, CrimescopeError, ParameterError

__all__ = ["Panel", "build_panel", "covered_span", "STEPS", "UNIT_KINDS", "period_starts"]

#: time steps of a panel
STEPS = ("week", "month")
#: area kinds a panel can be built on, with the incidents column holding the code
UNIT_KINDS = {"district": "district", "beat": "beat", "ward": "ward", "community_area": "community_area"}
#: a span may begin / end this many days before the first / after the last record (quiet days)
END_GRACE_DAYS = 3
#: units left out by default, per kind (stated in the panel's notes)
DEFAULT_EXCLUDE = {"district": ("31",)}
_EXCLUDE_WHY = {"district": "district 31 (O'Hare airport fragments, almost no records) is left out by default"}


def _as_date(value, name: str) -> dt.date:
    from ..stats.query import as_date

    return as_date(value, name)


def period_starts(start: dt.date, end: dt.date, step: str) -> list[dt.date]:
    """The first days of the full periods inside ``start..end`` (inclusive dates)."""
    if step not in STEPS:
        raise ParameterError(f"invalid step={step!r}: expected one of {', '.join(STEPS)}")
    out: list[dt.date] = []
    if step == "week":
        d = start + dt.timedelta(days=(7 - start.weekday()) % 7)
        while d + dt.timedelta(days=6) <= end:
            out.append(d)
            d += dt.timedelta(days=7)
    else:
        d = start if start.day == 1 else _next_month(start)
        while _next_month(d) - dt.timedelta(days=1) <= end:
            out.append(d)
            d = _next_month(d)
    return out


def _next_month(d: dt.date) -> dt.date:
    return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def period_end(first: dt.date, step: str) -> dt.date:
    """The last day of the period starting on ``first``."""
    return first + dt.timedelta(days=6) if step == "week" else _next_month(first) - dt.timedelta(days=1)


@dataclass
class Panel:
    """Counts of one category per area and period.

    Attributes
    ----------
    counts : ndarray of float, shape (n_units, n_periods)
        Records per area and period (zeros are real zeros inside the covered span).
    unit_ids : ndarray of str
        Area codes (``'7'``, ``'1713'``), one per row.
    periods : list of datetime.date
        First day of each period (a Monday, or the first of a month).
    step : str
        ``week`` or ``month``.
    unit_kind : str
        ``district``, ``beat``, ``ward``, ``community_area`` (or ``synthetic`` in tests).
    category : str
    meta : dict
        ``unit``, ``rule``, ``source``, ``vintage``, ``coverage`` (covered span and the
        panel's span), ``n_unassigned`` (records in no area of the panel) and ``notes``.
    """

    counts: np.ndarray
    unit_ids: np.ndarray
    periods: list
    step: str
    unit_kind: str
    category: str
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts, dtype=float)
        self.unit_ids = np.asarray([str(u) for u in self.unit_ids], dtype=object)
        if self.counts.shape != (self.unit_ids.size, len(self.periods)):
            raise ParameterError(f"panel counts have shape {self.counts.shape}, expected "
                                 f"({self.unit_ids.size}, {len(self.periods)})")
        if len(set(self.unit_ids)) != self.unit_ids.size:
            raise ParameterError("panel unit ids repeat")
        self._pos = {u: i for i, u in enumerate(self.unit_ids)}

    @property
    def n_units(self) -> int:
        return int(self.unit_ids.size)

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    @property
    def span(self) -> tuple[dt.date, dt.date]:
        return self.periods[0], period_end(self.periods[-1], self.step)

    def index_of(self, unit) -> int:
        from ..spatial.units import normalise_code

        code = normalise_code(unit)
        if code not in self._pos:
            raise ParameterError(f"area {unit!r} is not in the panel ({self.unit_kind}: "
                                 f"{', '.join(self.unit_ids[:8])}{'...' if self.n_units > 8 else ''})")
        return self._pos[code]

    def period_of(self, day) -> int:
        """Index of the period containing ``day`` (ParameterError outside the panel)."""
        d = _as_date(day, "start")
        lo, hi = self.span
        if d < lo or d > hi:
            raise ParameterError(f"start {d} is outside the panel's span {lo} to {hi}")
        return int(np.searchsorted(np.array(self.periods, dtype="datetime64[D]"), np.datetime64(d, "D"),
                                   side="right") - 1)

    def to_frame(self):
        """Long format: ``unit, period, count``."""
        import pandas as pd

        return pd.DataFrame({
            "unit": np.repeat(self.unit_ids, self.n_periods),
            "period": np.tile(np.array(self.periods, dtype="datetime64[D]"), self.n_units),
            "count": self.counts.ravel(),
        })

    def with_counts(self, counts: np.ndarray, note: str | None = None) -> "Panel":
        """The same panel with other counts (planted effects, transforms); the note says how."""
        meta = dict(self.meta)
        meta["notes"] = list(meta.get("notes", [])) + ([note] if note else [])
        return Panel(np.asarray(counts, float), self.unit_ids.copy(), list(self.periods), self.step,
                     self.unit_kind, self.category, meta)

    def subset(self, units=None, start=None, end=None) -> "Panel":
        """Some areas and/or periods of the panel (codes; inclusive dates)."""
        rows = np.arange(self.n_units) if units is None else np.array([self.index_of(u) for u in units])
        p = np.array(self.periods, dtype="datetime64[D]")
        keep = np.ones(p.size, bool)
        if start is not None:
            keep &= p >= np.datetime64(_as_date(start, "start"), "D")
        if end is not None:
            keep &= p <= np.datetime64(_as_date(end, "end"), "D")
        cols = np.flatnonzero(keep)
        if rows.size == 0 or cols.size == 0:
            raise ParameterError("the panel subset is empty")
        return Panel(self.counts[np.ix_(rows, cols)], self.unit_ids[rows], [self.periods[i] for i in cols],
                     self.step, self.unit_kind, self.category, dict(self.meta))

    def __repr__(self) -> str:
        lo, hi = self.span
        return (f"Panel({self.category}, {self.n_units} {self.unit_kind}s x {self.n_periods} {self.step}s, "
                f"{lo} to {hi})")


def _leaves(cat) -> list:
    """The leaf categories of ``cat`` (those with no ``include``), resolved by name."""
    from ..categories import get_category

    if not cat.include:
        return [cat]
    out = []
    for name in cat.include:
        try:
            out.extend(_leaves(get_category(name)))
        except CategoryError:  # a part not in the built-in taxonomy: take the category as a whole
            return [cat]
    return out


def covered_span(store, category, *, source: str = "chicago", vintage=None) -> dict:
    """The span the store covers for ``category``.

    From the store's coverage record (:mod:`crimescope.store.coverage`) when it has one: the
    latest span it wholly holds the category for. Otherwise (an engine without the store's
    metadata) the first and last record of each leaf category. Returns ``{"first": date,
    "last": date, "rule": str, "grace_days": int, ...}``; ``first``/``last`` are None when
    the store holds none of it.
    """
    from ..categories import get_category
    from ..stats.query import category_predicate, incidents_table, to_pandas
    from ..store import coverage as _cov

    cat = get_category(category)
    if _cov._supports(store):  # the store's coverage record: the latest span it wholly holds the category
        spans = _cov.category_spans(store, source, cat, vintage=vintage)
        return {"first": spans[-1][0] if spans else None, "last": spans[-1][1] if spans else None,
                "spans": [[a, b] for a, b in spans], "grace_days": 0,
                "rule": ("the latest span the store's coverage record holds the category for, every day "
                         "(crimescope.store.coverage); a panel outside it is refused")}
    t = incidents_table(store.ibis(), source=source, vintage=vintage)
    leaves = {}
    for leaf in _leaves(cat):
        f = t.filter(category_predicate(t, leaf))
        row = to_pandas(f.aggregate(lo=f.occurred_local.min(), hi=f.occurred_local.max())).iloc[0]
        lo = None if row["lo"] is None or str(row["lo"]) in ("NaT", "None") else row["lo"].date()
        hi = None if row["hi"] is None or str(row["hi"]) in ("NaT", "None") else row["hi"].date()
        leaves[leaf.name] = [lo, hi]
    firsts = [v[0] for v in leaves.values()]
    lasts = [v[1] for v in leaves.values()]
    ok = all(v is not None for v in firsts + lasts)
    return {
        "first": max(firsts) if ok else None,
        "last": min(lasts) if ok else None,
        "leaves": leaves,
        "grace_days": END_GRACE_DAYS,
        "rule": ("first to last record of the category in the store (for a union, where every part "
                 f"is covered); a span may begin or end up to {END_GRACE_DAYS} days beyond the first or last record; gaps inside "
                 "the span are not detected"),
    }


def build_panel(store, category, unit_kind: str = "district", start=None, end=None, step: str = "month", *,
                source: str = "chicago", vintage=None, exclude=None) -> Panel:
    """Count ``category`` per area of ``unit_kind`` and per full ``step`` over ``start..end``.

    Parameters
    ----------
    store : crimescope.store.Store
    category : str or Category
    unit_kind : {"district", "beat", "ward", "community_area"}
    start, end : date or 'YYYY-MM-DD', optional
        Inclusive local dates; default: the covered span. Refused outside the covered span.
    step : {"week", "month"}
    source : str
        Store source key.
    vintage : optional
        Count the versions as they stood at this ``updated_at`` (see ``incidents_table``).
    exclude : sequence of codes, optional
        Areas left out (default: district 31 for districts; ``()`` keeps all).

    Records carry their own area code (the portal's ``District``, ``Beat``, ...); codes
    not among the area kind's boundaries (old beats before 2012-12-19, blanks) are
    counted in ``meta["n_unassigned"]``, never in a panel cell.
    """
    import pandas as pd

    from ..categories import get_category
    from ..spatial.units import normalise_code
    from ..stats.counts import rule_text, unit_text
    from ..stats.provenance import data_vintage
    from ..stats.query import count_expr, incidents_table, to_pandas

    if unit_kind not in UNIT_KINDS:
        raise ParameterError(f"invalid unit_kind={unit_kind!r}: expected one of {', '.join(UNIT_KINDS)}")
    if step not in STEPS:
        raise ParameterError(f"invalid step={step!r}: expected one of {', '.join(STEPS)}")
    cat = get_category(category)
    cov = covered_span(store, cat, source=source, vintage=vintage)
    if cov["first"] is None:
        raise CoverageError(f"the store holds no {cat.name} records of source {source!r}: nothing to evaluate")
    s = _as_date(start, "start") if start is not None else cov["first"]
    e = _as_date(end, "end") if end is not None else cov["last"]
    if e < s:
        raise ParameterError(f"end {e} is before start {s}")
    grace = dt.timedelta(days=cov["grace_days"])
    if s < cov["first"] - grace or e > cov["last"] + grace:
        raise CoverageError(
            f"{s} to {e} is not covered: the store holds {cat.name} records from {cov['first']} to "
            f"{cov['last']} (source {source}); a span outside would count missing data as zeros")
    periods = period_starts(s, e, step)
    if len(periods) < 4:
        raise ParameterError(f"{s} to {e} holds {len(periods)} full {step}s; at least 4 are needed")
    p0, p1 = periods[0], period_end(periods[-1], step)

    col = UNIT_KINDS[unit_kind]
    t = incidents_table(store.ibis(), source=source, vintage=vintage)
    df = to_pandas(count_expr(t, cat, p0, p1, by=[col, step]))
    units, unit_note = _unit_ids(unit_kind, df[col])
    excl = DEFAULT_EXCLUDE.get(unit_kind, ()) if exclude is None else tuple(normalise_code(x) for x in exclude)
    notes = [unit_note] if unit_note else []
    if exclude is None and unit_kind in _EXCLUDE_WHY:
        notes.append(_EXCLUDE_WHY[unit_kind])
    elif excl:
        notes.append(f"{unit_kind}s left out: {', '.join(excl)}")
    units = [u for u in units if u not in set(excl)]
    pos = {u: i for i, u in enumerate(units)}
    key = pd.to_datetime(df[step] if step == "week" else df[step] + "-01").dt.date
    ppos = {p: j for j, p in enumerate(periods)}
    codes = [normalise_code(c) for c in df[col]]
    counts = np.zeros((len(units), len(periods)))
    n_unassigned = 0
    n_excluded = 0
    for c, k, n in zip(codes, key, df["count"].to_numpy()):
        if c in excl:
            n_excluded += int(n)
            continue
        i = pos.get(c)
        j = ppos.get(k)
        if i is None or j is None:
            n_unassigned += int(n)
            continue
        counts[i, j] += n
    total = int(df["count"].sum())
    if n_unassigned:
        notes.append(f"{n_unassigned} of {total} records ({100 * n_unassigned / max(total, 1):.2f}%) carry no "
                     f"{unit_kind} code of the {unit_kind} boundaries and are in no area")
    vint = data_vintage(store, source, vintage=vintage)
    meta = {
        "title": f"{cat.label} per {unit_kind} and {step}, {p0} to {p1}",
        "category": cat.name,
        "unit": f"{unit_text(cat)} per {unit_kind} per {step}",
        "rule": rule_text(cat),
        "source": vint["source_description"],
        "vintage": vint,
        "coverage": {"covered_first": cov["first"], "covered_last": cov["last"], "covered_rule": cov["rule"],
                     "leaves": cov.get("leaves"), "spans": cov.get("spans"), "panel_first": p0, "panel_last": p1,
                     "requested": [s, e]},
        "periods": f"{len(periods)} full {step}s ({'Monday to Sunday' if step == 'week' else 'calendar months'}), "
                   f"local dates",
        "n_records": total,
        "n_unassigned": n_unassigned,
        "n_excluded": n_excluded,
        "notes": notes,
    }
    return Panel(counts, np.array(units, dtype=object), periods, step, unit_kind, cat.name, meta)


def _unit_ids(kind: str, seen) -> tuple[list[str], str | None]:
    """Area codes of ``kind``: the boundaries' codes when available, else the codes seen (with a note)."""
    from ..spatial.units import AreaUnits, _sort_key, normalise_code

    try:
        return [str(u) for u in AreaUnits.load(kind).unit_ids], None
    except (CrimescopeError, OSError) as exc:  # no boundaries folder: the records' own codes, said so
        codes = {normalise_code(c) for c in seen}
        codes.discard(None)
        return sorted(codes, key=_sort_key), (f"{kind} boundaries not available ({exc}); the areas are the "
                                             f"codes seen in the records, areas without any record are absent")
