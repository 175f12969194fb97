"""Getis-Ord Gi* local hot spot statistic, with distance-band or k-nearest-neighbour weights.

For values ``x`` over ``n`` units and weights ``w_ij`` that include the unit itself
(``w_ii = 1``; binary weights), Gi* is the z-score (Getis & Ord 1992, Ord & Getis
1995, as in ArcGIS Hot Spot Analysis)::

    z_i = (sum_j w_ij x_j - xbar * W_i) / (S * sqrt((n * sum_j w_ij^2 - W_i^2) / (n - 1)))

with ``W_i = sum_j w_ij``, ``xbar`` the mean and ``S`` the population standard
deviation of ``x``. p-values are two-sided normal. On binary weights this is
exactly ``esda.G_Local(y, w, transform="B", star=True).Zs`` (tested).

Confidence bins follow ArcGIS: +/-3 (99%), +/-2 (95%), +/-1 (90%), 0 not
significant. With ``fdr=True`` (default) the p thresholds 0.01 / 0.05 / 0.10 are
replaced by the Benjamini-Hochberg critical p-values at those levels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..result import Result

__all__ = ["GiStarResult", "gi_star", "gi_star_z", "distance_band_weights", "knn_weights",
           "grid_band_weights", "confidence_bins", "fdr_threshold", "hotspots", "BIN_LABELS"]

BIN_LABELS = {
    3: "Hot spot, 99% confidence", 2: "Hot spot, 95% confidence", 1: "Hot spot, 90% confidence",
    0: "Not significant",
    -1: "Cold spot, 90% confidence", -2: "Cold spot, 95% confidence", -3: "Cold spot, 99% confidence",
}


# ----------------------------------------------------------------------------- weights
def distance_band_weights(x: Any, y: Any, threshold: float, *, self_weight: bool = True):
    """Binary weights: ``w_ij = 1`` if the distance between points i and j is ``<= threshold``.

    The diagonal is 1 when ``self_weight`` (Gi*). Built with a KD-tree; returns CSR.
    """
    import scipy.sparse as sp
    from scipy.spatial import cKDTree

    thr = float(threshold)
    if not np.isfinite(thr) or thr <= 0:
        raise ParameterError(f"distance band must be a positive distance, got {threshold!r}")
    pts = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    n = pts.shape[0]
    tree = cKDTree(pts)
    pairs = tree.query_pairs(thr, output_type="ndarray")
    i = np.r_[pairs[:, 0], pairs[:, 1]]
    j = np.r_[pairs[:, 1], pairs[:, 0]]
    if self_weight:
        i = np.r_[i, np.arange(n)]
        j = np.r_[j, np.arange(n)]
    w = sp.csr_matrix((np.ones(i.size), (i, j)), shape=(n, n))
    w.sort_indices()
    return w


def knn_weights(x: Any, y: Any, k: int, *, self_weight: bool = True):
    """Binary k-nearest-neighbour weights (row i marks i's k nearest other points; not symmetric).

    Ties at the k-th distance are broken by the KD-tree's order, as in libpysal's KNN.
    """
    import scipy.sparse as sp
    from scipy.spatial import cKDTree

    k = int(k)
    pts = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    n = pts.shape[0]
    if k < 1 or k >= n:
        raise ParameterError(f"k must be between 1 and n-1 ({n - 1}), got {k}")
    _, nb = cKDTree(pts).query(pts, k=k + 1)
    rows = np.repeat(np.arange(n), k)
    cols = []
    for r in range(n):  # drop the point itself (it may not come first when points coincide)
        row = nb[r][nb[r] != r][:k]
        cols.append(row)
    cols = np.concatenate(cols)
    if self_weight:
        rows = np.r_[rows, np.arange(n)]
        cols = np.r_[cols, np.arange(n)]
    w = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    w.sort_indices()
    return w


def grid_band_weights(grid: Any, threshold: float, *, self_weight: bool = True):
    """Distance-band weights between grid cells measured between lattice cell centres.

    Cell centres lie on a regular lattice, so the band is exact (no rounding at
    the edge): cells whose centres are ``<= threshold`` apart are neighbours.
    Clipped boundary cells use their lattice centre, not the clipped centroid,
    so every cell has the same neighbourhood shape.
    """
    import scipy.sparse as sp

    thr = float(threshold)
    if not np.isfinite(thr) or thr <= 0:
        raise ParameterError(f"distance band must be a positive distance, got {threshold!r}")
    r = int(np.floor(thr / grid.cell_size + 1e-9))
    src, dst = [], []
    idx = np.arange(grid.n_cells)
    for dr in range(-r, r + 1):
        for dc in range(-r, r + 1):
            if (dr == 0 and dc == 0) and not self_weight:
                continue
            if (dr * dr + dc * dc) * grid.cell_size ** 2 > thr * thr * (1 + 1e-12):
                continue
            rr, cc = grid.rows + dr, grid.cols + dc
            ok = (rr >= 0) & (rr < grid.ny) & (cc >= 0) & (cc < grid.nx)
            j = np.full(grid.n_cells, -1, dtype=np.int64)
            j[ok] = grid._lookup[rr[ok] * grid.nx + cc[ok]]
            m = j >= 0
            src.append(idx[m])
            dst.append(j[m])
    i, j = np.concatenate(src), np.concatenate(dst)
    w = sp.csr_matrix((np.ones(i.size), (i, j)), shape=(grid.n_cells, grid.n_cells))
    w.sort_indices()
    return w


# ----------------------------------------------------------------------------- statistic
def gi_star_z(values: Any, weights: Any) -> np.ndarray:
    """Gi* z-scores of ``values`` for a weights matrix that already holds the self weights."""
    import scipy.sparse as sp

    x = np.asarray(values, dtype=float).ravel()
    w = sp.csr_matrix(weights)
    n = x.size
    if w.shape != (n, n):
        raise ParameterError(f"weights are {w.shape}, values have {n} entries")
    if n < 3:
        raise ParameterError("Gi* needs at least 3 units")
    xbar = x.mean()
    s = np.sqrt((x * x).mean() - xbar * xbar)
    if not s > 0:
        raise ParameterError("all values are equal: Gi* is undefined (no variance)")
    wsum = np.asarray(w.sum(axis=1)).ravel()
    w2sum = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    num = w @ x - xbar * wsum
    den = s * np.sqrt(np.maximum(n * w2sum - wsum * wsum, 0.0) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(den > 0, num / den, 0.0)
    return z


def fdr_threshold(p: np.ndarray, alpha: float) -> float:
    """Benjamini-Hochberg critical p-value at level ``alpha`` (0 if nothing passes)."""
    ps = np.sort(np.asarray(p, float).ravel())
    m = ps.size
    ok = ps <= alpha * np.arange(1, m + 1) / m
    return float(ps[np.flatnonzero(ok)[-1]]) if ok.any() else 0.0


def confidence_bins(z: np.ndarray, p: np.ndarray, fdr: bool = True) -> np.ndarray:
    """ArcGIS Gi_Bin: sign(z) * (3 if p <= t01, 2 if p <= t05, 1 if p <= t10 else 0)."""
    z = np.asarray(z, float)
    p = np.asarray(p, float)
    level = np.zeros(p.shape, dtype=np.int8)
    for lev, a in ((1, 0.10), (2, 0.05), (3, 0.01)):
        t = fdr_threshold(p, a) if fdr else a
        level[p <= t] = lev
    return (np.sign(z).astype(np.int8) * level).astype(np.int8)


@dataclass
class GiStarResult(Result):
    """Getis-Ord Gi* over units.

    Attributes
    ----------
    values : ndarray (n_units,)
        The analysed values (event counts per unit).
    z : ndarray
        Gi* z-scores.
    p : ndarray
        Two-sided normal p-values.
    bins : ndarray of int8
        ArcGIS confidence bins -3..3 (see ``BIN_LABELS``).
    fdr : bool
        Whether the bins use the Benjamini-Hochberg correction.
    weights : str
        Description of the weights (e.g. ``"distance band 1500 ft, binary, self included"``).
    n_neighbours : ndarray
        Neighbours per unit including itself.
    units : Grid or AreaUnits or None
    label : str
        Category and period, for titles.
    n_no_location, n_outside : int
        Input records without coordinates; records placed in no unit (located outside
        every unit, or — for area units, where a record's own area code is used first —
        with neither a valid code nor coordinates).
    """

    values: np.ndarray
    z: np.ndarray
    p: np.ndarray
    bins: np.ndarray
    fdr: bool
    weights: str
    n_neighbours: np.ndarray
    units: Any = None
    label: str = ""
    n_no_location: int = 0
    n_outside: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def n_hot(self) -> int:
        return int((self.bins > 0).sum())

    @property
    def n_cold(self) -> int:
        return int((self.bins < 0).sum())

    def bin_counts(self):
        """Units per confidence bin, as a DataFrame (bin, label, units)."""
        import pandas as pd

        return pd.DataFrame([{"bin": b, "label": BIN_LABELS[b], "units": int((self.bins == b).sum())}
                             for b in range(3, -4, -1)])

    def to_frame(self):
        """One row per unit: unit id, centroid (x, y, lon, lat), value, z, p, bin, bin label."""
        from .export import unit_frame

        df = unit_frame(self.units, len(self.z))
        df["count"] = self.values
        df["gi_z"] = self.z
        df["gi_p"] = self.p
        df["gi_bin"] = self.bins
        df["gi_label"] = [BIN_LABELS[int(b)] for b in self.bins]
        return df

    def frame(self):
        return self.to_frame()

    def write(self, path: Any) -> Any:
        """Write as .geojson, .csv, .parquet or .json (by suffix), with the provenance."""
        return Result.write(self, path)

    def plot(self, path: Any = None, **kw: Any):
        """Static map of the confidence bins (PNG/SVG when ``path`` is given); returns the figure."""
        from .maps import plot_bins

        return plot_bins(self, path=path, **kw)


def gi_star(values: Any, weights: Any, *, fdr: bool = True, units: Any = None, label: str = "",
            weights_desc: str = "user weights") -> GiStarResult:
    """Gi* z, p and ArcGIS confidence bins of ``values`` with ``weights`` (self weights added if absent)."""
    import scipy.sparse as sp
    from scipy.stats import norm

    w = sp.csr_matrix(weights, dtype=float)
    if np.all(w.diagonal() == 0):
        w = w + sp.identity(w.shape[0], format="csr")
    z = gi_star_z(values, w)
    p = 2.0 * norm.sf(np.abs(z))
    return GiStarResult(values=np.asarray(values, float), z=z, p=p, bins=confidence_bins(z, p, fdr), fdr=fdr,
                        weights=weights_desc, n_neighbours=np.diff(w.indptr), units=units, label=label)


def hotspots(events: Any = None, units: Any = None, *, band: float | None = None, knn: int | None = None,
             ring: int | None = None, fdr: bool = True, label: str = "", x: Any = None,
             y: Any = None) -> GiStarResult:
    """Count events per unit (grid cells by default: ``Grid.chicago()``) and run Gi*.

    Weights, binary with the unit itself included, one of: a distance band (``band``,
    CRS units), the ``knn`` nearest units, or contiguity rings (``ring``: the unit and
    its neighbours up to that order, ``units.neighbours(order=ring)`` - queen rings of
    grid cells, ``h3.grid_disk`` of hexagons, which clipping does not distort). Defaults:
    a band of 3 cell sizes for a grid, ring 1 for H3 hexagons; area units need one. For
    area units and hexagons the band/k-NN are measured between clipped unit centroids.
    """
    from ._events import as_events, events_meta
    from .grid import Grid

    if sum(v is not None for v in (band, knn, ring)) > 1:
        raise ParameterError("give one of a distance band, k nearest neighbours or a ring order, not several")
    ev = as_events(events, x=x, y=y)
    if units is None:
        units = Grid.chicago()
    if getattr(units, "code_column", None) and events is not None:
        # area units: the record's own area code first, a spatial join otherwise
        from .units import assign_units

        placed = assign_units(events, units)
        counts = placed.counts
        n_outside = placed.n_unassigned
    else:
        idx = units.locate(ev.x, ev.y)
        counts = np.bincount(idx[idx >= 0], minlength=units.n_units).astype(float)
        n_outside = int((idx < 0).sum())
    from .grid import crs_unit

    unit_word = crs_unit(getattr(units, "crs", None))[1]
    is_hex = str(getattr(units, "kind", "")).startswith("h3:")
    if ring is None and band is None and knn is None and is_hex:
        ring = 1
    if ring is not None:
        if isinstance(ring, bool) or int(ring) != ring or ring < 1:
            raise ParameterError(f"ring must be a whole number >= 1, got {ring!r}")
        w = units.neighbours(order=int(ring))
        what = "h3 grid_disk" if is_hex else "contiguity order"
        desc = f"{what} {int(ring)} (ring {int(ring)}), binary, self included"
    elif knn is not None:
        cx, cy = units.centroids()
        w = knn_weights(cx, cy, knn)
        desc = f"{int(knn)} nearest neighbours, binary, self included"
    else:
        if band is None:
            band = units.default_band()
            if band is None:
                raise ParameterError("give a distance band, knn or ring for area units")
        w = units.band_weights(band)
        desc = f"distance band {band:g} {unit_word}, binary, self included"
    res = gi_star(counts, w, fdr=fdr, units=units, label=label, weights_desc=desc)
    res.n_no_location = ev.n_no_location
    res.n_outside = n_outside
    res.extra["period"] = ev.period()
    res.meta = events_meta(events, units, method=f"Getis-Ord Gi*, weights {desc}; ArcGIS confidence bins"
                           + (" with Benjamini-Hochberg FDR correction" if fdr else ""),
                           records_without_location=int(ev.n_no_location), records_outside_units=int(n_outside))
    return res
