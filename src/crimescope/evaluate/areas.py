"""Treated areas that are not administrative units: grid cells and drawn polygons.

A strategy is often tried in a few blocks, a corridor or a set of hot-spot cells, not
in a whole district. :func:`polygon_area` and :func:`cells_area` describe such an area
(a :class:`TreatedArea`, a polygon in the city's CRS) and :func:`build_area_panel`
builds the panel every evaluation method reads:

* the **treated unit** ``area``: the records whose point lies inside the polygon
  (records without coordinates cannot be placed and are counted in the notes);
* a **ring** ``ring``: the records within ``ring`` CRS units around it (default a
  quarter mile, 1,320 ft), outside the polygon. It is WDD's buffer (did crime move next
  door?) and is left out of every other method's panel, so that displaced crime never
  serves as a comparison;
* the **controls**: the areas of ``control_kind`` (default district) that do not touch
  the polygon grown by the ring, counted by their own area code as in
  :func:`~crimescope.evaluate.panel.build_panel`. Areas touching the polygon or its ring
  are left out (named in the notes): they hold the treated records or their neighbours.

DiD and Callaway-Sant'Anna compare changes in records per period: a treated area much
smaller than the control areas makes their additive reading doubtful (a warning says
so); synthetic control (indexed series) and WDD (controls scaled to the area's size)
are scale-free. Cells are the grid's square cells (:class:`crimescope.spatial.grid.Grid`,
lattice ids ``row * nx + col``); a set of cells is the polygon of their union.

Bad areas are refused with a :class:`~crimescope.errors.ParameterError`: an empty or
invalid polygon (self-intersecting, too few points), one outside the city, a cell id not
on the grid, an area so large that no control area is left.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ParameterError

__all__ = ["TreatedArea", "polygon_area", "cells_area", "build_area_panel", "count_inside", "AREA_CODE",
           "RING_CODE", "DEFAULT_RING_FT"]

#: the unit codes of the treated area and its ring in an area panel
AREA_CODE = "area"
RING_CODE = "ring"
#: default ring width: a quarter mile, in US survey feet (converted to the CRS unit)
DEFAULT_RING_FT = 1320.0
_FOOT_M = 0.3048006096012192
LONLAT = ("EPSG:4326", "lonlat", "lon/lat", "wgs84", "crs84")


@dataclass(frozen=True)
class TreatedArea:
    """A treated area given as a shape.

    Attributes
    ----------
    geometry : shapely Polygon or MultiPolygon
        In ``crs`` (the city profile's projected CRS), clipped to the city outline.
    crs : str
    label : str
        What it is (``"drawn polygon"``, ``"3 grid cells of 500 ft"``).
    origin : str
        How it was given (file name, ``WKT``, cell ids), for the notes.
    notes : list of str
        What was done to it (clipped to the city, projected from lon/lat).
    """

    geometry: Any
    crs: str
    label: str
    origin: str
    notes: list = field(default_factory=list)

    @property
    def area(self) -> float:
        return float(self.geometry.area)

    def describe(self) -> str:
        return f"{self.label} ({self.origin}), {self.area:,.0f} square {self.crs} units"


def _profile(profile):
    from ..datasets import get_profile

    return get_profile(profile)


def _outline(prof):
    from ..spatial.grid import city_outline

    return city_outline(prof)


def _finish(geom, prof, label: str, origin: str, notes: list) -> TreatedArea:
    """Check a projected geometry and clip it to the city (ParameterError when unusable)."""
    import shapely

    if geom is None or shapely.is_empty(geom):
        raise ParameterError(f"the treated area ({origin}) is empty")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ParameterError(f"the treated area ({origin}) is a {geom.geom_type}, not a polygon")
    if not shapely.is_valid(geom):
        raise ParameterError(f"the treated area ({origin}) is not a valid polygon: "
                             f"{shapely.is_valid_reason(geom)} (a ring crossing itself, or repeated points)")
    if not geom.area > 0:
        raise ParameterError(f"the treated area ({origin}) has no area")
    city = _outline(prof)
    inside = shapely.intersection(geom, city)
    if shapely.is_empty(inside) or inside.area <= 0:
        raise ParameterError(f"the treated area ({origin}) lies outside {prof.name}: no record can fall in it "
                             f"(coordinates in {prof.crs}; give --crs EPSG:4326 for lon/lat)")
    share = inside.area / geom.area
    if share < 1 - 1e-9:
        notes = notes + [f"{100 * (1 - share):.1f}% of the drawn area lies outside {prof.name} and was cut off"]
    if inside.geom_type not in ("Polygon", "MultiPolygon"):  # a clip can leave lines: keep the polygons
        parts = [g for g in shapely.get_parts(inside) if g.geom_type in ("Polygon", "MultiPolygon")]
        inside = shapely.union_all(parts)
    return TreatedArea(inside, prof.crs, label, origin, notes)


def _read_geometry(value):
    """A shapely geometry from GeoJSON (text, dict, file) or WKT; also returns its kind and origin."""
    import shapely

    origin = "given"
    text = value
    if isinstance(value, Path) or (isinstance(value, str) and len(value) < 400 and "\n" not in value
                                   and Path(value).suffix.lower() in (".geojson", ".json", ".wkt", ".txt")):
        p = Path(value)
        if not p.exists():
            raise ParameterError(f"polygon file not found: {p}")
        text, origin = p.read_text(encoding="utf-8"), p.name
    if isinstance(text, dict):
        doc = text
    else:
        s = str(text).strip()
        if not s:
            raise ParameterError("the treated area is empty: no polygon given")
        if s[0] in "{[":
            try:
                doc = json.loads(s)
            except ValueError as exc:
                raise ParameterError(f"cannot read the polygon as GeoJSON: {exc}") from exc
        else:
            try:
                return shapely.from_wkt(s), "wkt", origin if origin != "given" else "WKT"
            except Exception as exc:  # shapely raises its own GEOSException
                raise ParameterError(f"cannot read the polygon as WKT or GeoJSON: {exc}") from exc
    if isinstance(doc, list):  # [[lon, lat], ...]: one ring
        return _ring(doc), "lonlat-list", origin if origin != "given" else "lon/lat list"
    try:
        if doc.get("type") == "FeatureCollection":
            geoms = [shapely.from_geojson(json.dumps(f["geometry"])) for f in doc["features"]]
            if not geoms:
                raise ParameterError("the GeoJSON FeatureCollection has no feature: the treated area is empty")
            g = shapely.union_all(geoms)
        elif doc.get("type") == "Feature":
            g = shapely.from_geojson(json.dumps(doc["geometry"]))
        else:
            g = shapely.from_geojson(json.dumps(doc))
    except ParameterError:
        raise
    except Exception as exc:
        raise ParameterError(f"cannot read the polygon as GeoJSON: {exc}") from exc
    return g, "geojson", origin if origin != "given" else "GeoJSON"


def _ring(points):
    import shapely

    try:
        pts = [(float(p[0]), float(p[1])) for p in points]
    except (TypeError, ValueError, IndexError) as exc:
        raise ParameterError(f"a lon/lat list needs pairs of numbers: {exc}") from exc
    if len(pts) < 3:
        raise ParameterError(f"a polygon needs at least 3 points, got {len(pts)}: the treated area is empty")
    return shapely.Polygon(pts)


def parse_lonlat_list(text: str) -> list:
    """``"lon lat, lon lat, ..."`` (or ``;``-separated) -> ``[[lon, lat], ...]``."""
    out = []
    for part in str(text).replace(";", ",").split(","):
        xs = part.split()
        if not xs:
            continue
        if len(xs) != 2:
            raise ParameterError(f"cannot read {part.strip()!r} as 'lon lat'")
        try:
            out.append([float(xs[0]), float(xs[1])])
        except ValueError as exc:
            raise ParameterError(f"cannot read {part.strip()!r} as 'lon lat': {exc}") from exc
    return out


def polygon_area(value, crs: str | None = None, *, profile=None, label: str = "drawn polygon") -> TreatedArea:
    """A treated area from a polygon: GeoJSON (text, dict or ``.geojson`` file), WKT, or a lon/lat list.

    ``crs`` says what the coordinates are: ``"EPSG:4326"`` (lon/lat) or the city profile's
    CRS (``EPSG:3435`` for Chicago, US feet). GeoJSON and lon/lat lists default to lon/lat
    (RFC 7946); WKT has no default: its CRS must be stated. The polygon is projected to the
    profile's CRS with pyproj and clipped to the city outline.
    """
    from ..spatial.grid import LONLAT_CRS, project_geometry

    prof = _profile(profile)
    if isinstance(value, str) and re.fullmatch(r"[\s\d.,;+\-eE]+", value) and any(c.isdigit() for c in value):
        value = parse_lonlat_list(value)  # "lon lat, lon lat, ..."
    geom, kind, origin = _read_geometry(value)
    if crs is None:
        if kind == "wkt":
            raise ParameterError(f"state the CRS of the WKT polygon: EPSG:4326 for lon/lat or {prof.crs} "
                                 f"({prof.linear_unit})")
        crs = LONLAT_CRS
    notes = []
    if str(crs).lower() in [c.lower() for c in LONLAT]:
        import shapely

        if geom is not None and not shapely.is_empty(geom):
            b = shapely.bounds(geom)
            if not (-180 <= b[0] <= 180 and -180 <= b[2] <= 180 and -90 <= b[1] <= 90 and -90 <= b[3] <= 90):
                raise ParameterError(f"the polygon's coordinates are not lon/lat (bounds {b.round(1).tolist()}): "
                                     f"state its CRS (e.g. {prof.crs})")
            geom = project_geometry(geom, LONLAT_CRS, prof.crs)
        notes.append(f"polygon given in lon/lat (EPSG:4326), projected to {prof.crs} with pyproj")
    elif str(crs).upper() != str(prof.crs).upper():
        import shapely

        if geom is not None and not shapely.is_empty(geom):
            try:
                geom = project_geometry(geom, str(crs), prof.crs)
            except Exception as exc:
                raise ParameterError(f"cannot convert the polygon from {crs} to {prof.crs}: {exc}") from exc
        notes.append(f"polygon given in {crs}, projected to {prof.crs} with pyproj")
    return _finish(geom, prof, label, origin, notes)


def cells_area(cell_ids: Sequence[int] | str, cell_size: float | None = None, *, profile=None) -> TreatedArea:
    """A treated area from grid cells: their lattice ids on the city's grid of ``cell_size`` (CRS units).

    The grid is :meth:`crimescope.spatial.grid.Grid.for_profile` (Chicago: 500 ft cells over
    the city by default, ids as in ``crimescope hotspots``/forecast outputs). An id not among
    the grid's kept cells is refused.
    """
    import shapely

    from ..spatial.grid import Grid

    if isinstance(cell_ids, str):
        parts = [c.strip() for c in cell_ids.split(",") if c.strip()]
    else:
        parts = list(cell_ids)
    if not parts:
        raise ParameterError("no grid cell given: the treated area is empty")
    try:
        ids = sorted({int(c) for c in parts})
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"grid cell ids must be integers (lattice ids), got {parts!r}") from exc
    prof = _profile(profile)
    grid = Grid.for_profile(prof, cell_size)
    pos = np.searchsorted(grid.unit_ids, ids)
    bad = [c for c, i in zip(ids, pos) if i >= grid.n_units or grid.unit_ids[i] != c]
    if bad:
        raise ParameterError(f"grid cell(s) {', '.join(map(str, bad[:10]))} are not cells of the "
                             f"{grid.cell_size:g}-unit grid over {prof.name} ({grid.n_units} cells, ids "
                             f"{grid.unit_ids[0]} to {grid.unit_ids[-1]})")
    x0, y0, x1, y1 = (a[pos] for a in grid.bounds())
    geom = shapely.union_all(shapely.box(x0, y0, x1, y1))
    label = f"{len(ids)} grid cell{'s' if len(ids) > 1 else ''} of {grid.cell_size:g} {prof.unit_abbrev}"
    origin = "cells " + ",".join(map(str, ids[:20])) + ("..." if len(ids) > 20 else "")
    return _finish(geom, prof, label, origin, [f"cells of the grid over {prof.name}, lattice id = row * "
                                               f"{grid.nx} + col, lower-left corner ({grid.x0:.0f}, {grid.y0:.0f})"])


def count_inside(x, y, days, geometry, periods: Sequence[dt.date], step: str) -> np.ndarray:
    """Records per period whose point lies inside ``geometry`` (boundary points count as inside).

    ``x``, ``y`` in the geometry's CRS; ``days`` their local dates; ``periods`` the first days
    of the panel's periods. Records outside every period, or without coordinates, are not counted.
    """
    import shapely

    from .panel import period_end

    x = np.asarray(x, float)
    y = np.asarray(y, float)
    d = np.asarray(days, dtype="datetime64[D]")
    out = np.zeros(len(periods))
    if x.size == 0:
        return out
    ok = np.isfinite(x) & np.isfinite(y)
    inside = np.zeros(x.size, bool)
    if ok.any():
        shapely.prepare(geometry)
        inside[ok] = shapely.intersects_xy(geometry, x[ok], y[ok])
    starts = np.array(periods, dtype="datetime64[D]")
    last = np.datetime64(period_end(periods[-1], step), "D")
    j = np.searchsorted(starts, d[inside], side="right") - 1
    keep = (j >= 0) & (d[inside] <= last)
    np.add.at(out, j[keep], 1.0)
    return out


def build_area_panel(store, category, treated: TreatedArea, start=None, end=None, step: str = "month", *,
                     control_kind: str = "district", ring: float | None = None, source: str = "chicago",
                     vintage=None):
    """The panel of a treated shape: its records, a ring around it, and the control areas away from it.

    Parameters
    ----------
    store, category, start, end, step, source, vintage
        As :func:`crimescope.evaluate.panel.build_panel` (the same coverage rule).
    treated : TreatedArea
        From :func:`polygon_area` or :func:`cells_area`.
    control_kind : {"district", "beat", "ward", "community_area"}
        The control areas: those of this kind not touching the treated area grown by ``ring``.
    ring : float, optional
        Width of the ring in CRS units (default a quarter mile: 1,320 ft).

    Returns a :class:`~crimescope.evaluate.panel.Panel` whose units are ``area`` (treated),
    ``ring`` (WDD's buffer; the other methods leave it out: ``meta["buffer_units"]``) and the
    control areas' codes.
    """
    import shapely

    from ..spatial.units import AreaUnits
    from ..stats.events import load_events
    from .panel import UNIT_KINDS, Panel, build_panel

    if not isinstance(treated, TreatedArea):
        raise ParameterError("treated must be a TreatedArea (polygon_area or cells_area)")
    if control_kind not in UNIT_KINDS:
        raise ParameterError(f"invalid control_kind={control_kind!r}: expected one of {', '.join(UNIT_KINDS)}")
    prof = _profile(source)
    if ring is None:
        ring = round(DEFAULT_RING_FT * _FOOT_M / prof.metres_per_unit, 6)
    if isinstance(ring, bool) or not isinstance(ring, (int, float)) or not np.isfinite(ring) or ring <= 0:
        raise ParameterError(f"invalid ring={ring!r}: expected a positive width in {prof.crs} units")
    base = build_panel(store, category, control_kind, start, end, step, source=source, vintage=vintage)
    units = AreaUnits.load(control_kind, profile=prof)
    grown = shapely.buffer(treated.geometry, float(ring))
    ring_geom = shapely.difference(grown, treated.geometry)
    touching = {str(u) for u, g in zip(units.unit_ids, units.geometries) if shapely.intersects(g, grown)}
    controls = [u for u in base.unit_ids if u not in touching]
    if len(controls) < 2:
        raise ParameterError(f"the treated area and its ring touch {len(touching)} of the {base.n_units} "
                             f"{control_kind}s: fewer than 2 control areas are left (use a smaller area or "
                             "control_kind='beat')")
    p0, p1 = base.span
    ev = load_events(store, base.category, p0, p1, source=source, vintage=vintage)
    days = ev["occurred_local"].dt.date.to_numpy()
    x, y = ev["x"].to_numpy(float), ev["y"].to_numpy(float)
    n_noloc = int((~(np.isfinite(x) & np.isfinite(y))).sum())
    a = count_inside(x, y, days, treated.geometry, base.periods, step)
    r = count_inside(x, y, days, ring_geom, base.periods, step)
    if a.sum() == 0:
        raise ParameterError(f"no {base.category} record of {p0} to {p1} lies inside the treated area "
                             f"({treated.describe()}): nothing to evaluate")
    sub = base.subset(units=controls)
    counts = np.vstack([a, r, sub.counts])
    meta = dict(base.meta)
    notes = list(meta.get("notes", [])) + list(treated.notes) + [
        f"treated unit '{AREA_CODE}': the records whose point lies inside the {treated.label} "
        f"({treated.origin}; boundary points count as inside); {n_noloc} of {len(ev)} records have no "
        "coordinates and cannot be placed",
        f"unit '{RING_CODE}': the records within {ring:g} {prof.unit_abbrev} around it (WDD's buffer; left out "
        "of the other methods' panels)",
        f"controls: the {len(controls)} {control_kind}s not touching the treated area grown by {ring:g} "
        f"{prof.unit_abbrev}, counted by their own {control_kind} code" +
        (f"; left out as touching it: {', '.join(sorted(touching, key=lambda c: (len(c), c)))}" if touching else ""),
    ]
    meta.update({
        "title": f"{meta.get('title', '')}: {treated.label} vs {control_kind}s away from it",
        "unit": f"{meta.get('unit', '')} (the treated area and its ring: records inside them)",
        "notes": notes,
        "treated_area": {"label": treated.label, "origin": treated.origin, "crs": treated.crs,
                         "area": treated.area, "wkt": treated.geometry.wkt if treated.geometry.area else None,
                         "ring": float(ring), "control_kind": control_kind,
                         "controls_left_out": sorted(touching)},
        "buffer_units": [RING_CODE],
        "n_no_location": n_noloc,
    })
    return Panel(counts, np.array([AREA_CODE, RING_CODE] + list(controls), dtype=object), list(base.periods),
                 step, f"{control_kind}+area", base.category, meta)
