"""Writing spatial results: GeoJSON (RFC 7946, EPSG:4326), CSV and Parquet.

Results provide ``to_frame()`` (one row per unit, with the unit id, its centroid in
the projected CRS and in lon/lat, and the statistics); :func:`write_frame`
writes that frame by file suffix. GeoJSON geometries are the unit polygons
(grid cells or H3 hexagons clipped to the city, area units) converted to EPSG:4326
with pyproj; the ``unit`` column holds the lattice id of a grid cell, the code of an
area unit or the H3 index string of a hexagon.
"""

from __future__ import annotations

import json
import math
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


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if not math.isfinite(f) else f
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (np.datetime64,)):
        return str(v)
    if v is None or isinstance(v, (str, int, bool)):
        return v
    return str(v)


def write_frame(df: Any, path: Any, units: Any = None, index: Any = None) -> Path:
    """Write ``df`` to ``path`` (.csv, .parquet, or .geojson with the unit polygons)."""
    p = Path(path)
    suf = p.suffix.lower()
    if suf not in FORMATS:
        raise ParameterError(f"output must end in one of {', '.join(FORMATS)}, got {p.name!r}")
    p.parent.mkdir(parents=True, exist_ok=True)
    if suf == ".csv":
        df.to_csv(p, index=False)
    elif suf == ".parquet":
        df.to_parquet(p, index=False)
    else:
        import shapely

        from .grid import LONLAT_CRS, project_geometry

        if units is None:
            raise ParameterError("GeoJSON output needs the spatial units")
        polys = units.polygons()
        if index is not None:
            polys = polys[np.asarray(index)]
        if len(polys) != len(df):
            raise ParameterError("rows and unit polygons differ in number")
        geo = project_geometry(np.asarray(polys, dtype=object), units.crs, LONLAT_CRS)
        geo = shapely.set_precision(geo, 1e-7)  # about 1 cm: smaller files, no false accuracy
        cols = list(df.columns)
        values = df.to_numpy(dtype=object)
        feats = []
        for g, row in zip(shapely.to_geojson(geo), values):
            feats.append({"type": "Feature", "geometry": json.loads(g),
                          "properties": {c: _jsonable(v) for c, v in zip(cols, row)}})
        p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return p


def write_table(df: Any, path: Any) -> Path:
    """Write a non-spatial table (e.g. the Knox table) as .csv, .parquet or .json."""
    p = Path(path)
    suf = p.suffix.lower()
    p.parent.mkdir(parents=True, exist_ok=True)
    if suf == ".csv":
        df.to_csv(p, index=False)
    elif suf == ".parquet":
        df.to_parquet(p, index=False)
    elif suf == ".json":
        p.write_text(df.to_json(orient="records"), encoding="utf-8")
    else:
        raise ParameterError(f"table output must end in .csv, .parquet or .json, got {p.name!r}")
    return p
