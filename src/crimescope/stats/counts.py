"""Counts of a category over an inclusive local date range, by groupings."""

from __future__ import annotations

import datetime as dt

from ..categories import Category, Taxonomy, get_category
from ..errors import CoverageError
from ..datasets import as_dataset
from ._coverage import attach, covered, mark_partial, restrict
from .provenance import StatResult
from .query import as_date, check_by, count_expr, incidents_table, to_pandas

__all__ = ["count", "last_complete_day", "unit_text", "rule_text", "category_source", "tidy"]


def unit_text(cat: Category, profile=None) -> str:
    """What one counted row is, in words (Chicago's wording names its HOMICIDE rule)."""
    if profile is not None and profile.key != "chicago":
        return {"victims": "victims (one row per victim)", "incidents": "incidents (one row per incident)",
                "records": "records (as published: a mix of victims and incidents)"}[cat.unit]
    return {
        "victims": "victims (the portal has one HOMICIDE row per victim)",
        "incidents": "incidents (one row per incident)",
        "records": "records (homicide rows count victims, other rows incidents)",
    }[cat.unit]


def rule_text(cat: Category) -> str:
    """``name: codes``, naming the user category file when the category comes from one."""
    text = f"{cat.name}: {cat.rule}"
    if cat.origin is not None:
        text += f" (user category defined in {cat.origin})"
    return text


def category_source(cat: Category) -> str:
    """Where the category's definition comes from (the user file first, for a user category)."""
    if cat.origin is None:
        return cat.source
    return "; ".join(x for x in (f"user category file {cat.origin}", cat.source) if x)


def tidy(df, by):
    """Counts as int64, date groupings as ``datetime.date``."""
    import pandas as pd

    for c in df.columns:
        if c in ("week", "date"):
            df[c] = pd.to_datetime(df[c]).dt.date
        elif c == "count" or c.endswith("count"):
            df[c] = df[c].fillna(0).astype("int64")
    return df


def last_complete_day(store, source: str | None = None) -> dt.date:
    """The last complete local day in the store.

    A day counts as complete once data was extracted after it ended: the earlier of
    the latest occurrence date and the day before the latest ``updated_at``.
    """
    ds = as_dataset(store, source)
    store, source = ds.store, ds.key
    row = store.con.execute(
        "SELECT max(occurred_local), max(updated_at) FROM incidents WHERE source = ?", [source]
    ).fetchone()
    if row is None or row[0] is None:
        raise CoverageError(f"the store has no {source} records: ingest its data first (or give the as-of date)")
    last_occ = row[0].date()
    if row[1] is None:
        return last_occ
    return min(last_occ, row[1].date() - dt.timedelta(days=1))


def base_meta(store, cat: Category, source: str | None = None, vintage=None, batch=None) -> dict:
    """The provenance of a count of ``cat`` (:func:`crimescope.result.provenance`): category,
    unit, rule, source (the city profile's citation and publisher), data vintage, and the
    local dates of the profile's time zone."""
    from ..result import provenance

    return provenance(store, cat, source=source, vintage=vintage, batch=batch)


def count(store, category: "str | Category", start, end, by=(), *, source: str | None = None,
          vintage=None, batch: int | None = None, taxonomy: Taxonomy | None = None) -> StatResult:
    """Number of records of ``category`` from ``start`` to ``end`` (inclusive local dates).

    ``taxonomy`` resolves a category name (default: the built-in taxonomy; pass
    ``load_taxonomy([path])`` for user categories). Returns a :class:`StatResult` whose
    ``table`` has one column per grouping in ``by`` and ``count``; ``meta`` states unit,
    rule, source and data vintage (and ``category_file``, the user file of a user category).
    ``store`` is a Dataset, or a Store read as ``source`` (default Chicago); a category
    name is looked up in the city's taxonomy.
    """
    ds = as_dataset(store, source)
    store, source = ds.store, ds.key
    cat = ds.category(category, taxonomy)
    s, e = as_date(start, "start"), as_date(end, "end")
    by = check_by(by)
    cov = covered(store, source, cat, s, e, vintage=vintage, batch=batch)  # refuses what the store lacks
    from ._aggregate import count_frame

    df = count_frame(store, source, cat, s, e, by, spans=None if cov.full else cov.covered,
                     vintage=vintage, batch=batch)  # None: no per-snapshot aggregate, or not expressible
    if df is None:
        t = incidents_table(store.ibis(), source=source, vintage=vintage, batch=batch)
        if not cov.full:
            t = restrict(t, cov.covered)
        df = to_pandas(count_expr(t, cat, s, e, by))
    df = tidy(df, by)
    meta = base_meta(store, cat, source, vintage, batch)
    meta.update(title=f"{cat.label}: {s} to {e}", period=f"{s} to {e} (inclusive)", start=s, end=e,
                by=by, total=int(df["count"].sum()))
    attach(meta, cov)
    return StatResult(mark_partial(df.reset_index(drop=True), by, cov), meta)
