"""Writing spatial results: GeoJSON (RFC 7946, EPSG:4326), CSV and Parquet, with their provenance.

The renderers are those of :class:`crimescope.result.Result` (every spatial result is
one): CSV files start with ``#`` lines, GeoJSON and JSON have a ``meta`` member,
Parquet files keep it in their metadata (:func:`crimescope.result.read_parquet_meta`).

Results provide ``to_frame()`` (one row per unit, with the unit id, its centroid in
the projected CRS and in lon/lat, and the statistics); :func:`write_frame`
writes that frame by file suffix. GeoJSON geometries are the unit polygons
(grid cells or H3 hexagons clipped to the city, area units) converted to EPSG:4326
with pyproj; the ``unit`` column holds the lattice id of a grid cell, the code of an
area unit or the H3 index string of a hexagon.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = ["unit_frame", "write_frame", "write_table", "FORMATS"]

FORMATS = (".geojson", ".csv", ".parquet")


def unit_frame(units: Any, n: int):
    """DataFrame of unit ids and centroids (``unit, x, y, lon, lat, area``) for ``units``."""
    import pandas as pd

    if units is None:
        return pd.DataFrame({"unit": np.arange(n)})
    from .units import unit_table

    return unit_table(units)


def write_frame(df: Any, path: Any, units: Any = None, index: Any = None, meta: dict | None = None) -> Path:
    """Write ``df`` to ``path`` (.csv, .parquet, .json, or .geojson with the unit polygons), with the
    provenance ``meta`` (CSV ``#`` lines, JSON/GeoJSON ``meta``, Parquet file metadata)."""
    from ..result import Result

    p = Path(path)
    if p.suffix.lower() not in FORMATS + (".json",):
        raise ParameterError(f"output must end in one of {', '.join(FORMATS)}, got {p.name!r}")
    if p.suffix.lower() == ".geojson" and units is None:
        raise ParameterError("GeoJSON output needs the spatial units")
    res = Result(df, meta)
    res.units, res.unit_index = units, index
    if p.suffix.lower() == ".geojson" and res.geometries() is None:
        raise ParameterError("rows and unit polygons differ in number")
    return res.write(p)


def write_table(df: Any, path: Any, meta: dict | None = None) -> Path:
    """Write a non-spatial table (e.g. the Knox table) as .csv, .parquet or .json, with ``meta``."""
    from ..result import Result

    p = Path(path)
    if p.suffix.lower() not in (".csv", ".parquet", ".json"):
        raise ParameterError(f"table output must end in .csv, .parquet or .json, got {p.name!r}")
    return Result(df, meta).write(p)
