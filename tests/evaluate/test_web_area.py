"""The /evaluate page and its JSON/CSV twins with a drawn treated area (a lon/lat polygon)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi")

POLYGON = json.dumps({"type": "Polygon", "coordinates": [[[-87.66, 41.77], [-87.64, 41.77], [-87.64, 41.79],
                                                           [-87.66, 41.79], [-87.66, 41.77]]]})
Q = (f"category=shooting&start=2012-01-01&end=2016-12-31&methods=did,wdd&polygon={quote(POLYGON)}"
     "&area_start=2015-06-01&controls=district")


@pytest.fixture(scope="module")
def client(chicago_store_path):
    from fastapi.testclient import TestClient

    from crimescope.web import create_app

    with TestClient(create_app(chicago_store_path), raise_server_exceptions=False) as c:
        yield c


def test_json_and_csv_twins_of_a_drawn_area(client):
    r = client.get("/api/evaluate.json?" + Q)
    assert r.status_code == 200, r.text[:300]
    doc = r.json()
    ev = doc["evaluations"]["shooting"]
    assert set(ev["results"]) == {"did", "wdd"}
    assert ev["results"]["wdd"]["meta"]["treated"] == {"area": "2015-06-01"}
    assert doc["meta"]["settings"]["treated_area"]["control_kind"] == "district"
    assert any("inside the drawn polygon" in n for n in ev["meta"]["notes"])
    assert doc["meta"]["vintage"]["max_updated_at"] and doc["caveats"]
    r = client.get("/api/evaluate.csv?" + Q)
    assert r.status_code == 200 and r.text.startswith("# ") and "# note: treated unit 'area'" in r.text


def test_page_shows_the_drawn_area_and_bad_polygons_are_400(client):
    r = client.get("/evaluate?" + Q)
    assert r.status_code == 200
    assert 'data-testid="drawn-area"' in r.text and "drawn polygon" in r.text
    assert "polygon=" in r.text  # the JSON/CSV twins carry the polygon
    bad = quote('{"type": "Polygon", "coordinates": [[[-89.66, 39.78], [-89.64, 39.78], [-89.64, 39.80], '
                '[-89.66, 39.78]]]}')  # Springfield, not Chicago
    r = client.get(f"/api/evaluate.json?category=shooting&polygon={bad}&area_start=2015-06-01")
    assert r.status_code == 400 and "outside" in r.text
    r = client.get(f"/api/evaluate.json?category=shooting&polygon={quote(POLYGON)}")
    assert r.status_code == 400 and "area_start" in r.text
