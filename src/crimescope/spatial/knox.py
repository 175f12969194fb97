"""Knox test for near repeats, with Monte Carlo permutation of times (Near Repeat Calculator layout).

For every pair of events the spatial distance ``d`` (CRS units) and the time
difference ``dt`` (whole days between the local calendar dates) fall in one
cell of a table of spatial bands x temporal bands. The Knox statistic of a
cell is the number of pairs in it. The null hypothesis (no space-time
interaction) is simulated by randomly permuting the event times among the
events (locations fixed) ``permutations`` times with a seeded generator.

Band edges (docs/spatial.md), for spatial band width ``s`` and temporal band width ``w``:

* "same location": ``d == 0`` (only when ``same_location=True``);
* spatial band k (k = 1..K): ``(k-1) s <= d < k s`` (excluding ``d == 0`` if it has its own row);
  the last row, "more than", holds every pair with ``d >= K s``;
* temporal band m (m = 1..M): ``(m-1) w <= dt < m w`` days, so with ``w = 14`` the
  first band is days 0..13 and the second 14..27 — every band holds exactly ``w``
  day values (the Near Repeat Calculator's "0 to 14" / "15 to 28" bands hold 15 and 14);
  the last column, "more than", holds ``dt >= M w``.

Per cell: observed pairs, expected (mean over permutations), their ratio, and the
one-sided Monte Carlo p-value ``(1 + #{simulated >= observed}) / (1 + permutations)``.

Speed: pairs closer than ``K s`` are enumerated once with a KD-tree and their
spatial band stored; each permutation only re-bins the time differences of that
pair list (numba: 64 permutations at a time in SIMD-friendly loops, blocks in parallel). The "more than" distance row is
obtained from the column totals, which permutations do not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..result import Result

__all__ = ["KnoxResult", "knox_test", "close_pairs"]


def close_pairs(x: np.ndarray, y: np.ndarray, max_distance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs ``i < j`` closer than ``max_distance`` (strictly) and their distances."""
    from scipy.spatial import cKDTree

    pts = np.column_stack([x, y])
    # query_pairs keeps d <= r; the band edge is exclusive, so drop d == r afterwards
    pairs = cKDTree(pts).query_pairs(float(max_distance), output_type="ndarray")
    if pairs.size == 0:
        return np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0)
    i = pairs[:, 0].astype(np.int32)
    j = pairs[:, 1].astype(np.int32)
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    keep = d < max_distance
    return i[keep], j[keep], d[keep]


def _time_band_counts(dt: np.ndarray, w: int, M: int) -> np.ndarray:
    """Pairs per temporal band (M bands + 'more than') among ALL pairs, from the day values."""
    # pairs with |t_i - t_j| < b for b = w, 2w, ..., Mw using a sorted array
    t = np.sort(dt)
    n = t.size
    below = []
    for m in range(1, M + 1):
        b = m * w
        # for each i, number of j > i with t_j - t_i < b
        below.append(int((np.searchsorted(t, t + b, side="left") - np.arange(n) - 1).sum()))
    total = n * (n - 1) // 2
    cum = np.array([0] + below + [total], dtype=np.int64)
    return np.diff(cum)


@dataclass
class KnoxResult(Result):
    """Knox near-repeat test.

    Attributes
    ----------
    distance_edges : ndarray
        Spatial band edges ``0, s, 2s, ..., Ks`` (CRS units).
    day_edges : ndarray
        Temporal band edges ``0, w, ..., Mw`` (days).
    row_labels, col_labels : list of str
        Band labels, including "same location" (if used) and the "more than" row/column.
    observed : ndarray (rows, cols) of int
        Pairs per band cell.
    expected : ndarray (rows, cols) of float
        Mean pairs per cell over the permutations.
    ratio : ndarray
        ``observed / expected`` (NaN where expected is 0).
    p_value : ndarray
        ``(1 + #{simulated >= observed}) / (1 + permutations)``.
    permutations : int
    seed : int or None
    n_events : int
        Events used (located, with a date).
    n_no_location, n_no_time : int
        Records left out for lack of coordinates / time.
    n_pairs : int
        All pairs, ``n (n - 1) / 2``.
    label : str
    """

    distance_edges: np.ndarray
    day_edges: np.ndarray
    row_labels: list
    col_labels: list
    observed: np.ndarray
    expected: np.ndarray
    ratio: np.ndarray
    p_value: np.ndarray
    permutations: int
    seed: Any
    n_events: int
    n_no_location: int
    n_no_time: int
    n_pairs: int
    label: str = ""
    extra: dict = field(default_factory=dict)

    def table(self, what: str = "ratio"):
        """One of ``observed``, ``expected``, ``ratio``, ``p_value`` as a DataFrame laid out like the
        Near Repeat Calculator: rows = distance bands, columns = time bands."""
        import pandas as pd

        if what not in ("observed", "expected", "ratio", "p_value"):
            raise ParameterError("what must be observed, expected, ratio or p_value")
        return pd.DataFrame(getattr(self, what), index=self.row_labels, columns=self.col_labels)

    def to_frame(self):
        """Long table: one row per band cell with observed, expected, ratio, p_value."""
        import pandas as pd

        rows = []
        for a, rl in enumerate(self.row_labels):
            for b, cl in enumerate(self.col_labels):
                rows.append({"distance_band": rl, "time_band": cl, "observed": int(self.observed[a, b]),
                             "expected": float(self.expected[a, b]), "ratio": float(self.ratio[a, b]),
                             "p_value": float(self.p_value[a, b])})
        return pd.DataFrame(rows)

    def frame(self):
        return self.to_frame()

    def write(self, path: Any) -> Any:
        """Write the long table as .csv, .parquet or .json (by suffix), with the provenance."""
        from ..errors import ParameterError as _PE

        if str(path).lower().endswith(".geojson"):
            raise _PE("the Knox table has no geometry: write .csv, .parquet or .json")
        return Result.write(self, path)

    def render(self, fmt: str | None = None) -> str:
        """Plain-text tables (observed/expected ratio with significance stars, then p-values);
        with ``fmt`` (csv, json, table) the long table as :meth:`Result.render` gives it."""
        if fmt is not None:
            return Result.render(self, fmt)
        r = self.table("ratio")
        p = self.table("p_value")
        star = np.where(self.p_value <= 0.01, "**", np.where(self.p_value <= 0.05, "*", ""))
        txt = r.copy().astype(object)
        for a in range(r.shape[0]):
            for b in range(r.shape[1]):
                v = r.iat[a, b]
                txt.iat[a, b] = ("-" if not np.isfinite(v) else f"{v:.2f}") + star[a, b]
        return (f"Knox ratios observed/expected ({self.permutations} permutations, seed {self.seed}; "
                f"* p<=0.05, ** p<=0.01)\n{txt.to_string()}\n\np-values\n{p.round(3).to_string()}")


def knox_test(events: Any = None, *, distance_band: float = 400.0, n_distance_bands: int = 5,
              day_band: int = 14, n_day_bands: int = 5, permutations: int = 999, seed: int | None = 0,
              same_location: bool = True, x: Any = None, y: Any = None, t: Any = None,
              label: str = "", unit: str = "ft") -> KnoxResult:
    """Knox test on events (DataFrame with x, y, occurred_local, or arrays) — see module doc."""
    from ._events import as_events, day_index

    s = float(distance_band)
    K, M, w, P = int(n_distance_bands), int(n_day_bands), int(day_band), int(permutations)
    if not np.isfinite(s) or s <= 0:
        raise ParameterError(f"distance band must be positive, got {distance_band!r}")
    if not (1 <= K <= 100 and 1 <= M <= 100):
        raise ParameterError("use 1 to 100 distance bands and 1 to 100 time bands")
    if w < 1 or w != day_band:
        raise ParameterError(f"time band must be a whole number of days >= 1, got {day_band!r}")
    if P < 1:
        raise ParameterError("permutations must be >= 1")
    ev = as_events(events, x=x, y=y, t=t, need_time=True)
    if ev.n < 3:
        raise ParameterError("the Knox test needs at least 3 events with place and time")
    # events in spatial strips (a pair's two events are then close in memory too); the order
    # depends only on the events' place and day, so the same events in any input order give
    # the same permutations and the same p-values for a given seed
    d_all = day_index(ev.t)
    so = np.lexsort((d_all, ev.y, ev.x, np.floor((ev.y - ev.y.min()) / (K * s))))
    ex, ey = ev.x[so], ev.y[so]
    days = d_all[so]
    days = (days - days.min()).astype(np.int32)
    pi, pj, d = close_pairs(ex, ey, K * s)
    band = np.minimum((d // s).astype(np.int64), K - 1)
    off = 0
    if same_location:
        band = band + 1
        band[d == 0] = 0
        off = 1
    nrow, ncol = K + off + 1, M + 1  # + "more than" row and column
    lut = (np.arange(M * w) // w).astype(np.int8)  # day difference -> band
    from ._knox_kernels import count_csr, count_perms_blocked

    # CSR pair list (pairs sorted by i): per pair only j and its spatial band are read
    order = np.lexsort((pj, pi))
    nb = pj[order].astype(np.int32)
    nbband = band[order].astype(np.int8)
    start = np.searchsorted(pi[order], np.arange(ev.n + 1)).astype(np.int64)
    obs = np.zeros((nrow, ncol), np.int64)
    obs[:-1, :M] = count_csr(days, start, nb, nbband, lut, nrow - 1, M)
    col_tot = _time_band_counts(days, w, M)  # all pairs per time band (invariant under permutation)
    close_tot = np.bincount(nbband.astype(np.int64), minlength=nrow - 1)  # close pairs per distance band (invariant too)
    obs[:-1, M] = close_tot - obs[:-1, :M].sum(1)
    obs[-1, :] = col_tot - obs[:-1, :].sum(0)
    if nb.size >= 2**31 - 1:
        raise ParameterError("too many close pairs for the Knox kernel: use narrower distance bands")
    span = int(days.max()) if days.size else 0
    tdays = days.astype(np.int16) if span + M * w < 32_000 else days  # int16: twice the SIMD width
    edges = (np.arange(1, M + 1) * w).astype(tdays.dtype)
    rng = np.random.default_rng(seed)
    sims = np.empty((P, nrow, ncol), np.int64)
    chunk = 256  # permutations generated per call (memory: chunk x n int64)
    for a in range(0, P, chunk):
        b = min(P, a + chunk)
        perms = np.stack([rng.permutation(ev.n) for _ in range(b - a)]).astype(np.int32)
        cum = count_perms_blocked(tdays, perms, start, nb, nbband, edges, nrow - 1, 64)
        sims[a:b, :-1, :M] = np.diff(cum, axis=2, prepend=0)
    sims[:, :-1, M] = close_tot[None, :] - sims[:, :-1, :M].sum(2)
    sims[:, -1, :] = col_tot[None, :] - sims[:, :-1, :].sum(1)
    expected = sims.mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, obs / expected, np.nan)
    pval = (1.0 + (sims >= obs[None]).sum(0)) / (1.0 + P)
    dedges = np.arange(K + 1) * s
    rows = (["same location"] if same_location else [])
    rows += [f"{'>0' if (k == 0 and same_location) else f'{dedges[k]:g}'} to <{dedges[k + 1]:g} {unit}" for k in range(K)]
    rows += [f">= {dedges[K]:g} {unit}"]
    cols = [f"{m * w} to {(m + 1) * w - 1} days" for m in range(M)] + [f">= {M * w} days"]
    res = KnoxResult(distance_edges=dedges, day_edges=np.arange(M + 1) * w, row_labels=rows, col_labels=cols,
                     observed=obs, expected=expected, ratio=ratio, p_value=pval, permutations=P, seed=seed,
                     n_events=ev.n, n_no_location=ev.n_no_location, n_no_time=ev.n_no_time,
                     n_pairs=ev.n * (ev.n - 1) // 2, label=label, extra={"n_close_pairs": int(pi.size)})
    from ._events import events_meta

    res.meta = events_meta(events, method=f"Knox test, {P} permutations of the times (seed {seed}); "
                           "observed = pairs of records per distance x time band", permutations=P, seed=seed,
                           records_without_location=int(ev.n_no_location), records_without_time=int(ev.n_no_time))
    if res.meta.get("unit"):
        res.meta["unit"] = f"pairs of {res.meta['unit']}"
    return res
