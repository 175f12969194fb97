"""Map geometry served locally: the shared boundary files, merged per code, simplified.

Units come from :class:`crimescope.spatial.units.AreaUnits` (EPSG:3435, US feet);
each is simplified with shapely (``tolerance`` in feet, topology preserved per
polygon), converted back to WGS84 (EPSG:4326) with pyproj, and written as an RFC 7946
FeatureCollection with properties ``unit`` (the code) and ``name`` (community areas).
The encoded bytes are cached per process.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

__all__ = ["geojson_bytes", "SIMPLIFY_FT"]

#: simplification tolerance per unit kind, in feet (EPSG:3435)
SIMPLIFY_FT = {"community_area": 60.0, "district": 60.0, "ward": 40.0, "beat": 30.0}


def _round(coords, nd=5):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), nd) for c in coords]
    return [_round(c, nd) for c in coords]


@functools.lru_cache(maxsize=16)
def _build(kind: str, data_dir: str | None, source: str = "chicago") -> bytes:
    import shapely

    if source != "chicago":
        return _build_other(kind, data_dir, source)

    from ..spatial.grid import CHICAGO_CRS, LONLAT_CRS, boundaries_dir, project_geometry, read_geojson
    from ..spatial.units import UNIT_KINDS, AreaUnits, normalise_code

    units = AreaUnits.load(kind, data_dir)
    names: dict[str, str] = {}
    if kind == "community_area":
        fname, prop, _ = UNIT_KINDS[kind]
        props, _g = read_geojson(Path(boundaries_dir(data_dir)) / fname)
        for p in props:
            code = normalise_code(p.get(prop))
            if code and p.get("community"):
                names[code] = str(p["community"]).title()
    simple = shapely.simplify(units.geometries, SIMPLIFY_FT[kind], preserve_topology=True)
    lonlat = project_geometry(simple, CHICAGO_CRS, LONLAT_CRS)
    feats = []
    for code, g in zip(units.unit_ids, lonlat):
        geom = json.loads(shapely.to_geojson(g))
        geom["coordinates"] = _round(geom["coordinates"])
        props = {"unit": str(code)}
        if str(code) in names:
            props["name"] = names[str(code)]
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    doc = {"type": "FeatureCollection", "features": feats,
           "crs_note": "RFC 7946 (WGS84 lon/lat)",
           "source": f"City of Chicago boundaries ({UNIT_KINDS[kind][0]}), simplified "
                     f"{SIMPLIFY_FT[kind]:g} ft with shapely"}
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def _build_other(kind: str, data_dir: str | None, source: str) -> bytes:
    """Another city's units of ``kind``, simplified by the feet tolerance converted to its CRS unit."""
    import shapely

    from ..datasets import get_profile
    from ..spatial.grid import LONLAT_CRS, project_geometry
    from ..spatial.units import AreaUnits

    prof = get_profile(source)
    spec = prof.area_kind(kind)
    units = AreaUnits.load(kind, data_dir, profile=prof)
    tol = SIMPLIFY_FT.get(kind, 30.0) * 0.3048006096012192 / prof.metres_per_unit
    lonlat = project_geometry(shapely.simplify(units.geometries, tol, preserve_topology=True), units.crs, LONLAT_CRS)
    feats = []
    for code, g in zip(units.unit_ids, lonlat):
        geom = json.loads(shapely.to_geojson(g))
        geom["coordinates"] = _round(geom["coordinates"])
        feats.append({"type": "Feature", "properties": {"unit": str(code)}, "geometry": geom})
    doc = {"type": "FeatureCollection", "features": feats, "crs_note": "RFC 7946 (WGS84 lon/lat)",
           "source": f"{prof.publisher} boundaries ({Path(spec.boundary).name}), simplified "
                     f"{tol:g} {prof.unit_abbrev} with shapely"}
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def geojson_bytes(kind: str, data_dir: str | Path | None = None, source: str | None = None) -> bytes:
    """The simplified GeoJSON of one unit kind of a city (default Chicago), cached."""
    from ..datasets import get_profile

    prof = get_profile(source)
    if kind not in prof.mapped_kinds():
        from ..errors import ParameterError

        raise ParameterError(f"kind: {prof.name} ({prof.key}) has no boundaries of {kind!r}; "
                             f"mapped kinds: {', '.join(prof.mapped_kinds()) or 'none'}")
    return _build(kind, str(data_dir) if data_dir else None, prof.key)
