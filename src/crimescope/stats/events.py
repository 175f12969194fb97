"""Events of a category as a pandas DataFrame, for the spatial and forecasting work."""

from __future__ import annotations

from ..categories import Category
from .query import EVENT_COLUMNS, events_expr, incidents_table

__all__ = ["load_events", "EVENT_COLUMNS"]


def load_events(store, category: "str | Category", start=None, end=None, *,
                source: str = "chicago", vintage=None):
    """The records of ``category`` between ``start`` and ``end`` (inclusive local dates).

    Parameters
    ----------
    store : crimescope.store.Store
    category : str or Category
        A taxonomy name (``homicide``, ``shooting``, ...); see ``crimescope categories``.
    start, end : date or 'YYYY-MM-DD', optional
        Inclusive local dates; None means unbounded.
    source : str
        Store source key.
    vintage : date/datetime, optional
        Use the versions as they stood at this ``updated_at`` (see ``incidents_table``).

    Returns
    -------
    pandas.DataFrame
        Columns ``id, occurred_local (datetime64), x, y (EPSG:3435 US feet), lon, lat,
        beat, district, ward, community_area, has_location, iucr, primary_type``,
        ordered by ``occurred_local`` then ``id``. One row per record: HOMICIDE rows are
        one per victim, so several rows can share a place and time.
    """
    import pandas as pd

    t = incidents_table(store.ibis(), source=source, vintage=vintage)
    df = events_expr(t, category, start, end).to_pandas()
    df["occurred_local"] = pd.to_datetime(df["occurred_local"])
    return df.reset_index(drop=True)[EVENT_COLUMNS]
