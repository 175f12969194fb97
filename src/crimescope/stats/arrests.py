"""Share of records with the arrest flag, by category, period and area.

This is NOT the FBI clearance rate: the portal's ``arrest`` flag says whether an arrest
was recorded on the incident as of the record's last update. The FBI clearance rate
counts offenses cleared by arrest or by exceptional means in a year (including
clearances of offenses from earlier years) and is computed per offense, not per record.
"""

from __future__ import annotations

from ..categories import Taxonomy, get_category
from ._coverage import attach, covered, mark_partial, restrict
from .counts import base_meta, tidy
from .provenance import StatResult
from .query import arrests_expr, as_date, check_by, incidents_table, to_pandas

__all__ = ["arrest_share", "arrests", "NOT_CLEARANCE"]

NOT_CLEARANCE = ("arrest_share = records with the arrest flag / records; this is not the FBI "
                 "clearance rate (which counts offenses cleared by arrest or exceptional means in a "
                 "year, including older offenses); the flag reflects the record's last update")


def arrests(store, category, start, end, by=(), *, source: str | None = None, vintage=None,
            batch: int | None = None, taxonomy: Taxonomy | None = None) -> StatResult:
    """Records, arrests and ``arrest_share`` of ``category`` from ``start`` to ``end``.

    ``table`` columns: the groupings, ``count``, ``arrests``, ``arrest_unknown`` (flag
    missing, counted as no arrest), ``arrest_share`` (0-1). ``taxonomy`` resolves a
    category name (default: the built-in taxonomy).
    """
    from ..datasets import as_dataset

    ds = as_dataset(store, source)
    store, source = ds.store, ds.key
    cat = ds.category(category, taxonomy)
    s, e = as_date(start, "start"), as_date(end, "end")
    by = check_by(by)
    cov = covered(store, source, cat, s, e, vintage=vintage, batch=batch)  # refuses what the store lacks
    t = incidents_table(store.ibis(), source=source, vintage=vintage, batch=batch)
    if not cov.full:
        t = restrict(t, cov.covered)
    df = to_pandas(arrests_expr(t, cat, s, e, by))
    df = tidy(df, by)
    df["arrests"] = df["arrests"].fillna(0).astype("int64")
    df["arrest_unknown"] = df["arrest_unknown"].fillna(0).astype("int64")
    df["arrest_share"] = df["arrest_share"].astype("float64").round(4)
    df = df[[*by, "count", "arrests", "arrest_unknown", "arrest_share"]]
    meta = base_meta(store, cat, source, vintage, batch)
    meta.update(title=f"Arrest share, {cat.label}: {s} to {e}", period=f"{s} to {e} (inclusive)",
                start=s, end=e, by=by, notes=[NOT_CLEARANCE])
    attach(meta, cov)
    return StatResult(mark_partial(df.reset_index(drop=True), by, cov), meta)


#: package-level name (``crimescope.stats.arrest_share``)
arrest_share = arrests
