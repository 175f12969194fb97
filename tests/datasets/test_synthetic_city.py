"""A third city added from a profile file and a taxonomy file alone (no core code).

Testville is synthetic: a 4 km square in UTM zone 16N (EPSG:32616, metres), four
quadrant "zones" as its only area kind, its categories matching on fbi_code only, and
the canonical-CSV importer (crimescope.sources.canonical). Its events are generated
here with a fixed seed: 240 uniform background assaults over the square and a planted
cluster of 60 within 100 m of (401_125, 4_601_125) m. Counting must equal the
hand count of the generated rows; Gi* must find the planted cell hot and a far placebo
cell not; a forecast must rank the planted cell first.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

X0, Y0, SIDE = 400_000.0, 4_600_000.0, 4_000.0
HOT = (401_125.0, 4_601_125.0)  # centre of the 250 m cell [401000, 401250) x [4601000, 4601250)
PLACEBO = (403_125.0, 4_603_125.0)
CRS = "EPSG:32616"


def _lonlat(x, y):
    import pyproj

    t = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    return t.transform(x, y)


@pytest.fixture(scope="module")
def testville(tmp_path_factory):
    """(profile, dataset, events frame): the profile and taxonomy written as files, the events ingested."""
    import pandas as pd

    from crimescope.datasets import Dataset, load_profile
    from crimescope.store import Store

    d = tmp_path_factory.mktemp("testville")
    # zones: the four quadrants, as GeoJSON in lon/lat (how a city publishes boundaries)
    feats = []
    half = SIDE / 2
    for i, (ox, oy) in enumerate([(0, 0), (half, 0), (0, half), (half, half)], start=1):
        xs = [X0 + ox, X0 + ox + half, X0 + ox + half, X0 + ox, X0 + ox]
        ys = [Y0 + oy, Y0 + oy, Y0 + oy + half, Y0 + oy + half, Y0 + oy]
        # densify the edges so the projected outline stays the square to a few mm
        ring = []
        for k in range(4):
            for t in np.linspace(0, 1, 21)[:-1]:
                ring.append((xs[k] + t * (xs[k + 1] - xs[k]), ys[k] + t * (ys[k + 1] - ys[k])))
        ring.append(ring[0])
        lon, lat = _lonlat([p[0] for p in ring], [p[1] for p in ring])
        feats.append({"type": "Feature", "properties": {"zone_id": str(i)},
                      "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in zip(lon, lat)]]}})
    (d / "zones.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    (d / "testville_categories.yaml").write_text(
        "categories:\n"
        "  assault:\n    label: Assault\n    unit: incidents\n    fbi: ['04A', '04B']\n"
        "    definition: Aggravated assault and battery.\n    source: Testville Police open data\n"
        "  robbery:\n    label: Robbery\n    unit: incidents\n    fbi: ['03']\n    source: Testville Police open data\n"
        "  violent:\n    label: Violent\n    unit: incidents\n    include: [assault, robbery]\n", encoding="utf-8")
    (d / "testville.yaml").write_text(f"""
key: testville
name: Testville
publisher: Testville Police Department
citation: "Testville Police Department, Incidents (synthetic test data)"
timezone: Europe/Paris
crs: {CRS}
code_columns: [fbi_code]
taxonomy: testville_categories.yaml
importer: "crimescope.sources.canonical:ingest_files"
outline: zone
default_categories: [assault, robbery]
area_kinds:
  zone:
    label: zone
    column: district
    boundary: {d / 'zones.geojson'}
    code_property: zone_id
""", encoding="utf-8")
    prof = load_profile(d / "testville.yaml")

    rng = np.random.default_rng(20240611)
    n_bg, n_hot = 240, 60
    bx = X0 + rng.uniform(0, SIDE, n_bg)
    by = Y0 + rng.uniform(0, SIDE, n_bg)
    ang = rng.uniform(0, 2 * np.pi, n_hot)
    r = 100 * np.sqrt(rng.uniform(0, 1, n_hot))
    hx, hy = HOT[0] + r * np.cos(ang), HOT[1] + r * np.sin(ang)
    x, y = np.r_[bx, hx], np.r_[by, hy]
    n = x.size
    days = rng.integers(0, 182, n)
    occ = pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D") + pd.to_timedelta(rng.integers(0, 86400, n), unit="s")
    fbi = np.where(rng.uniform(size=n) < 0.8, "04A", "03")
    zone = 1 + (x >= X0 + half).astype(int) + 2 * (y >= Y0 + half).astype(int)
    lon, lat = _lonlat(x, y)
    ev = pd.DataFrame({"id": [f"T{i}" for i in range(n)], "occurred_local": occ.strftime("%Y-%m-%d %H:%M:%S"),
                       "fbi_code": fbi, "x": x.round(2), "y": y.round(2), "lon": lon, "lat": lat, "district": zone,
                       "updated_at": "2024-07-01 06:00:00"})
    csv = d / "incidents.csv"
    ev.to_csv(csv, index=False)
    store = Store(d / "testville.duckdb")
    batches = prof.importer_function()(store, [csv])
    assert [b.inserted for b in batches] == [n]
    store.close()
    store = Store(d / "testville.duckdb", read_only=True)  # the CLI test opens it read-only too
    ev["occurred_local"] = pd.to_datetime(ev["occurred_local"])
    yield prof, Dataset(store, prof), ev, d
    store.close()
    # registered for this module only: left registered, every later app and command would list it
    from crimescope.datasets import profile as profile_mod

    profile_mod._REGISTRY.pop(prof.key, None)


def test_profile_from_files(testville):
    prof, ds, _, _ = testville
    assert prof.linear_unit == "metre" and prof.unit_abbrev == "m"
    assert list(ds.taxonomy()) == ["assault", "robbery", "violent"]
    assert ds.taxonomy()["violent"].fbi == frozenset({"03", "04A", "04B"})
    assert prof.mapped_kinds() == ["zone"]


def test_count_equals_hand_count(testville):
    from crimescope.stats import count

    _, ds, ev, _ = testville
    res = count(ds, "assault", "2024-02-01", "2024-04-30", by=["district"])
    sel = ev[(ev.fbi_code == "04A") & (ev.occurred_local >= "2024-02-01") & (ev.occurred_local < "2024-05-01")]
    expect = sel.groupby("district").size()
    got = res.table.set_index("district")["count"]
    assert got.to_dict() == {int(k): int(v) for k, v in expect.items()}
    assert res.meta["total"] == len(sel)
    assert res.meta["source"] == "Testville Police Department, Incidents (synthetic test data)"
    assert res.meta["publisher"] == "Testville Police Department"
    assert "Europe/Paris" in res.meta["dates"]
    assert res.meta["unit"] == "incidents (one row per incident)"
    # Chicago's categories are not Testville's
    from crimescope.errors import CategoryError

    with pytest.raises(CategoryError):
        count(ds, "homicide", "2024-01-01", "2024-01-31")


def test_cli_with_source(testville, capsys):
    from crimescope.cli.main import main

    _, ds, ev, _ = testville
    rc = main(["--store", ds.path, "--source", "testville", "count", "--category", "violent",
               "--from", "2024-01-01", "--to", "2024-06-30", "--format", "csv"])
    cap = capsys.readouterr()
    out = cap.out
    assert rc == 0, cap.err
    assert "# source: Testville Police Department, Incidents (synthetic test data)" in out
    assert out.strip().splitlines()[-1] == str(len(ev))


def test_zones_from_the_profile_boundary(testville):
    from crimescope.spatial.units import assign_units

    _, ds, ev, _ = testville
    zones = ds.units("zone")
    assert list(zones.unit_ids) == ["1", "2", "3", "4"]
    assert zones.crs == CRS
    # each quadrant is 2 km x 2 km, in square metres, to 0.01% (the edges were densified before projecting)
    np.testing.assert_allclose(zones.area, 4e6, rtol=1e-4)
    placed = assign_units(ev.drop(columns=["district"]), zones)  # by spatial join only
    np.testing.assert_array_equal(placed.unit_index + 1, ev["district"].to_numpy())


def test_hotspots_find_the_planted_cell(testville):
    from crimescope.spatial.gistar import hotspots
    from crimescope.spatial.grid import Grid
    from crimescope.stats.events import load_events

    prof, ds, _, _ = testville
    ev = load_events(ds, "assault")
    grid = Grid.for_profile(prof, 250.0)
    assert grid.crs == CRS
    assert grid.area.sum() == pytest.approx(SIDE * SIDE, rel=1e-4)
    res = hotspots(ev, grid, band=400.0)
    hot = grid.locate([HOT[0]], [HOT[1]])[0]
    placebo = grid.locate([PLACEBO[0]], [PLACEBO[1]])[0]
    assert res.bins[hot] == 3
    assert res.bins[placebo] <= 0
    assert "m" in res.weights and "400" in res.weights


def test_forecast_ranks_the_planted_cell_first(testville):
    from crimescope.forecast.base import make_model
    from crimescope.spatial.grid import Grid
    from crimescope.stats.events import load_events

    prof, ds, _, _ = testville
    ev = load_events(ds, "assault")
    grid = Grid.for_profile(prof, 250.0)
    fc = make_model("naive_all").fit(ev, np.datetime64("2024-07-01"), grid=grid).predict("7d")
    hot = grid.locate([HOT[0]], [HOT[1]])[0]
    assert fc.rank[hot] == 1
    assert fc.expected[hot] == pytest.approx(fc.expected.max())


def test_a_user_registers_the_city_by_environment(testville, tmp_path):
    """As a user would: CRIMESCOPE_PROFILES names the profile file, `ingest city` runs its importer."""
    import os
    import subprocess
    import sys

    _, _, ev, d = testville
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRIMESCOPE_")}
    env.update(CRIMESCOPE_PROFILES=str(d / "testville.yaml"), CRIMESCOPE_STORE=str(tmp_path / "u.duckdb"),
               PYTHONPATH=os.pathsep.join(sys.path))
    cli = [sys.executable, "-m", "crimescope.cli.main", "--source", "testville"]
    r = subprocess.run(cli + ["ingest", "city", str(d / "incidents.csv")], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"inserted {len(ev)}" in r.stdout
    r = subprocess.run(cli + ["count", "-c", "robbery", "--from", "2024-01-01", "--to", "2024-06-30",
                              "--format", "csv"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == str(int((ev.fbi_code == "03").sum()))
    r = subprocess.run([sys.executable, "-m", "crimescope.cli.main", "--source", "testville", "categories"],
                       env={**env, "CRIMESCOPE_PROFILES": ""}, capture_output=True, text=True)
    assert r.returncode == 2 and "not a registered city" in r.stderr
