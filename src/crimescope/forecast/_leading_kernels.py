"""Numba kernel of the leading-indicator surfaces (imported on the first fit; compiled once, cached on disk).

:func:`decayed_counts` is :func:`crimescope.forecast.leading.decayed_cell_counts` written as
loops that fill the ``(n_cells, n_origins)`` result directly (no per-origin row array, no
transpose) with the same floating-point operations in the same order, so the same values
bit for bit: per origin the running sums are decayed by ``2 ** (-gap / half_life)``, then the
events since the previous origin are summed per cell in time order, starting from zero (as
``np.bincount`` does), and that sum is added. The powers of two are computed by NumPy and passed
in (NumPy's ``exp2`` and the C library's, which Numba calls, differ in the last bit). ``tests/forecast/test_forecast_leading_fast.py``
checks it against the NumPy version. (The same written for the kernel smoothing, SciPy's
``csr_matvecs`` skipping zero counts, gave SciPy's bits but was not faster: not kept.)
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["decayed_counts"]


@njit(cache=True, nogil=True)
def decayed_counts(cell, weight, decay, cut, n_cells, plain):  # pragma: no cover - compiled
    """Decayed (``plain``: plain) counts per cell at each origin ``k``: ``cut[k]`` events come before
    it, ``weight[e]`` is event ``e``'s weight at the first origin after it, ``decay[k]`` the factor
    from origin ``k - 1`` to ``k`` (both unused when ``plain``)."""
    K = cut.size
    out = np.empty((n_cells, K))
    acc = np.zeros(n_cells)
    seg = np.zeros(n_cells)  # the events since the previous origin, per cell (zero between origins)
    prev_i = 0
    for k in range(K):
        i = cut[k]
        if plain:
            for e in range(prev_i, i):
                seg[cell[e]] += 1.0
        else:
            if k > 0:
                d = decay[k]
                for c in range(n_cells):
                    acc[c] *= d
            for e in range(prev_i, i):
                seg[cell[e]] += weight[e]
        for e in range(prev_i, i):  # add each touched cell's sum once, then clear it
            c = cell[e]
            if seg[c] != 0.0:  # (a sum that is 0.0 adds nothing: skipping it keeps the bits)
                acc[c] += seg[c]
                seg[c] = 0.0
        for c in range(n_cells):
            out[c, k] = acc[c]
        prev_i = i
    return out

