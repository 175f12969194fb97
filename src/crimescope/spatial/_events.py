"""Event input shared by the analyses: arrays or a DataFrame -> clean numpy arrays.

Every analysis takes either a pandas DataFrame with columns ``x``, ``y`` (EPSG:3435
US feet) and ``occurred_local`` (datetime64), or the arrays themselves. Records
without usable coordinates are never dropped silently: they are counted and the
count travels with the result (``n_no_location``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = ["EventArrays", "as_events", "day_index", "period_label"]


@dataclass(frozen=True)
class EventArrays:
    """Located events and the bookkeeping of those that could not be used.

    Attributes
    ----------
    x, y : ndarray of float
        Coordinates of the located events (CRS units).
    t : ndarray of datetime64[ns] or None
        Local occurrence times of the located events, when times were given.
    n_input : int
        Records received.
    n_no_location : int
        Records without coordinates (NaN / None / flagged ``has_location`` False).
    n_no_time : int
        Located records without a usable time (only when times were required).
    index : ndarray of int64
        Position in the input of each kept event.
    """

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray | None
    n_input: int
    n_no_location: int
    n_no_time: int
    index: np.ndarray

    @property
    def n(self) -> int:
        return int(self.x.size)

    def period(self) -> tuple[Any, Any]:
        """First and last occurrence time (NaT when no times)."""
        if self.t is None or self.t.size == 0:
            return (np.datetime64("NaT"), np.datetime64("NaT"))
        return (self.t.min(), self.t.max())


def _float(a: Any, name: str) -> np.ndarray:
    import pandas as pd

    arr = np.asarray(a)
    if arr.dtype.kind in "fiu":
        return arr.astype(np.float64).ravel()
    try:
        return pd.to_numeric(pd.Series(arr.ravel()), errors="coerce").to_numpy(np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be numbers") from exc


def events_meta(events: Any, units: Any = None, **extra: Any) -> dict:
    """The provenance of a result computed from ``events`` (a copy of ``events.attrs["provenance"]``,
    set by ``load_events``), its unit made per spatial unit, plus ``extra``. Events given as bare
    arrays or a frame without provenance give only ``extra``."""
    import copy

    prov = getattr(events, "attrs", {}).get("provenance") if events is not None else None
    meta = copy.deepcopy(prov) if prov else {}
    if units is not None and meta.get("unit"):
        meta["unit"] = f"{meta['unit']} per {getattr(units, 'unit_label', None) or 'unit'}"
    meta.update(extra)
    return meta


def as_events(events: Any = None, *, x: Any = None, y: Any = None, t: Any = None,
              need_time: bool = False) -> EventArrays:
    """Normalise the event input of an analysis.

    ``events`` may be a DataFrame (columns ``x``, ``y``, optionally ``occurred_local``
    and ``has_location``) or None with ``x``/``y``/``t`` given as arrays.
    """
    import pandas as pd

    has_loc = None
    if events is not None:
        if not isinstance(events, pd.DataFrame):
            raise ParameterError("events must be a pandas DataFrame with columns x, y (and occurred_local)")
        missing = [c for c in ("x", "y") if c not in events.columns]
        if missing:
            raise ParameterError(f"events lack column(s) {', '.join(missing)}")
        x, y = events["x"].to_numpy(), events["y"].to_numpy()
        if t is None and "occurred_local" in events.columns:
            t = events["occurred_local"]
        if "has_location" in events.columns:
            has_loc = events["has_location"].fillna(False).to_numpy(bool)
    if x is None or y is None:
        raise ParameterError("give events (a DataFrame) or both x and y")
    xs, ys = _float(x, "x"), _float(y, "y")
    if xs.shape != ys.shape:
        raise ParameterError(f"x and y differ in length ({xs.size} vs {ys.size})")
    n_input = xs.size
    ok = np.isfinite(xs) & np.isfinite(ys)
    if has_loc is not None:
        ok &= has_loc
    n_no_loc = int(n_input - ok.sum())
    ts = None
    n_no_time = 0
    if t is not None:
        try:
            ts = pd.to_datetime(pd.Series(np.asarray(t).ravel() if not isinstance(t, pd.Series) else t.to_numpy()))
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"occurrence times could not be read as dates: {exc}") from exc
        if getattr(ts.dt, "tz", None) is not None:
            raise ParameterError("occurrence times must be local wall times (naive), not tz-aware")
        ts = ts.to_numpy("datetime64[ns]")
        if ts.size != n_input:
            raise ParameterError(f"times and coordinates differ in length ({ts.size} vs {n_input})")
        tok = ~np.isnat(ts)
        n_no_time = int((ok & ~tok).sum())
        if need_time:
            ok &= tok
    elif need_time:
        raise ParameterError("this analysis needs occurrence times (column occurred_local or t=)")
    idx = np.flatnonzero(ok).astype(np.int64)
    return EventArrays(x=xs[idx], y=ys[idx], t=None if ts is None else ts[idx], n_input=int(n_input),
                       n_no_location=n_no_loc, n_no_time=n_no_time, index=idx)


def day_index(t: np.ndarray) -> np.ndarray:
    """Whole local calendar days since 1970-01-01 (int64) of datetime64 values."""
    return np.asarray(t, dtype="datetime64[D]").astype(np.int64)


def period_label(t0: Any, t1: Any) -> str:
    """``YYYY-MM-DD to YYYY-MM-DD`` for map titles and tables."""
    if t0 is None or t1 is None:
        return "all dates"
    a, b = np.datetime64(t0, "D"), np.datetime64(t1, "D")
    if np.isnat(a) or np.isnat(b):
        return "all dates"
    return f"{a} to {b}"
