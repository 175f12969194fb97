"""Administrative units (beats, districts, wards, community areas) and counting events in units.

:func:`load_units` turns a unit spec (``grid``, ``beat``, ..., ``h3:9``) into the
units object every analysis takes: a :class:`~crimescope.spatial.grid.Grid`, an
:class:`AreaUnits` or a :class:`~crimescope.spatial.hexgrid.HexGrid`.

Boundaries are the City of Chicago portal GeoJSON exports in
``<shared data>/chicago/boundaries`` (EPSG:4326), projected to EPSG:3435 with
pyproj. Multi-part units (beat 3100, district 31) are merged into one geometry
per code.

Counting (:func:`count_in_units`) uses the record's own area code when it has
one and a spatial join (point in polygon) when it does not; records with neither
a code nor coordinates are counted in ``n_unassigned`` and reported, never
dropped silently.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError
from .grid import CHICAGO_CRS, LONLAT_CRS, Grid, boundaries_dir, project_geometry, read_geojson

__all__ = ["AreaUnits", "UnitCounts", "count_in_units", "assign_units", "load_units", "UNIT_KINDS"]


def _chicago_kinds() -> dict[str, tuple[str, str, str]]:
    from ..datasets import get_profile

    return {k: (Path(a.boundary).name, a.code_property, a.column)
            for k, a in get_profile("chicago").area_kinds.items() if a.has_boundary}


#: Chicago's unit kinds -> (file, property holding the code, events column); read from the
#: Chicago profile (crimescope/datasets/chicago.yaml), where area kinds are declared once
UNIT_KINDS: dict[str, tuple[str, str, str]] = _chicago_kinds()


def normalise_code(v: Any) -> str | None:
    """Area codes as canonical text: ``'012'``, ``12``, ``12.0`` -> ``'12'``; blanks -> None."""
    if v is None:
        return None
    if isinstance(v, float):
        if not np.isfinite(v):
            return None
        return str(int(v)) if v == int(v) else str(v)
    s = str(v).strip()
    if s == "" or s.lower() in ("nan", "none", "<na>"):
        return None
    try:
        f = float(s)
        if np.isfinite(f) and f == int(f):
            return str(int(f))
    except ValueError:
        pass
    return s


class AreaUnits:
    """Polygons of one kind of administrative unit, in a projected CRS.

    Attributes
    ----------
    kind : str
        ``beat``, ``district``, ``ward`` or ``community_area``.
    crs : str
    unit_ids : ndarray of str
        Canonical codes (``'1713'``, ``'12'``), sorted numerically.
    n_units : int
    geometries : ndarray of shapely geometries (CRS units)
    area : ndarray of float
        Area of each unit (CRS units squared).
    """

    def __init__(self, kind: str, unit_ids: Any, geometries: Any, crs: str = CHICAGO_CRS) -> None:
        import shapely

        self.kind = kind
        self.crs = crs
        self.unit_ids = np.asarray(unit_ids, dtype=object)
        self.geometries = np.asarray(geometries, dtype=object)
        self.n_units = int(self.unit_ids.size)
        self.area = shapely.area(self.geometries).astype(float)
        self._pos = {u: i for i, u in enumerate(self.unit_ids)}
        self._tree = None
        self._column: str | None = None

    @classmethod
    def load(cls, kind: str, data_dir: str | Path | None = None, profile: Any = None) -> "AreaUnits":
        """Units of ``kind`` of a city (default Chicago) from its reference boundaries (cached per process)."""
        from ..datasets import get_profile

        prof = get_profile(profile)
        if prof.key != "chicago":
            spec = prof.area_kind(kind)
            if not spec.has_boundary:
                raise ParameterError(f"{prof.name}: no boundary of {spec.label}s is shipped; count by "
                                     f"{spec.column} code instead (mapped kinds: {', '.join(prof.mapped_kinds()) or 'none'})")
            from ..reference import data_root

            return _load_area(prof.key, kind, str(data_root(data_dir) / spec.boundary), spec.code_property,
                              prof.crs)
        if kind not in UNIT_KINDS:
            raise ParameterError(f"unknown unit kind {kind!r}; choose from {', '.join(UNIT_KINDS)}")
        return _load_units(kind, str(boundaries_dir(data_dir)))

    @property
    def column(self) -> str:
        """The events column holding this kind's code."""
        return self._column or UNIT_KINDS[self.kind][2]

    # the protocol shared with Grid -------------------------------------
    def locate(self, x: Any, y: Any) -> np.ndarray:
        """Index of the unit containing each point (-1 outside / missing); vectorised STRtree join."""
        import shapely

        xs = np.asarray(x, dtype=float).ravel()
        ys = np.asarray(y, dtype=float).ravel()
        out = np.full(xs.size, -1, dtype=np.int64)
        ok = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
        if ok.size == 0:
            return out
        if self._tree is None:
            self._tree = shapely.STRtree(self.geometries)
        pts = shapely.points(xs[ok], ys[ok])
        pi, gi = self._tree.query(pts, predicate="intersects")
        # a point on a shared edge meets two units: keep the lowest unit index
        order = np.lexsort((gi, pi))
        pi, gi = pi[order], gi[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        out[ok[pi[first]]] = gi[first]
        return out

    def index_of(self, codes: Any) -> np.ndarray:
        """Unit index of each area code (-1 for blank or unknown codes)."""
        return np.array([self._pos.get(normalise_code(c), -1) for c in np.asarray(codes, dtype=object).ravel()],
                        dtype=np.int64)

    def centroids(self) -> tuple[np.ndarray, np.ndarray]:
        import shapely

        c = shapely.get_coordinates(shapely.centroid(self.geometries))
        return c[:, 0].copy(), c[:, 1].copy()

    def centroids_lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        from .grid import transform_xy

        cx, cy = self.centroids()
        return transform_xy(cx, cy, self.crs, LONLAT_CRS)

    def polygons(self) -> np.ndarray:
        return self.geometries

    def neighbours(self, order: int = 1):
        """Queen contiguity (shared boundary point) among units, as a 0/1 CSR matrix."""
        import scipy.sparse as sp
        import shapely

        tree = shapely.STRtree(self.geometries)
        a, b = tree.query(self.geometries, predicate="intersects")
        keep = a != b
        w = sp.csr_matrix((np.ones(keep.sum()), (a[keep], b[keep])), shape=(self.n_units, self.n_units))
        w.data[:] = 1.0
        if order > 1:
            reach = w.copy()
            step = w.copy()
            for _ in range(order - 1):
                step = (step @ w)
                step.data[:] = 1.0
                reach = reach + step
            reach.setdiag(0)
            reach.eliminate_zeros()
            reach.data[:] = 1.0
            w = reach.tocsr()
        return w

    @property
    def unit_label(self) -> str:
        return self.kind

    @property
    def code_column(self) -> str:
        """The events column holding this kind's code (``beat``, ``district``...): the shared
        units interface's name for :attr:`column`."""
        return self.column

    def default_band(self) -> float | None:
        """No default distance band: give a band, k-NN or ring order."""
        return None

    def band_weights(self, band: float):
        """Binary distance-band weights between clipped unit centroids, self excluded."""
        from .gistar import distance_band_weights

        cx, cy = self.centroids()
        return distance_band_weights(cx, cy, band)

    def __repr__(self) -> str:
        return f"AreaUnits(kind={self.kind!r}, n_units={self.n_units}, crs={self.crs!r})"


def _sort_key(code: str) -> tuple[int, Any]:
    try:
        return (0, float(code))
    except ValueError:
        return (1, code)


@functools.lru_cache(maxsize=8)
def _load_units(kind: str, folder: str) -> AreaUnits:
    fname, prop, _ = UNIT_KINDS[kind]
    return _read_units(kind, Path(folder) / fname, prop, CHICAGO_CRS)


@functools.lru_cache(maxsize=16)
def _load_area(key: str, kind: str, path: str, prop: str, crs: str) -> AreaUnits:
    from ..datasets import get_profile

    u = _read_units(kind, Path(path), prop, crs)
    u._column = get_profile(key).area_kinds[kind].column
    return u


def _read_units(kind: str, path: Path, prop: str, crs: str) -> AreaUnits:
    import shapely

    fname = path.name
    props, geoms = read_geojson(path)
    codes = [normalise_code(p.get(prop)) for p in props]
    if any(c is None for c in codes):
        raise ParameterError(f"{fname}: some features lack {prop}")
    projected = project_geometry(geoms, LONLAT_CRS, crs)
    groups: dict[str, list] = {}
    for c, g in zip(codes, projected):
        groups.setdefault(c, []).append(g)
    ids = sorted(groups, key=_sort_key)
    merged = [shapely.union_all(groups[c]) if len(groups[c]) > 1 else groups[c][0] for c in ids]
    merged = [shapely.make_valid(g) if not shapely.is_valid(g) else g for g in merged]
    return AreaUnits(kind, np.array(ids, dtype=object), np.array(merged, dtype=object), crs)


def load_units(spec: str, cell_size: float | None = None, data_dir: str | Path | None = None,
               profile: Any = None) -> Any:
    """The units of a city (default Chicago) named by ``spec``: ``grid`` (cells of ``cell_size``
    CRS units, feet for Chicago), one of the profile's area kinds (Chicago: ``beat``,
    ``district``, ``ward``, ``community_area``), or ``h3:RES`` (H3 hexagons of resolution RES).

    ``cell_size`` applies to the grid only (other units ignore it, as they always have).
    """
    from ..datasets import get_profile

    prof = get_profile(profile)
    s = str(spec).strip()
    if s == "grid":
        return Grid.for_profile(prof, cell_size, data_dir=data_dir)
    kinds = UNIT_KINDS if prof.key == "chicago" else prof.area_kinds
    if s in kinds:
        return AreaUnits.load(s, data_dir, profile=prof)
    if s.lower().startswith("h3"):
        from .hexgrid import HexGrid, parse_h3_spec

        if prof.key == "chicago":
            return HexGrid.chicago(parse_h3_spec(s), data_dir=data_dir)
        from .grid import city_outline

        return HexGrid.for_boundary(city_outline(prof, data_dir), parse_h3_spec(s), crs=prof.crs)
    raise ParameterError(f"units {s!r} are not one of grid, {', '.join(kinds)}, h3:RES (e.g. h3:9)")


@dataclass
class UnitCounts:
    """Events counted per unit, with the records that could not be placed.

    Attributes
    ----------
    units : Grid, AreaUnits or HexGrid
    counts : ndarray of float, shape (n_units,)
    unit_index : ndarray of int64, shape (n_input,)
        Unit of each input record (-1 when unplaced).
    n_input : int
        Records received.
    n_from_code : int
        Records placed by their own area code.
    n_from_join : int
        Records placed by a spatial join of their coordinates (no usable code).
    n_no_location : int
        Records without coordinates (placed only if they carried a code).
    n_unassigned : int
        Records in no unit: no code and no coordinates, or coordinates outside every unit.
    """

    units: Any
    counts: np.ndarray
    unit_index: np.ndarray
    n_input: int
    n_from_code: int
    n_from_join: int
    n_no_location: int
    n_unassigned: int
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.n_input:,} records: {self.n_from_code:,} placed by area code, {self.n_from_join:,} by "
                f"spatial join, {self.n_no_location:,} without coordinates, {self.n_unassigned:,} in no unit")


def assign_units(events: Any, units: Any, *, use_codes: bool = True) -> UnitCounts:
    """Place each record in a unit: its own area code first, a spatial join otherwise.

    ``events`` is a DataFrame with ``x``, ``y`` and, for area units, optionally the
    code column (``beat``, ``district``, ``ward``, ``community_area``). Grid cells
    and H3 hexagons are always placed by coordinates.
    """
    import pandas as pd

    if not isinstance(events, pd.DataFrame):
        raise ParameterError("events must be a DataFrame with columns x, y")
    n = len(events)
    x = pd.to_numeric(events["x"], errors="coerce").to_numpy(float) if "x" in events else np.full(n, np.nan)
    y = pd.to_numeric(events["y"], errors="coerce").to_numpy(float) if "y" in events else np.full(n, np.nan)
    located = np.isfinite(x) & np.isfinite(y)
    if "has_location" in events.columns:
        located &= events["has_location"].fillna(False).to_numpy(bool)
    idx = np.full(n, -1, dtype=np.int64)
    from_code = np.zeros(n, dtype=bool)
    col = getattr(units, "code_column", None)
    if col and use_codes:
        if col in events.columns:
            idx = units.index_of(events[col].to_numpy(dtype=object))
            from_code = idx >= 0
    need = ~from_code & located
    if need.any():
        idx[need] = units.locate(x[need], y[need])
    from_join = need & (idx >= 0)
    counts = np.bincount(idx[idx >= 0], minlength=_n_units(units)).astype(float)
    return UnitCounts(units=units, counts=counts, unit_index=idx, n_input=n,
                      n_from_code=int(from_code.sum()), n_from_join=int(from_join.sum()),
                      n_no_location=int((~located).sum()), n_unassigned=int((idx < 0).sum()))


def count_in_units(events: Any, units: Any, **kw: Any) -> UnitCounts:
    """Alias of :func:`assign_units` (the counts are in ``.counts``)."""
    return assign_units(events, units, **kw)


def _n_units(units: Any) -> int:
    return int(units.n_units)


def unit_table(units: Any) -> "Any":
    """DataFrame with one row per unit: ``unit``, ``x``, ``y``, ``lon``, ``lat``, ``area``."""
    import pandas as pd

    cx, cy = units.centroids()
    lon, lat = units.centroids_lonlat()
    ids = units.unit_ids
    return pd.DataFrame({"unit": ids, "x": cx, "y": cy, "lon": lon, "lat": lat, "area": units.area})
