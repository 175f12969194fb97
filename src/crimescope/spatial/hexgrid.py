"""H3 hexagons as units of analysis, clipped to a boundary (the city), in a projected CRS.

A :class:`HexGrid` holds the H3 cells (h3 v4, one resolution) that overlap a
boundary polygon, with the same interface as :class:`~crimescope.spatial.grid.Grid`
and :class:`~crimescope.spatial.units.AreaUnits` (``locate``, ``centroids``,
``centroids_lonlat``, ``polygons``, ``neighbours``, ``area``, ``crs``), so counting,
concentration, Gi* (distance band, k-NN or H3 ring weights: ``gistar.hotspots(ring=)``), exports and maps take
it as they take grid cells or beats.

Conventions (docs/spatial.md, "Spatial units"):

* **Which cells.** Every cell whose hexagon meets the boundary with positive area
  (not only the cells whose centre is inside, which is what ``h3.h3shape_to_cells``
  returns): so every point of the city is in a kept cell. Found by a centre
  polyfill of the boundary buffered by twice the hexagon's circumradius, then an
  exact overlap test.
* **Geometry.** A hexagon's vertices are ``h3.cell_to_boundary`` (WGS84) projected
  to ``crs`` with pyproj and joined by straight lines; neighbouring hexagons share
  vertices, so the projected cells tile without gaps or overlaps. Cells crossed by
  the city outline are clipped to it (shapely); ``area`` is the clipped area in CRS
  units squared (square US feet for EPSG:3435), so the areas sum to the city's area.
* **Placing a point.** ``locate(x, y)`` converts the projected coordinates to
  lon/lat with pyproj and asks ``h3.latlng_to_cell``; a point in a kept boundary
  cell but just outside the boundary still gets that cell unless
  ``within_boundary=True`` (as for grids).
* **Neighbours.** ``neighbours(order=k)`` links each cell with the other kept cells
  of ``h3.grid_disk(cell, k)`` (ring 1: the 6 cells sharing an edge).

Cell indices are 0..n_units-1 in increasing H3 index; ``unit_ids`` are the H3
strings (``'892664c1a6fffff'``). h3 is imported only when a HexGrid is built.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CrimescopeError, ParameterError
from .grid import CHICAGO_CRS, LONLAT_CRS, _as_float, chicago_boundary, project_geometry, transform_xy

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse

__all__ = ["HexGrid", "parse_h3_spec", "MAX_CELLS"]

#: refuse to build more hexagons than this (res 12 over Chicago is about 2 million)
MAX_CELLS = 3_000_000


def _h3():
    try:
        import h3
    except ImportError as exc:
        raise CrimescopeError("H3 hexagons need the h3 package: pip install 'crimescope[spatial]'") from exc
    if not str(getattr(h3, "__version__", "4")).startswith("4"):
        raise CrimescopeError(f"H3 hexagons need h3 4.x (found {h3.__version__}): "
                              "pip install 'crimescope[spatial]'")
    return h3


def _check_resolution(resolution: Any) -> int:
    try:
        r = int(resolution)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"H3 resolution must be an integer 0..15, got {resolution!r}") from exc
    if r != resolution and not (isinstance(resolution, str) and str(r) == resolution.strip()):
        raise ParameterError(f"H3 resolution must be an integer 0..15, got {resolution!r}")
    if not 0 <= r <= 15:
        raise ParameterError(f"H3 resolution must be an integer 0..15, got {resolution!r}")
    return r


def parse_h3_spec(spec: str) -> int:
    """The resolution of a unit spec ``'h3:9'`` (also ``'h3-9'``, ``'H3:9'``); ParameterError otherwise."""
    s = str(spec).strip().lower()
    for sep in (":", "-", "="):
        head, _, tail = s.partition(sep)
        if head == "h3" and tail:
            return _check_resolution(tail)
    raise ParameterError(f"{spec!r} is not an H3 unit spec: write h3:RES, e.g. h3:9")


def _metres_per_unit(crs: str) -> float:
    from .grid import linear_unit

    return linear_unit(crs)[1]


class HexGrid:
    """H3 cells of one resolution overlapping a boundary, clipped to it; the analysis units.

    Attributes
    ----------
    resolution : int
        H3 resolution (0..15); res 8 cells average 0.74 km², res 9 0.105 km².
    crs : str
        Projected CRS of the geometry (``"EPSG:3435"``, US feet, for Chicago).
    cells : ndarray of int64
        H3 indexes (integer form), increasing; index i of every per-unit array.
    unit_ids : ndarray of str
        The same cells as H3 strings (what exports write in ``unit``).
    n_units : int
    area : ndarray of float
        Area of each cell clipped to the boundary, CRS units squared.
    geometries : ndarray of shapely polygons
        Cells clipped to the boundary, in ``crs`` (what maps and GeoJSON draw).
    hexagon_area : ndarray of float
        Area of each whole (unclipped) projected hexagon, CRS units squared.
    boundary : shapely geometry or None
        The clipping polygon (``crs``).
    kind : str
        ``"h3:<res>"``, the spec the CLI's ``--units`` takes.
    """

    def __init__(self, resolution: int, cells: Any, geometries: Any, *, hexagons: Any = None,
                 crs: str = CHICAGO_CRS, boundary: Any = None) -> None:
        import shapely

        h3 = _h3()
        self.resolution = _check_resolution(resolution)
        self.crs = crs
        cells = np.asarray(cells, dtype=np.int64)
        if cells.ndim != 1 or (cells.size and np.any(np.diff(cells) <= 0)):
            raise ParameterError("cells must be a 1-d array of distinct H3 indexes in increasing order")
        hi = h3.api.basic_int
        bad = [c for c in cells.tolist() if not hi.is_valid_cell(c) or hi.get_resolution(c) != self.resolution]
        if bad:
            raise ParameterError(f"{len(bad)} values are not H3 cells of resolution {self.resolution}, "
                                 f"e.g. {bad[0]:x}")
        self.cells = cells
        self.unit_ids = np.array([h3.int_to_str(int(c)) for c in cells], dtype=object)
        self.n_units = int(cells.size)
        self.geometries = np.asarray(geometries, dtype=object)
        if self.geometries.shape != cells.shape:
            raise ParameterError("one geometry per cell is needed")
        self._hexagons = None if hexagons is None else np.asarray(hexagons, dtype=object)
        self.area = shapely.area(self.geometries).astype(float)
        self.hexagon_area = shapely.area(self.hexagons()).astype(float)
        self.boundary = boundary
        self.kind = f"h3:{self.resolution}"
        cen = shapely.get_coordinates(shapely.centroid(self.geometries))
        self._cx, self._cy = cen[:, 0].copy(), cen[:, 1].copy()

    # ------------------------------------------------------------------ build
    @classmethod
    def for_boundary(cls, polygon: Any, resolution: int, crs: str = CHICAGO_CRS) -> "HexGrid":
        """The cells of ``resolution`` whose hexagon meets ``polygon`` (shapely, in ``crs``), clipped to it."""
        import shapely

        h3 = _h3()
        res = _check_resolution(resolution)
        if polygon is None or shapely.is_empty(polygon) or polygon.area <= 0:
            raise ParameterError("the boundary must be a non-empty polygon")
        mpu = _metres_per_unit(crs)
        est = polygon.area * mpu * mpu / (h3.average_hexagon_area(res, "m^2"))
        if est > MAX_CELLS:
            raise ParameterError(f"H3 resolution {res} gives about {est:,.0f} cells over this boundary: "
                                 f"more than {MAX_CELLS:,}; use a coarser resolution")
        # circumradius of a cell here, in CRS units (measured on a real cell, no constants)
        rp = shapely.get_coordinates(polygon.representative_point())[0]
        lon, lat = transform_xy(rp[:1], rp[1:], crs, LONLAT_CRS)
        probe = h3.latlng_to_cell(float(lat[0]), float(lon[0]), res)
        hx = _project_hexagons(h3, [h3.str_to_int(probe)], crs)[0]
        cxy = shapely.get_coordinates(shapely.centroid(hx))[0]
        radius = float(np.max(np.hypot(*(shapely.get_coordinates(hx) - cxy).T)))
        # 1. candidates: cells whose centre lies in the boundary grown by 2 circumradii and
        #    simplified by half of one (so still grown by >= 1.5): a cell meeting the boundary
        #    has its centre within one circumradius of it. Few vertices keep the polyfill quick.
        wide = shapely.simplify(shapely.buffer(polygon, 2.0 * radius), 0.5 * radius)
        wide_ll = project_geometry(wide, crs, LONLAT_CRS)
        cand = sorted(h3.str_to_int(c) for c in h3.geo_to_cells(wide_ll.__geo_interface__, res))
        cand = np.asarray(cand, dtype=np.int64)
        hexes = _project_hexagons(h3, cand, crs)
        # 2. exact overlap: whole cells inside need no clipping; cells crossing the outline are
        #    clipped to the part of the boundary within their bounding box (few vertices)
        shapely.prepare(polygon)
        inside = shapely.contains_properly(polygon, hexes)
        touch = shapely.intersects(polygon, hexes) & ~inside
        clipped = hexes.copy()
        ti = np.flatnonzero(touch)
        if ti.size:
            pieces = [shapely.clip_by_rect(polygon, *bb) for bb in shapely.bounds(hexes[ti]).tolist()]
            clipped[ti] = shapely.intersection(hexes[ti], np.asarray(pieces, dtype=object))
        area = shapely.area(clipped)
        keep = (inside | touch) & (area > 0)
        return cls(res, cand[keep], clipped[keep], hexagons=hexes[keep], crs=crs, boundary=polygon)

    @classmethod
    def chicago(cls, resolution: int = 9, data_dir: str | Path | None = None) -> "HexGrid":
        """H3 cells over the City of Chicago (union of the 77 community areas), EPSG:3435.

        Built once per process and resolution (the same boundary as ``Grid.chicago``).
        """
        from .grid import boundaries_dir

        return _chicago_hexes(_check_resolution(resolution), str(boundaries_dir(data_dir)))

    # ------------------------------------------------------------------ query
    def locate(self, x: Any, y: Any, *, within_boundary: bool = False) -> np.ndarray:
        """Index (0..n_units-1) of the kept cell holding each projected point; -1 outside, None or NaN."""
        xs = _as_float(x).ravel()
        ys = _as_float(y).ravel()
        if xs.shape != ys.shape:
            raise ParameterError(f"x and y must have the same shape, got {xs.shape} and {ys.shape}")
        out = np.full(xs.size, -1, dtype=np.int64)
        ok = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
        if ok.size == 0:
            return out
        lon, lat = transform_xy(xs[ok], ys[ok], self.crs, LONLAT_CRS)
        out[ok] = self.locate_lonlat(lon, lat)
        if within_boundary and self.boundary is not None:
            import shapely

            hit = np.flatnonzero(out >= 0)
            partial = hit[self.area[out[hit]] < self.hexagon_area[out[hit]] * (1 - 1e-9)]
            if partial.size:
                inside = shapely.intersects_xy(self.boundary, xs[partial], ys[partial])
                out[partial[~inside]] = -1
        return out

    def locate_lonlat(self, lon: Any, lat: Any) -> np.ndarray:
        """Index of the kept cell holding each WGS84 point (``h3.latlng_to_cell``); -1 when not kept."""
        h3 = _h3()
        lo = _as_float(lon).ravel()
        la = _as_float(lat).ravel()
        if lo.shape != la.shape:
            raise ParameterError(f"lon and lat must have the same shape, got {lo.shape} and {la.shape}")
        out = np.full(lo.size, -1, dtype=np.int64)
        ok = np.flatnonzero(np.isfinite(lo) & np.isfinite(la) & (np.abs(la) <= 90) & (np.abs(lo) <= 180))
        if ok.size == 0:
            return out
        # no vectorised latlng_to_cell in h3 4.x: one C call per point (about 1 s per million)
        f = h3.api.basic_int.latlng_to_cell
        r = self.resolution
        ids = np.fromiter((f(a, b, r) for a, b in zip(la[ok].tolist(), lo[ok].tolist())),
                          dtype=np.int64, count=ok.size)
        out[ok] = self.index_of(ids)
        return out

    def index_of(self, cells: Any) -> np.ndarray:
        """Unit index of each H3 cell (int or string form); -1 for cells not kept."""
        h3 = _h3()
        arr = np.asarray(cells).ravel()
        if arr.dtype.kind in "OUS":
            arr = np.array([h3.str_to_int(str(c)) if c is not None else -1 for c in arr], dtype=np.int64)
        arr = arr.astype(np.int64)
        if self.n_units == 0:
            return np.full(arr.size, -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.cells, arr), self.n_units - 1)
        return np.where(self.cells[pos] == arr, pos, -1).astype(np.int64)

    def centroids(self) -> tuple[np.ndarray, np.ndarray]:
        """``x, y`` of each cell's centroid after clipping to the boundary (``crs``)."""
        return self._cx.copy(), self._cy.copy()

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """``x, y`` of each H3 cell centre (``h3.cell_to_latlng`` projected), clipped or not."""
        h3 = _h3()
        ll = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in self.cells]).reshape(-1, 2)
        return transform_xy(ll[:, 1], ll[:, 0], LONLAT_CRS, self.crs)

    def centroids_lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """Longitude, latitude (EPSG:4326) of the clipped centroids, converted with pyproj."""
        return transform_xy(self._cx, self._cy, self.crs, LONLAT_CRS)

    def polygons(self) -> np.ndarray:
        """Shapely polygons of the cells clipped to the boundary (``crs``)."""
        return self.geometries

    def hexagons(self) -> np.ndarray:
        """Whole projected hexagons (not clipped)."""
        if self._hexagons is None:
            self._hexagons = _project_hexagons(_h3(), self.cells, self.crs)
        return self._hexagons

    def neighbours(self, order: int = 1) -> "scipy.sparse.csr_matrix":
        """Kept cells of ``h3.grid_disk(cell, order)`` other than the cell itself (n x n, 0/1 CSR)."""
        import scipy.sparse as sp

        h3 = _h3()
        k = int(order)
        if k < 1:
            raise ParameterError(f"neighbour order must be >= 1, got {order!r}")
        disk = h3.api.basic_int.grid_disk
        rows, cols = [], []
        for i, c in enumerate(self.cells.tolist()):
            nb = np.fromiter(disk(c, k), dtype=np.int64)
            rows.append(np.full(nb.size, i, dtype=np.int64))
            cols.append(nb)
        i = np.concatenate(rows) if rows else np.empty(0, np.int64)
        j = self.index_of(np.concatenate(cols)) if cols else np.empty(0, np.int64)
        m = (j >= 0) & (j != i)
        w = sp.csr_matrix((np.ones(int(m.sum())), (i[m], j[m])), shape=(self.n_units, self.n_units))
        w.sort_indices()
        return w

    def counts(self, x: Any, y: Any, weights: Any = None) -> np.ndarray:
        """Number (or weight sum) of points in each cell; points in no kept cell are ignored."""
        idx = self.locate(x, y)
        ok = idx >= 0
        w = None if weights is None else np.asarray(weights, dtype=float).ravel()[ok]
        return np.bincount(idx[ok], weights=w, minlength=self.n_units).astype(float)

    @property
    def unit_label(self) -> str:
        return f"H3 res-{self.resolution} hexagon"

    #: events column holding a unit code (None: hexagons are found from coordinates only)
    code_column = None

    def default_band(self) -> float | None:
        """No default distance band: give a band, k-NN or ring order."""
        return None

    def band_weights(self, band: float):
        """Binary distance-band weights between clipped unit centroids, self excluded."""
        from .gistar import distance_band_weights

        cx, cy = self.centroids()
        return distance_band_weights(cx, cy, band)

    def __repr__(self) -> str:
        return f"HexGrid(resolution={self.resolution}, n_units={self.n_units}, crs={self.crs!r})"


def _project_hexagons(h3: Any, cells: Any, crs: str) -> np.ndarray:
    """Projected hexagons of integer H3 cells: WGS84 vertices to ``crs`` with pyproj, straight edges."""
    import shapely

    bnd = h3.api.basic_int.cell_to_boundary
    verts = [bnd(int(c)) for c in cells]
    if not verts:
        return np.empty(0, dtype=object)
    sizes = np.fromiter((len(v) for v in verts), dtype=np.int64, count=len(verts))
    ll = np.array([p for v in verts for p in v], dtype=float).reshape(-1, 2)  # (lat, lng)
    x, y = transform_xy(ll[:, 1], ll[:, 0], LONLAT_CRS, crs)
    ring_index = np.repeat(np.arange(len(verts)), sizes)
    rings = shapely.linearrings(np.column_stack([x, y]), indices=ring_index)
    return np.asarray(shapely.polygons(rings), dtype=object)


@functools.lru_cache(maxsize=4)
def _chicago_hexes(resolution: int, folder: str) -> HexGrid:
    return HexGrid.for_boundary(chicago_boundary(folder), resolution, crs=CHICAGO_CRS)
