"""Events of a category as a pandas DataFrame, for the spatial and forecasting work."""

from __future__ import annotations

from ..categories import Category
from .query import EVENT_COLUMNS, events_expr, incidents_table, to_pandas

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
    t = incidents_table(ds.ibis(), source=ds.key, vintage=vintage)
    df = to_pandas(events_expr(t, cat, start, end))
    df["occurred_local"] = pd.to_datetime(df["occurred_local"])
    df = df.reset_index(drop=True)[EVENT_COLUMNS]
    period = f"{start or 'first record'} to {end or 'last record'} (inclusive local dates)"
    df.attrs["provenance"] = provenance(ds, cat, vintage=vintage,
                                        title=cat.label, period=period,
                                        start=None if start is None else str(start),
                                        end=None if end is None else str(end))
    return df


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
