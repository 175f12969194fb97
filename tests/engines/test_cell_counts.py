"""Counts per (grid cell, week) on the store: hand-computed cases and parity with Grid.locate."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from _shared import requires_shared
from crimescope.engines import cell_counts
from crimescope.errors import ParameterError
from crimescope.spatial.grid import Grid
from crimescope.store import Store
from engine_fixtures import add_batch, insert_rows, make_row


@pytest.fixture
def cells_store():
    """Homicide rows (IUCR 0110) at hand-placed points; 100-ft cells from (0, 0).

    id  local time         x        y      -> col row  week (Monday)
    1   2016-01-04 00:00   0        0          0   0   2016-01-04
    2   2016-01-10 23:59   99.999   0          0   0   2016-01-04
    3   2016-01-10 12:00   100      0          1   0   2016-01-04   (edge: belongs east)
    4   2016-01-11 00:00   -0.5     250       -1   2   2016-01-11
    5   2016-01-11 00:00   50       100        0   1   2016-01-11   (edge: belongs north)
    6   2016-01-05         50       50        not counted: other CRS
    7   2016-01-05         50       50        not counted: has_location false
    8   2016-01-05         NULL     NULL      not counted: no coordinates
    9   2016-01-05         50       50        not counted: robbery (other category)
    10  2016-01-12         50       50        not counted: after the end date
    """
    s = Store(":memory:")
    add_batch(s, 1, "2018-01-10 12:00:00+00")
    insert_rows(s, [
        make_row(1, "2016-01-04 00:00", x=0.0, y=0.0),
        make_row(2, "2016-01-10 23:59", x=99.999, y=0.0),
        make_row(3, "2016-01-10 12:00", x=100.0, y=0.0),
        make_row(4, "2016-01-11 00:00", x=-0.5, y=250.0),
        make_row(5, "2016-01-11 00:00", x=50.0, y=100.0),
        make_row(6, "2016-01-05 00:00", x=50.0, y=50.0, crs="EPSG:2263"),
        make_row(7, "2016-01-05 00:00", x=50.0, y=50.0, has_location=False),
        make_row(8, "2016-01-05 00:00", x=None, y=None, has_location=False, crs=None),
        make_row(9, "2016-01-05 00:00", x=50.0, y=50.0, iucr="031A", fbi_code="03", primary_type="ROBBERY"),
        make_row(10, "2016-01-12 00:00", x=50.0, y=50.0),
    ])
    yield s
    s.close()


W1, W2 = dt.date(2016, 1, 4), dt.date(2016, 1, 11)


def test_hand_computed(cells_store):
    r = cell_counts(cells_store, "homicide", "2016-01-01", "2016-01-11", cell_size=100)
    expected = pd.DataFrame({"col": [0, 1, 0, -1], "row": [0, 0, 1, 2], "week": [W1, W1, W2, W2],
                             "count": [2, 1, 1, 1]})
    pd.testing.assert_frame_equal(r.table, expected)
    assert r.meta["total"] == 5
    assert r.meta["grid"] == {"crs": "EPSG:3435", "cell_size": 100.0, "x0": 0.0, "y0": 0.0,
                              "rule": "col = floor((x - x0) / cell_size), row = floor((y - y0) / cell_size)"}
    assert r.meta["engine"] == "duckdb" and r.meta["unit"]


def test_origin_shift_and_other_crs(cells_store):
    r = cell_counts(cells_store, "homicide", "2016-01-01", "2016-01-11", cell_size=100, x0=-50, y0=-50,
                    period="month")
    # x+50, y+50: (0,0)->(0,0); (99.999,0)->(1,0); (100,0)->(1,0); (-0.5,250)->(0,3); (50,100)->(1,1)
    assert list(r.table.itertuples(index=False, name=None)) == [
        (0, 0, "2016-01", 1), (1, 0, "2016-01", 2), (1, 1, "2016-01", 1), (0, 3, "2016-01", 1)]
    r = cell_counts(cells_store, "homicide", "2016-01-01", "2016-01-11", cell_size=1000, crs="EPSG:2263")
    assert list(r.table.itertuples(index=False, name=None)) == [(0, 0, W1, 1)]


def test_grid_cells(cells_store):
    grid = Grid.regular(0.0, 0.0, nx=2, ny=2, cell_size=100.0)
    r = cell_counts(cells_store, "homicide", "2016-01-01", "2016-01-11", grid=grid)
    assert list(r.table.columns) == ["col", "row", "cell", "week", "count"]
    # lattice id row * nx + col: (0,0)->0, (1,0)->1, (0,1)->2; (-1,2) is outside -> -1
    assert r.table["cell"].tolist() == [0, 1, 2, -1]
    kept = Grid(crs="EPSG:3435", cell_size=100.0, x0=0.0, y0=0.0, nx=2, ny=2,
                cell_ids=np.array([1, 2]), area=np.array([1e4, 1e4]))
    r = cell_counts(cells_store, "homicide", "2016-01-01", "2016-01-11", grid=kept)
    assert r.table["cell"].tolist() == [-1, 0, 1, -1]


@pytest.mark.parametrize("kw, match", [
    (dict(cell_size=0), "positive"), (dict(cell_size="big"), "numbers"),
    (dict(cell_size=100, x0=float("inf")), "finite"), (dict(cell_size=100, period="fortnight"), "period"),
])
def test_bad_parameters(cells_store, kw, match):
    with pytest.raises(ParameterError, match=match):
        cell_counts(cells_store, "homicide", "2016-01-01", "2016-01-11", **kw)


@requires_shared
@pytest.mark.shared
def test_matches_grid_locate_on_shared_data(store_1617):
    """Same binning as the spatial module's Grid.locate (NumPy) on the 2016-2017 shootings."""
    grid = Grid.regular(1_090_000.0, 1_810_000.0, nx=240, ny=290, cell_size=500.0)
    with Store(store_1617, read_only=True) as s:
        r = cell_counts(s, "shooting", "2016-01-01", "2017-12-31", grid=grid)
        ev = s.con.execute(
            "SELECT x, y, CAST(date_trunc('week', occurred_local) AS DATE) AS week FROM incidents "
            "WHERE source = 'chicago' AND has_location AND crs = 'EPSG:3435' AND iucr IN "
            "('041A','041B','0450','0451','0480','0481','0488','0489') AND occurred_local >= DATE '2016-01-01' "
            "AND occurred_local < DATE '2018-01-01'").df()
    assert len(ev) > 4000
    ev["week"] = pd.to_datetime(ev["week"]).dt.date
    ev["cell"] = grid.locate(ev["x"].to_numpy(), ev["y"].to_numpy())
    assert (ev["cell"] >= 0).all()  # the lattice covers the city
    ref = ev.groupby(["cell", "week"]).size().rename("count").reset_index()
    got = r.table[["cell", "week", "count"]].sort_values(["cell", "week"]).reset_index(drop=True)
    ref = ref.sort_values(["cell", "week"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)
