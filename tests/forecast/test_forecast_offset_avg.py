"""Offset-averaged forecasts (``smooth_counts_avg4``): the area-overlap maps and the wrapper, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crimescope.errors import ParameterError
from crimescope.forecast import OffsetAverage
from crimescope.forecast.base import make_model
from crimescope.forecast.offset_avg import HALF_CELL_OFFSETS, shifted_overlap
from crimescope.spatial.grid import Grid

G3 = Grid.regular(0.0, 0.0, 3, 3, 100.0)  # cells [0,100), [100,200), [200,300) each way
T0 = pd.Timestamp("2016-01-01")


def test_shifted_grids_cover_the_same_outline():
    for fx, fy in HALF_CELL_OFFSETS:
        s, M = shifted_overlap(G3, fx, fy)
        assert s.area.sum() == pytest.approx(G3.area.sum())
        assert M.shape == (G3.n_cells, s.n_cells)
        np.testing.assert_allclose(np.asarray(M.sum(axis=0)).ravel(), 1.0)  # every shifted cell's mass kept
    s, _ = shifted_overlap(G3, 0.5, 0.5)
    assert (s.x0, s.y0, s.nx, s.ny) == (-50.0, -50.0, 4, 4)
    # corner cell clipped to [0,50]^2, edge cells to half, inner cells whole
    np.testing.assert_allclose(s.area.reshape(4, 4)[0], [2500, 5000, 5000, 2500])
    np.testing.assert_allclose(s.area.reshape(4, 4)[1], [5000, 10000, 10000, 5000])


def test_single_cell_mass_is_spread_as_by_hand():
    s, M = shifted_overlap(G3, 0.5, 0.5)
    v = np.zeros(s.n_cells)
    v[s.locate(100.0, 100.0)[()]] = 8.0  # shifted cell [50,150]^2: a quarter in each of 4 target cells
    out = (M @ v).reshape(3, 3)
    np.testing.assert_allclose(out, [[2, 2, 0], [2, 2, 0], [0, 0, 0]])
    v = np.zeros(s.n_cells)
    v[s.locate(10.0, 10.0)[()]] = 3.0  # corner cell [0,50]^2 (clipped) lies in target (0,0) only
    np.testing.assert_allclose((M @ v).reshape(3, 3), [[3, 0, 0], [0, 0, 0], [0, 0, 0]])
    s, M = shifted_overlap(G3, 0.5, 0.0)
    v = np.zeros(s.n_cells)
    v[s.locate(260.0, 150.0)[()]] = 4.0  # [250,300] x [100,200] after clipping: target (1,2) only
    v[s.locate(150.0, 250.0)[()]] += 6.0  # [150,250] x [200,300]: half to (2,1), half to (2,2)
    np.testing.assert_allclose((M @ v).reshape(3, 3), [[0, 0, 0], [0, 0, 4], [0, 3, 3]])
    s, M = shifted_overlap(G3, 0.0, 0.0)
    assert s is G3 and (M != 0).nnz == G3.n_cells


def test_uniform_density_stays_uniform_on_a_clipped_boundary():
    import shapely

    poly = shapely.Polygon([(0, 0), (1000, 0), (130, 870)])  # a triangle, cells clipped in many ways
    g = Grid.for_boundary(poly, 100.0)
    for fx, fy in HALF_CELL_OFFSETS:
        s, M = shifted_overlap(g, fx, fy)
        out = M @ (0.01 * s.area)
        np.testing.assert_allclose(out, 0.01 * g.area, rtol=1e-9)
        assert out.sum() == pytest.approx(0.01 * poly.area)


def test_wrapper_averages_the_four_grids_by_hand():
    # one event at (140, 140): grid (0,0) puts it in the centre cell; (c/2,0) in [50,150]x[100,200]
    # -> half (1,0), half (1,1); (0,c/2) -> half (0,1), half (1,1); (c/2,c/2) -> a quarter each of
    # (0,0), (0,1), (1,0), (1,1). Mean: (1,1) 2.25/4, (1,0) and (0,1) 0.75/4, (0,0) 0.25/4.
    ev = pd.DataFrame({"occurred_local": [T0], "x": [140.0], "y": [140.0]})
    as_of = T0 + pd.Timedelta(days=10)
    m = OffsetAverage(base="naive_all").fit(ev, as_of, grid=G3)
    total = make_model("naive_all").fit(ev, as_of, grid=G3).predict(7).expected.sum()
    want = np.array([[0.25, 0.75, 0], [0.75, 2.25, 0], [0, 0, 0]]) / 4 * total
    np.testing.assert_allclose(m.predict(7).expected.reshape(3, 3), want, rtol=1e-12)
    assert [mm.grid_.x0 for mm in m.members_] == [0.0, -50.0, 0.0, -50.0]


def test_uniform_forecast_stays_uniform_and_total_is_preserved():
    # one event at the centre of every half-cell of a 6x6 grid of 100 ft: naive_all on any
    # half-shifted grid is proportional to cell area (uniform density), and so is the average
    g = Grid.regular(0.0, 0.0, 6, 6, 100.0)
    xs = np.arange(25.0, 600.0, 50.0)
    x, y = np.meshgrid(xs, xs)
    ev = pd.DataFrame({"occurred_local": T0, "x": x.ravel(), "y": y.ravel()})
    as_of = T0 + pd.Timedelta(days=30)
    base = make_model("naive_all").fit(ev, as_of, grid=g).predict(7).expected
    got = OffsetAverage(base="naive_all").fit(ev, as_of, grid=g).predict(7).expected
    np.testing.assert_allclose(got, base, rtol=1e-12)
    assert np.ptp(got) == pytest.approx(0.0, abs=1e-12)
    # smooth_counts (the registered base) preserves the total too
    sc = make_model("smooth_counts").fit(ev, as_of, grid=g).predict(7).expected
    avg = make_model("smooth_counts_avg4").fit(ev, as_of, grid=g).predict(7).expected
    assert avg.sum() == pytest.approx(sc.sum(), rel=1e-12)


def test_base_params_and_bad_settings():
    ev = pd.DataFrame({"occurred_local": [T0], "x": [140.0], "y": [140.0]})
    as_of = T0 + pd.Timedelta(days=10)
    m = OffsetAverage(base="smooth_counts", base_params={"smooth_weight": 0.0}).fit(ev, as_of, grid=G3)
    assert all(mm.smooth_weight == 0.0 for mm in m.members_)
    with pytest.raises(ParameterError, match=r"^invalid base='nope': expected "):
        OffsetAverage(base="nope").fit(ev, as_of, grid=G3)
    with pytest.raises(ParameterError, match=r"^invalid base_params=3: expected "):
        OffsetAverage(base_params=3).fit(ev, as_of, grid=G3)
    with pytest.raises(ParameterError, match=r"^invalid offset="):
        shifted_overlap(G3, 0.25, 0.0)
