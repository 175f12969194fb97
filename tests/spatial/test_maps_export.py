"""Maps (PNG, SVG, offline HTML) and exports (GeoJSON, CSV, Parquet) of spatial results.

PNG files are written to pytest's tmp dir, and also to ``$CRIMESCOPE_TEST_ARTIFACTS/spatial/``
when that variable names a folder, so a person can look at them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _shared import requires_shared

from crimescope.errors import ParameterError
from crimescope.spatial.concentration import concentration
from crimescope.spatial.emerging import emerging_hot_spots
from crimescope.spatial.gistar import hotspots
from crimescope.spatial.grid import Grid
from crimescope.spatial.kde import kde
from crimescope.spatial.knox import knox_test
from crimescope.spatial.maps import html_map

#: maps are also kept for a person to look at only when CRIMESCOPE_TEST_ARTIFACTS names a folder
#: (never inside the repository by default)
ARTIFACTS = Path(os.environ["CRIMESCOPE_TEST_ARTIFACTS"]) / "spatial" if os.environ.get("CRIMESCOPE_TEST_ARTIFACTS") else None


def _events(seed=0, n=1500):
    rng = np.random.default_rng(seed)
    x = np.r_[rng.uniform(0, 6000, n), rng.normal(1500, 200, 300)]
    y = np.r_[rng.uniform(0, 5000, n), rng.normal(3500, 200, 300)]
    t = np.datetime64("2016-01-01") + rng.integers(0, 180, x.size).astype("timedelta64[D]")
    return pd.DataFrame({"x": x, "y": y, "occurred_local": t.astype("datetime64[ns]")})


def _png_ok(p: Path) -> None:
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000


def _both(tmp_path: Path, name: str) -> list[Path]:
    if ARTIFACTS is None:
        return [tmp_path / name]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return [tmp_path / name, ARTIFACTS / name]


def test_static_maps_synthetic(tmp_path):
    g = Grid.regular(0, 0, 60, 50, 100.0, crs="EPSG:3435")
    ev = _events()
    gi = hotspots(ev, g, band=300.0, label="synthetic")
    for p in _both(tmp_path, "synthetic_gistar.png"):
        gi.plot(p)
        _png_ok(p)
    svg = tmp_path / "gi.svg"
    gi.plot(svg)
    assert "<svg" in svg.read_text()[:500]
    k = kde(ev, g, bandwidth=500.0, label="synthetic")
    for p in _both(tmp_path, "synthetic_kde.png"):
        k.plot(p)
        _png_ok(p)
    c = concentration(g.counts(ev.x, ev.y), label="synthetic")
    for p in _both(tmp_path, "synthetic_lorenz.png"):
        c.plot_lorenz(path=p)
        _png_ok(p)


def test_exports_roundtrip(tmp_path):
    g = Grid.regular(1_150_000, 1_880_000, 30, 20, 250.0)
    ev = _events()
    ev["x"] += 1_150_000
    ev["y"] += 1_880_000
    gi = hotspots(ev, g, band=750.0)
    gj = gi.write(tmp_path / "gi.geojson")
    doc = json.loads(gj.read_text())
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == g.n_cells
    f0 = doc["features"][0]
    lon, lat = np.array(f0["geometry"]["coordinates"][0]).T
    assert (-88 < lon).all() and (lon < -87.5).all() and (41.6 < lat).all() and (lat < 42.1).all()
    assert {"unit", "gi_z", "gi_p", "gi_bin", "count"} <= set(f0["properties"])
    csv = pd.read_csv(gi.write(tmp_path / "gi.csv"), comment="#")
    pq = pd.read_parquet(gi.write(tmp_path / "gi.parquet"))
    assert np.allclose(csv["gi_z"], gi.z) and np.allclose(pq["gi_z"], gi.z)
    kn = knox_test(ev, permutations=9, seed=0)
    assert len(pd.read_csv(kn.write(tmp_path / "knox.csv"), comment="#")) == kn.observed.size
    with pytest.raises(ParameterError, match="must end in one of"):
        gi.write(tmp_path / "gi.xlsx")
    assert not (tmp_path / "gi.xlsx").exists()
    with pytest.raises(ParameterError, match="no geometry"):
        kn.write(tmp_path / "knox.geojson")


@requires_shared
@pytest.mark.shared
def test_chicago_maps_and_offline_html(tmp_path):
    from crimescope.spatial.sample import read_chicago_csv

    ev = read_chicago_csv(start="2016-01-01", end="2017-12-31")
    g = Grid.chicago(500.0)
    label = "gun violence, 2016-2017"
    gi = hotspots(ev, g, label=label)
    for p in _both(tmp_path, "chicago_gun_violence_gistar.png"):
        gi.plot(p)
        _png_ok(p)
    em = emerging_hot_spots(ev, g, freq="month", label=label)
    for p in _both(tmp_path, "chicago_gun_violence_emerging.png"):
        em.plot(p)
        _png_ok(p)
    for res, name in ((em, "emerging"),):
        h = html_map(res, tmp_path / f"{name}.html")
        text = h.read_text(encoding="utf-8")
        assert "plotly" in text.lower() and len(text) > 1_000_000  # plotly.js inlined
        assert "<script src=" not in text  # nothing fetched: no CDN script
        assert '"type":"scattermapbox"' not in text and '"type":"choroplethmapbox"' not in text  # no tiles
    geo = em.write(tmp_path / "emerging.geojson")
    assert len(json.loads(geo.read_text())["features"]) == em.cube.n_locations
