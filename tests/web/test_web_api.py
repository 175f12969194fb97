"""The /api/ routes: values equal the library's, CSV twins equal JSON, validation, limits.

Store: ``web_store_path`` (conftest: every 8th row of the 2016-2017 shared exports).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from _webtests import AS_OF

pytestmark = pytest.mark.shared


def _csv_rows(text: str) -> tuple[list[str], list[dict]]:
    comments = [l for l in text.splitlines() if l.startswith("# ")]
    body = "\n".join(l for l in text.splitlines() if not l.startswith("# "))
    return comments, list(csv.DictReader(io.StringIO(body)))


def _get(client, url, status=200):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:400])
    return r


def _meta_says_what_it_counts(meta: dict) -> None:
    for key in ("unit", "rule", "source", "vintage"):
        assert meta.get(key), f"meta lacks {key}: {sorted(meta)}"
    assert meta["vintage"]["max_updated_at"]


# ------------------------------------------------------------------ overview
def test_overview_equals_library_ytd(client, web_store):
    from crimescope.stats import ytd

    doc = _get(client, f"/api/overview.json?as_of={AS_OF}&categories=homicide,shooting,robbery").json()
    _meta_says_what_it_counts(doc["meta"])
    assert [r["category"] for r in doc["rows"]] == ["homicide", "shooting", "robbery"]
    for row in doc["rows"]:
        comp = ytd(web_store, row["category"], AS_OF, years=1).meta["comparison"][0]
        assert row["count"] == comp["count"] and row["prev_count"] == comp["last_year"]
        assert row["pct_change"] == comp["pct_vs_last_year"]
        assert row["start"] == "2017-01-01" and row["end"] == AS_OF and row["prev_end"] == "2016-06-30"


def test_compstat_equals_library(client, web_store):
    from crimescope.stats import compstat
    from crimescope.stats.provenance import jsonable

    doc = _get(client, f"/api/compstat.json?as_of={AS_OF}&categories=homicide,shooting").json()
    lib = compstat(web_store, AS_OF, ["homicide", "shooting"]).to_dict()
    assert doc["rows"] == jsonable(lib["rows"])
    one = _get(client, f"/api/compstat.json?as_of={AS_OF}&categories=homicide,shooting&category=shooting").json()
    assert one["rows"] == [r for r in doc["rows"] if r["category"] == "shooting"]
    # the district rows sum to the citywide row (property of the library table, kept by the API)
    for period in ("week", "28d", "ytd"):
        rows = [r for r in one["rows"] if r["period"] == period]
        city = [r["count"] for r in rows if r["area"] == "citywide"][0]
        assert sum(r["count"] for r in rows if r["area"] == "district") == city


# -------------------------------------------------------------------- trends
@pytest.mark.parametrize("interval", ["week", "month"])
def test_trends_citywide_equals_library_count(client, web_store, interval):
    from crimescope.stats import count

    doc = _get(client, f"/api/trends.json?category=shooting&start=2017-01-01&end={AS_OF}&interval={interval}").json()
    lib = count(web_store, "shooting", "2017-01-01", AS_OF, by=[interval]).table
    expect = {str(k): int(v) for k, v in zip(lib[interval], lib["count"])}
    got = {r["period"]: r["count"] for r in doc["rows"] if r["count"]}
    assert got == {k: v for k, v in expect.items() if v}
    assert doc["meta"]["total"] == count(web_store, "shooting", "2017-01-01", AS_OF).meta["total"]
    prior = count(web_store, "shooting", "2016-01-01", "2016-06-30").meta["total"]
    assert doc["meta"]["prior_total"] == prior
    _meta_says_what_it_counts(doc["meta"])


def test_trends_area_filter(client, web_store):
    from crimescope.stats import count

    doc = _get(client, f"/api/trends.json?category=battery&area_kind=district&area=11&start=2017-01-01&end={AS_OF}").json()
    t = count(web_store, "battery", "2017-01-01", AS_OF, by=["district"]).table
    assert doc["meta"]["total"] == int(t.loc[t["district"] == 11, "count"].sum()) > 0


# ----------------------------------------------------------------------- map
@pytest.mark.parametrize("kind", ["community_area", "district", "beat", "ward"])
def test_map_counts_equal_library(client, web_store, kind):
    from crimescope.stats import count

    doc = _get(client, f"/api/map.json?category=battery&kind={kind}&start=2017-01-01&end={AS_OF}").json()
    lib = count(web_store, "battery", "2017-01-01", AS_OF, by=[kind]).table
    lib = {str(int(k)): int(v) for k, v in zip(lib[kind], lib["count"]) if k == k and k is not None}
    got = {r["unit"]: r["count"] for r in doc["rows"] if r["unit"] is not None}
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in lib.items() if k in got and v}
    assert doc["meta"]["total"] == count(web_store, "battery", "2017-01-01", AS_OF).meta["total"]


def test_map_rates_equal_library(client, web_store):
    from crimescope.stats import rates_per_100k

    doc = _get(client, f"/api/map.json?category=battery&kind=district&measure=rate&start=2017-01-01&end={AS_OF}").json()
    lib = rates_per_100k(web_store, "battery", "2017-01-01", AS_OF, by="district").table
    lib = {str(int(d)): r for d, r in zip(lib["district"], lib["rate_per_100k"]) if d == d and d is not None}
    got = {r["unit"]: r["rate_per_100k"] for r in doc["rows"] if r["unit"] in lib}
    assert got == pytest.approx(lib)
    assert "population" in doc["meta"]["population_method"] or doc["meta"]["population_method"]


def test_hotspots_equal_library(client, web_store):
    import numpy as np

    from crimescope.spatial.gistar import hotspots
    from crimescope.spatial.grid import Grid
    from crimescope.stats.events import load_events

    doc = _get(client, f"/api/hotspots.json?category=battery&start=2017-01-01&end={AS_OF}&cell=2000").json()
    res = hotspots(load_events(web_store, "battery", "2017-01-01", AS_OF), Grid.chicago(2000.0))
    sig = np.flatnonzero(res.bins != 0)
    assert len(doc["rows"]) == sig.size and doc["meta"]["hot_cells"] == res.n_hot
    by_cell = dict(zip(np.asarray(res.units.cell_ids)[sig].tolist(), res.z[sig].tolist()))
    for r in doc["rows"][:20]:
        assert r["gi_z"] == pytest.approx(by_cell[r["cell_id"]], abs=1e-3)
        assert r["lon_min"] < r["lon"] < r["lon_max"] and r["lat_min"] < r["lat"] < r["lat_max"]


def test_forecast_equals_library_and_says_pai_not_available(client, web_store):
    import numpy as np

    from crimescope.forecast import make_model
    from crimescope.spatial.grid import Grid
    from crimescope.stats.events import load_events

    doc = _get(client, "/api/forecast.json?category=battery&as_of=2017-07-01&cell=2000").json()
    m = doc["meta"]
    assert m["model"] == "naive_52w" and m["pai"] is None and m["pai_text"].startswith("not available")
    ev = load_events(web_store, "battery", "2015-07-02", "2017-06-30")
    fc = make_model("naive_52w").fit(ev, np.datetime64("2017-07-01"), grid=Grid.chicago(2000.0)).predict("7d")
    assert m["expected_total_city"] == pytest.approx(float(fc.expected.sum()), abs=0.01)
    exp = dict(zip(np.asarray(fc.grid.cell_ids).tolist(), fc.expected.tolist()))
    for r in doc["rows"]:
        assert r["expected"] == pytest.approx(exp[r["cell_id"]], abs=1e-4)
    assert [r["rank"] for r in doc["rows"]] == sorted(r["rank"] for r in doc["rows"])


def test_backtested_pai_label(tmp_path):
    from crimescope.forecast.backtest import ranking_path
    from crimescope.web.views import _backtested_pai

    class Ctx:
        store_path = tmp_path / "s.duckdb"

    assert _backtested_pai(Ctx, "shooting", "stkde")[0] is None
    p = ranking_path(Ctx.store_path, "shooting")
    p.write_text(json.dumps({"ranking": ["stkde", "naive_52w"], "coverage": "1%", "horizon_days": 7.0}))
    v, text = _backtested_pai(Ctx, "shooting", "stkde")
    assert v is None and "no PAI" in text
    p.write_text(json.dumps({"ranking": ["stkde"], "coverage": "1%", "horizon_days": 7.0, "pai": {"stkde": 12.345}}))
    v, text = _backtested_pai(Ctx, "shooting", "stkde")
    assert v == 12.345 and "PAI 12.35" in text


def test_geometry_is_local_geojson_of_every_unit(client):
    from crimescope.spatial.units import AreaUnits

    for kind, n in (("community_area", 77), ("district", None), ("beat", None), ("ward", 50)):
        r = _get(client, f"/api/geometry/{kind}.geojson")
        assert r.headers["content-type"].startswith("application/geo+json")
        doc = r.json()
        ids = [f["properties"]["unit"] for f in doc["features"]]
        assert ids == [str(u) for u in AreaUnits.load(kind).unit_ids]
        if n:
            assert len(ids) == n
        lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0][0][:2] \
            if doc["features"][0]["geometry"]["type"] == "MultiPolygon" else doc["features"][0]["geometry"]["coordinates"][0][0]
        assert -88.0 < lon < -87.5 and 41.6 < lat < 42.1
    assert len(_get(client, "/api/geometry/beat.geojson").content) < 600_000  # simplified


# --------------------------------------------------------------------- claim
def test_claim_equals_library(client, web_store):
    from crimescope.stats.claims import check_claim, parse_claim

    doc = _get(client, "/api/claim.json?text=40%20homicides%20in%202016").json()
    lib = check_claim(web_store, parse_claim("40 homicides in 2016"))
    (c,) = doc["checks"]
    assert c["computed"] == lib.computed and c["verdict"] == lib.verdict
    parts = _get(client, "/api/claim.json?category=homicide&value=40&start=2016-01-01&end=2016-12-31").json()
    assert parts["checks"][0]["computed"] == lib.computed


# ---------------------------------------------------------------------- data
def test_data_rejected_categories(client, web_store):
    from crimescope.categories import load_taxonomy

    doc = _get(client, "/api/data.json").json()
    (n,) = web_store.con.execute("SELECT count(*) FROM incidents WHERE source = 'chicago'").fetchone()
    (src,) = [s for s in doc["meta"]["sources"] if s["source"] == "chicago"]
    assert src["incidents"] == n and src["last_complete_day"] and src["vintage"]["max_updated_at"]
    assert "/" not in doc["meta"]["store"]  # no server paths in answers
    (rej,) = web_store.con.execute("SELECT count(*) FROM rejected").fetchone()
    assert rej >= 1
    r = _get(client, "/api/rejected.json?limit=1&offset=0").json()
    assert r["meta"]["total"] == rej and len(r["rows"]) == 1 and r["rows"][0]["reason"]
    assert "/" not in r["rows"][0]["origin"]
    cats = _get(client, "/api/categories.json").json()
    assert [c["name"] for c in cats["rows"]] == list(load_taxonomy())


# ------------------------------------------------------------------ CSV twins
TWINS = [
    f"overview?as_of={AS_OF}&categories=homicide,shooting",
    f"compstat?as_of={AS_OF}&categories=homicide",
    f"trends?category=homicide&start=2017-01-01&end={AS_OF}",
    f"map?category=battery&kind=district&start=2017-01-01&end={AS_OF}",
    f"hotspots?category=battery&start=2017-01-01&end={AS_OF}&cell=2000",
    "forecast?category=battery&as_of=2017-07-01&cell=2000",
    "claim?text=40%20homicides%20in%202016",
    "rejected?limit=5",
    "categories",
]


@pytest.mark.parametrize("view", TWINS)
def test_csv_twin_equals_json(client, view):
    path, _, q = view.partition("?")
    doc = _get(client, f"/api/{path}.json?{q}").json()
    r = _get(client, f"/api/{path}.csv?{q}")
    assert r.headers["content-type"].startswith("text/csv")
    comments, rows = _csv_rows(r.text)
    assert len(rows) == len(doc["rows"])
    if rows:
        assert list(rows[0]) == list(doc["rows"][0])
    for a, b in zip(rows[:50], doc["rows"][:50]):
        for k, v in b.items():
            if v is None:
                assert a[k] in ("", "<NA>", "None"), (k, a[k])
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                assert float(a[k]) == pytest.approx(float(v), rel=1e-6), k
            elif isinstance(v, bool):
                assert a[k] in ("True", "False")
            else:
                assert a[k] == str(v), k
    if path not in ("rejected", "categories"):
        text = "\n".join(comments)
        assert "unit:" in text and "rule:" in text and "source:" in text and "vintage" in text


def test_data_csv_twin(client):
    _, rows = _csv_rows(_get(client, "/api/data.csv").text)
    doc = _get(client, "/api/data.json").json()
    (src,) = [s for s in doc["meta"]["sources"] if s["source"] == "chicago"]
    assert {r["year"]: int(r["records"]) for r in rows} == {k: v for k, v in src["by_year"].items()}


# ----------------------------------------------------------- validation, limits
BAD = [
    ("/api/trends.json?start=2017-13-01", 400, "ValidationError"),
    ("/api/trends.json?start=2017-06-01&end=2017-01-01", 400, "ParameterError"),
    ("/api/trends.json?start=2001-01-01&end=2017-06-30", 400, "ParameterError"),   # > 10 years
    ("/api/trends.json?start=1900-01-01&end=1900-02-01", 400, "ParameterError"),   # outside data range
    ("/api/trends.json?area_kind=district", 400, "ParameterError"),                # no area number
    ("/api/trends.json?area_kind=district&area=99", 400, "ParameterError"),        # unknown district
    ("/api/trends.json?interval=day", 400, "ValidationError"),
    ("/api/trends.json?category=no_such_thing", 404, "CategoryError"),
    ("/api/trends.json?category=DROP%20TABLE", 400, "ValidationError"),
    ("/api/map.json?start=2012-01-01&end=2017-06-30", 400, "ParameterError"),     # > 3 years
    ("/api/map.json?kind=beat&measure=rate", 400, "ParameterError"),
    ("/api/map.json?kind=county", 400, "ValidationError"),
    ("/api/hotspots.json?cell=10", 400, "ParameterError"),
    ("/api/forecast.json?model=sepp", 400, "ParameterError"),
    ("/api/rejected.json?limit=100000", 400, "ValidationError"),
    ("/api/rejected.json?offset=-1", 400, "ValidationError"),
    ("/api/claim.json", 400, "ParameterError"),
    ("/api/claim.json?text=" + "x" * 301, 400, "ValidationError"),
    ("/api/claim.json?text=the%20moon%20is%20cheese", 400, "ParameterError"),
    ("/api/overview.json?categories=" + ",".join(["homicide"] * 3 + [f"c{i}" for i in range(12)]), 400, "ParameterError"),
    ("/api/overview.txt", 400, "ValidationError"),
    ("/api/geometry/county.geojson", 400, "ValidationError"),
    ("/api/nothing-here.json", 404, "NotFound"),
    ("/no/such/page", 404, "NotFound"),
]


@pytest.mark.parametrize("url,status,type_", BAD)
def test_bad_requests_get_the_one_error_shape(client, url, status, type_):
    r = client.get(url)
    assert r.status_code == status, r.text[:300]
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "type", "message"}
    assert body["error"]["status"] == status and body["error"]["type"] == type_
    assert body["error"]["message"] and "Traceback" not in r.text


def test_error_shape_is_pinned(web_store_path):
    """The exact bodies for a library error, a 404, a 405 and an internal error (no details leak)."""
    from fastapi.testclient import TestClient

    from crimescope.errors import NotFittedError, StoreError
    from crimescope.web import create_app

    app = create_app(web_store_path)

    @app.get("/api/_boom")
    def boom():
        raise RuntimeError("secret detail /etc/passwd")

    @app.get("/api/_store")
    def store_gone():
        raise StoreError("store went away")

    @app.get("/api/_notfitted")
    def nf():
        raise NotFittedError("model not fitted")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/_boom")
        assert r.status_code == 500
        assert r.json() == {"error": {"status": 500, "type": "InternalError",
                                      "message": "internal error: the server log has the details"}}
        assert "secret" not in r.text and "Traceback" not in r.text
        assert c.get("/api/_store").json() == {"error": {"status": 503, "type": "StoreError",
                                                         "message": "store went away"}}
        assert c.get("/api/_notfitted").status_code == 409
        assert c.get("/api/categories.csv/x").json()["error"]["type"] == "NotFound"
        r = c.post("/api/categories.json")
        assert r.status_code == 405 and r.json()["error"] == {
            "status": 405, "type": "MethodNotAllowed", "message": "POST is not answered at /api/categories.json; use GET"}
        assert r.headers["allow"] == "GET"
        # a browser gets the same three fields as an HTML page
        r = c.get("/nowhere", headers={"accept": "text/html"})
        assert r.status_code == 404 and 'data-type="NotFound"' in r.text and "Traceback" not in r.text


def test_missing_store_is_a_store_error(tmp_path):
    from crimescope.errors import StoreError
    from crimescope.web import create_app

    with pytest.raises(StoreError):
        create_app(tmp_path / "none.duckdb")


def test_openapi_documents_every_route_and_the_error_shape(client):
    doc = _get(client, "/api/openapi.json").json()
    paths = set(doc["paths"])
    for view in ("overview", "compstat", "trends", "map", "hotspots", "forecast", "claim", "data", "rejected",
                 "categories"):
        assert f"/api/{view}.{{fmt}}" in paths
    assert "/api/geometry/{kind}.geojson" in paths
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]
    text = json.dumps(doc)
    assert "HTTPValidationError" not in text and '"422"' not in text


def test_api_docs_are_served_with_local_swagger_ui(client):
    """/api/docs works offline: every script, stylesheet and icon it loads comes from this server."""
    import re
    from urllib.parse import urlsplit

    r = _get(client, "/api/docs")
    html = r.text
    assert r.headers["content-type"].startswith("text/html") and "SwaggerUIBundle(" in html
    assert "'/api/openapi.json'" in html and '"validatorUrl": null' in html  # no validator badge fetched
    assert "http://" not in html and "https://" not in html
    refs = re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]*)"', html)
    kinds = {"js": "javascript", "css": "text/css", "png": "image/png"}
    assert sorted(ref.rsplit(".", 1)[-1] for ref in refs) == sorted(kinds)
    for ref in refs:
        parts = urlsplit(ref)
        assert not parts.scheme and not parts.netloc and ref.startswith("/static/vendor/"), ref
        asset = _get(client, ref)
        assert kinds[ref.rsplit(".", 1)[-1]] in asset.headers["content-type"] and len(asset.content) > 1000, ref


# --------------------------------------------------------------------- pages
@pytest.mark.parametrize("url", ["/", f"/?as_of={AS_OF}&category=shooting&sort=-ytd_count", "/trends",
                                 "/trends?category=homicide&area_kind=community_area&area=25&interval=month",
                                 "/map", "/map?kind=district&measure=rate&hot=false&fc=false", "/claim",
                                 "/claim?text=40+homicides+in+2016", "/data?limit=1&offset=1"])
def test_pages_render_with_provenance_and_local_assets(client, url):
    r = _get(client, url)
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    if url.startswith(("/?", "/trends", "/map")) or url == "/":
        assert "Unit:" in html and "Rule:" in html and "Source:" in html and "Vintage:" in html


def test_plotly_bundle_is_served_locally(client):
    import plotly

    r = _get(client, "/static/vendor/plotly.min.js")
    src = __import__("pathlib").Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert len(r.content) == src.stat().st_size
    assert '<script src="/static/vendor/plotly.min.js">' in _get(client, "/trends").text


def test_concurrent_views_use_one_cursor_per_thread(web_app, web_store):
    """Uncached computations from several threads at once give the library's figures."""
    from concurrent.futures import ThreadPoolExecutor

    from crimescope.stats import count
    from crimescope.web import views

    ctx = web_app.state.ctx
    ends = [f"2017-0{m}-15" for m in range(1, 10)]

    def run(end):
        import datetime as dt

        r = views.trends(ctx, "motor_vehicle_theft", "citywide", None, dt.date(2016, 12, 1), dt.date.fromisoformat(end), "month")
        return r.meta["total"]

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(run, ends))
    assert got == [count(web_store, "motor_vehicle_theft", "2016-12-01", e).meta["total"] for e in ends]
    assert len({id(v) for v in ctx._views}) >= 2


def test_trends_periods_before_the_store_are_missing_not_zero(client, web_store):
    """The store starts in 2016: the year before 2016 has no data, and the API says so (null, a note)."""
    doc = _get(client, "/api/trends.json?category=battery&start=2016-01-01&end=2016-03-31&interval=month").json()
    assert [r["prior_count"] for r in doc["rows"]] == [None, None, None]
    assert all(isinstance(r["count"], int) and r["count"] > 0 for r in doc["rows"])
    assert doc["meta"]["prior_total"] is None  # no data for the year before, not 0
    assert any("no records before 2016-01-01" in n for n in doc["meta"]["notes"])
    _, rows = _csv_rows(_get(client, "/api/trends.csv?category=battery&start=2016-01-01&end=2016-03-31&interval=month").text)
    assert [r["prior_count"] for r in rows] == ["", "", ""]


def test_forecast_best_reads_the_leading_indicators_it_was_backtested_with(client, web_store, web_store_path):
    import numpy as np

    from crimescope.forecast import make_model
    from crimescope.forecast.backtest import ranking_path
    from crimescope.spatial.grid import Grid
    from crimescope.stats.events import load_categories

    p = ranking_path(web_store_path, "homicide")
    # a ranking whose backtest ended before the forecast's as-of (no look-ahead: it may be used)
    p.write_text(json.dumps({"ranking": ["leading_indicators", "naive_all"], "coverage": "1%",
                             "horizon_days": 7.0, "pai": {"leading_indicators": 15.0},
                             "window": {"first_origin": "2017-01-02T00:00:00", "last_origin": "2017-07-31T00:00:00",
                                        "evaluated_until": "2017-08-28T00:00:00"}}))
    try:
        doc = _get(client, "/api/forecast.json?category=homicide&as_of=2017-09-04&cell=2000").json()
    finally:
        p.unlink()
    m = doc["meta"]
    assert m["model"] == "leading_indicators" and m["pai"] == 15.0
    assert "weapons_violation" in m["history"] and m["history"].startswith("first record")
    model = make_model("leading_indicators").for_target("homicide")
    ev = load_categories(web_store, ["homicide", *model.related_categories()], None, "2017-09-03")
    assert m["records_used"] == int((ev["category"] == "homicide").sum())
    fc = model.fit(ev, np.datetime64("2017-09-04"), grid=Grid.chicago(2000.0)).predict("7d")
    assert m["expected_total_city"] == pytest.approx(float(fc.expected.sum()), abs=0.01)
