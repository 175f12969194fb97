"""Events of a category as a pandas DataFrame, for the spatial and forecasting work."""

from __future__ import annotations

import datetime as dt

from ..categories import Category
from .query import EVENT_COLUMNS, events_expr, incidents_table, to_pandas, to_pandas_arrow

__all__ = ["load_events", "load_categories", "EVENT_COLUMNS"]


def load_events(store, category: "str | Category", start=None, end=None, *,
                source: str | None = None, vintage=None, taxonomy=None):
    """The records of ``category`` between ``start`` and ``end`` (inclusive local dates).

    Parameters
    ----------
    store : crimescope.store.Store
    category : str or Category
        A taxonomy name (``homicide``, ``shooting``, ...); see ``crimescope categories``.
    start, end : date or 'YYYY-MM-DD', optional
        Inclusive local dates; None means unbounded.
    source : str, optional
        Source key (city profile) when ``store`` is a Store (default Chicago); a Dataset
        brings its own.
    vintage : date/datetime, optional
        Use the versions as they stood at this ``updated_at`` (see ``incidents_table``).

    Returns
    -------
    pandas.DataFrame
        Columns ``id, occurred_local (datetime64), x, y (EPSG:3435 US feet), lon, lat,
        beat, district, ward, community_area, has_location, iucr, primary_type``,
        ordered by ``occurred_local`` then ``id``. One row per record: HOMICIDE rows are
        one per victim, so several rows can share a place and time. ``attrs["provenance"]``
        holds what they are (:func:`crimescope.result.provenance`: unit, rule, source,
        vintage, period); the spatial analyses copy it into their results.
    """
    import pandas as pd

    from ..datasets import as_dataset
    from ..result import provenance

    ds = as_dataset(store, source)
    cat = ds.category(category, taxonomy)
    start, end, cov = _covered_window(ds.store, ds.key, cat, start, end, vintage)
    df = _from_snapshot(ds, cat, start, end) if vintage is None else None
    if df is None:
        t = incidents_table(ds.ibis(), source=ds.key, vintage=vintage)
        df = to_pandas(events_expr(t, cat, start, end))
        df["occurred_local"] = pd.to_datetime(df["occurred_local"])
        df = df.reset_index(drop=True)[EVENT_COLUMNS]
    if cov is not None and not cov.full:  # rows on days the store does not wholly hold for the category
        days = df["occurred_local"].dt.date
        keep = pd.Series(False, index=df.index)
        for a, b in cov.covered:
            keep |= (days >= a) & (days <= b)
        df = df[keep].reset_index(drop=True)
    period = f"{start or 'first record'} to {end or 'last record'} (inclusive local dates)"
    df.attrs["provenance"] = provenance(ds, cat, vintage=vintage,
                                        title=cat.label, period=period,
                                        start=None if start is None else str(start),
                                        end=None if end is None else str(end),
                                        notes=[n for n in [ds.profile.area_note()] if n],
                                        **({"coverage": cov.as_dict()} if cov is not None else {}))
    if cov is not None:
        df.attrs["coverage"] = cov.as_dict()
    return df


def _from_snapshot(ds, cat, start, end):
    """The rows ``load_events`` reads from the store for ``start..end``, cut from the category's
    whole history kept with the snapshot (``store.aggregates``: read once per category, lazily,
    single-flight), or None when the store carries no aggregate. The same rows, order and dtypes:
    the history is the same query without date bounds, sorted the same way (occurred_local, id)."""
    import numpy as np
    import pandas as pd

    from ._aggregate import aggregates_of
    from .query import as_date

    agg = aggregates_of(ds.store)
    if agg is None or start is None or end is None:
        return None

    def build():  # the Arrow table (each slice converts as the bounded query's result would)
        import pyarrow as pa

        from ._aggregate import _CursorStore

        view = _CursorStore(ds.store)
        try:
            tbl = events_expr(incidents_table(view.ibis(), source=ds.key), cat, None, None).to_pyarrow()
        finally:
            view.close()
        tbl = tbl.combine_chunks()
        times = tbl["occurred_local"].cast(pa.timestamp("ns")).to_numpy()
        return tbl, times

    tbl, times = agg.memo(("events", ds.key, cat.name, cat.rule), build)
    s, e = as_date(start, "start"), as_date(end, "end")
    lo = int(np.searchsorted(times, np.datetime64(s.isoformat(), "ns"), side="left"))
    hi = int(np.searchsorted(times, np.datetime64((e + dt.timedelta(days=1)).isoformat(), "ns"), side="left"))
    df = to_pandas_arrow(tbl.slice(lo, hi - lo))
    df["occurred_local"] = pd.to_datetime(df["occurred_local"])
    return df.reset_index(drop=True)[EVENT_COLUMNS]


def _covered_window(store, source, category, start, end, vintage):
    """The window to read: an open start (end) becomes the first (last) day of the covered span
    reaching the other bound, so all-history rates never include years the category is not held;
    CoverageError when nothing of the window is held. ``(start, end, Coverage or None)``."""
    from ..store import coverage as _cov
    from .query import as_date

    if not _cov._supports(store):
        return start, end, None
    spans = _cov.category_spans(store, source, category if isinstance(category, Category) else
                                _get(category), vintage=vintage)
    s = as_date(start, "start") if start is not None else None
    e = as_date(end, "end") if end is not None else None
    if spans and (s is None or e is None):
        if e is None:
            e = spans[-1][1] if s is None or s <= spans[-1][1] else s
        if s is None:
            before = [sp for sp in spans if sp[0] <= e]
            s = (before[-1][0] if before else spans[0][0])
    if s is None or e is None:  # nothing held at all
        s = s or e or dt.date(1900, 1, 1)
        e = e or s
    if e < s:
        s, e = e, e
    cov = _cov.require(store, source, category, s, e, vintage=vintage)
    return s, e, cov


def _get(name):
    from ..categories import get_category

    return get_category(name)


def load_categories(store, categories, start=None, end=None, *, source: str | None = None, vintage=None,
                    taxonomy=None):
    """The records of several categories in one frame, tagged by a ``category`` column.

    One row per (record, category): a record in two of the categories (a shooting is
    also violent index crime) appears once under each name, so every category's rows
    are complete. Used by forecasting models that read leading-indicator crimes
    besides the target (``Forecaster.related_categories``). Arguments as
    :func:`load_events`; duplicate names are read once.

    Returns
    -------
    pandas.DataFrame
        ``EVENT_COLUMNS`` plus ``category``, ordered by ``occurred_local``, ``id``, ``category``.
    """
    import pandas as pd

    cats = list({(c.name if isinstance(c, Category) else str(c)): c for c in categories}.items())
    frames = []
    for name, c in cats:
        df = load_events(store, c, start, end, source=source, vintage=vintage, taxonomy=taxonomy)
        df["category"] = name
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=[*EVENT_COLUMNS, "category"])
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["occurred_local", "id", "category"], kind="stable").reset_index(drop=True)
