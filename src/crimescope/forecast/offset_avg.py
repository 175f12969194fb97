"""Offset averaging: a base model's forecast averaged over four half-cell-shifted grids."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .base import EventArrays, Forecaster, check_number, grid_key, invalid

__all__ = ["OffsetAverage", "shifted_overlap", "HALF_CELL_OFFSETS"]

#: offsets of the shifted lattices, in units of the cell size
HALF_CELL_OFFSETS = ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5))

_CACHE: "OrderedDict[tuple, tuple]" = OrderedDict()
_CACHE_SIZE = 16


def _outline(grid):
    """The polygon the grid covers: its boundary, or the lattice's rectangle for a regular grid."""
    import shapely

    if grid.boundary is not None:
        return grid.boundary
    s = grid.cell_size
    return shapely.box(grid.x0, grid.y0, grid.x0 + grid.nx * s, grid.y0 + grid.ny * s)


def shifted_overlap(grid, fx: float, fy: float):
    """The grid shifted by ``(fx, fy)`` cells (0 or 0.5) and its overlap map onto ``grid``.

    Returns ``(shifted, M)``: ``shifted`` covers the same outline (boundary, or the
    lattice rectangle of a regular grid) with edges at ``grid``'s edges + ``(fx, fy) * cell``;
    ``M`` is a ``scipy.sparse.csr_matrix`` of shape ``(grid.n_cells, shifted.n_cells)``
    with ``M[t, s]`` = area of (target cell t ∩ shifted cell s ∩ outline) / area of
    (shifted cell s ∩ outline ∩ kept target cells), so ``M @ values`` spreads each
    shifted cell's count over the target cells it overlaps in proportion to the
    overlap area and preserves the total. Exact: with half-cell offsets every overlap
    is a union of the half-size cells of a lattice anchored on ``grid``, whose clipped
    areas ``Grid.for_boundary`` computes. Cached per (grid, offset).
    """
    import scipy.sparse as sp

    from ..spatial.grid import Grid

    if fx not in (0.0, 0.5) or fy not in (0.0, 0.5):
        raise invalid("offset", (fx, fy), "0 or 0.5 cells in each direction")
    key = grid_key(grid) + (fx, fy)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    s = grid.cell_size
    if fx == 0.0 and fy == 0.0:
        out = (grid, sp.identity(grid.n_cells, format="csr"))
    else:
        outline = _outline(grid)
        shifted = Grid.for_boundary(outline, s, offset=(grid.x0 + fx * s, grid.y0 + fy * s), crs=grid.crs)
        fine_key = grid_key(grid) + ("fine",)
        fine = _CACHE.get(fine_key)
        if fine is None:
            fine = Grid.for_boundary(outline, s / 2.0, offset=(grid.x0, grid.y0), crs=grid.crs)
            _CACHE[fine_key] = fine
        # half-cell centres: never on an edge of either lattice
        h = s / 2.0
        fcx = fine.x0 + (fine.cols + 0.5) * h
        fcy = fine.y0 + (fine.rows + 0.5) * h
        t = np.asarray(grid.locate(fcx, fcy), np.int64)
        u = np.asarray(shifted.locate(fcx, fcy), np.int64)
        ok = (t >= 0) & (u >= 0)
        t, u, a = t[ok], u[ok], fine.area[ok]
        col = np.bincount(u, weights=a, minlength=shifted.n_cells)
        w = a / col[u]
        M = sp.csr_matrix((w, (t, u)), shape=(grid.n_cells, shifted.n_cells))
        M.sum_duplicates()
        out = (shifted, M)
    _CACHE[key] = out
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return out


class OffsetAverage(Forecaster):
    """Mean of a base model's forecasts on the grid and three half-cell-shifted copies.

    The base model (a registry name, built with its registry defaults updated by
    ``base_params``) is fitted on four lattices over the same outline, shifted by
    ``(0, 0)``, ``(c/2, 0)``, ``(0, c/2)`` and ``(c/2, c/2)`` for cell size ``c``.
    Each shifted forecast is mapped back onto the target grid by area overlap
    (each shifted cell's expected count shared among the target cells it overlaps,
    in proportion to the overlap area, clipped to the boundary; totals preserved;
    see :func:`shifted_overlap`), and the four are averaged. This removes the
    dependence of the forecast on where the lattice happens to fall relative to
    block-midpoint geocodes.

    Parameters
    ----------
    base : str
        Registry name of the base model.
    base_params : dict or None
        Settings overriding the base model's registry defaults.
    random_state : int
        Passed to a base model that takes one.

    Attributes
    ----------
    members_ : list of fitted Forecaster
        The base model fitted on each shifted grid (same order as ``HALF_CELL_OFFSETS``).
    maps_ : list of scipy.sparse.csr_matrix
        Overlap maps, shifted grid -> target grid.
    """

    summary = "base model averaged over four half-cell-shifted grids, mapped back by area overlap"

    def __init__(self, base: str = "smooth_counts", base_params: dict | None = None, random_state: int = 0):
        self.base = base
        self.base_params = base_params
        self.random_state = random_state

    def _validate(self) -> None:
        from .base import registry

        check_number("random_state", self.random_state, low=0, integer=True)
        reg = registry()
        if not isinstance(self.base, str) or self.base not in reg or self.base == self.name:
            raise invalid("base", self.base, f"a model name from {sorted(reg)}")
        if self.base_params is not None and not isinstance(self.base_params, dict):
            raise invalid("base_params", self.base_params, "a dict of the base model's settings or None")

    def _make_base(self) -> Forecaster:
        from .base import make_model

        m = make_model(self.base)
        if self.base_params:
            m.set_params(**self.base_params)
        if "random_state" in m.get_params():
            m.set_params(random_state=self.random_state)
        return m

    def fit(self, events, as_of, *, grid):  # members see the raw events, like any model
        self._validate()
        members, maps = [], []
        for fx, fy in HALF_CELL_OFFSETS:
            shifted, M = shifted_overlap(grid, fx, fy)
            members.append(self._make_base().fit(events, as_of, grid=shifted))
            maps.append(M)
        self.members_ = members
        self.maps_ = maps
        self.grid_ = grid
        self.as_of_ = members[0].as_of_
        self.n_events_ = members[0].n_events_
        return self

    def _fit(self, ev: EventArrays) -> None:  # pragma: no cover - fit is overridden
        raise NotImplementedError

    def _predict(self, horizon_days: float) -> np.ndarray:
        out = np.zeros(self.grid_.n_cells)
        for M, m in zip(self.maps_, self.members_):
            out += M @ m.predict(horizon_days).expected
        return np.maximum(out / len(self.members_), 0.0)
