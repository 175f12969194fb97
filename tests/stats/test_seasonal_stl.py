"""The trends' STL kernel (``stats._stl_kernels``, Numba) gives statsmodels' seasonal and trend bit
for bit: random Poisson series of every length the trends fit (weekly and monthly, spikes, runs
of zeros, all zeros), and ``stl_expected`` returns the numbers statsmodels' fit gives."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")
from statsmodels.tsa.seasonal import STL  # noqa: E402

from crimescope.stats import seasonal  # noqa: E402


def _series(rng, period, case):
    n = int(rng.integers(2 * period + 1, 8 * period + 1))
    y = rng.poisson(rng.choice([0.3, 2.0, 20.0, 300.0]), n).astype(float)
    if case == "spikes":
        y[rng.integers(0, n, 3)] *= 5
    elif case == "zeros":
        y[: n // 3] = 0
    elif case == "all zero":
        y[:] = 0
    return y


@pytest.mark.parametrize("period", [52, 12])
@pytest.mark.parametrize("case", ["poisson", "spikes", "zeros", "all zero"])
def test_the_kernel_is_statsmodels_bit_for_bit(period, case):
    rng = np.random.default_rng(period * 10 + len(case))
    for _ in range(25):
        y = _series(rng, period, case)
        fit = STL(y, period=period, robust=True).fit(outer_iter=2)
        got_seasonal, got_trend = seasonal._stl(y, period)
        assert np.array_equal(got_seasonal, fit.seasonal) and np.array_equal(got_trend, fit.trend), len(y)


def test_stl_expected_gives_statsmodels_numbers():
    rng = np.random.default_rng(7)
    for interval, period, n in (("week", 52, 312), ("month", 12, 72), ("week", 52, 105)):
        y = rng.poisson(30.0, n)
        exp, lo, hi, phi = seasonal.stl_expected(y, interval)
        fit = STL(y.astype(float), period=period, robust=True).fit(outer_iter=2)
        want = np.maximum(fit.trend + fit.seasonal, 0.0)
        assert np.array_equal(exp, want)
        mu = np.maximum(want, 0.5)
        r = (y - want) / np.sqrt(mu)
        assert phi == max(1.0, float((1.4826 * np.median(np.abs(r - np.median(r)))) ** 2))
        assert np.array_equal(hi, want + seasonal.Z95 * np.sqrt(phi * mu))
