"""Counts per (grid cell, period): the aggregation that feeds hot spots and forecasts.

At city scale the spatial and forecasting modules read events and bin them in
NumPy. At state or national scale the binning runs where the data is: this Ibis
expression turns hundreds of millions of incident rows into a table of
(cell, week) counts that is small enough for the models on one machine, and it
runs unchanged on DuckDB (a :class:`~crimescope.store.Store`) and on Spark (a
:class:`~crimescope.engines.SparkSource`).

Cells are those of :class:`crimescope.spatial.grid.Grid`: the lattice anchored at
``(x0, y0)`` with square cells of side ``cell_size`` in the units of ``crs``
(Chicago: EPSG:3435, US survey feet). A point ``(x, y)`` is in column
``floor((x - x0) / cell_size)`` and row ``floor((y - y0) / cell_size)``; a point on
a shared edge belongs to the cell east / north of it, as in ``Grid.locate``.
Only records with ``has_location`` true and coordinates in ``crs`` are counted.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = ["cell_counts", "cell_counts_expr", "PERIODS"]

#: time bins accepted by ``period`` (names of the counting layer's groupings)
PERIODS = ("week", "date", "month", "year")


def _check(cell_size, x0, y0, period) -> tuple[float, float, float]:
    try:
        s, a, b = float(cell_size), float(x0), float(y0)
    except (TypeError, ValueError):
        raise ParameterError(f"cell size and origin must be numbers, got {cell_size!r}, {x0!r}, {y0!r}") from None
    if not math.isfinite(s) or s <= 0:
        raise ParameterError(f"cell size must be a positive number of CRS units, got {cell_size!r}")
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ParameterError("the grid origin must be finite")
    if period not in PERIODS:
        raise ParameterError(f"period {period!r} is not one of: {', '.join(PERIODS)}")
    return s, a, b


def cell_counts_expr(table: "ir.Table", category, start, end, *, cell_size: float,
                     x0: float = 0.0, y0: float = 0.0, period: str = "week",
                     crs: str = "EPSG:3435") -> "ir.Table":
    """Records of ``category`` from ``start`` to ``end`` per (column, row, period).

    Returns a table with columns ``col``, ``row`` (int64 lattice indices, may be
    negative for points west / south of the origin), ``period`` (e.g. ``week``: the
    Monday of the week, local time) and ``count``, ordered by period, row, col.
    """
    from ..stats.query import category_predicate, date_predicate, with_groupings

    s, a, b = _check(cell_size, x0, y0, period)
    t = table.filter(
        category_predicate(table, category),
        date_predicate(table, start, end),
        table.has_location,
        table.crs == crs,
        table.x.notnull(),
        table.y.notnull(),
    )
    col = ((t.x - a) / s).floor().cast("int64").name("col")
    row = ((t.y - b) / s).floor().cast("int64").name("row")
    (per,) = with_groupings(t, [period]).values()
    return (t.aggregate(count=t.count(), by=[col, row, per])
            .order_by([period, "row", "col"]))


def cell_counts(source, category, start, end, *, cell_size: float | None = None,
                x0: float | None = None, y0: float | None = None, period: str = "week",
                grid=None, crs: str | None = None, data_source: str = "chicago"):
    """Counts per grid cell and period, on a store or a :class:`SparkSource`.

    Parameters
    ----------
    source : Store or SparkSource
        Anything with ``.ibis()`` holding the ``incidents`` table (and ``.con`` for the
        data vintage).
    category : str or Category
        Offense category (see ``crimescope categories``).
    start, end : date or 'YYYY-MM-DD'
        Inclusive local dates.
    cell_size : float, optional
        Cell side in CRS units (default: the ``cell_size_ft`` setting, or the grid's).
    x0, y0 : float, optional
        Lattice origin (default 0, 0, or the grid's).
    period : str
        ``week`` (Monday-based, default), ``date``, ``month`` or ``year``.
    grid : crimescope.spatial.grid.Grid, optional
        Take size, origin and CRS from this grid and add its kept-cell index ``cell``
        (-1 for a cell that is not kept or outside the lattice).
    crs : str, optional
        CRS of the coordinates counted (default ``EPSG:3435`` or the grid's).
    data_source : str
        Store source key (``chicago``).

    Returns
    -------
    StatResult
        ``table`` columns ``col``, ``row``, [``cell``], the period, ``count``;
        ``meta`` states unit, rule, grid, source and data vintage.
    """
    import numpy as np

    from .. import settings
    from ..categories import get_category
    from ..stats.counts import base_meta, tidy
    from ..stats.provenance import StatResult
    from ..stats.query import as_date, incidents_table, to_pandas

    cat = get_category(category)
    s_, e_ = as_date(start, "start"), as_date(end, "end")
    if grid is not None:
        cell_size = grid.cell_size if cell_size is None else cell_size
        x0 = grid.x0 if x0 is None else x0
        y0 = grid.y0 if y0 is None else y0
        crs = grid.crs if crs is None else crs
    cell_size = settings.get("cell_size_ft") if cell_size is None else cell_size
    x0 = 0.0 if x0 is None else x0
    y0 = 0.0 if y0 is None else y0
    crs = crs or "EPSG:3435"
    size, a, b = _check(cell_size, x0, y0, period)
    t = incidents_table(source.ibis(), source=data_source)
    df = to_pandas(cell_counts_expr(t, cat, s_, e_, cell_size=size, x0=a, y0=b, period=period, crs=crs))
    df = tidy(df, [period])
    df["col"] = df["col"].astype("int64")
    df["row"] = df["row"].astype("int64")
    cols = ["col", "row", period, "count"]
    if grid is not None:
        c, r = df["col"].to_numpy(), df["row"].to_numpy()
        inside = (c >= 0) & (c < grid.nx) & (r >= 0) & (r < grid.ny)
        lat = np.where(inside, r * grid.nx + c, -1)
        if grid.n_cells:
            pos = np.clip(np.searchsorted(grid.cell_ids, lat), 0, grid.n_cells - 1)
            kept = inside & (grid.cell_ids[pos] == lat)
        else:
            pos, kept = np.zeros(lat.size, np.int64), np.zeros(lat.size, bool)
        df["cell"] = np.where(kept, pos, -1).astype("int64")
        cols = ["col", "row", "cell", period, "count"]
    df = df[cols].reset_index(drop=True)
    meta = base_meta(source, cat, data_source)
    meta.update(
        title=f"{cat.label} per {size:g} {crs} unit cell and {period}: {s_} to {e_}",
        period=f"{s_} to {e_} (inclusive)", start=s_, end=e_,
        grid={"crs": crs, "cell_size": size, "x0": a, "y0": b,
              "rule": "col = floor((x - x0) / cell_size), row = floor((y - y0) / cell_size)"},
        time_bin=period, engine=getattr(source, "engine", "duckdb"),
        total=int(df["count"].sum()),
    )
    meta.setdefault("notes", []).append(
        "only records with has_location true and coordinates in the grid CRS are counted")
    return StatResult(df, meta)
