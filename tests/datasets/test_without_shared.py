"""Everything works without ../shared: a fresh copy of the package, one CSV ingested.

The package is copied to a temporary "clone" and run in a child process from there,
with no CRIMESCOPE_SHARED_DATA and a working directory with no ../shared, so nothing
can find the shared data folder (the child asserts ``settings.shared_data_dir()`` is
None). The CSV is made here from hand-made rows in the portal's format
(tests/store/chicago_rows.py): 300 shootings in 2016 inside the city, 120 of them
around one block so the maps have hot spots. The child serves the app and asks every
page and every geometry route (200 each), and builds the brief, whose maps must be
drawn (outlines, hot spots and forecast present, none "not available").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from chicago_rows import HEADER20, row  # noqa: E402

SRC = Path(__file__).resolve().parents[2] / "src" / "crimescope"

CHILD = r'''
import json, sys
from pathlib import Path
from crimescope import settings
assert settings.shared_data_dir() is None, settings.shared_data_dir()
import crimescope
assert Path(crimescope.__file__).resolve().is_relative_to(Path.cwd().resolve().parent), crimescope.__file__
from crimescope.cli.main import main
rc = main(["--store", "s.duckdb", "ingest", "chicago", "shootings.csv"])
assert rc == 0, rc
from fastapi.testclient import TestClient
from crimescope.web.app import create_app
out = {}
with TestClient(create_app("s.duckdb", response_cache_mb=0)) as c:
    for p in ["/", "/trends", "/map", "/map?measure=rate", "/map?kind=district", "/claim", "/data",
              "/api/geometry/community_area.geojson", "/api/geometry/district.geojson",
              "/api/geometry/beat.geojson", "/api/geometry/ward.geojson",
              "/api/map.json?measure=rate", "/api/hotspots.json", "/api/forecast.json"]:
        r = c.get(p)
        out[p] = [r.status_code, r.text[:200] if r.status_code != 200 else ""]
    out["n_community_areas"] = len(c.get("/api/geometry/community_area.geojson").json()["features"])
    out["hot_cells"] = c.get("/api/hotspots.json").json()["meta"]["hot_cells"]
from crimescope.report.brief import build_brief
b = build_brief("s.duckdb")
out["charts"] = sorted(b.charts)
out["unavailable"] = b.unavailable
b.write(Path("brief.html"))
out["brief_bytes"] = Path("brief.html").stat().st_size
print(json.dumps(out))
'''


def _csv(path: Path) -> None:
    rng = np.random.default_rng(7)
    lines = [HEADER20]
    for i in range(300):
        if i < 120:  # around 063XX S HALSTED (x 1,172,400, y 1,862,600)
            x, y = 1_172_400 + rng.normal(0, 300), 1_862_600 + rng.normal(0, 300)
        else:
            x, y = rng.uniform(1_150_000, 1_190_000), rng.uniform(1_840_000, 1_900_000)
        day = 1 + int(rng.integers(0, 28))
        month = 1 + int(rng.integers(0, 12))
        lines.append(row(id_=str(20_000_000 + i), case=f"HZ{i}", date=f"{month:02d}/{day:02d}/2016 10:00:00 PM",
                         iucr="041A", fbi="04B", x=f"{x:.0f}", y=f"{y:.0f}", beat="0712", district="007",
                         ward="16", ca="68"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_serve_and_report_without_shared(tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(SRC, clone / "src" / "crimescope", ignore=shutil.ignore_patterns("__pycache__"))
    work = clone / "work"
    work.mkdir()
    _csv(work / "shootings.csv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRIMESCOPE_")}
    env["PYTHONPATH"] = str(clone / "src")
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run([sys.executable, "-c", CHILD], cwd=work, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    bad = {p: v for p, v in out.items() if isinstance(v, list) and len(v) == 2 and v[0] != 200}
    assert not bad, bad
    assert out["n_community_areas"] == 77
    assert out["hot_cells"] > 0
    assert {"hotspots", "forecast"} <= set(out["charts"])
    assert "outlines" not in out["unavailable"] and "hotspots" not in out["unavailable"]
    assert out["brief_bytes"] > 10_000


def test_a_missing_reference_stops_the_server(tmp_path, monkeypatch):
    import pytest

    from crimescope.errors import SetupError
    from crimescope.store import Store
    from crimescope.web.app import create_app

    Store(tmp_path / "s.duckdb").close()
    (tmp_path / "ref" / "chicago" / "boundaries").mkdir(parents=True)
    with pytest.raises(SetupError, match="reference data missing"):
        create_app(tmp_path / "s.duckdb", shared_dir=tmp_path / "ref")
