"""Gi*: parity with esda.G_Local(star=True) on identical libpysal weights, hand values, bins, FDR."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from crimescope.errors import ParameterError
from crimescope.spatial.gistar import (confidence_bins, distance_band_weights, fdr_threshold, gi_star,
                                       gi_star_z, grid_band_weights, hotspots, knn_weights)
from crimescope.spatial.grid import Grid

esda = pytest.importorskip("esda")
libpysal = pytest.importorskip("libpysal")


def _esda_z(v, w):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(v, w, transform="B", star=True, permutations=0).Zs


@pytest.fixture
def points():
    rng = np.random.default_rng(42)
    n = 400
    x, y = rng.uniform(0, 5000, n), rng.uniform(0, 5000, n)
    v = rng.poisson(1.5, n).astype(float)
    v[(x < 1500) & (y < 1500)] += 4  # a planted hot corner
    return x, y, v


def test_parity_with_esda_distance_band(points):
    x, y, v = points
    w = libpysal.weights.DistanceBand(np.column_stack([x, y]), threshold=400.0, binary=True,
                                      silence_warnings=True)
    ours = gi_star(v, distance_band_weights(x, y, 400.0)).z
    assert np.max(np.abs(ours - _esda_z(v, w))) < 1e-8


def test_parity_with_esda_knn(points):
    x, y, v = points
    w = libpysal.weights.KNN(np.column_stack([x, y]), k=8)
    ours = gi_star(v, knn_weights(x, y, 8)).z
    assert np.max(np.abs(ours - _esda_z(v, w))) < 1e-8


def test_parity_with_esda_on_grid_cells():
    g = Grid.regular(0, 0, 30, 25, 100.0)
    rng = np.random.default_rng(3)
    v = rng.poisson(0.6, g.n_cells).astype(float)
    block = (np.abs(g.rows - 12) <= 2) & (np.abs(g.cols - 10) <= 2)  # a 5 x 5 hot block
    assert block.sum() == 25
    v[block] += 3
    cx, cy = g.centroids()
    w = libpysal.weights.DistanceBand(np.column_stack([cx, cy]), threshold=300.0, binary=True,
                                      silence_warnings=True)
    ours = gi_star(v, grid_band_weights(g, 300.0)).z
    assert np.max(np.abs(ours - _esda_z(v, w))) < 1e-8
    # the lattice band equals the KD-tree band on the centres
    assert (grid_band_weights(g, 300.0) != distance_band_weights(cx, cy, 300.0)).nnz == 0


def test_hand_computed_gi_star():
    # 4 points on a line, 1 apart; band 1 -> neighbours are the adjacent points (plus self)
    x, y = np.array([0.0, 1, 2, 3]), np.zeros(4)
    v = np.array([1.0, 2, 3, 6])
    w = distance_band_weights(x, y, 1.0)
    # unit 3: sum w x = 3 + 6 = 9, W = 2, xbar = 3, S = sqrt(mean(x^2) - 9) = sqrt(12.5 - 9)
    s = np.sqrt(12.5 - 9.0)
    expected = (9 - 3 * 2) / (s * np.sqrt((4 * 2 - 4) / 3))
    assert gi_star_z(v, w)[3] == pytest.approx(expected)


def test_fdr_threshold_and_bins():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    # BH at 0.05: p_(k) <= k/10*0.05 -> k=1 (0.005), k=2 (0.01): threshold 0.008
    assert fdr_threshold(p, 0.05) == pytest.approx(0.008)
    assert fdr_threshold(p, 0.01) == pytest.approx(0.001)
    z = np.array([3.3, -2.65, 2.06, 2.04, 2.03, 1.88, 1.79, 1.27, -1.25, 1.24])
    b = confidence_bins(z, p, fdr=True)
    # BH at 0.10: p_(6) = 0.06 <= 6/10*0.10 is the largest passing -> 90% bins up to p 0.06
    assert fdr_threshold(p, 0.10) == pytest.approx(0.06)
    assert b.tolist() == [3, -2, 1, 1, 1, 1, 0, 0, 0, 0]
    nb = confidence_bins(z, p, fdr=False)
    assert nb.tolist() == [3, -3, 2, 2, 2, 1, 1, 0, 0, 0]


def test_hotspots_finds_planted_cluster_and_reports_missing():
    import pandas as pd

    g = Grid.regular(0, 0, 40, 40, 100.0)
    rng = np.random.default_rng(7)
    bx, by = rng.uniform(0, 4000, 800), rng.uniform(0, 4000, 800)
    hx, hy = rng.normal(1000, 120, 300), rng.normal(3000, 120, 300)
    df = pd.DataFrame({"x": np.r_[bx, hx, np.nan, 1e9], "y": np.r_[by, hy, np.nan, 1e9]})
    r = hotspots(df, g, band=300.0)
    i = g.locate([1000.0], [3000.0])[0]
    assert r.bins[i] == 3 and r.z[i] > 5
    assert r.n_no_location == 1 and r.n_outside == 1
    assert r.values.sum() == 1100
    far = g.locate([3500.0], [500.0])[0]
    assert r.bins[far] <= 0
    assert "distance band 300" in r.weights


def test_bad_inputs():
    with pytest.raises(ParameterError):
        gi_star_z(np.ones(5), np.eye(5))  # no variance
    with pytest.raises(ParameterError):
        distance_band_weights([0, 1], [0, 1], -1)
    with pytest.raises(ParameterError):
        knn_weights([0, 1, 2], [0, 0, 0], 5)
    with pytest.raises(ParameterError):
        hotspots(x=[0, 1], y=[0, 1], units=Grid.regular(0, 0, 3, 3, 1), band=1, knn=2)


def test_ring_weights_on_a_grid_are_the_queen_neighbourhood():
    # on an unclipped grid, ring 1 (the cell and its 8 queen neighbours) is the band sqrt(2) cells
    g = Grid.regular(0, 0, 12, 10, 100.0)
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1200, 700)
    y = rng.uniform(0, 1000, 700)
    by_ring = hotspots(x=x, y=y, units=g, ring=1)
    by_band = hotspots(x=x, y=y, units=g, band=100.0 * np.sqrt(2) + 1e-6)
    np.testing.assert_allclose(by_ring.z, by_band.z, rtol=1e-12, atol=1e-12)
    assert "contiguity order 1" in by_ring.weights
    # ring 2 reaches two cells in every direction: the 5 x 5 block, not the band of 2 cells (a circle)
    assert np.count_nonzero(g.neighbours(2)[55].toarray()) == 24
    for bad in (0, 1.5, True):
        with pytest.raises(ParameterError, match="ring"):
            hotspots(x=x, y=y, units=g, ring=bad)
