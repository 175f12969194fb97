"""Treated areas as grid cells and drawn polygons: counts inside known by hand, bad shapes refused,
the ring is WDD's buffer and left out of every other method, the CLI takes --cells and --polygon."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from crimescope.errors import ParameterError
from crimescope.evaluate.areas import (AREA_CODE, RING_CODE, build_area_panel, cells_area, count_inside,
                                       polygon_area)

from _shared import requires_shared

shapely = pytest.importorskip("shapely")


# ----------------------------------------------------------- hand-built data
def test_count_inside_a_polygon_per_month_by_hand():
    sq = shapely.box(0, 0, 10, 10)
    x = [1, 5, 9.9, 10, 11, -1, 5, np.nan, 5, 5]
    y = [1, 5, 9.9, 5, 5, 5, 5, 5, 20, 5]
    days = ["2016-01-03", "2016-01-31", "2016-02-01", "2016-02-10",  # inside; on the edge (inside)
            "2016-02-11", "2016-02-12",  # outside (east, west)
            "2016-03-05", "2016-03-06", "2016-03-07",  # inside; no coordinates; outside (north)
            "2016-04-01"]  # inside but after the last period
    periods = [dt.date(2016, 1, 1), dt.date(2016, 2, 1), dt.date(2016, 3, 1)]
    got = count_inside(x, y, np.array(days, dtype="datetime64[D]"), sq, periods, "month")
    assert got.tolist() == [2.0, 2.0, 1.0]


def test_count_inside_weeks_and_a_polygon_with_a_hole():
    outer = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(4, 4), (6, 4), (6, 6), (4, 6)]])
    x = [1, 5, 8, 2]
    y = [1, 5, 8, 9]
    days = np.array(["2016-01-04", "2016-01-05", "2016-01-11", "2016-01-17"], dtype="datetime64[D]")
    periods = [dt.date(2016, 1, 4), dt.date(2016, 1, 11)]  # Mondays
    assert count_inside(x, y, days, outer, periods, "week").tolist() == [1.0, 2.0]  # (5, 5) is in the hole


# ------------------------------------------------------------- bad polygons
@requires_shared
@pytest.mark.parametrize("value, crs, words", [
    ("", None, "empty"),
    ('{"type": "FeatureCollection", "features": []}', None, "empty"),
    ("POLYGON EMPTY", "EPSG:3435", "empty"),
    ([[-87.65, 41.78], [-87.64, 41.78]], None, "at least 3 points"),
    # a bow tie: the ring crosses itself
    ('{"type": "Polygon", "coordinates": [[[-87.66, 41.77], [-87.64, 41.79], [-87.64, 41.77], '
     '[-87.66, 41.79], [-87.66, 41.77]]]}', None, "not a valid polygon"),
    # Springfield, Illinois: lon/lat, but far outside Chicago
    ('{"type": "Polygon", "coordinates": [[[-89.66, 39.78], [-89.64, 39.78], [-89.64, 39.80], '
     '[-89.66, 39.78]]]}', None, "outside"),
    ("POLYGON ((1160000 1860000, 1161000 1860000, 1161000 1861000, 1160000 1860000))", None, "state the CRS"),
    ("POLYGON ((1160000 1860000, 1161000 1860000, 1161000 1861000, 1160000 1860000))", "EPSG:4326",
     "not lon/lat"),
    ('{"type": "LineString", "coordinates": [[-87.65, 41.78], [-87.64, 41.79]]}', None, "not a polygon"),
    ("not a polygon at all", "EPSG:3435", "cannot read"),
])
def test_bad_polygons_are_refused_with_a_clear_message(value, crs, words):
    with pytest.raises(ParameterError, match=words):
        polygon_area(value, crs)


@requires_shared
def test_polygon_from_lonlat_geojson_wkt_and_list_agree(tmp_path):
    ring = [[-87.66, 41.77], [-87.64, 41.77], [-87.64, 41.79], [-87.66, 41.79], [-87.66, 41.77]]
    gj = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {}}
    f = tmp_path / "area.geojson"
    f.write_text(json.dumps(gj), encoding="utf-8")
    a = polygon_area(f)
    b = polygon_area(json.dumps(gj["geometry"]))
    c = polygon_area("POLYGON ((" + ", ".join(f"{x} {y}" for x, y in ring) + "))", "EPSG:4326")
    d = polygon_area(", ".join(f"{x} {y}" for x, y in ring[:-1]))
    assert a.origin == "area.geojson" and a.crs == "EPSG:3435"
    for o in (b, c, d):
        assert o.area == pytest.approx(a.area, rel=1e-9)
    # about 1.66 km x 2.22 km, in square US feet
    assert a.area == pytest.approx(1660 * 2224 / 0.3048006 ** 2, rel=0.02)
    assert any("projected to EPSG:3435" in n for n in a.notes)


@requires_shared
def test_a_polygon_partly_outside_the_city_is_clipped_and_says_so():
    # from Lake Michigan onto the shore at about 57th street
    a = polygon_area('{"type": "Polygon", "coordinates": [[[-87.59, 41.79], [-87.55, 41.79], '
                     '[-87.55, 41.80], [-87.59, 41.80], [-87.59, 41.79]]]}')
    assert any("lies outside" in n and "cut off" in n for n in a.notes)


@requires_shared
def test_cells_area_is_the_union_of_the_cells_and_bad_ids_are_refused():
    from crimescope.spatial.grid import Grid

    g = Grid.chicago(500)
    full = np.flatnonzero(g.area >= 500 * 500 * (1 - 1e-9))
    ids = g.unit_ids[full[[100, 101, 5000]]]
    a = cells_area(",".join(map(str, ids)), 500)
    assert a.area == pytest.approx(3 * 500 * 500)
    assert a.label == "3 grid cells of 500 ft"
    with pytest.raises(ParameterError, match="not cells of the"):
        cells_area([int(g.unit_ids[-1]) + 10 ** 6], 500)
    with pytest.raises(ParameterError, match="integers"):
        cells_area("12,abc", 500)
    with pytest.raises(ParameterError, match="empty"):
        cells_area("", 500)


# ----------------------------------------------------------- real panels
@pytest.fixture(scope="module")
def cell_panel(chicago_store):
    """A square of four 500 ft cells (the one with most 2012-2016 shootings and its east, north and
    north-east neighbours), shootings 2012-2016 by month, against beats."""
    from crimescope.spatial.grid import Grid
    from crimescope.stats.events import load_events

    g = Grid.chicago(500)
    ev = load_events(chicago_store, "shooting", "2012-01-01", "2016-12-31")
    c = g.locate(ev.x.to_numpy(), ev.y.to_numpy())
    top = int(g.unit_ids[np.argmax(np.bincount(c[c >= 0], minlength=g.n_units))])
    ids = [top, top + 1, top + g.nx, top + g.nx + 1]
    area = cells_area(ids, 500)
    return area, build_area_panel(chicago_store, "shooting", area, "2012-01-01", "2016-12-31", "month",
                                  control_kind="beat")


def test_area_panel_counts_the_records_inside_by_their_points(chicago_store, cell_panel):
    from crimescope.stats.events import load_events

    area, p = cell_panel
    ev = load_events(chicago_store, "shooting", "2012-01-01", "2016-12-31")
    x0, y0, x1, y1 = area.geometry.bounds
    inside = (ev.x >= x0) & (ev.x <= x1) & (ev.y >= y0) & (ev.y <= y1)  # the cells form one square
    by_month = ev[inside].groupby(ev["occurred_local"].dt.to_period("M")).size()
    assert p.unit_ids[0] == AREA_CODE and p.unit_ids[1] == RING_CODE
    assert p.counts[0].sum() == inside.sum() > 0
    assert p.counts[0, :12].tolist() == [float(by_month.get(pd_period, 0)) for pd_period in
                                         [f"2012-{m:02d}" for m in range(1, 13)]]
    # the ring is the square grown by a quarter mile, minus the square
    grown = shapely.buffer(area.geometry, 1320.0)
    ring = ev[shapely.intersects_xy(grown, ev.x.to_numpy(), ev.y.to_numpy()) & ~inside]
    assert p.counts[1].sum() == len(ring)
    # controls: beats away from the area; the beats touching it are named and left out
    left = p.meta["treated_area"]["controls_left_out"]
    assert left and not set(left) & set(p.unit_ids[2:])
    assert p.meta["buffer_units"] == [RING_CODE]


def test_a_district_outline_counts_about_what_the_district_code_counts(chicago_store, district_months):
    from crimescope.spatial.units import AreaUnits

    u = AreaUnits.load("district")
    geom = u.geometries[list(u.unit_ids).index("7")]
    area = polygon_area(geom.wkt, "EPSG:3435", label="district 7 outline")
    p = build_area_panel(chicago_store, "shooting", area, "2012-01-01", "2016-12-31", "month")
    by_code = district_months.counts[district_months.index_of("7")].sum()
    assert abs(p.counts[0].sum() - by_code) <= 0.03 * by_code  # points vs the portal's district codes
    assert "7" not in set(p.unit_ids) and "7" in p.meta["treated_area"]["controls_left_out"]


def test_ring_is_wdds_buffer_and_no_other_methods_comparison(cell_panel):
    from crimescope.evaluate import make_method

    _, p = cell_panel
    coh = {AREA_CODE: "2015-06-01"}
    w = make_method("wdd").fit(p, coh).result
    counts = w.tables["counts"].set_index("area")
    assert counts.loc["buffer", "areas"] == RING_CODE
    s = p.period_of("2015-06-01")  # 12-month windows before and from the start
    assert counts.loc["buffer", "before"] == p.counts[1, s - 12:s].sum()
    assert counts.loc["buffer", "after"] == p.counts[1, s:s + 12].sum()
    assert counts.loc["target", "after"] == p.counts[0, s:s + 12].sum()
    assert counts.loc["control", "before"] == p.counts[2:, s - 12:s].sum()
    assert "ring" in w.meta["buffer_rule"]
    d = make_method("did", n_permutations=199).fit(p, coh).result
    assert d.meta["buffer_units_left_out"] == [RING_CODE]
    assert RING_CODE not in d.meta["treated"]


def test_planted_effect_in_cells_is_found_and_placebo_is_not(cell_panel):
    """-60% planted in the cells from 2015-06 (binomial thinning, seed 3): DiD (randomization over 250 beats)
    finds it; the same fit on the untouched panel does not reject."""
    from crimescope.evaluate import make_method

    _, p = cell_panel
    s = p.period_of("2015-06-01")
    y = p.counts.copy()
    y[0, s:] = np.random.default_rng(3).binomial(y[0, s:].astype(np.int64), 0.4)
    planted = p.with_counts(y, "planted x0.4")
    coh = {AREA_CODE: "2015-06-01"}
    a = make_method("did", n_permutations=499).fit(planted, coh).result
    b = make_method("did", n_permutations=499).fit(p, coh).result
    assert a.estimate < b.estimate
    assert a.ci_low < 0 and a.ci_high < b.ci_high
    assert b.p_value > 0.05


def test_an_area_too_large_leaves_no_control(chicago_store):
    from crimescope.spatial.grid import chicago_boundary

    city = polygon_area(chicago_boundary().wkt, "EPSG:3435", label="the whole city")
    with pytest.raises(ParameterError, match="control areas are left"):
        build_area_panel(chicago_store, "shooting", city, "2012-01-01", "2016-12-31", "month")


# --------------------------------------------------------------------- CLI
def test_cli_polygon_and_cells(chicago_store_path, tmp_path, capsys):
    from crimescope.cli.main import main

    ring = [[-87.66, 41.77], [-87.64, 41.77], [-87.64, 41.79], [-87.66, 41.79], [-87.66, 41.77]]
    f = tmp_path / "englewood.geojson"
    f.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}), encoding="utf-8")
    base = ["--store", str(chicago_store_path), "evaluate", "-c", "shooting", "--from", "2012-01-01",
            "--to", "2016-12-31", "--start", "2015-06-01", "--methods", "wdd", "--format", "json"]
    rc = main(base + ["--polygon", str(f), "--controls", "district"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert doc["meta"]["treated_area"]["origin"] == "englewood.geojson"
    assert any("inside the drawn polygon" in n for n in doc["meta"]["notes"])
    assert doc["results"]["wdd"]["meta"]["treated"] == {"area": "2015-06-01"}
    rc = main(base[:-2] + ["--format", "csv", "--polygon", str(f), "--controls", "district"])
    out = capsys.readouterr().out
    assert rc == 0 and "# note: treated unit 'area'" in out
    # bad shapes and mixed options: exit 2, one line
    for extra in (["--polygon", "POLYGON ((0 0, 1 0, 1 1, 0 0))"],             # WKT without a CRS
                  ["--cells", "1,x"], ["--cells", "5", "--polygon", str(f)],
                  ["--polygon", str(f), "--areas", "7"]):
        rc = main(base + extra)
        err = capsys.readouterr().err.strip()
        assert rc == 2 and err and "\n" not in err, (extra, err)
