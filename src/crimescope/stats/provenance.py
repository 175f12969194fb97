"""Where a figure comes from: data source, data vintage, and the result object.

Every output of the counting module carries a metadata dictionary stating the
counting unit, the rule, the source and the data vintage (the greatest
``updated_at`` of the versions counted and the time of the latest ingest batch).
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from typing import Any

from ..result import Result

__all__ = ["SOURCES", "data_vintage", "source_description", "StatResult", "jsonable"]

#: human descriptions of the store sources
SOURCES = {
    "chicago": "City of Chicago Data Portal, 'Crimes - 2001 to present' (Socrata ijzp-q8t2)",
    "nyc_shootings": "NYC Open Data, NYPD Shooting Incident Data",
    "gva": "Gun Violence Archive (news-based; undercounts official figures), Chicago incidents",
}


def source_description(source: str) -> str:
    """The citation of a source: its city profile's (crimescope.datasets), else ``SOURCES``."""
    from ..datasets import profiles

    prof = profiles().get(source)
    if prof is not None:
        return prof.citation
    return SOURCES.get(source, source)


def _iso(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat()
    return str(v)


# data_vintage() scans updated_at (tens of ms on millions of rows); its result only
# changes when an ingest batch is added or finished, so it is cached, keyed by the
# store file (or the store object for in-memory stores) and the state of the small
# ``batches`` table. A bounded cache of derived values, not application state.
_VINTAGE_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_VINTAGE_BY_PATH: dict = {}


def data_vintage(store, source: str | None = None, vintage=None, batch: int | None = None) -> dict:
    """The vintage of a store's data for one source (cached while ``batches`` is unchanged).

    Returns ``{"source", "source_description", "max_updated_at", "latest_batch_at",
    "batches", "as_of_vintage", "as_of_batch"}``; ``max_updated_at`` is the latest source
    update time among the versions a count at that vintage uses. ``store`` may be a
    Dataset (``source`` then defaults to its key; otherwise to Chicago).
    """
    from ..datasets import as_dataset

    ds = as_dataset(store, source)
    store, source = ds.store, ds.key
    from ._aggregate import aggregates_of

    agg = aggregates_of(store)
    if agg is not None:  # a read-only snapshot: computed once
        return dict(agg.memo(("vintage", source, str(vintage), batch),
                             lambda: _data_vintage(store, source, vintage, batch)))
    state = store.con.execute(
        "SELECT count(*), max(batch_id), count(finished_at), max(finished_at)::VARCHAR FROM batches"
    ).fetchone()
    key = (source, str(vintage), batch, state)
    path = getattr(store, "path", ":memory:")
    if path != ":memory:":
        import os

        try:
            key = key + (os.path.realpath(path), os.stat(path).st_mtime_ns)
        except OSError:
            key = key + (path,)
        if key not in _VINTAGE_BY_PATH:
            if len(_VINTAGE_BY_PATH) > 64:
                _VINTAGE_BY_PATH.clear()
            _VINTAGE_BY_PATH[key] = _data_vintage(store, source, vintage, batch)
        return dict(_VINTAGE_BY_PATH[key])
    try:
        per_store = _VINTAGE_CACHE.setdefault(store, {})
    except TypeError:  # not weak-referenceable: no cache
        per_store = {}
    if key not in per_store:
        per_store.clear()
        per_store[key] = _data_vintage(store, source, vintage, batch)
    return dict(per_store[key])


def _data_vintage(store, source: str = "chicago", vintage=None, batch: int | None = None) -> dict:
    """The vintage of a store's data for one source.

    Returns ``{"source", "source_description", "max_updated_at", "latest_batch_at",
    "batches", "as_of_vintage", "as_of_batch"}``; ``max_updated_at`` is the latest source
    update time among the versions a count at that vintage uses.
    """
    con = store.con
    if vintage is None and batch is None:
        (mx,) = con.execute("SELECT max(updated_at) FROM incidents WHERE source = ?", [source]).fetchone()
    else:
        conds, params = ["source = ?"], [source]
        if vintage is not None:
            conds.append("updated_at <= ?")
            from .query import parse_vintage

            vintage = parse_vintage(vintage)
            params.append(vintage)
        if batch is not None:
            conds.append("batch_id <= ?")
            params.append(int(batch))
        w = " AND ".join(conds)
        (mx,) = con.execute(
            f"SELECT max(u) FROM (SELECT max(updated_at) u FROM incidents WHERE {w} "
            f"UNION ALL SELECT max(updated_at) FROM incident_history WHERE {w})", params + params
        ).fetchone()
    bq = ("SELECT count(*), max(coalesce(finished_at, started_at)) AT TIME ZONE 'UTC' "
          "FROM batches WHERE source = ?")
    bp: list[Any] = [source]
    if batch is not None:
        bq += " AND batch_id <= ?"
        bp.append(int(batch))
    n, last = con.execute(bq, bp).fetchone()
    return {
        "source": source,
        "source_description": source_description(source),
        "max_updated_at": _iso(mx),
        "latest_batch_at": (_iso(last.replace(microsecond=0)) + " UTC") if last is not None else None,
        "batches": int(n or 0),
        "as_of_vintage": _iso(vintage),
        "as_of_batch": batch,
    }


def jsonable(v):
    """A JSON-safe version of a scalar (NaN/NA and +-inf -> None, since strict JSON has no
    Infinity; dates -> ISO strings)."""
    t = type(v)  # the plain types first (a meta holds thousands of them): themselves, as below
    if v is None or t is str or t is int or t is bool:
        return v
    if t is float:
        return v if math.isfinite(v) else None
    if t is dict:
        return {k: jsonable(x) for k, x in v.items()}
    if t is list or t is tuple:
        return [jsonable(x) for x in v]
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, pd.Timestamp):
            return v.isoformat()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if hasattr(v, "item"):  # numpy scalar
        return jsonable(v.item())
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v


class StatResult(Result):
    """A computed table plus the metadata that says what it counts (the counting results).

    A thin subclass of :class:`crimescope.result.Result`, kept under its name.

    Attributes
    ----------
    table : pandas.DataFrame
        The figures (one column per grouping, then the counts).
    meta : dict
        ``title``, ``unit``, ``rule``, ``source``, ``vintage`` (see :func:`data_vintage`),
        the parameters used, and ``notes`` (list of caveats); built by
        :func:`crimescope.result.provenance`.
    """
