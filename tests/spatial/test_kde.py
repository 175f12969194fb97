"""KDE: binned FFT result against the direct sum, mass conservation, bandwidth rule, validation."""

from __future__ import annotations

import numpy as np
import pytest

from crimescope.errors import ParameterError
from crimescope.spatial.grid import Grid
from crimescope.spatial.kde import default_bandwidth, kde


def _direct(cx, cy, x, y, h, kernel):
    d2 = (cx[:, None] - x[None]) ** 2 + (cy[:, None] - y[None]) ** 2
    if kernel == "quartic":
        return np.where(d2 < h * h, 3 / (np.pi * h * h) * (1 - d2 / (h * h)) ** 2, 0).sum(1)
    return (np.exp(-d2 / (2 * h * h)) / (2 * np.pi * h * h)).sum(1)


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_fft_matches_direct_sum(kernel):
    g = Grid.regular(0, 0, 120, 100, 50.0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(3000, 600, 3000), rng.normal(2500, 400, 3000)
    r = kde(x=x, y=y, grid=g, kernel=kernel, bandwidth=400.0)
    cx, cy = g.centroids()
    sel = np.arange(0, g.n_cells, 37)
    exact = _direct(cx[sel], cy[sel], x, y, 400.0, kernel)
    # linear binning error: below 1% of the peak for a bandwidth of 8 cells
    assert np.max(np.abs(r.density[sel] - exact)) < 0.01 * exact.max()
    # the surface integrates to the number of events (all well inside the grid)
    assert r.expected.sum() == pytest.approx(3000, rel=2e-3)
    assert r.bandwidth_rule == "given"


def test_default_bandwidth_rule():
    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 1000, 500), rng.normal(0, 1000, 500)
    d = np.hypot(x - x.mean(), y - y.mean())
    sd = np.sqrt((d**2).mean())
    expect = 0.9 * min(sd, np.sqrt(1 / np.log(2)) * np.median(d)) * 500 ** -0.2
    assert default_bandwidth(x, y) == pytest.approx(expect)
    assert default_bandwidth(x, y, "gaussian") == pytest.approx(expect / 2.6226)
    g = Grid.regular(-5000, -5000, 50, 50, 200.0)
    r = kde(x=x, y=y, grid=g)
    assert r.bandwidth == pytest.approx(expect) and "ArcGIS" in r.bandwidth_rule
    per_km2 = r.density_per_sq_km()
    ft = 1200 / 3937  # US survey foot in metres
    assert per_km2[0] == pytest.approx(r.density[0] / ft**2 * 1e6)


def test_validation():
    g = Grid.regular(0, 0, 10, 10, 100.0)
    with pytest.raises(ParameterError):
        kde(x=[1, 2], y=[1, 2], grid=g, kernel="epanechnikov")
    with pytest.raises(ParameterError):
        kde(x=[1, 2], y=[1, 2], grid=g, bandwidth=-5)
    with pytest.raises(ParameterError):
        kde(x=[1, 2], y=[1, 2], grid=g, bandwidth=10)  # far below the cell size
