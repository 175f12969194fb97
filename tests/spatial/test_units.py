"""Administrative units: codes first, spatial join otherwise, records without place counted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from _shared import requires_shared

from crimescope.errors import ParameterError
from crimescope.spatial.grid import Grid
from crimescope.spatial.units import AreaUnits, assign_units, normalise_code


def test_normalise_code():
    assert normalise_code("012") == "12"
    assert normalise_code(12.0) == "12"
    assert normalise_code(" 0414 ") == "414"
    assert normalise_code("") is None and normalise_code(float("nan")) is None and normalise_code(None) is None
    assert normalise_code("31A") == "31A"


@pytest.fixture
def two_squares():
    return AreaUnits("district", ["1", "2"], [shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])


def test_assign_uses_code_then_join_and_counts_missing(two_squares):
    df = pd.DataFrame({
        "x": [5, 15, np.nan, 15, np.nan, 50],
        "y": [5, 5, np.nan, 5, np.nan, 50],
        "district": ["001", None, "002", "", None, None],
    })
    r = assign_units(df, two_squares)
    # row0: code 1; row1: join -> 2; row2: code 2 without coords; row3: blank code -> join 2;
    # row4: nothing -> unassigned; row5: outside -> unassigned
    assert r.unit_index.tolist() == [0, 1, 1, 1, -1, -1]
    assert r.counts.tolist() == [1, 3]
    assert (r.n_from_code, r.n_from_join, r.n_no_location, r.n_unassigned) == (2, 2, 2, 2)
    assert "2 without coordinates" in r.summary()


def test_point_on_shared_edge_goes_to_one_unit(two_squares):
    assert two_squares.locate([10.0], [5.0]).tolist() == [0]


def test_grid_units_use_coordinates():
    g = Grid.regular(0, 0, 2, 1, 10.0)
    r = assign_units(pd.DataFrame({"x": [1, 11, None], "y": [1, 1, None]}), g)
    assert r.counts.tolist() == [1, 1] and r.n_unassigned == 1


def test_bad_kind():
    with pytest.raises(ParameterError):
        AreaUnits.load("precinct")


@requires_shared
@pytest.mark.shared
def test_chicago_units_and_join_agrees_with_codes():
    from crimescope.spatial.sample import read_chicago_csv

    d = AreaUnits.load("district")
    assert d.n_units == 23 and "31" in set(d.unit_ids)
    beats = AreaUnits.load("beat")
    assert beats.n_units == 275
    ca = AreaUnits.load("community_area")
    assert ca.n_units == 77
    ev = read_chicago_csv(start="2017-06-01", end="2017-06-30")
    ev = ev[ev["has_location"]]
    by_code = ca.index_of(ev["community_area"].to_numpy(object))
    by_join = ca.locate(ev["x"].to_numpy(), ev["y"].to_numpy())
    ok = by_code >= 0
    # the portal's own codes and our point-in-polygon agree for nearly every record
    assert (by_code[ok] == by_join[ok]).mean() > 0.97


def test_hotspots_on_area_units_use_codes_first():
    from crimescope.spatial.gistar import hotspots

    boxes = [shapely.box(c * 10, r * 10, c * 10 + 10, r * 10 + 10) for r in range(3) for c in range(3)]
    u = AreaUnits("ward", [str(i + 1) for i in range(9)], boxes)
    df = pd.DataFrame({
        "x": [1, 1, 1, 25, np.nan, np.nan, 99],
        "y": [1, 2, 3, 25, np.nan, np.nan, 99],
        "ward": [None, None, None, None, "1", None, None],
    })
    r = hotspots(df, u, knn=3)
    assert r.values.tolist() == [4, 0, 0, 0, 0, 0, 0, 0, 1]
    assert r.n_no_location == 2 and r.n_outside == 2  # no code + no coords, and the point at (99, 99)
    assert "3 nearest" in r.weights
