"""H3 hexagons as units: coverage, clipped areas, ring neighbours, counts, Gi* parity with esda, exports, CLI.

Synthetic fixtures are built in code: an irregular polygon with a hole (an
"enclave") in EPSG:3435 around downtown Chicago, and seeded random points in and
around it. The shared-data tests cut gun violence of summer 2017 from the Chicago
CSV extracts (``read_chicago_csv``) and the city outline from
``chicago/boundaries/community_areas.geojson`` at test time. Tolerances are stated
where they are used.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import shapely
from _shared import requires_shared, spatial_cli_app

from crimescope.errors import ParameterError
from crimescope.spatial.grid import CHICAGO_CRS, LONLAT_CRS, transform_xy

h3 = pytest.importorskip("h3")

from crimescope.spatial.gistar import hotspots  # noqa: E402
from crimescope.spatial.hexgrid import HexGrid, parse_h3_spec  # noqa: E402

#: metres per US survey foot, from pyproj (the CRS's own unit), for comparing with h3's km²
FT = __import__("pyproj").CRS(CHICAGO_CRS).axis_info[0].unit_conversion_factor


@pytest.fixture(scope="module")
def region():
    """An L-shaped polygon of about 28 km² with a hole, in EPSG:3435 feet, near the Loop."""
    x0, y0 = 1_160_000.0, 1_880_000.0
    outer = [(x0, y0), (x0 + 24_000, y0), (x0 + 24_000, y0 + 9_000), (x0 + 11_000, y0 + 9_000),
             (x0 + 11_000, y0 + 22_000), (x0, y0 + 22_000)]
    hole = [(x0 + 3_000, y0 + 3_000), (x0 + 6_500, y0 + 3_000), (x0 + 6_500, y0 + 5_500), (x0 + 3_000, y0 + 5_500)]
    return shapely.Polygon(outer, [hole])


@pytest.fixture(scope="module")
def hexes(region):
    return HexGrid.for_boundary(region, 9, crs=CHICAGO_CRS)


def _points_in(poly, n, seed):
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = poly.bounds
    x, y = rng.uniform(minx - 3000, maxx + 3000, 4 * n), rng.uniform(miny - 3000, maxy + 3000, 4 * n)
    return x[:n], y[:n]


def _h3_cells(x, y, res):
    """Reference assignment: pyproj to WGS84, then h3.latlng_to_cell, point by point."""
    lon, lat = transform_xy(x, y, CHICAGO_CRS, LONLAT_CRS)
    return [h3.latlng_to_cell(la, lo, res) for lo, la in zip(lon, lat)]


def test_cover_every_point_of_the_region(region, hexes):
    x, y = _points_in(region, 20_000, seed=1)
    inside = shapely.contains_xy(region, x, y)
    idx = hexes.locate(x[inside], y[inside])
    assert inside.sum() > 5_000 and (idx >= 0).all()
    # with within_boundary, points outside the region are never placed; inside ones always are
    strict = hexes.locate(x, y, within_boundary=True)
    assert ((strict >= 0) == inside).all()
    # the kept cells are exactly those meeting the region with positive area: each clipped piece
    # is within its hexagon, and no cell of the candidate ring around them was left out
    assert (hexes.area > 0).all() and (hexes.area <= hexes.hexagon_area * (1 + 1e-9)).all()
    ring = {c for disk in (h3.api.basic_int.grid_disk(int(c), 1) for c in hexes.cells) for c in disk}
    missing = np.array(sorted(ring - set(hexes.cells.tolist())), dtype=np.int64)
    from crimescope.spatial.hexgrid import _project_hexagons

    outside = _project_hexagons(h3, missing, CHICAGO_CRS)
    assert np.all(shapely.area(shapely.intersection(outside, region)) < 1e-6)


def test_clipped_areas_sum_to_the_region_and_hexagons_match_h3(region, hexes):
    # tiling: shared vertices project identically, so the clipped pieces add up to the region
    assert hexes.area.sum() == pytest.approx(region.area, rel=0.005)
    interior = hexes.area >= hexes.hexagon_area * (1 - 1e-9)
    assert interior.sum() > 100 and (~interior).sum() > 20  # both kinds are exercised
    # whole hexagons (straight edges between projected vertices) vs h3's own spherical area:
    # they differ by the ellipsoid/authalic-sphere scale at 42°N (about 0.16%) -> within 1%
    ours_km2 = hexes.hexagon_area[interior] * FT * FT / 1e6
    theirs = np.array([h3.cell_area(u, "km^2") for u in hexes.unit_ids[interior]])
    assert np.max(np.abs(ours_km2 / theirs - 1)) < 0.01
    # a clipped cell's area is that of its hexagon's intersection with the region
    i = int(np.flatnonzero(~interior)[0])
    assert hexes.area[i] == pytest.approx(shapely.intersection(hexes.hexagons()[i], region).area, rel=1e-9)


def test_centres_centroids_and_ids(hexes):
    cx, cy = hexes.centres()
    # each H3 centre lies in its own cell, and the unit ids are the H3 strings of the cells
    assert np.array_equal(hexes.locate(cx, cy), np.arange(hexes.n_units))
    assert [h3.str_to_int(u) for u in hexes.unit_ids] == hexes.cells.tolist()
    assert np.array_equal(hexes.index_of(hexes.unit_ids[::-1]), np.arange(hexes.n_units)[::-1])
    assert hexes.index_of(["8f2664c1a6fffff", h3.latlng_to_cell(0.0, 0.0, 9)]).tolist() == [-1, -1]
    # a whole hexagon's planar centroid is its H3 centre (within 0.1 ft; measured 6 mm)
    x, y = hexes.centroids()
    full = hexes.area >= hexes.hexagon_area * (1 - 1e-9)
    assert np.max(np.hypot(x - cx, y - cy)[full]) < 0.1
    lon, lat = hexes.centroids_lonlat()
    assert (41.6 < lat).all() and (lat < 42.1).all() and (-88 < lon).all() and (lon < -87.4).all()


def test_ring_neighbours_of_an_interior_cell(hexes):
    w = hexes.neighbours()
    # an interior cell whose whole ring-1 is kept and whole
    full = hexes.area >= hexes.hexagon_area * (1 - 1e-9)
    for i in np.flatnonzero(full):
        ring = set(h3.grid_disk(hexes.unit_ids[i], 1)) - {hexes.unit_ids[i]}
        if all(hexes.index_of([r])[0] >= 0 for r in ring):
            break
    else:  # pragma: no cover
        pytest.fail("no interior cell")
    nb = set(hexes.unit_ids[w[i].indices])
    assert len(ring) == 6 and nb == ring
    assert all(h3.are_neighbor_cells(hexes.unit_ids[i], c) for c in nb)
    assert (w != w.T).nnz == 0 and w.diagonal().sum() == 0
    # order 2: the kept cells of grid_disk(2) (18 around an interior cell)
    w2 = hexes.neighbours(order=2)
    assert set(hexes.unit_ids[w2[i].indices]) == {c for c in h3.grid_disk(hexes.unit_ids[i], 2)
                                                  if hexes.index_of([c])[0] >= 0} - {hexes.unit_ids[i]}
    with pytest.raises(ParameterError):
        hexes.neighbours(order=0)


def test_counts_equal_h3_assignment(region, hexes):
    x, y = _points_in(region, 3_000, seed=2)
    x = np.r_[x, np.nan]
    y = np.r_[y, np.nan]
    counts = hexes.counts(x, y)
    ref = Counter(_h3_cells(x[:-1], y[:-1], 9))
    expected = np.array([ref.get(u, 0) for u in hexes.unit_ids], dtype=float)
    assert np.array_equal(counts, expected)
    # points in no kept cell (and the NaN) are the rest
    assert counts.sum() == sum(ref[c] for c in ref if hexes.index_of([c])[0] >= 0)
    assert (hexes.locate(x, y) < 0).sum() == x.size - counts.sum()


def test_gi_star_parity_with_esda_on_hexagons(region, hexes):
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    from crimescope.spatial.gistar import distance_band_weights, gi_star

    rng = np.random.default_rng(5)
    v = rng.poisson(0.8, hexes.n_units).astype(float)
    cx, cy = hexes.centroids()
    v[np.hypot(cx - 1_165_000, cy - 1_897_000) < 2_500] += 4  # a planted hot area

    def esda_z(w):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return esda.G_Local(v, w, transform="B", star=True, permutations=0).Zs

    ring = hexes.neighbours(order=1)
    w_ring = libpysal.weights.WSP(ring).to_W(silence_warnings=True)
    assert np.max(np.abs(gi_star(v, ring).z - esda_z(w_ring))) < 1e-8
    w_band = libpysal.weights.DistanceBand(np.column_stack([cx, cy]), threshold=2_000.0, binary=True,
                                           silence_warnings=True)
    assert np.max(np.abs(gi_star(v, distance_band_weights(cx, cy, 2_000.0)).z - esda_z(w_band))) < 1e-8
    # the ring weights of the whole pipeline (events -> counts -> Gi*) are those weights
    ev = pd.DataFrame({"x": np.repeat(cx, v.astype(int)), "y": np.repeat(cy, v.astype(int))})
    res = hotspots(ev, hexes, ring=1)
    assert np.array_equal(res.values, v)
    assert np.max(np.abs(res.z - esda_z(w_ring))) < 1e-8
    assert res.bins[hexes.locate([1_165_000.0], [1_897_000.0])[0]] == 3
    assert "grid_disk 1" in res.weights and res.units is hexes


def test_hotspots_weight_choices_on_hexagons(hexes):
    rng = np.random.default_rng(9)
    cx, cy = hexes.centroids()
    ev = pd.DataFrame({"x": rng.choice(cx, 800), "y": rng.choice(cy, 800)})
    assert "ring 1" in hotspots(ev, hexes).weights  # hexagons default to ring 1
    assert "distance band 3000 ft" in hotspots(ev, hexes, band=3000.0).weights
    assert "6 nearest" in hotspots(ev, hexes, knn=6).weights
    assert "ring 2" in hotspots(ev, hexes, ring=2).weights
    with pytest.raises(ParameterError):
        hotspots(ev, hexes, band=3000.0, ring=1)
    with pytest.raises(ParameterError):
        hotspots(ev, hexes, ring=0)


def test_exports_and_maps_on_hexagons(tmp_path, region, hexes):
    from crimescope.spatial.concentration import concentration
    from crimescope.spatial.maps import html_map
    from crimescope.spatial.units import assign_units

    x, y = _points_in(region, 2_000, seed=4)
    ev = pd.DataFrame({"x": x, "y": y})
    placed = assign_units(ev, hexes)
    assert placed.counts.sum() + placed.n_unassigned == len(ev)
    assert concentration(placed.counts).n_units == hexes.n_units
    res = hotspots(ev, hexes, label="synthetic")
    out = res.write(tmp_path / "hex.geojson")
    doc = json.loads(out.read_text())
    feats = doc["features"]
    assert len(feats) == hexes.n_units
    assert [f["properties"]["unit"] for f in feats] == list(hexes.unit_ids)
    # an interior feature is a hexagon (7 coordinates, closed) around its H3 centre
    i = int(np.argmax(hexes.area >= hexes.hexagon_area * (1 - 1e-9)))
    g = shapely.geometry.shape(feats[i]["geometry"])
    assert g.geom_type == "Polygon" and len(g.exterior.coords) == 7
    lat, lon = h3.cell_to_latlng(hexes.unit_ids[i])
    assert g.contains(shapely.Point(lon, lat))
    df = pd.read_csv(res.write(tmp_path / "hex.csv"))
    assert np.allclose(df["area"], hexes.area) and df["count"].sum() == res.values.sum()
    fig_path = tmp_path / "hex.png"
    res.plot(fig_path)
    assert fig_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = html_map(res, tmp_path / "hex.html")
    assert html.stat().st_size > 1_000_000 and "Not significant" in html.read_text()


def test_specs_and_bad_parameters(region):
    assert parse_h3_spec("h3:8") == 8 and parse_h3_spec("H3-10") == 10
    for bad in ("h3", "h3:x", "h3:16", "h3:8.5", "hex:8"):
        with pytest.raises(ParameterError):
            parse_h3_spec(bad)
    with pytest.raises(ParameterError):
        HexGrid.for_boundary(region, 15)  # about 3 billion cells: refused, not attempted
    with pytest.raises(ParameterError):
        HexGrid.for_boundary(shapely.Polygon(), 9)
    from crimescope.spatial.units import load_units

    with pytest.raises(ParameterError, match="h3:RES"):
        load_units("precinct")


# ----------------------------------------------------------------------------- shared data
@pytest.fixture(scope="module")
def summer_2017():
    from crimescope.spatial.sample import read_chicago_csv

    return read_chicago_csv(start="2017-06-01", end="2017-08-31")


@requires_shared
@pytest.mark.shared
def test_chicago_hexagons(summer_2017):
    from crimescope.spatial.grid import chicago_boundary
    from crimescope.spatial.units import load_units

    city = chicago_boundary()
    hx = load_units("h3:8")
    assert isinstance(hx, HexGrid) and hx.kind == "h3:8"
    assert hx.area.sum() == pytest.approx(city.area, rel=0.005)
    ev = summer_2017[summer_2017["has_location"]]
    x, y = ev["x"].to_numpy(float), ev["y"].to_numpy(float)
    inside = shapely.contains_xy(city, x, y)
    assert inside.sum() > 500
    idx = hx.locate(x, y)
    assert (idx[inside] >= 0).all()
    # counts per hexagon are h3's own assignment of the events
    ref = Counter(_h3_cells(x, y, 8))
    assert np.array_equal(hx.counts(x, y), np.array([ref.get(u, 0) for u in hx.unit_ids], float))
    # and agree with h3 on the portal's own lon/lat for (nearly) every record
    by_portal = hx.locate_lonlat(ev["lon"].to_numpy(float), ev["lat"].to_numpy(float))
    assert (by_portal == idx).mean() > 0.999


@requires_shared
@pytest.mark.shared
def test_cli_on_hexagons(tmp_path, monkeypatch, summer_2017):
    from typer.testing import CliRunner

    from crimescope.spatial import sample

    monkeypatch.setattr(sample, "category_events", lambda *a, **k: summer_2017.copy())
    r = CliRunner()
    app = spatial_cli_app()
    common = ["--category", "gun_violence", "--from", "2017-06-01", "--to", "2017-08-31", "--from-csv"]
    gj = tmp_path / "hot.geojson"
    out = r.invoke(app, ["hotspots", *common, "--units", "h3:9", "--out", str(gj), "--map", str(tmp_path / "h.png")])
    assert out.exit_code == 0, out.output
    n9 = HexGrid.chicago(9).n_units
    assert f"Gi* on {n9:,} h3:9 units" in out.output and "grid_disk 1" in out.output
    feats = json.loads(gj.read_text())["features"]
    assert len(feats) == n9 and all(h3.is_valid_cell(f["properties"]["unit"]) for f in feats)
    assert {f["geometry"]["type"] for f in feats} <= {"Polygon", "MultiPolygon"}
    assert sum(f["properties"]["count"] for f in feats) == summer_2017["has_location"].sum()
    out = r.invoke(app, ["hotspots", *common, "--units", "h3:8", "--knn", "8"])
    assert out.exit_code == 0 and "8 nearest" in out.output, out.output
    out = r.invoke(app, ["concentration", *common, "--units", "h3:8"])
    assert out.exit_code == 0, out.output
    assert f"{HexGrid.chicago(8).n_units:,} h3:8 units" in out.output
    out = r.invoke(app, ["map", "counts", *common, "--units", "h3:8", "--out", str(tmp_path / "c.png")])
    assert out.exit_code == 0 and (tmp_path / "c.png").stat().st_size > 10_000, out.output
    for bad in (["hotspots", *common, "--units", "h3:16"], ["map", "kde", *common, "--units", "h3:8",
                                                           "--out", str(tmp_path / "k.png")]):
        res = r.invoke(app, bad)
        assert res.exit_code != 0
