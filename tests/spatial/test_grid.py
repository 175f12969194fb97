"""Grid: lattice arithmetic, clipping, look-up, adjacency (hand-computed expectations)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from crimescope.errors import ParameterError
from crimescope.spatial.grid import Grid

from _shared import requires_shared


def test_regular_locate_half_open_edges():
    g = Grid.regular(0.0, 0.0, 3, 2, 10.0)
    assert g.n_cells == 6 and np.array_equal(g.cell_ids, np.arange(6))
    assert np.allclose(g.area, 100.0)
    x = [0.0, 9.999, 10.0, 29.999, 30.0, -0.001, 5.0, None, np.nan, 5.0]
    y = [0.0, 0.0, 0.0, 19.999, 5.0, 5.0, 20.0, 5.0, 5.0, 15.0]
    assert g.locate(x, y).tolist() == [0, 0, 1, 5, -1, -1, -1, -1, -1, 3]


def test_bounds_and_centroids_regular():
    g = Grid.regular(100.0, 200.0, 2, 2, 50.0)
    xmin, ymin, xmax, ymax = g.bounds()
    assert xmin.tolist() == [100, 150, 100, 150]
    assert ymin.tolist() == [200, 200, 250, 250]
    assert (xmax - xmin).tolist() == [50] * 4
    cx, cy = g.centroids()
    assert cx.tolist() == [125, 175, 125, 175] and cy.tolist() == [225, 225, 275, 275]


def test_queen_neighbours_3x3():
    g = Grid.regular(0, 0, 3, 3, 1.0)
    w = g.neighbours().toarray()
    assert (w == w.T).all() and np.diag(w).sum() == 0
    assert w.sum(axis=1).tolist() == [3, 5, 3, 5, 8, 5, 3, 5, 3]
    w2 = Grid.regular(0, 0, 5, 5, 1.0).neighbours(order=2).toarray()
    assert w2[12].sum() == 24 and w2[0].sum() == 8


def test_for_boundary_clips_area_and_drops_outside_cells():
    # right triangle with legs 20: cells of 10 -> 3 kept cells (the 4th only touches)
    tri = shapely.Polygon([(0, 0), (20, 0), (0, 20)])
    g = Grid.for_boundary(tri, 10.0)
    assert (g.x0, g.y0, g.nx, g.ny) == (0, 0, 2, 2)
    assert g.cell_ids.tolist() == [0, 1, 2]
    assert np.allclose(g.area, [100, 50, 50])
    assert np.isclose(g.area.sum(), tri.area)
    cx, cy = g.centroids()
    assert np.allclose([cx[1], cy[1]], [10 + 10 / 3, 10 / 3])  # centroid of the clipped triangle
    # point in the dropped lattice cell (1,1) -> -1; point in a kept partial cell but
    # outside the polygon -> kept cell unless within_boundary
    assert g.locate([15, 19], [15, 9]).tolist() == [-1, 1]
    assert g.locate([19], [9], within_boundary=True).tolist() == [-1]
    assert g.locate([11], [1], within_boundary=True).tolist() == [1]


def test_offset_aligns_lattice():
    sq = shapely.box(3, 3, 27, 27)
    g = Grid.for_boundary(sq, 10.0, offset=(5.0, 0.0))
    assert g.x0 == -5.0 and g.y0 == 0.0
    assert np.isclose(g.area.sum(), sq.area)


def test_bad_parameters_raise():
    with pytest.raises(ParameterError):
        Grid.regular(0, 0, 2, 2, 0)
    with pytest.raises(ParameterError):
        Grid.regular(0, 0, 0, 2, 1)
    with pytest.raises(ParameterError):
        Grid.for_boundary(shapely.Polygon(), 10)
    with pytest.raises(ParameterError):
        Grid.regular(0, 0, 2, 2, 1).neighbours(order=0)


@settings(max_examples=40, deadline=None)
@given(st.floats(1.0, 40.0), st.floats(0, 10), st.floats(0, 10))
def test_clipped_areas_sum_to_polygon_area(cell, ox, oy):
    poly = shapely.Polygon([(0, 0), (100, 10), (80, 90), (30, 60), (-10, 70)]).difference(
        shapely.box(20, 20, 40, 40))
    g = Grid.for_boundary(poly, cell, offset=(ox, oy))
    assert np.isclose(g.area.sum(), poly.area, rtol=1e-9)
    assert (g.area > 0).all() and (g.area <= cell * cell * (1 + 1e-9)).all()
    # every point inside the polygon is located in a kept cell
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-10, 100, 2000), rng.uniform(0, 90, 2000)
    inside = shapely.contains_xy(poly, x, y)
    assert (g.locate(x[inside], y[inside]) >= 0).all()


@requires_shared
@pytest.mark.shared
def test_chicago_grid():
    g = Grid.chicago(500.0)
    assert g.crs == "EPSG:3435" and g.cell_size == 500.0
    # city land area of the community-area union, about 231 sq mi
    assert 225 < g.area.sum() / 5280**2 < 235
    assert np.isclose(g.area.sum(), g.boundary.area)
    lon, lat = g.centroids_lonlat()
    assert (-87.95 < lon).all() and (lon < -87.5).all() and (41.6 < lat).all() and (lat < 42.03).all()
    # City Hall, 121 N LaSalle: about x=1,175,000, y=1,901,000 -> a full interior cell
    i = g.locate([1_175_000.0], [1_901_000.0])[0]
    assert i >= 0 and g.area[i] == 500.0**2
    assert Grid.chicago(500.0).n_cells == g.n_cells  # cached boundary, same result
