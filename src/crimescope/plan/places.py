"""The places a plan chooses from: grid cells, block faces, beats or H3 cells.

Forecasts are made on a square grid (:class:`crimescope.spatial.grid.Grid`); a
:class:`Places` holds the candidate places of one kind and the sparse matrix
``from_cells`` (places x grid cells) that turns a per-cell surface into per-place
values, so one forecast serves every kind of place:

* ``grid``: the cells themselves (identity matrix);
* ``beat``, ``h3:RES``: each cell's value goes to the unit containing its centroid;
* ``block``: block faces from the incidents' ``block`` text (``014XX S AVERS AVE``).
  A block face's point is the median of its located records; each cell's value is
  shared among the blocks whose records fell in it, in proportion to their past harm
  (cells with no block history keep their value out of every block: the loss is
  reported as ``unassigned_share`` of the plan).

Every place carries its police district and community area (the unit containing its
point; for a point outside every polygon, the most common code of its records), its
area (square feet; a block face is counted as a 660 ft x 50 ft strip) and an address
line for the deployment sheet (the block with most past harm in the place).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = ["Places", "build_places", "parse_place_kind", "BLOCK_FACE_AREA"]

#: nominal area of a block face (one side of a 660 ft Chicago block, 50 ft deep), square feet
BLOCK_FACE_AREA = 660.0 * 50.0


@dataclass
class Places:
    """Candidate places of one kind.

    Attributes
    ----------
    kind : str
        ``grid``, ``block``, ``beat`` or ``h3:RES``.
    ids : ndarray of str
        Place identifiers (lattice id, block text, beat number, H3 cell).
    x, y : ndarray of float
        A point per place (EPSG:3435 feet): cell centroid, median of a block's records...
    area : ndarray of float
        Square feet.
    district : ndarray of str
        Police district ('' where unknown).
    community_area : ndarray of int
        Community area number 1-77 (0 where unknown).
    address : ndarray of str
        Block with the most past harm in the place ('' when it had none).
    from_cells : scipy.sparse.csr_matrix, shape (n, grid.n_cells)
        Per-cell surface -> per-place values.
    geometry : ndarray of shapely geometries (EPSG:3435), or None for grid cells (see :meth:`shapes`)
    crs : str
    """

    kind: str
    ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    area: np.ndarray
    district: np.ndarray
    community_area: np.ndarray
    address: np.ndarray
    from_cells: Any
    geometry: np.ndarray | None
    crs: str = "EPSG:3435"
    notes: list = field(default_factory=list)
    grid: Any = None

    @property
    def n(self) -> int:
        return int(self.ids.size)

    def values(self, cell_values: np.ndarray) -> np.ndarray:
        """A per-cell surface as per-place values."""
        return np.asarray(self.from_cells @ np.asarray(cell_values, dtype=float)).ravel()

    def conflicts(self, spacing: float) -> np.ndarray:
        """Pairs of places whose points are closer than ``spacing`` feet (shape (m, 2))."""
        from scipy.spatial import cKDTree

        if spacing <= 0:
            return np.empty((0, 2), np.int64)
        tree = cKDTree(np.column_stack([self.x, self.y]))
        # query_pairs is <= r: shrink a hair so places exactly `spacing` apart are allowed
        pairs = tree.query_pairs(r=float(spacing) * (1 - 1e-9), output_type="ndarray")
        return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)

    def shapes(self, idx: Any) -> np.ndarray:
        """Geometries of the places ``idx`` (grid cells are clipped to the boundary only when asked)."""
        import shapely

        idx = np.asarray(idx, dtype=np.int64)
        if self.geometry is not None:
            return self.geometry[idx]
        g = self.grid
        xmin, ymin, xmax, ymax = (b[idx] for b in g.bounds())
        boxes = shapely.box(xmin, ymin, xmax, ymax)
        if g.boundary is not None:
            part = g.area[idx] < g.cell_size ** 2 * (1 - 1e-9)
            if part.any():
                boxes[part] = shapely.intersection(boxes[part], g.boundary)
        return boxes

    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        from ..spatial.grid import LONLAT_CRS, transform_xy

        return transform_xy(self.x, self.y, self.crs, LONLAT_CRS)


_KIND_RE = re.compile(r"^(grid|block|beat|h3:\d{1,2})$")


def parse_place_kind(kind: Any) -> str:
    """``grid``, ``block``, ``beat`` or ``h3:RES`` (RES 7-10), else ParameterError."""
    s = str(kind).strip().lower()
    if not _KIND_RE.match(s):
        raise ParameterError(f"invalid places={kind!r}: expected grid, block, beat or h3:RES such as h3:9")
    if s.startswith("h3:"):
        res = int(s[3:])
        if not 7 <= res <= 10:
            raise ParameterError(f"invalid places={kind!r}: expected an H3 resolution from 7 to 10")
    return s


def _locate_codes(kind: str, x: np.ndarray, y: np.ndarray, data_dir: Any) -> np.ndarray:
    """The code of the ``kind`` unit containing each point ('' for none; the first unit on a shared edge)."""
    import shapely

    from ..spatial.units import AreaUnits

    units = AreaUnits.load(kind, data_dir)
    codes = np.full(np.asarray(x).size, "", dtype=object)
    for code, g in zip(units.unit_ids, units.geometries):
        shapely.prepare(g)
        inside = shapely.contains_xy(g, x, y) & (codes == "")
        codes[inside] = code
    return codes


def _mode_by(group: np.ndarray, values: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Per group 0..n-1, the value with the largest total weight ('' when none)."""
    import pandas as pd

    out = np.full(n, "", dtype=object)
    ok = (group >= 0) & pd.notna(values) & (weights > 0)
    if not ok.any():
        return out
    df = pd.DataFrame({"g": group[ok], "v": values[ok].astype(str), "w": weights[ok]})
    s = df.groupby(["g", "v"], sort=False)["w"].sum().reset_index()
    s = s.sort_values(["g", "w", "v"], ascending=[True, False, True]).drop_duplicates("g")
    out[s["g"].to_numpy(int)] = s["v"].to_numpy(object)
    return out


def _fill_codes(codes: np.ndarray, group: np.ndarray, event_codes: Any, weights: np.ndarray, n: int) -> np.ndarray:
    from ..spatial.units import normalise_code

    if event_codes is None:
        return codes
    ev = np.array([normalise_code(v) or "" for v in event_codes], dtype=object)
    mode = _mode_by(group, np.where(ev == "", None, ev), weights, n)
    return np.where(codes == "", mode, codes)


def build_places(kind: str, grid: Any, history: Any = None, history_weight: np.ndarray | None = None,
                 data_dir: Any = None) -> Places:
    """The candidate places of ``kind`` over ``grid``.

    ``history`` is a frame of past records (``x``, ``y``, ``block``, ``district``,
    ``community_area``) with ``history_weight`` their harm; it supplies addresses,
    block faces and codes for points outside every polygon. Without it, addresses are empty
    and ``block`` places cannot be built.
    """
    import scipy.sparse as sp
    import shapely

    kind = parse_place_kind(kind)
    n_cells = grid.n_cells
    if history is not None and len(history):
        hx = history["x"].to_numpy(float)
        hy = history["y"].to_numpy(float)
        hw = (np.ones(len(history)) if history_weight is None else np.asarray(history_weight, float))
        hcell = grid.locate(hx, hy)
        hblock = (history["block"].to_numpy(object) if "block" in history.columns
                  else np.full(len(history), None, dtype=object))
    else:
        hx = hy = hw = np.empty(0)
        hcell = np.empty(0, np.int64)
        hblock = np.empty(0, dtype=object)
    notes: list[str] = []

    if kind == "grid":
        cx, cy = grid.centroids()
        ids = np.array([str(c) for c in grid.cell_ids], dtype=object)
        m = sp.identity(n_cells, format="csr")
        geom = None
        area = grid.area.copy()
        group = hcell
        addr = _mode_by(hcell, hblock, hw, n_cells)
    elif kind == "block":
        if history is None or not len(history):
            raise ParameterError("block-face places need the records' blocks: no history was given")
        import pandas as pd

        ok = (hcell >= 0) & pd.notna(hblock) & np.isfinite(hx) & np.isfinite(hy)
        blocks = np.array([str(b).strip().upper() for b in hblock[ok]], dtype=object)
        names, inv = np.unique(blocks, return_inverse=True)
        nb = names.size
        df = pd.DataFrame({"b": inv, "x": hx[ok], "y": hy[ok]})
        med = df.groupby("b")[["x", "y"]].median()
        cx, cy = med["x"].to_numpy(), med["y"].to_numpy()
        w = np.maximum(hw[ok], 1e-12)  # a block with only zero-weight records still gets a share
        share = sp.csr_matrix((w, (inv, hcell[ok])), shape=(nb, n_cells))
        colsum = np.asarray(share.sum(axis=0)).ravel()
        scale = np.divide(1.0, colsum, out=np.zeros_like(colsum), where=colsum > 0)
        m = (share @ sp.diags(scale)).tocsr()
        ids = names.astype(object)
        geom = shapely.points(cx, cy)
        area = np.full(nb, BLOCK_FACE_AREA)
        addr = ids.copy()
        group = np.full(hx.size, -1, np.int64)
        group[ok] = inv
        notes.append("block faces: each grid cell's value is shared among the blocks whose past records fell "
                     "in it, in proportion to their past harm; cells with no record keep their value out")
    else:
        from ..spatial.units import load_units

        units = load_units(kind, data_dir=data_dir)
        gx, gy = grid.centroids()
        where = units.locate(gx, gy)
        nu = units.n_units
        ok = where >= 0
        m = sp.csr_matrix((np.ones(ok.sum()), (where[ok], np.flatnonzero(ok))), shape=(nu, n_cells))
        ids = np.asarray(units.unit_ids, dtype=object)
        cx, cy = units.centroids()
        geom = np.asarray(units.polygons(), dtype=object)
        area = np.asarray(units.area, dtype=float)
        group = units.locate(hx, hy) if hx.size else np.empty(0, np.int64)
        addr = _mode_by(group, hblock, hw, nu)
        lost = int((~ok).sum())
        if lost:
            notes.append(f"{lost} grid cells whose centroid is in no {kind} unit are left out")
    n = ids.size
    district = _locate_codes("district", cx, cy, data_dir) if kind != "beat" else None
    if kind == "beat":
        from ..spatial.units import AreaUnits

        beats = AreaUnits.load("beat", data_dir)
        # beat numbers are district * 100 + sector/beat: the district is the leading digits
        district = np.array([str(int(b) // 100) if str(b).isdigit() else "" for b in beats.unit_ids], dtype=object)
    ca = _locate_codes("community_area", cx, cy, data_dir)
    if history is not None and len(history):
        district = _fill_codes(district, group, history.get("district"), hw, n)
        ca = _fill_codes(ca, group, history.get("community_area"), hw, n)
    ca_num = np.array([int(c) if str(c).isdigit() else 0 for c in ca], dtype=np.int64)
    return Places(kind=kind, ids=ids, x=np.asarray(cx, float), y=np.asarray(cy, float),
                  area=np.asarray(area, float), district=np.asarray(district, dtype=object),
                  community_area=ca_num, address=np.asarray(addr, dtype=object), from_cells=m,
                  geometry=None if geom is None else np.asarray(geom, dtype=object), crs=grid.crs, notes=notes,
                  grid=grid)
