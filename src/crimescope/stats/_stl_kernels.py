"""Numba kernel of the trends' STL (imported on the first expected series; compiled once, cached on disk).

:func:`stl` is statsmodels' ``STL(y, period, seasonal, trend, low_pass, robust=True).fit(inner_iter,
outer_iter)`` with degree 1 and jumps of 1 everywhere (statsmodels' defaults, which
``stats.seasonal.stl_expected`` uses), ported line for line from ``statsmodels/tsa/stl/_stl.pyx``
(itself a port of the netlib Fortran): the same loops, the same floating-point operations in the
same order, so the same seasonal and trend bit for bit. The compiled ``_stl.pyx`` calls ``pow``
for every tricube weight of every LOESS point (6-10 ms for a weekly series of six years, most of a
trend's CPU); here the weights, which depend only on the integer distance and bandwidth, are
``math.pow`` (the C library's, as there) read from a table built once per call, and the squares
are products (as the C compiler writes ``pow(x, 2.0)``). ``tests/stats/test_seasonal_stl.py``
checks the components against statsmodels' on random and real series.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["stl"]


@njit(cache=True, nogil=True)
def _weight(table, r, h):  # pragma: no cover - compiled
    """``(1 - (r / h) ** 3) ** 3`` for integers 0 <= r < h, kept in ``table`` (computed when h is
    beyond it)."""
    if h >= table.shape[0]:
        return math.pow(1.0 - math.pow(r / h, 3.0), 3.0)
    if table[h, r] < 0.0:
        table[h, r] = math.pow(1.0 - math.pow(r / h, 3.0), 3.0)
    return table[h, r]


@njit(cache=True, nogil=True)
def _est(table, y, n, len_, xs, nleft, nright, w, userw, rw):  # pragma: no cover - compiled
    rng = n - 1.0
    hi = max(xs - nleft, nright - xs)
    if len_ > n:
        hi += (len_ - n) // 2
    h = float(hi)
    h9 = 0.999 * h
    h1 = 0.001 * h
    a = 0.0
    for j in range(nleft - 1, nright):
        w[j] = 0.0
        ri = abs(j + 1 - xs)
        r = float(ri)
        if r <= h9:
            if r <= h1:
                w[j] = 1.0
            else:
                w[j] = _weight(table, ri, hi)
            if userw:
                w[j] = w[j] * rw[j]
            a = a + w[j]
    if a <= 0:
        return np.nan
    for j in range(nleft - 1, nright):
        w[j] = w[j] / a
    if h > 0:
        a = 0.0
        for j in range(nleft - 1, nright):
            a = a + w[j] * (j + 1)
        b = xs - a
        c = 0.0
        for j in range(nleft - 1, nright):
            d = j + 1 - a
            c = c + w[j] * (d * d)
        if math.sqrt(c) > 0.001 * rng:
            b = b / c
            for j in range(nleft - 1, nright):
                w[j] = w[j] * (b * (j + 1 - a) + 1.0)
    ys = 0.0
    for j in range(nleft - 1, nright):
        ys = ys + w[j] * y[j]
    return ys


@njit(cache=True, nogil=True)
def _ess(table, y, n, len_, userw, rw, ys, res):  # pragma: no cover - compiled
    if n < 2:
        ys[0] = y[0]
        return
    if len_ >= n:
        nleft = 1
        nright = n
        for i in range(n):
            ys[i] = _est(table, y, n, len_, i + 1, nleft, nright, res, userw, rw)
            if math.isnan(ys[i]):
                ys[i] = y[i]
    else:
        nsh = (len_ + 2) // 2
        nleft = 1
        nright = len_
        for i in range(n):
            if (i + 1) > nsh and nright != n:
                nleft = nleft + 1
                nright = nright + 1
            ys[i] = _est(table, y, n, len_, i + 1, nleft, nright, res, userw, rw)
            if math.isnan(ys[i]):
                ys[i] = y[i]


@njit(cache=True, nogil=True)
def _ma(x, n, len_, ave):  # pragma: no cover - compiled
    newn = n - len_ + 1
    flen = float(len_)
    v = 0.0
    for i in range(len_):
        v = v + x[i]
    ave[0] = v / flen
    k = len_
    m = 0
    for j in range(1, newn):
        v += x[k] - x[m]
        ave[j] = v / flen
        k += 1
        m += 1


@njit(cache=True, nogil=True)
def _ss(table, y, n, np_, ns, userw, rw, season, work1, work2, work3, work4):  # pragma: no cover - compiled
    for j in range(np_):
        k = (n - (j + 1)) // np_ + 1
        for i in range(k):
            work1[i] = y[i * np_ + j]
        if userw:
            for i in range(k):
                work3[i] = rw[i * np_ + j]
        _ess(table, work1, k, ns, userw, work3, work2[1:], work4)
        nright = min(ns, k)
        work2[0] = _est(table, work1, k, ns, 0, 1, nright, work4, userw, work3)
        if math.isnan(work2[0]):
            work2[0] = work2[1]
        nleft = max(1, k - ns + 1)
        work2[k + 1] = _est(table, work1, k, ns, k + 1, nleft, k, work4, userw, work3)
        if math.isnan(work2[k + 1]):
            work2[k + 1] = work2[k]
        for m in range(k + 2):
            season[m * np_ + j] = work2[m]


@njit(cache=True, nogil=True)
def stl(y, np_, ns, nt, nl, inner_iter, outer_iter):  # pragma: no cover - compiled
    """``(season, trend)`` of the robust STL of ``y`` (float64), period ``np_``, seasonal / trend /
    low-pass windows ``ns``, ``nt``, ``nl``."""
    n = y.size
    size = n + 2 * np_
    work = np.zeros((5, size))
    season = np.zeros(n)
    trend = np.zeros(n)
    rw = np.ones(n)
    top = max(ns, nt, nl) + 2  # a bandwidth is below the longest window
    table = np.full((top, top), -1.0)
    userw = False
    k = 0
    while True:
        for _ in range(inner_iter):
            for i in range(n):
                work[0, i] = y[i] - trend[i]
            _ss(table, work[0], n, np_, ns, userw, rw, work[1], work[2], work[3], work[4], season)
            x = work[1]
            _ma(x, size, np_, work[2])
            _ma(work[2], size - np_ + 1, np_, work[0])
            _ma(work[0], size - 2 * np_ + 2, 3, work[2])
            _ess(table, work[2], n, nl, False, work[3], work[0], work[4])
            for i in range(n):
                season[i] = work[1, np_ + i] - work[0, i]
                work[0, i] = y[i] - season[i]
            _ess(table, work[0], n, nt, userw, rw, trend, work[2])
        k = k + 1
        if k > outer_iter:
            break
        for i in range(n):
            work[0, i] = trend[i] + season[i]
        for i in range(n):
            rw[i] = abs(y[i] - work[0, i])
        mid0 = n // 2
        mid1 = n - mid0 - 1
        part = np.sort(rw)
        cmad = 3.0 * (part[mid0] + part[mid1])
        if cmad == 0:
            for i in range(n):
                rw[i] = 1.0
        else:
            c9 = 0.999 * cmad
            c1 = 0.001 * cmad
            for i in range(n):
                if rw[i] <= c1:
                    rw[i] = 1.0
                elif rw[i] <= c9:
                    q = rw[i] / cmad
                    e = 1.0 - q * q
                    rw[i] = e * e
                else:
                    rw[i] = 0.0
        userw = True
    return season, trend
