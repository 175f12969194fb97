"""Square grid cells in a projected CRS, optionally clipped to a boundary.

A :class:`Grid` is a lattice of ``nx`` x ``ny`` square cells of side
``cell_size`` whose lower-left corner is ``(x0, y0)``, in the units of ``crs``
(for Chicago EPSG:3435, Illinois State Plane East, US survey feet). Cell
``(row, col)`` covers ``[x0 + col*s, x0 + (col+1)*s) x [y0 + row*s, y0 + (row+1)*s)``
and has the lattice id ``row * nx + col``.

Only *kept* cells are analysed: all of them for :meth:`Grid.regular`, those whose
intersection with the boundary has positive area for :meth:`Grid.for_boundary`
and :meth:`Grid.chicago`. Every per-cell array (``cell_ids``, ``area``, the
results of ``bounds()``, ``centroids()``...) is indexed 0..n_cells-1 over the kept
cells, in increasing lattice id (row-major, south to north, west to east).

Conventions (documented in docs/spatial.md):

* :meth:`Grid.locate` assigns a point to the lattice cell containing it
  (half-open intervals: a point on a shared edge belongs to the cell east / north
  of it). A point in a kept boundary cell but just outside the boundary polygon
  still gets that cell unless ``within_boundary=True`` is passed: geocoded points
  on city-limit streets are then not lost.
* :meth:`Grid.neighbours` with ``order=k`` links every pair of kept cells whose
  rows and columns both differ by at most ``k`` (queen contiguity, cumulative up
  to order ``k``), never a cell with itself.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse

__all__ = ["Grid", "chicago_boundary", "linear_unit", "project_geometry", "read_geojson"]

CHICAGO_CRS = "EPSG:3435"
LONLAT_CRS = "EPSG:4326"


def _check_cell_size(cell_size: float) -> float:
    try:
        s = float(cell_size)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"cell size must be a number, got {cell_size!r}") from exc
    if not math.isfinite(s) or s <= 0:
        raise ParameterError(f"cell size must be a positive number of CRS units, got {cell_size!r}")
    return s


def _as_float(a: Any) -> np.ndarray:
    """Coordinates as a float array; None and non-numbers become NaN."""
    arr = np.asarray(a)
    if arr.dtype.kind in "fiu":
        return arr.astype(np.float64, copy=False)
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        import pandas as pd

        return pd.to_numeric(pd.Series(arr.ravel()), errors="coerce").to_numpy(np.float64).reshape(arr.shape)


class Grid:
    """Square cells of a projected CRS; the kept cells are the analysis units.

    Attributes
    ----------
    crs : str
        CRS of the coordinates (e.g. ``"EPSG:3435"``).
    cell_size : float
        Side of a cell in CRS units (US feet for EPSG:3435).
    x0, y0 : float
        Lower-left corner of the full lattice.
    nx, ny : int
        Columns and rows of the full lattice.
    n_units : int
        Number of kept cells (the units interface shared with ``AreaUnits`` and
        ``HexGrid``; ``n_cells`` is a deprecated alias).
    unit_ids : ndarray of int64, shape (n_units,)
        Lattice id ``row * nx + col`` of each kept cell, increasing (``cell_ids`` is a
        deprecated alias).
    area : ndarray of float, shape (n_cells,)
        Area of each kept cell clipped to the boundary (CRS units squared).
    boundary : shapely geometry or None
        The clipping polygon (None for a regular grid).
    """

    def __init__(
        self,
        *,
        crs: str,
        cell_size: float,
        x0: float,
        y0: float,
        nx: int,
        ny: int,
        cell_ids: np.ndarray,
        area: np.ndarray,
        centroid_x: np.ndarray | None = None,
        centroid_y: np.ndarray | None = None,
        boundary: Any = None,
    ) -> None:
        self.crs = str(crs)
        self.cell_size = _check_cell_size(cell_size)
        self.x0 = float(x0)
        self.y0 = float(y0)
        self.nx = int(nx)
        self.ny = int(ny)
        if self.nx <= 0 or self.ny <= 0:
            raise ParameterError(f"a grid needs at least one row and column, got nx={nx}, ny={ny}")
        self.unit_ids = np.asarray(cell_ids, dtype=np.int64)
        self.area = np.asarray(area, dtype=np.float64)
        if self.cell_ids.ndim != 1 or self.area.shape != self.cell_ids.shape:
            raise ParameterError("cell_ids and area must be 1-d arrays of the same length")
        if self.cell_ids.size and (np.any(np.diff(self.cell_ids) <= 0) or self.cell_ids[0] < 0
                                   or self.cell_ids[-1] >= self.nx * self.ny):
            raise ParameterError("cell_ids must be increasing lattice ids within the lattice")
        self.n_units = int(self.unit_ids.size)
        self.boundary = boundary
        # lattice id -> kept index (or -1)
        lookup = np.full(self.nx * self.ny, -1, dtype=np.int64)
        lookup[self.cell_ids] = np.arange(self.n_cells, dtype=np.int64)
        self._lookup = lookup
        self.rows = self.cell_ids // self.nx
        self.cols = self.cell_ids % self.nx
        if centroid_x is None or centroid_y is None:
            centroid_x = self.x0 + (self.cols + 0.5) * self.cell_size
            centroid_y = self.y0 + (self.rows + 0.5) * self.cell_size
        self._cx = np.asarray(centroid_x, dtype=np.float64)
        self._cy = np.asarray(centroid_y, dtype=np.float64)
        self._prepared_boundary = None

    # -------------------------------------------------- the units interface
    @property
    def n_cells(self) -> int:
        """Deprecated alias of :attr:`n_units`."""
        return self.n_units

    @property
    def cell_ids(self) -> np.ndarray:
        """Deprecated alias of :attr:`unit_ids`."""
        return self.unit_ids

    @property
    def kind(self) -> str:
        return "grid"

    @property
    def unit_label(self) -> str:
        """What one unit is: ``'500 ft cell'`` (the length unit of the CRS, from pyproj)."""
        return f"{self.cell_size:g} {linear_unit(self.crs)[0]} cell"

    #: events column holding a unit code (None: cells are found from coordinates only)
    code_column = None

    def default_band(self) -> float:
        """The default distance band of Gi*: 3 cell sizes (CRS units)."""
        return 3 * self.cell_size

    def band_weights(self, band: float):
        """Binary distance-band weights between cell centres (lattice fast path), self included (the
        default of ``gistar.grid_band_weights``). Built once per band and kept on the grid (a hot spot
        map reads the same matrix every time): shared, so a caller must not change it in place."""
        from .gistar import grid_band_weights

        kept = self.__dict__.setdefault("_band_weights", {})
        key = float(band)
        w = kept.get(key)
        if w is None:
            w = kept[key] = grid_band_weights(self, band)
        return w

    # ------------------------------------------------------------------ build
    @classmethod
    def regular(cls, x0: float, y0: float, nx: int, ny: int, cell_size: float,
                crs: str = CHICAGO_CRS) -> "Grid":
        """A full ``nx`` x ``ny`` lattice, every cell kept, every cell of full area."""
        s = _check_cell_size(cell_size)
        nx, ny = int(nx), int(ny)
        if nx <= 0 or ny <= 0:
            raise ParameterError(f"a grid needs at least one row and column, got nx={nx}, ny={ny}")
        n = nx * ny
        return cls(crs=crs, cell_size=s, x0=x0, y0=y0, nx=nx, ny=ny,
                   cell_ids=np.arange(n, dtype=np.int64), area=np.full(n, s * s))

    @classmethod
    def for_boundary(cls, polygon: Any, cell_size: float, offset: tuple[float, float] = (0.0, 0.0),
                     crs: str = CHICAGO_CRS) -> "Grid":
        """Cells of side ``cell_size`` covering ``polygon`` (shapely, in ``crs`` units).

        The lattice is anchored so that cell edges fall on ``offset + k * cell_size``
        (``offset=(0, 0)`` puts edges on multiples of the cell size, so grids of
        different runs line up). Cells whose intersection with the polygon has
        positive area are kept, with their clipped area and clipped centroid.
        """
        import shapely

        s = _check_cell_size(cell_size)
        if polygon is None or shapely.is_empty(polygon) or polygon.area <= 0:
            raise ParameterError("the boundary must be a non-empty polygon")
        ox, oy = (float(v) for v in offset)
        minx, miny, maxx, maxy = polygon.bounds
        x0 = math.floor((minx - ox) / s) * s + ox
        y0 = math.floor((miny - oy) / s) * s + oy
        nx = max(1, int(math.ceil((maxx - x0) / s)))
        ny = max(1, int(math.ceil((maxy - y0) / s)))
        if nx * ny > 50_000_000:
            raise ParameterError(f"cell size {s:g} gives {nx}x{ny} cells: too many; use a larger cell")

        shapely.prepare(polygon)
        # 1. cells crossed by the boundary line are the only partial cells. Mark
        #    the cells holding the vertices of the densified outline and their 8
        #    neighbours as candidates (a segment no longer than s/2 can only pass
        #    through cells adjacent to its end points' cells).
        outline = shapely.segmentize(polygon.boundary, s / 2.0)
        coords = shapely.get_coordinates(outline)
        vc = np.floor((coords[:, 0] - x0) / s).astype(np.int64)
        vr = np.floor((coords[:, 1] - y0) / s).astype(np.int64)
        cand = np.zeros((ny, nx), dtype=bool)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                r, c = vr + dr, vc + dc
                ok = (r >= 0) & (r < ny) & (c >= 0) & (c < nx)
                cand[r[ok], c[ok]] = True
        # 2. every other cell lies wholly inside or wholly outside: test its centre.
        area = np.zeros((ny, nx))
        cxs = np.zeros((ny, nx))
        cys = np.zeros((ny, nx))
        rr, cc = np.nonzero(~cand)
        cx = x0 + (cc + 0.5) * s
        cy = y0 + (rr + 0.5) * s
        inside = shapely.contains_xy(polygon, cx, cy)
        area[rr[inside], cc[inside]] = s * s
        cxs[rr[inside], cc[inside]] = cx[inside]
        cys[rr[inside], cc[inside]] = cy[inside]
        # 3. clip the candidate cells exactly, block by block (clip the outline to
        #    a block of cells first so each cell clip sees few vertices).
        rr, cc = np.nonzero(cand)
        block = 32
        keys = (rr // block) * (nx // block + 1) + cc // block
        order = np.argsort(keys, kind="stable")
        rr, cc, keys = rr[order], cc[order], keys[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], keys.size]
        for a, b in zip(starts, ends):
            br, bc = rr[a] // block, cc[a] // block
            bx0, by0 = x0 + bc * block * s, y0 + br * block * s
            piece = shapely.clip_by_rect(polygon, bx0, by0, bx0 + block * s, by0 + block * s)
            if shapely.is_empty(piece):
                continue
            r, c = rr[a:b], cc[a:b]
            boxes = shapely.box(x0 + c * s, y0 + r * s, x0 + (c + 1) * s, y0 + (r + 1) * s)
            parts = shapely.intersection(boxes, piece)
            ar = shapely.area(parts)
            keep = ar > 0
            cen = shapely.get_coordinates(shapely.centroid(parts[keep]))
            area[r[keep], c[keep]] = ar[keep]
            cxs[r[keep], c[keep]] = cen[:, 0]
            cys[r[keep], c[keep]] = cen[:, 1]
        flat = area.ravel()
        ids = np.flatnonzero(flat > 0).astype(np.int64)
        return cls(crs=crs, cell_size=s, x0=x0, y0=y0, nx=nx, ny=ny, cell_ids=ids,
                   area=flat[ids], centroid_x=cxs.ravel()[ids], centroid_y=cys.ravel()[ids],
                   boundary=polygon)

    @classmethod
    def chicago(cls, cell_size: float | None = None, offset: tuple[float, float] = (0.0, 0.0),
                data_dir: str | Path | None = None) -> "Grid":
        """Cells over the City of Chicago (union of the 77 community areas), EPSG:3435.

        ``cell_size`` defaults to the ``cell_size_ft`` setting (500 ft). The
        boundary comes from ``<data_dir or settings.shared_data_dir()>/chicago/
        boundaries/community_areas.geojson``, projected from EPSG:4326 with pyproj;
        it is read and projected once per process.
        """
        from .. import settings

        if cell_size is None:
            cell_size = settings.get("cell_size_ft")
        boundary = chicago_boundary(data_dir)
        return cls.for_boundary(boundary, cell_size, offset=offset, crs=CHICAGO_CRS)

    @classmethod
    def for_profile(cls, profile: Any = None, cell_size: float | None = None,
                    offset: tuple[float, float] = (0.0, 0.0), data_dir: str | Path | None = None) -> "Grid":
        """Cells over a city (its profile's outline, else its declared extent), in its CRS.

        ``cell_size`` is in the CRS's unit; by default the ``cell_size_ft`` setting converted
        to that unit with pyproj's unit factor. Chicago's grid is :meth:`chicago`'s.
        """
        from ..datasets import get_profile

        prof = get_profile(profile)
        if prof.key == "chicago":
            return cls.chicago(cell_size, offset=offset, data_dir=data_dir)
        return cls.for_boundary(city_outline(prof, data_dir), default_cell_size(prof, cell_size),
                                offset=offset, crs=prof.crs)

    # ------------------------------------------------------------------ query
    def locate(self, x: Any, y: Any, *, within_boundary: bool = False) -> np.ndarray:
        """Index (0..n_cells-1) of the kept cell holding each point; -1 outside, None or NaN.

        Vectorised: one pass of arithmetic and one table look-up. With
        ``within_boundary=True`` points of boundary cells that fall outside the
        boundary polygon also get -1 (a point-in-polygon test for those only).
        """
        xs = _as_float(x)
        ys = _as_float(y)
        if xs.shape != ys.shape:
            raise ParameterError(f"x and y must have the same shape, got {xs.shape} and {ys.shape}")
        xs = xs.ravel()
        ys = ys.ravel()
        s = self.cell_size
        with np.errstate(invalid="ignore"):
            fc = np.floor((xs - self.x0) / s)
            fr = np.floor((ys - self.y0) / s)
            ok = (fc >= 0) & (fc < self.nx) & (fr >= 0) & (fr < self.ny)  # False for NaN
        out = np.full(xs.size, -1, dtype=np.int64)
        lat = fr[ok].astype(np.int64) * self.nx + fc[ok].astype(np.int64)
        out[ok] = self._lookup[lat]
        if within_boundary and self.boundary is not None:
            full = self.cell_size * self.cell_size
            hit = np.flatnonzero(out >= 0)
            partial = hit[self.area[out[hit]] < full * (1 - 1e-9)]
            if partial.size:
                import shapely

                if self._prepared_boundary is None:
                    shapely.prepare(self.boundary)
                    self._prepared_boundary = self.boundary
                inside = shapely.intersects_xy(self.boundary, xs[partial], ys[partial])
                out[partial[~inside]] = -1
        return out

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``x_min, y_min, x_max, y_max`` of each kept cell (unclipped squares)."""
        s = self.cell_size
        xmin = self.x0 + self.cols * s
        ymin = self.y0 + self.rows * s
        return xmin, ymin, xmin + s, ymin + s

    def centroids(self) -> tuple[np.ndarray, np.ndarray]:
        """``x, y`` of each kept cell's centroid after clipping to the boundary."""
        return self._cx.copy(), self._cy.copy()

    def centroids_lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """Longitude, latitude (EPSG:4326) of the clipped centroids, converted with pyproj."""
        return transform_xy(self._cx, self._cy, self.crs, LONLAT_CRS)

    def neighbours(self, order: int = 1) -> "scipy.sparse.csr_matrix":
        """Queen adjacency among kept cells, cumulative up to ``order`` (n_cells x n_cells, 0/1)."""
        import scipy.sparse as sp

        k = int(order)
        if k < 1:
            raise ParameterError(f"neighbour order must be >= 1, got {order!r}")
        src, dst = [], []
        idx = np.arange(self.n_cells, dtype=np.int64)
        for dr in range(-k, k + 1):
            for dc in range(-k, k + 1):
                if dr == 0 and dc == 0:
                    continue
                r = self.rows + dr
                c = self.cols + dc
                ok = (r >= 0) & (r < self.ny) & (c >= 0) & (c < self.nx)
                j = np.full(self.n_cells, -1, dtype=np.int64)
                j[ok] = self._lookup[r[ok] * self.nx + c[ok]]
                m = j >= 0
                src.append(idx[m])
                dst.append(j[m])
        i = np.concatenate(src) if src else np.empty(0, np.int64)
        j = np.concatenate(dst) if dst else np.empty(0, np.int64)
        w = sp.csr_matrix((np.ones(i.size), (i, j)), shape=(self.n_cells, self.n_cells))
        w.sort_indices()
        return w

    def polygons(self) -> np.ndarray:
        """Shapely polygons of the kept cells, clipped to the boundary when there is one."""
        import shapely

        boxes = shapely.box(*self.bounds())
        if self.boundary is None:
            return boxes
        full = self.cell_size * self.cell_size
        out = boxes.copy()
        part = self.area < full * (1 - 1e-9)
        if part.any():
            out[part] = shapely.intersection(boxes[part], self.boundary)
        return out

    def counts(self, x: Any, y: Any, weights: Any = None) -> np.ndarray:
        """Number (or weight sum) of points in each kept cell; points outside are ignored."""
        idx = self.locate(x, y)
        ok = idx >= 0
        w = None if weights is None else np.asarray(weights, dtype=float).ravel()[ok]
        return np.bincount(idx[ok], weights=w, minlength=self.n_cells).astype(float)

    def to_full(self, values: Any, fill: float = np.nan) -> np.ndarray:
        """Per-kept-cell values spread on the full ``(ny, nx)`` lattice (row 0 = south)."""
        v = np.asarray(values)
        out = np.full(self.nx * self.ny, fill, dtype=np.result_type(v.dtype, np.asarray(fill).dtype))
        out[self.cell_ids] = v
        return out.reshape(self.ny, self.nx)

    def __repr__(self) -> str:
        return (f"Grid(crs={self.crs!r}, cell_size={self.cell_size:g}, x0={self.x0:g}, y0={self.y0:g}, "
                f"nx={self.nx}, ny={self.ny}, n_cells={self.n_cells})")


# ---------------------------------------------------------------------- helpers
@functools.lru_cache(maxsize=32)
def linear_unit(crs: str) -> tuple[str, float]:
    """``(short name, metres per unit)`` of a projected CRS's axes, read with pyproj.

    ``linear_unit("EPSG:3435") == ("ft", 0.3048006096...)`` (US survey feet). A CRS
    whose axes are not lengths (degrees) raises ParameterError. See :func:`crs_unit`
    for the tolerant form (no CRS gives "CRS units").
    """
    from ..datasets.profile import _unit_of

    _, abbrev, metres = _unit_of(str(crs))
    return abbrev, metres


def transform_xy(x: Any, y: Any, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates between CRSs with pyproj (x/y = lon/lat order)."""
    tr = _transformer(src, dst)
    xx, yy = tr.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(xx, dtype=float), np.asarray(yy, dtype=float)


@functools.lru_cache(maxsize=16)
def _transformer(src: str, dst: str):
    import pyproj

    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def project_geometry(geom: Any, src: str = LONLAT_CRS, dst: str = CHICAGO_CRS) -> Any:
    """A shapely geometry (or array of them) converted from ``src`` to ``dst`` with pyproj."""
    import shapely

    tr = _transformer(src, dst)

    def fn(c: np.ndarray) -> np.ndarray:
        xx, yy = tr.transform(c[:, 0], c[:, 1])
        return np.column_stack([xx, yy])

    return shapely.transform(geom, fn)


def read_geojson(path: str | Path) -> tuple[list[dict], np.ndarray]:
    """Properties and shapely geometries of a GeoJSON FeatureCollection (no GDAL needed).

    ``path`` may also be shipped compressed as ``path.xz`` (see :mod:`crimescope.reference`).
    """
    import shapely

    from ..reference import find, read_text

    p = Path(path)
    if find(p) is None:
        raise ParameterError(f"boundary file not found: {p}")
    try:
        doc = json.loads(read_text(p))
        feats = doc["features"]
        geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in feats])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ParameterError(f"cannot read GeoJSON {p}: {exc}") from exc
    return [dict(f.get("properties") or {}) for f in feats], np.asarray(geoms, dtype=object)


def boundaries_dir(data_dir: str | Path | None = None) -> Path:
    """Chicago's boundaries folder: ``<data_dir>/chicago/boundaries`` (``data_dir`` may be the
    data root or that folder), by default the reference files shipped with the package
    (``crimescope.reference``; the ``shared_data`` setting points elsewhere)."""
    from ..reference import data_root, exists

    base = data_root(data_dir)
    for cand in (base / "chicago" / "boundaries", base / "boundaries", base):
        if exists(cand / "community_areas.geojson"):
            return cand.resolve()
    raise ParameterError(f"no chicago/boundaries/community_areas.geojson under {base}")


def chicago_boundary(data_dir: str | Path | None = None) -> Any:
    """City of Chicago outline in EPSG:3435: union of the community areas (cached per process)."""
    return _chicago_boundary(str(boundaries_dir(data_dir)))


@functools.lru_cache(maxsize=4)
def _chicago_boundary(folder: str) -> Any:
    import shapely

    _, geoms = read_geojson(Path(folder) / "community_areas.geojson")
    merged = shapely.union_all(project_geometry(geoms, LONLAT_CRS, CHICAGO_CRS))
    merged = shapely.make_valid(merged) if not shapely.is_valid(merged) else merged
    shapely.prepare(merged)
    return merged


_FOOT_M = 0.3048006096012192  # metres per US survey foot, the unit of the cell_size_ft setting


def crs_unit(crs: str | None) -> tuple[str, str, float]:
    """``(name, abbreviation, metres per unit)`` of a projected CRS's axis unit, read from pyproj
    (``("US survey foot", "ft", 0.3048006...)`` for EPSG:3435); ``("CRS unit", "CRS units", nan)``
    when ``crs`` is missing or not a projected CRS."""
    from ..datasets.profile import _unit_of

    if not crs:
        return ("CRS unit", "CRS units", float("nan"))
    try:
        return _unit_of(str(crs))
    except ParameterError:
        return ("CRS unit", "CRS units", float("nan"))


def default_cell_size(profile: Any, cell_size: float | None = None) -> float:
    """``cell_size`` (CRS units), or the ``cell_size_ft`` setting converted to the profile's CRS unit."""
    from .. import settings

    if cell_size is not None:
        return cell_size
    ft = float(settings.get("cell_size_ft"))
    if profile.unit_abbrev == "ft" and abs(profile.metres_per_unit - _FOOT_M) < 1e-9:
        return ft
    return round(ft * _FOOT_M / profile.metres_per_unit, 6)


def city_outline(profile: Any, data_dir: str | Path | None = None) -> Any:
    """A city's outline in its CRS: the union of its outline area kind, else the box of its extent."""
    from ..datasets import get_profile

    prof = get_profile(profile)
    if prof.key == "chicago":
        return chicago_boundary(data_dir)
    if prof.outline is None:
        import shapely

        return shapely.box(*prof.extent)
    from ..reference import data_root

    return _outline(prof.key, prof.crs, str(data_root(data_dir) / prof.area_kinds[prof.outline].boundary))


@functools.lru_cache(maxsize=8)
def _outline(key: str, crs: str, path: str) -> Any:
    import shapely

    _, geoms = read_geojson(path)
    merged = shapely.union_all(project_geometry(geoms, LONLAT_CRS, crs))
    merged = shapely.make_valid(merged) if not shapely.is_valid(merged) else merged
    shapely.prepare(merged)
    return merged
