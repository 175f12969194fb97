"""Numba kernels of the Knox test (imported only when a Knox test runs; compiled once, cached on disk).

The close pairs are stored as a CSR list: for event i, ``nb[start[i]:start[i+1]]``
are the events j > i closer than the largest distance band, ``nbband`` their
spatial band. ``lut[dt]`` is the time band of a day difference ``dt < lut.size``;
larger differences are not counted here (the caller derives the "more than" column).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["count_csr", "count_perms_csr", "count_perms_blocked"]


@njit(cache=True, nogil=True)
def count_csr(td, start, nb, nbband, lut, nrow, ncol):  # pragma: no cover - compiled
    """Pairs per (distance band, time band) for the times ``td`` of the events."""
    out = np.zeros((nrow, ncol), np.int64)
    L = lut.size
    for i in range(start.size - 1):
        ti = td[i]
        for q in range(start[i], start[i + 1]):
            dt = ti - td[nb[q]]
            if dt < 0:
                dt = -dt
            if dt < L:
                out[nbband[q], lut[dt]] += 1
    return out


@njit(parallel=True, cache=True)
def count_perms_csr(days, perms, start, nb, nbband, lut, nrow, ncol):  # pragma: no cover - compiled
    """``count_csr`` for the times permuted by each row of ``perms``, in parallel over rows."""
    P = perms.shape[0]
    res = np.zeros((P, nrow, ncol), np.int64)
    L = lut.size
    for r in prange(P):
        td = days[perms[r]]
        acc = np.zeros((nrow, ncol), np.int64)
        for i in range(start.size - 1):
            ti = td[i]
            for q in range(start[i], start[i + 1]):
                dt = ti - td[nb[q]]
                if dt < 0:
                    dt = -dt
                if dt < L:
                    acc[nbband[q], lut[dt]] += 1
        res[r] = acc
    return res


@njit(parallel=True, cache=True)
def count_perms_blocked(days, perms, start, nb, nbband, edges, nrow, B):  # pragma: no cover - compiled
    """Cumulative counts ``#(pairs in distance band b with dt < edges[m])`` per permutation.

    Permutations are processed in blocks of ``B`` (parallel over blocks). Within a
    block the permuted times are laid out as ``T[event, perm]`` so that, for each
    close pair, the time differences of all ``B`` permutations are computed and
    compared with the band edges in contiguous (SIMD-vectorised) loops. Returns an
    array ``(n_perms, nrow, len(edges))``; band counts are its differences along the last axis.
    """
    P, n = perms.shape
    M = edges.size
    nblk = (P + B - 1) // B
    res = np.zeros((P, nrow, M), np.int64)
    for blk in prange(nblk):
        r0 = blk * B
        r1 = min(P, r0 + B)
        nbk = r1 - r0
        T = np.zeros((n, B), days.dtype)
        for r in range(nbk):
            for i in range(n):
                T[i, r] = days[perms[r0 + r, i]]
        acc = np.zeros((nrow, M, B), np.int32)
        dt = np.empty(B, days.dtype)
        for i in range(n):
            ti = T[i]
            for q in range(start[i], start[i + 1]):
                tj = T[nb[q]]
                for r in range(B):
                    v = ti[r] - tj[r]
                    dt[r] = v if v >= 0 else -v
                a = acc[nbband[q]]
                for m in range(M):
                    e = edges[m]
                    am = a[m]
                    for r in range(B):
                        am[r] += dt[r] < e
        for r in range(nbk):
            for b in range(nrow):
                for m in range(M):
                    res[r0 + r, b, m] = acc[b, m, r]
    return res
