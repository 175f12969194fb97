"""Emerging hot spots: space-time cube, Gi* per time step, Mann-Kendall trend, 17 ArcGIS categories.

Steps (the rules are written out in docs/spatial.md):

1. **Cube** (:func:`space_time_cube`): events counted per grid cell and time step
   (ISO weeks starting Monday, or calendar months) of local time. By default every
   cell of the city is a location (``locations="all"``): a cell of the city with no
   event is a true zero. ``locations="with_data"`` keeps only cells with at least one
   event in the whole period, as ArcGIS's *Create Space Time Cube* does.
2. **Gi* per bin** (:func:`space_time_gi_star`) with *space-time* neighbours as
   ArcGIS does: the neighbours of bin (i, t) are the bins (j, s) with j within the
   distance band of i (i included) and ``t - time_window <= s <= t``. Mean and
   standard deviation are those of the whole cube (ArcGIS's "entire cube" global
   window). Binary weights; two-sided p-values; a bin is significant when its
   p-value passes the Benjamini-Hochberg threshold at ``alpha`` among the bins of
   its time step (``fdr=True``) or ``p <= alpha``.
3. **Trend**: Mann-Kendall test (two-sided, tie-corrected variance) on each
   location's series of Gi* z-scores; significant when ``p <= trend_alpha``.
4. **Category** (:func:`classify`): see ``CATEGORY_RULES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..result import Result

__all__ = ["SpaceTimeCube", "space_time_cube", "space_time_gi_star", "mann_kendall", "classify",
           "EmergingResult", "emerging_hot_spots", "CATEGORIES", "CATEGORY_LABELS", "CATEGORY_RULES"]

CATEGORIES = (
    "no_pattern",
    "new_hot", "consecutive_hot", "intensifying_hot", "persistent_hot",
    "diminishing_hot", "sporadic_hot", "oscillating_hot", "historical_hot",
    "new_cold", "consecutive_cold", "intensifying_cold", "persistent_cold",
    "diminishing_cold", "sporadic_cold", "oscillating_cold", "historical_cold",
)
CATEGORY_LABELS = {
    "no_pattern": "No Pattern Detected",
    **{f"{k}_{s}": f"{k.capitalize()} {s.capitalize()} Spot"
       for s in ("hot", "cold")
       for k in ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
                 "oscillating", "historical")},
}
#: the rules, evaluated for the hot side with H = significant hot bins, C = significant cold
#: bins, n = time steps, "90%" meaning at least 0.9 * n bins. The cold side swaps H and C
#: and "increasing" / "decreasing" (an intensifying cold spot's z-scores fall).
CATEGORY_RULES = {
    "new": "final bin in H; no other bin in H; no bin in C",
    "consecutive": "final bin in H; H is one uninterrupted run of >= 2 bins ending at the final bin; "
                   "fewer than 90% of bins in H; no bin in C",
    "intensifying": "final bin in H; at least 90% of bins in H; Mann-Kendall trend of the z-scores "
                    "significant and increasing",
    "persistent": "final bin in H; at least 90% of bins in H; no significant trend",
    "diminishing": "final bin in H; at least 90% of bins in H; trend significant and decreasing",
    "sporadic": "final bin in H; fewer than 90% of bins in H; H is not a single run ending at the "
                "final bin; no bin in C",
    "oscillating": "final bin in H; fewer than 90% of bins in H; at least one earlier bin in C",
    "historical": "final bin not in H and not in C; at least 90% of bins in H",
    "no_pattern": "none of the above (for either side)",
}


# ----------------------------------------------------------------------------- cube
@dataclass
class SpaceTimeCube:
    """Event counts per location and time step.

    Attributes
    ----------
    grid : Grid
    locations : ndarray of int64
        Kept-cell index (into ``grid``) of each analysed location.
    counts : ndarray (n_locations, n_steps) of float
    steps : ndarray of datetime64[D]
        Start date of each step.
    step_end : ndarray of datetime64[D]
        Exclusive end date of each step.
    freq : str
        ``"week"`` or ``"month"``.
    n_events : int
        Events counted in the cube.
    n_no_location, n_outside, n_out_of_period : int
        Records without coordinates, outside the grid, outside the steps.
    """

    grid: Any
    locations: np.ndarray
    counts: np.ndarray
    steps: np.ndarray
    step_end: np.ndarray
    freq: str
    n_events: int
    n_no_location: int = 0
    n_outside: int = 0
    n_out_of_period: int = 0

    @property
    def n_locations(self) -> int:
        return int(self.locations.size)

    @property
    def n_steps(self) -> int:
        return int(self.steps.size)


def _step_starts(d0: np.datetime64, d1: np.datetime64, freq: str) -> np.ndarray:
    if freq == "week":
        # 1970-01-01 was a Thursday: Monday on or before d0
        first = d0 - ((d0.astype(np.int64) + 3) % 7)
        return np.arange(first, d1 + 1, 7).astype("datetime64[D]")
    if freq == "month":
        m0, m1 = d0.astype("datetime64[M]"), d1.astype("datetime64[M]")
        return np.arange(m0, m1 + 1).astype("datetime64[D]")
    raise ParameterError(f"time step must be 'week' or 'month', got {freq!r}")


def space_time_cube(events: Any = None, grid: Any = None, *, freq: str = "week", start: Any = None,
                    end: Any = None, locations: str = "all", x: Any = None, y: Any = None,
                    t: Any = None) -> SpaceTimeCube:
    """Count events per grid cell and week/month (local dates ``start``..``end`` inclusive)."""
    from ._events import as_events
    from .grid import Grid

    if locations not in ("with_data", "all"):
        raise ParameterError("locations must be 'with_data' or 'all'")
    ev = as_events(events, x=x, y=y, t=t, need_time=True)
    if grid is None:
        grid = Grid.chicago()
    days = ev.t.astype("datetime64[D]")
    if ev.n == 0 and (start is None or end is None):
        raise ParameterError("no located events with times: cannot build a space-time cube")
    d0 = np.datetime64(start, "D") if start is not None else days.min()
    d1 = np.datetime64(end, "D") if end is not None else days.max()
    if d1 < d0:
        raise ParameterError(f"end {d1} is before start {d0}")
    starts = _step_starts(d0, d1, freq)
    if starts.size < 2:
        raise ParameterError("the period holds fewer than 2 time steps")
    ends = np.r_[starts[1:], (_step_starts(starts[-1] + (7 if freq == "week" else 32),
                                           starts[-1] + (7 if freq == "week" else 32), freq)[0])]
    cell = grid.locate(ev.x, ev.y)
    in_period = (days >= d0) & (days <= d1)
    step = np.searchsorted(starts, days, side="right") - 1
    ok = (cell >= 0) & in_period & (step >= 0)
    T = starts.size
    full = np.bincount(cell[ok] * T + step[ok], minlength=grid.n_cells * T).reshape(grid.n_cells, T).astype(float)
    locs = np.flatnonzero(full.sum(1) > 0) if locations == "with_data" else np.arange(grid.n_cells)
    return SpaceTimeCube(grid=grid, locations=locs.astype(np.int64), counts=full[locs], steps=starts,
                         step_end=ends.astype("datetime64[D]"), freq=freq, n_events=int(ok.sum()),
                         n_no_location=ev.n_no_location, n_outside=int((cell < 0).sum()),
                         n_out_of_period=int(((cell >= 0) & ~(in_period & (step >= 0))).sum()))


# ----------------------------------------------------------------------------- statistics
def space_time_gi_star(counts: np.ndarray, weights: Any, time_window: int = 1) -> np.ndarray:
    """Gi* z-score of every bin of a cube with space-time neighbours (see module doc).

    ``weights`` is the binary spatial weights matrix among locations *including*
    the self weight; bins of the previous ``time_window`` steps are neighbours too.
    """
    import scipy.sparse as sp

    X = np.asarray(counts, float)
    n, T = X.shape
    w = sp.csr_matrix(weights, dtype=float)
    if w.shape != (n, n):
        raise ParameterError(f"weights are {w.shape}, cube has {n} locations")
    k = int(time_window)
    if k < 0:
        raise ParameterError("time window must be >= 0 steps")
    N = n * T
    xbar = X.mean()
    s = np.sqrt((X * X).mean() - xbar * xbar)
    if not s > 0:
        raise ParameterError("the cube is constant: Gi* is undefined")
    L = w @ X  # spatial lag per step (n, T)
    cs = np.cumsum(np.pad(L, ((0, 0), (1, 0))), axis=1)
    lo = np.maximum(np.arange(T) - k, 0)
    lag = cs[:, np.arange(T) + 1] - cs[:, lo]  # sum over steps lo..t
    m = (np.arange(T) - lo + 1).astype(float)  # steps in the window
    wsum = np.asarray(w.sum(axis=1)).ravel()[:, None] * m[None, :]
    w2 = np.asarray(w.multiply(w).sum(axis=1)).ravel()[:, None] * m[None, :]
    den = s * np.sqrt(np.maximum(N * w2 - wsum * wsum, 0.0) / (N - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, (lag - xbar * wsum) / den, 0.0)


def mann_kendall(series: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test per row: ``S, tau, z, p`` (two-sided, tie-corrected variance).

    Values are rounded to 1e-9 first so float noise does not break ties.
    ``z = (S - sign(S)) / sqrt(var S)``; rows with zero variance get z = 0, p = 1.
    """
    from scipy.stats import norm

    X = np.round(np.atleast_2d(np.asarray(series, float)), 9)
    n_rows, T = X.shape
    if T < 3:
        raise ParameterError("the Mann-Kendall test needs at least 3 time steps")
    S = np.zeros(n_rows)
    for d in range(1, T):
        S += np.sign(X[:, d:] - X[:, :-d]).sum(axis=1)
    srt = np.sort(X, axis=1)
    ties = np.zeros(n_rows)
    run = np.ones(n_rows)
    for c in range(1, T + 1):
        same = srt[:, c] == srt[:, c - 1] if c < T else np.zeros(n_rows, bool)
        ended = ~same
        ties += np.where(ended, run * (run - 1) * (2 * run + 5), 0.0)
        run = np.where(same, run + 1, 1.0)
    var = (T * (T - 1) * (2 * T + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (S - np.sign(S)) / np.sqrt(var), 0.0)
    p = np.where(var > 0, 2.0 * norm.sf(np.abs(z)), 1.0)
    tau = S / (T * (T - 1) / 2.0)
    return S, tau, z, p


def _trailing_run(b: np.ndarray) -> np.ndarray:
    """Length of the run of True values that ends at the last column, per row."""
    rev = b[:, ::-1]
    first_false = np.where((~rev).any(axis=1), (~rev).argmax(axis=1), b.shape[1])
    return first_false


def classify(hot: Any, cold: Any, trend_z: Any, trend_p: Any, trend_alpha: float = 0.05) -> np.ndarray:
    """ArcGIS emerging hot spot category of each location (array of names from ``CATEGORIES``).

    ``hot``/``cold``: boolean (n_locations, n_steps) arrays of significant hot/cold bins;
    ``trend_z``/``trend_p``: Mann-Kendall result on each location's Gi* z-scores.
    """
    H = np.atleast_2d(np.asarray(hot, bool))
    C = np.atleast_2d(np.asarray(cold, bool))
    if H.shape != C.shape:
        raise ParameterError("hot and cold arrays differ in shape")
    if np.any(H & C):
        raise ParameterError("a bin cannot be both a hot and a cold spot")
    n, T = H.shape
    tz = np.asarray(trend_z, float).ravel()
    tp = np.asarray(trend_p, float).ravel()
    trend = tp <= trend_alpha
    out = np.full(n, "no_pattern", dtype=object)

    def side(A: np.ndarray, B: np.ndarray, up: np.ndarray, down: np.ndarray, tag: str) -> None:
        na = A.sum(1)
        big = na >= 0.9 * T - 1e-9
        final = A[:, -1]
        nb = B.sum(1)
        run = _trailing_run(A)
        single_run = run == na
        rules = [
            ("intensifying", final & big & up),
            ("diminishing", final & big & down),
            ("persistent", final & big & ~up & ~down),
            ("oscillating", final & ~big & (nb > 0)),
            ("new", final & ~big & (nb == 0) & single_run & (na == 1)),
            ("consecutive", final & ~big & (nb == 0) & single_run & (na >= 2)),
            ("sporadic", final & ~big & (nb == 0) & ~single_run),
        ]
        for name, m in rules:
            out[m & (out == "no_pattern")] = f"{name}_{tag}"

    side(H, C, trend & (tz > 0), trend & (tz < 0), "hot")
    side(C, H, trend & (tz < 0), trend & (tz > 0), "cold")
    neither = ~H[:, -1] & ~C[:, -1] & (out == "no_pattern")
    out[neither & (H.sum(1) >= 0.9 * T - 1e-9)] = "historical_hot"
    out[neither & (C.sum(1) >= 0.9 * T - 1e-9)] = "historical_cold"
    return out


# ----------------------------------------------------------------------------- result
@dataclass
class EmergingResult(Result):
    """Emerging hot spot analysis of a space-time cube.

    Attributes
    ----------
    cube : SpaceTimeCube
    category : ndarray of str (n_locations,)
        One of ``CATEGORIES`` per analysed location (``cube.locations``).
    z, p : ndarray (n_locations, n_steps)
        Gi* z-score and two-sided p-value of each bin.
    hot, cold : ndarray of bool (n_locations, n_steps)
        Significant hot / cold bins.
    trend_tau, trend_z, trend_p : ndarray (n_locations,)
        Mann-Kendall trend of each location's z-scores.
    count_trend_z, count_trend_p : ndarray (n_locations,)
        Mann-Kendall trend of the raw counts (as ArcGIS's cube reports).
    band : float
        Spatial distance band (CRS units) between lattice cell centres.
    time_window : int
        Previous steps counted as neighbours.
    alpha, trend_alpha : float
    fdr : bool
    label : str
    """

    cube: SpaceTimeCube
    category: np.ndarray
    z: np.ndarray
    p: np.ndarray
    hot: np.ndarray
    cold: np.ndarray
    trend_tau: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    count_trend_z: np.ndarray
    count_trend_p: np.ndarray
    band: float
    time_window: int
    alpha: float
    trend_alpha: float
    fdr: bool
    label: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rule(self) -> str:
        from .grid import crs_unit

        unit = crs_unit(self.cube.grid.crs)[1]
        return (f"Gi* band {self.band:g} {unit} + {self.time_window} previous {self.cube.freq}(s), "
                f"{'FDR ' if self.fdr else ''}p<={self.alpha:g}; Mann-Kendall p<={self.trend_alpha:g}")

    def summary(self):
        """Locations per category (all 17 listed, zeros included), as a DataFrame."""
        import pandas as pd

        return pd.DataFrame([{"category": c, "label": CATEGORY_LABELS[c], "locations": int((self.category == c).sum())}
                             for c in CATEGORIES])

    def to_frame(self):
        from .export import unit_frame

        g = self.cube.grid
        df = unit_frame(g, g.n_cells).iloc[self.cube.locations].reset_index(drop=True)
        df["category"] = self.category
        df["label"] = [CATEGORY_LABELS[c] for c in self.category]
        df["events"] = self.cube.counts.sum(1)
        df["hot_bins"] = self.hot.sum(1)
        df["cold_bins"] = self.cold.sum(1)
        df["trend_tau"] = self.trend_tau
        df["trend_z"] = self.trend_z
        df["trend_p"] = self.trend_p
        df["count_trend_z"] = self.count_trend_z
        df["count_trend_p"] = self.count_trend_p
        df["final_z"] = self.z[:, -1]
        return df

    def frame(self):
        return self.to_frame()

    def geo_units(self):
        return self.cube.grid, self.cube.locations

    def write(self, path: Any) -> Any:
        """Write as .geojson, .csv, .parquet or .json (by suffix), with the provenance."""
        return Result.write(self, path)

    def plot(self, path: Any = None, **kw: Any):
        from .maps import plot_emerging

        return plot_emerging(self, path=path, **kw)


def emerging_hot_spots(events: Any = None, grid: Any = None, *, freq: str = "week", band: float | None = None,
                       time_window: int = 1, alpha: float = 0.05, trend_alpha: float = 0.05, fdr: bool = True,
                       start: Any = None, end: Any = None, locations: str = "all",
                       cube: SpaceTimeCube | None = None, label: str = "", x: Any = None, y: Any = None,
                       t: Any = None) -> EmergingResult:
    """Build the cube (unless given), run space-time Gi*, the trend test and classify every location."""
    from scipy.stats import norm

    from .gistar import fdr_threshold, grid_band_weights

    for nm, a in (("alpha", alpha), ("trend_alpha", trend_alpha)):
        if not 0 < a < 1:
            raise ParameterError(f"{nm} must be in (0, 1), got {a!r}")
    if cube is None:
        cube = space_time_cube(events, grid, freq=freq, start=start, end=end, locations=locations, x=x, y=y, t=t)
    g = cube.grid
    if band is None:
        band = 3 * g.cell_size
    if cube.n_steps < 3:
        raise ParameterError("emerging hot spots need at least 3 time steps")
    if cube.n_locations < 3:
        raise ParameterError("emerging hot spots need at least 3 locations with data")
    wfull = grid_band_weights(g, band)
    w = wfull[cube.locations][:, cube.locations]
    z = space_time_gi_star(cube.counts, w, time_window)
    p = 2.0 * norm.sf(np.abs(z))
    sig = np.zeros_like(p, dtype=bool)
    for j in range(cube.n_steps):
        thr = fdr_threshold(p[:, j], alpha) if fdr else alpha
        sig[:, j] = p[:, j] <= thr
    hot, cold = sig & (z > 0), sig & (z < 0)
    _, tau, tz, tp = mann_kendall(z)
    _, _, cz, cp = mann_kendall(cube.counts)
    cat = classify(hot, cold, tz, tp, trend_alpha)
    res = EmergingResult(cube=cube, category=cat, z=z, p=p, hot=hot, cold=cold, trend_tau=tau, trend_z=tz,
                          trend_p=tp, count_trend_z=cz, count_trend_p=cp, band=float(band),
                          time_window=int(time_window), alpha=alpha, trend_alpha=trend_alpha, fdr=fdr, label=label)
    from ._events import events_meta

    res.meta = events_meta(events, g, method=f"emerging hot spots: {res.rule}; the 17 ArcGIS categories",
                           step=cube.freq, records_without_location=int(cube.n_no_location),
                           records_outside_units=int(cube.n_outside))
    return res
