"""Map geometry served locally: the shared boundary files, merged per code, simplified.

Units come from :class:`crimescope.spatial.units.AreaUnits` (EPSG:3435, US feet);
each is simplified with shapely (``tolerance`` in feet, topology preserved per
polygon), converted back to WGS84 (EPSG:4326) with pyproj, and written as an RFC 7946
FeatureCollection with properties ``unit`` (the code) and ``name``: the names the city
profile gives the units (:attr:`crimescope.datasets.profile.AreaKindSpec.names`, Chicago's
police districts) or that its boundary file holds (``name_property``, community areas).
The encoded bytes are cached per process.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

__all__ = ["geojson_bytes", "area_choices", "unit_names", "SIMPLIFY_FT"]

#: simplification tolerance per unit kind, in feet (EPSG:3435)
SIMPLIFY_FT = {"community_area": 60.0, "district": 60.0, "ward": 40.0, "beat": 30.0}


def unit_names(kind: str, data_dir: str | Path | None = None, source=None) -> dict[str, str]:
    """The names of the units of ``kind`` of a city (default Chicago), by code: read from the
    boundary file's ``name_property`` when the profile names one (upper-case names title-cased),
    then the profile's own ``names`` table over them. Empty when the city names none."""
    from ..datasets import get_profile

    prof = get_profile(source)
    if kind not in prof.area_kinds:
        return {}
    spec = prof.area_kind(kind)
    names: dict[str, str] = {}
    if spec.name_property and spec.boundary:
        from ..reference import data_root
        from ..spatial.grid import boundaries_dir, read_geojson
        from ..spatial.units import normalise_code

        # where AreaUnits.load reads the same file (Chicago's folder may be given itself)
        path = (Path(boundaries_dir(data_dir)) / Path(spec.boundary).name if prof.key == "chicago"
                else Path(data_root(data_dir)) / spec.boundary)
        props, _g = read_geojson(path)
        for p in props:
            code, name = normalise_code(p.get(spec.code_property)), p.get(spec.name_property)
            if code and name:
                name = str(name).strip()
                names[code] = name.title() if name.isupper() else name
    names.update(spec.names)
    return names


def _names_source(prof, kind: str) -> str:
    spec = prof.area_kinds.get(kind)
    return f"; {spec.names_source}" if spec is not None and spec.names_source else ""


def _label_point(g):
    """A point well inside ``g`` for its label (pole of inaccessibility of its largest part)."""
    import shapely
    from shapely.ops import polylabel

    parts = list(getattr(g, "geoms", [g]))
    big = max(parts, key=lambda p: p.area)
    try:
        return polylabel(big, tolerance=max(big.length / 400.0, 1.0))
    except Exception:  # noqa: BLE001 - a degenerate part: any point on it will do
        return shapely.point_on_surface(big)


def _labels_lonlat(geoms, crs) -> list[list[float]]:
    import numpy as np

    from ..spatial.grid import LONLAT_CRS, transform_xy

    pts = [_label_point(g) for g in geoms]
    lon, lat = transform_xy(np.array([p.x for p in pts]), np.array([p.y for p in pts]), crs, LONLAT_CRS)
    return [[round(float(a), 5), round(float(b), 5)] for a, b in zip(lon, lat)]


def _round(coords, nd=5):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), nd) for c in coords]
    return [_round(c, nd) for c in coords]


@functools.lru_cache(maxsize=16)
def _build(kind: str, data_dir: str | None, source: str = "chicago") -> bytes:
    import shapely

    if source != "chicago":
        return _build_other(kind, data_dir, source)

    from ..datasets import get_profile
    from ..spatial.grid import CHICAGO_CRS, LONLAT_CRS, project_geometry
    from ..spatial.units import UNIT_KINDS, AreaUnits

    units = AreaUnits.load(kind, data_dir)
    names = unit_names(kind, data_dir, source)
    simple = shapely.simplify(units.geometries, SIMPLIFY_FT[kind], preserve_topology=True)
    lonlat = project_geometry(simple, CHICAGO_CRS, LONLAT_CRS)
    labels = _labels_lonlat(units.geometries, CHICAGO_CRS)
    feats = []
    for code, g, at in zip(units.unit_ids, lonlat, labels):
        geom = json.loads(shapely.to_geojson(g))
        geom["coordinates"] = _round(geom["coordinates"])
        props = {"unit": str(code), "label_at": at}
        if str(code) in names:
            props["name"] = names[str(code)]
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    doc = {"type": "FeatureCollection", "features": feats,
           "crs_note": "RFC 7946 (WGS84 lon/lat)",
           "source": f"City of Chicago boundaries ({UNIT_KINDS[kind][0]}), simplified "
                     f"{SIMPLIFY_FT[kind]:g} ft with shapely; label_at: a point inside each unit for its label "
                     "(pole of inaccessibility of its largest part)" + _names_source(get_profile(source), kind)}
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
    labels = _labels_lonlat(units.geometries, units.crs)
    names = unit_names(kind, data_dir, prof)
    feats = []
    for code, g, at in zip(units.unit_ids, lonlat, labels):
        geom = json.loads(shapely.to_geojson(g))
        geom["coordinates"] = _round(geom["coordinates"])
        props = {"unit": str(code), "label_at": at}
        if str(code) in names:
            props["name"] = names[str(code)]
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    doc = {"type": "FeatureCollection", "features": feats, "crs_note": "RFC 7946 (WGS84 lon/lat)",
           "source": f"{prof.publisher} boundaries ({Path(spec.boundary).name}), simplified "
                     f"{tol:g} {prof.unit_abbrev} with shapely" + _names_source(prof, kind)}
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


def _number_key(code: str):
    return (0, int(code), "") if code.isdigit() else (1, 0, code)


@functools.lru_cache(maxsize=32)
def _choices(kind: str, data_dir: str | None, source: str) -> tuple[tuple[str, str], ...]:
    doc = json.loads(geojson_bytes(kind, data_dir, source))
    word = kind.replace("_", " ")
    out = []
    for ft in doc["features"]:
        code, name = ft["properties"]["unit"], ft["properties"].get("name")
        if kind == "community_area":
            out.append((code, f"{name} ({code})" if name else f"{word} {code}"))
        else:
            out.append((code, f"{word.capitalize()} {code}" + (f" ({name})" if name else "")))
    if kind == "community_area":
        out.sort(key=lambda c: c[1])
    else:
        out.sort(key=lambda c: _number_key(c[0]))
    return tuple(out)


def area_choices(kind: str, data_dir: str | Path | None = None, source: str | None = None) -> list[tuple[str, str]]:
    """``(code, label)`` of every unit of ``kind`` from the shipped boundaries, for the area pickers:
    districts, beats and wards by number ("District 11 (Harrison)"), community areas by name
    ("Austin (25)")."""
    from ..datasets import get_profile

    prof = get_profile(source)
    return list(_choices(kind, str(data_dir) if data_dir else None, prof.key))
