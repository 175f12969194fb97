"""Forecast files: CSV (one row per cell), GeoJSON (cell polygons in WGS84), PNG map.

CSV columns, in this order: ``cell_id`` (lattice id ``row * nx + col``), ``x_min,
y_min, x_max, y_max`` (the cell square in the grid CRS - EPSG:3435 US feet for
Chicago), ``area_sq_ft`` (area clipped to the city), ``lon, lat`` (clipped
centroid, WGS84), ``expected`` (expected events over the horizon), ``rank``
(1 = highest expected; ties share the smallest rank). Rows are sorted by rank.
The files carry the forecast's provenance (``Forecast.meta``): CSV as leading ``#``
lines (read with ``pandas.read_csv(..., comment="#")``), GeoJSON as a ``meta`` member.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CSV_COLUMNS", "forecast_frame", "write_csv", "write_geojson", "plot_map"]

CSV_COLUMNS = ["cell_id", "x_min", "y_min", "x_max", "y_max", "area_sq_ft", "lon", "lat", "expected", "rank"]


def forecast_frame(fc: Any):
    """The forecast as a DataFrame with :data:`CSV_COLUMNS`, sorted by rank then cell_id."""
    import pandas as pd

    g = fc.grid
    xmin, ymin, xmax, ymax = g.bounds()
    lon, lat = g.centroids_lonlat()
    df = pd.DataFrame({
        "cell_id": g.cell_ids, "x_min": xmin, "y_min": ymin, "x_max": xmax, "y_max": ymax,
        "area_sq_ft": g.area, "lon": lon, "lat": lat, "expected": fc.expected, "rank": fc.rank,
    })
    return df.sort_values(["rank", "cell_id"], kind="stable").reset_index(drop=True)[CSV_COLUMNS]


def write_csv(fc: Any, path: Any) -> None:
    """The forecast CSV, provenance first as ``#`` lines (``fc.meta``)."""
    fc.to_csv(path)


def write_geojson(fc: Any, path: Any, top: int | None = None) -> None:
    """Cell polygons (clipped, converted to WGS84 with pyproj) with the CSV fields as properties,
    the provenance as ``meta`` and the model settings as ``forecast``.

    ``top`` keeps only the ``top`` highest-ranked cells (all cells by default).
    """
    fc.to_geojson(path, top=top)


def plot_map(fc: Any, path: Any = None, ax: Any = None, title: str | None = None):
    """A raster map of expected counts (PNG when ``path`` is given); returns the matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = fc.grid
    full = g.to_full(fc.expected)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 7))
    else:
        fig = ax.figure
    ext = (g.x0, g.x0 + g.nx * g.cell_size, g.y0, g.y0 + g.ny * g.cell_size)
    im = ax.imshow(full, origin="lower", extent=ext, cmap="magma_r")
    fig.colorbar(im, ax=ax, label=f"expected events in {fc.horizon_days:g} days")
    ax.set_title(title or f"{fc.model} as of {str(fc.as_of)[:10]}")
    ax.set_xlabel(f"x ({g.crs})")
    ax.set_ylabel(f"y ({g.crs})")
    ax.set_aspect("equal")
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
    return fig
