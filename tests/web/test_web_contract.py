"""The HTTP contract beyond the schema: 405 with Allow, 414/431 from a real server (no reset),
the favicon, ``/api/data.json`` in the ``{meta, rows}`` shape."""

from __future__ import annotations

import csv
import io
import json

import pytest

from _live import live_server, raw_request

pytestmark = pytest.mark.shared


def _status_and_body(raw: bytes) -> tuple[int, dict, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    return status, headers, json.loads(body)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/api/overview.json", "/api/categories.csv", "/trends"])
def test_405_says_which_methods_are_answered(client, method, path):
    r = client.request(method, path)
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET"}
    body = r.json()["error"]
    assert body["status"] == 405 and body["type"] == "MethodNotAllowed" and "GET" in body["message"]


def test_favicon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon"
    assert r.content[:4] == b"\x00\x00\x01\x00"  # the ICO file signature
    assert "max-age" in r.headers["cache-control"]


def test_data_json_is_meta_and_rows_like_the_csv(client):
    doc = client.get("/api/data.json").json()
    assert list(doc) == ["meta", "rows"]
    meta = doc["meta"]
    for key in ("unit", "rule", "source", "vintage", "sources", "batches", "definitions", "store"):
        assert key in meta, key
    text = client.get("/api/data.csv").text
    rows = list(csv.DictReader(io.StringIO("\n".join(ln for ln in text.splitlines() if not ln.startswith("# ")))))
    assert [(r["source"], int(r["year"]), int(r["records"])) for r in rows] == \
        [(r["source"], r["year"], r["records"]) for r in doc["rows"]]
    (src,) = [s for s in meta["sources"] if s["source"] == "chicago"]
    assert sum(r["records"] for r in doc["rows"] if r["source"] == "chicago") == src["incidents"]


def test_oversize_in_process(client):
    from crimescope.web._server import MAX_HEADER_BYTES, MAX_URL_BYTES

    r = client.get("/api/categories.json?x=" + "a" * MAX_URL_BYTES)
    assert r.status_code == 414 and r.json()["error"]["type"] == "URITooLong"
    r = client.get("/api/categories.json", headers={"x-big": "b" * MAX_HEADER_BYTES})
    assert r.status_code == 431 and r.json()["error"]["type"] == "HeadersTooLarge"
    # just under the limits: answered
    assert client.get("/api/categories.json?x=" + "a" * (MAX_URL_BYTES - 100)).status_code == 200


@pytest.fixture(scope="module")
def live(web_store_path):
    from crimescope.web import create_app

    with live_server(create_app(web_store_path)) as base:
        yield base


@pytest.mark.parametrize("size", [20_000, 100_000, 1_000_000])
def test_real_server_answers_a_long_url_with_414(live, size):
    status, headers, body = _status_and_body(raw_request(
        live, b"GET /api/categories.json?x=" + b"a" * size + b" HTTP/1.1\r\nhost: test\r\n\r\n"))
    assert status == 414 and body["error"]["status"] == 414 and body["error"]["type"] == "URITooLong"
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize("size", [20_000, 200_000, 2_000_000])
def test_real_server_answers_huge_headers_with_431(live, size):
    heads = b"".join(b"x-h%d: %s\r\n" % (i, b"v" * 8000) for i in range(size // 8000 + 1))
    status, _, body = _status_and_body(raw_request(
        live, b"GET /api/categories.json HTTP/1.1\r\nhost: test\r\n" + heads + b"\r\n"))
    assert status == 431 and body["error"]["type"] == "HeadersTooLarge"


def test_real_server_still_answers_after_refusals(live):
    import httpx

    raw_request(live, b"GET /?" + b"a" * 200_000 + b" HTTP/1.1\r\nhost: test\r\n\r\n")
    r = httpx.get(f"{live}/api/categories.json", timeout=30)
    assert r.status_code == 200 and r.json()["rows"]
    r = httpx.post(f"{live}/api/categories.json", timeout=30)
    assert r.status_code == 405 and r.headers["allow"] == "GET"


WARN_URLS = ["/api/overview.json", "/api/compstat.csv", "/api/trends.json?category=homicide",
             "/api/map.json?kind=district", "/api/hotspots.json", "/api/forecast.json?model=naive_52w",
             "/api/data.json", "/api/data.csv", "/api/rejected.json", "/api/categories.csv",
             "/api/claim.json?text=762%20murders%20in%202016", "/api/geometry/district.geojson",
             "/", "/trends", "/map", "/data", "/favicon.ico", "/api/openapi.json"]


def test_answers_raise_no_warning(web_store_path):
    """Every route's answer, with warnings turned into errors: a deprecation in our code (pandas,
    Ibis, Starlette, FastAPI) would be a 500 here."""
    import warnings

    from fastapi.testclient import TestClient

    from crimescope.web import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app = create_app(web_store_path)
        with TestClient(app, raise_server_exceptions=True) as c:
            for url in WARN_URLS:
                r = c.get(url)
                assert r.status_code == 200, (url, r.status_code, r.text[:300])
