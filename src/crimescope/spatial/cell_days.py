"""Per-cell records by day of one category, kept with a read-only snapshot (the hot spot fast path).

A hot spot map of any span counts the category's records per grid cell. Reading the records
of the span from the store costs one query each time (50-150 ms on the 1.7M-row store: SQL
compilation, the scan, the conversion to pandas). A read-only snapshot never changes, so the
records' cells can be found once per (snapshot, category, grid): :class:`CellDays` holds,
ordered by local day, each record's day and cell (``-1`` outside the grid, ``-2`` without a
location, as :func:`~crimescope.spatial._events.as_events` and ``Grid.locate`` decide), and
any span is then a binary search and a ``bincount``. Built lazily on first use and once per key
even when many threads ask together (``Aggregates.memo``: single-flight).

The counts, the records, the records without a location and those outside the grid equal what
``load_events`` + ``gistar.hotspots`` compute from the store (tests/stats/test_fast_paths.py
compares them on the real store).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = ["CellDays", "cell_days", "warm_cell_days"]

_EPOCH = dt.date(1970, 1, 1)
NO_LOCATION = -2


class CellDays:
    """Day number (since 1970-01-01) and cell index of every record of a category, by day."""

    def __init__(self, days: np.ndarray, cells: np.ndarray, n_units: int):
        order = np.argsort(days, kind="stable")
        self.days = np.ascontiguousarray(days[order], dtype=np.int32)
        self.cells = np.ascontiguousarray(cells[order], dtype=np.int32)
        self.n_units = int(n_units)
        self.nbytes = int(self.days.nbytes + self.cells.nbytes)

    def span(self, start: dt.date, end: dt.date, covered=None) -> tuple[np.ndarray, int, int, int]:
        """``(counts per cell (float), records, records without a location, records outside the grid)``
        of the days ``start..end`` (inclusive), restricted to the ``covered`` spans when given."""
        lo = int(np.searchsorted(self.days, (start - _EPOCH).days, side="left"))
        hi = int(np.searchsorted(self.days, (end - _EPOCH).days, side="right"))
        cells = self.cells[lo:hi]
        if covered is not None:
            d = self.days[lo:hi]
            keep = np.zeros(len(d), bool)
            for a, b in covered:
                keep |= (d >= (a - _EPOCH).days) & (d <= (b - _EPOCH).days)
            cells = cells[keep]
        inside = cells[cells >= 0]
        counts = np.bincount(inside, minlength=self.n_units).astype(float)
        n_no_loc = int((cells == NO_LOCATION).sum())
        return counts, int(len(cells)), n_no_loc, int(len(cells) - len(inside) - n_no_loc)


def _grid_key(grid) -> tuple:
    return (str(grid.crs), float(grid.cell_size), float(grid.x0), float(grid.y0), int(grid.nx), int(grid.ny),
            int(grid.n_units))


def _read(store, source: str, cat):
    """``(days, x, y, located)`` of every record of the category (one store query)."""
    import pandas as pd

    from ..stats._aggregate import _CursorStore
    from ..stats.query import events_expr, incidents_table

    view = _CursorStore(store)
    try:
        t = incidents_table(view.ibis(), source=source)
        e = events_expr(t, cat, None, None)
        tbl = e.select(e.occurred_local, e.x, e.y, e.has_location).filter(e.occurred_local.notnull()).to_pyarrow()
    finally:
        view.close()
    df = tbl.to_pandas()
    days = (pd.to_datetime(df["occurred_local"]).to_numpy("datetime64[D]").astype(np.int64))
    xs = pd.to_numeric(df["x"], errors="coerce").to_numpy(float)
    ys = pd.to_numeric(df["y"], errors="coerce").to_numpy(float)
    ok = np.isfinite(xs) & np.isfinite(ys) & df["has_location"].fillna(False).to_numpy(bool)
    return days, xs, ys, ok


def _locate(records, grid) -> CellDays:
    days, xs, ys, ok = records
    cells = np.full(len(days), NO_LOCATION, dtype=np.int64)
    cells[ok] = grid.locate(xs[ok], ys[ok])
    return CellDays(days, cells, grid.n_units)


def _build(store, source: str, cat, grid) -> CellDays:
    return _locate(_read(store, source, cat), grid)


def _key(source: str, cat, grid) -> tuple:
    return ("cell_days", source, cat.name, cat.rule, _grid_key(grid))


def cell_days(store, source: str, cat, grid) -> CellDays | None:
    """The category's :class:`CellDays` on ``grid`` for the snapshot ``store`` (kept in its
    ``Aggregates``), or None when the store carries no aggregate."""
    from ..stats._aggregate import aggregates_of

    agg = aggregates_of(store)
    if agg is None:
        return None
    return agg.memo(_key(source, cat, grid), lambda: _build(store, source, cat, grid))


def warm_cell_days(store, source: str, cat, grids) -> int:
    """Build the category's :class:`CellDays` on each of ``grids`` not built yet, reading its
    records once for all of them (what ``serve`` warms at start); returns the bytes they hold."""
    from ..stats._aggregate import aggregates_of

    agg = aggregates_of(store)
    if agg is None:
        return 0
    records = []

    def build(grid):
        if not records:
            records.append(_read(store, source, cat))
        return _locate(records[0], grid)

    return sum(agg.memo(_key(source, cat, g), lambda g=g: build(g)).nbytes for g in grids)
