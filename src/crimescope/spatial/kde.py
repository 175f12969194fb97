"""Kernel density surfaces on a grid, computed by binned FFT convolution.

Events are *linearly binned* onto the lattice of cell centres (each event's unit
mass is shared among the four surrounding centres in proportion to its
distance, as in Wand & Jones's binned KDE), and the binned masses are convolved
with the kernel sampled at the lattice offsets using an FFT
(``scipy.signal.fftconvolve``): cost O(cells log cells), independent of how many
events there are. The binning error is second order in the cell size; with
bandwidths of a few cells it is far below the sampling noise.

Kernels (``h`` = bandwidth, ``d`` = distance):

* ``quartic`` (biweight, CrimeStat/ArcGIS): ``K(d) = 3 / (pi h^2) * (1 - d^2/h^2)^2`` for
  ``d < h``; ``h`` is the search radius.
* ``gaussian``: ``K(d) = exp(-d^2 / (2 h^2)) / (2 pi h^2)``, truncated at ``4 h``; ``h`` is the
  standard deviation.

Bandwidth rule when none is given (stated in ``KDEResult.bandwidth_rule``): the
ArcGIS Kernel Density default search radius
``0.9 * min(SD, sqrt(1/ln 2) * Dm) * n^-0.2`` (SD the standard distance, Dm the
median distance to the mean centre) for the quartic kernel; for the Gaussian
kernel the same radius divided by 2.6226, the ratio of the canonical
bandwidths of the biweight and the Gaussian kernels, so both smooth alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..result import Result

__all__ = ["KDEResult", "kde", "default_bandwidth", "KERNELS"]

KERNELS = ("quartic", "gaussian")
_QUARTIC_PER_GAUSSIAN = 2.6226  # canonical bandwidth ratio biweight / Gaussian (Marron & Nolan 1988)


def default_bandwidth(x: np.ndarray, y: np.ndarray, kernel: str = "quartic") -> float:
    """ArcGIS rule-of-thumb search radius (quartic); Gaussian sd = radius / 2.6226."""
    n = x.size
    if n < 2:
        raise ParameterError("need at least 2 events to choose a bandwidth")
    mx, my = x.mean(), y.mean()
    d = np.hypot(x - mx, y - my)
    sd = np.sqrt((d * d).sum() / n)
    dm = np.median(d)
    r = 0.9 * min(sd, np.sqrt(1.0 / np.log(2.0)) * dm) * n ** -0.2
    if not r > 0:
        raise ParameterError("events all at one place: give a bandwidth")
    return float(r if kernel == "quartic" else r / _QUARTIC_PER_GAUSSIAN)


def _kernel_array(kernel: str, h: float, cell: float) -> np.ndarray:
    reach = h if kernel == "quartic" else 4.0 * h
    r = int(np.ceil(reach / cell))
    off = np.arange(-r, r + 1) * cell
    dx, dy = np.meshgrid(off, off)
    d2 = dx * dx + dy * dy
    if kernel == "quartic":
        u = d2 / (h * h)
        k = np.where(u < 1.0, 3.0 / (np.pi * h * h) * (1.0 - u) ** 2, 0.0)
    else:
        k = np.exp(-d2 / (2.0 * h * h)) / (2.0 * np.pi * h * h)
        k[d2 > (4.0 * h) ** 2] = 0.0
    return k


@dataclass
class KDEResult(Result):
    """A kernel density surface on the kept cells of a grid.

    Attributes
    ----------
    grid : Grid
    density : ndarray (n_cells,)
        Events per square CRS unit (per sq ft for EPSG:3435) at each cell centre.
    expected : ndarray (n_cells,)
        ``density * cell area`` (clipped area): smoothed events per cell.
    kernel : str
    bandwidth : float
        Search radius (quartic) or standard deviation (Gaussian), CRS units.
    bandwidth_rule : str
        ``"given"`` or the rule used.
    n_events : int
        Located events used.
    n_no_location : int
        Input records without coordinates.
    label : str
    """

    grid: Any
    density: np.ndarray
    expected: np.ndarray
    kernel: str
    bandwidth: float
    bandwidth_rule: str
    n_events: int
    n_no_location: int = 0
    label: str = ""
    extra: dict = field(default_factory=dict)

    def density_per_sq_km(self) -> np.ndarray:
        """Density converted to events per square kilometre via the CRS's unit (pyproj)."""
        import pyproj

        f = pyproj.CRS.from_user_input(self.grid.crs).axis_info[0].unit_conversion_factor  # metres per unit
        return self.density / (f * f) * 1e6

    def to_frame(self):
        from .export import unit_frame

        df = unit_frame(self.grid, self.grid.n_cells)
        df["density_per_sq_km"] = self.density_per_sq_km()
        df["expected"] = self.expected
        return df

    def frame(self):
        return self.to_frame()

    def geo_units(self):
        return self.grid, None

    def write(self, path: Any) -> Any:
        """Write as .geojson, .csv, .parquet or .json (by suffix), with the provenance."""
        return Result.write(self, path)

    def plot(self, path: Any = None, **kw: Any):
        from .maps import plot_values

        kw.setdefault("title", f"Kernel density ({self.kernel}, bandwidth {self.bandwidth:,.0f}) {self.label}")
        kw.setdefault("legend", "events per sq km")
        return plot_values(self.grid, self.density_per_sq_km(), path=path, **kw)


def kde(events: Any = None, grid: Any = None, *, bandwidth: float | None = None, kernel: str = "quartic",
        x: Any = None, y: Any = None, weights: Any = None, label: str = "") -> KDEResult:
    """Kernel density of events evaluated at the centres of ``grid``'s cells (FFT, linear binning)."""
    from scipy.signal import fftconvolve

    from ._events import as_events
    from .grid import Grid

    if kernel not in KERNELS:
        raise ParameterError(f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")
    ev = as_events(events, x=x, y=y)
    if grid is None:
        grid = Grid.chicago()
    w = np.ones(ev.n) if weights is None else np.asarray(weights, float).ravel()[ev.index]
    if bandwidth is None:
        h = default_bandwidth(ev.x, ev.y, kernel)
        rule = ("ArcGIS default search radius 0.9*min(SD, sqrt(1/ln2)*Dm)*n^-0.2"
                + ("" if kernel == "quartic" else " / 2.6226 (Gaussian equivalent)"))
    else:
        h = float(bandwidth)
        if not np.isfinite(h) or h <= 0:
            raise ParameterError(f"bandwidth must be a positive distance, got {bandwidth!r}")
        rule = "given"
    s = grid.cell_size
    k = _kernel_array(kernel, h, s)
    if abs(k.sum() * s * s - 1.0) > 0.05:  # bandwidth too small for the cell: sampled kernel is off
        raise ParameterError(f"bandwidth {h:g} is too small for cells of {s:g}; use at least the cell size")
    r = k.shape[0] // 2
    # lattice of cell centres, padded by the kernel reach so mass near the edge is kept
    nx, ny = grid.nx + 2 * r, grid.ny + 2 * r
    gx = (ev.x - grid.x0) / s - 0.5 + r  # continuous centre-lattice coordinates
    gy = (ev.y - grid.y0) / s - 0.5 + r
    ix, iy = np.floor(gx).astype(np.int64), np.floor(gy).astype(np.int64)
    fx, fy = gx - ix, gy - iy
    mass = np.zeros(nx * ny)
    for ddx, ddy, ww in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        cx, cy = ix + ddx, iy + ddy
        ok = (cx >= 0) & (cx < nx) & (cy >= 0) & (cy < ny)
        mass += np.bincount(cy[ok] * nx + cx[ok], weights=(w * ww)[ok], minlength=nx * ny)
    dens_full = fftconvolve(mass.reshape(ny, nx), k, mode="same")
    dens_full = np.maximum(dens_full, 0.0)  # FFT round-off can leave -1e-20
    dens = dens_full[r:r + grid.ny, r:r + grid.nx].ravel()[grid.cell_ids]
    res = KDEResult(grid=grid, density=dens, expected=dens * grid.area, kernel=kernel, bandwidth=h,
                    bandwidth_rule=rule, n_events=ev.n, n_no_location=ev.n_no_location, label=label)
    from ._events import events_meta

    res.meta = events_meta(events, grid, method=f"kernel density ({kernel}, bandwidth {h:g} CRS units, {rule}); "
                           "density_per_sq_km is events per km², expected the smoothed events per cell",
                           records_without_location=int(ev.n_no_location))
    return res
