"""Browser tests: Playwright driving Debian's Chromium against uvicorn on a loopback port.

Every page is opened, a filter is changed, the numbers shown are compared with the
API's, no request leaves the server (works offline), and screenshots are saved to
``test-artifacts/web/`` (git-ignored). Skipped when /usr/bin/chromium or the
playwright package is missing.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from _webtests import AS_OF

CHROMIUM = Path(os.environ.get("CRIMESCOPE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (scripts/ci-system-deps.sh installs it)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(web_store_path):
    import uvicorn

    from crimescope.web import create_app

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(web_store_path), host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="on"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.time() + 30
    while not srv.started:
        if time.time() > deadline or not th.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    th.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    pg.outside = []
    pg.console_errors = []
    pg.on("request", lambda r: pg.outside.append(r.url) if not r.url.startswith((server, "data:", "about:")) else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    assert pg.outside == [], f"requests left the server: {pg.outside[:5]}"
    assert pg.console_errors == [], pg.console_errors
    ctx.close()


def api(server, path):
    import httpx

    r = httpx.get(server + path, timeout=60)
    assert r.status_code == 200, r.text[:300]
    return r.json()


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_overview(page, server):
    page.goto(f"{server}/?as_of={AS_OF}")
    doc = api(server, f"/api/overview.json?as_of={AS_OF}")
    boxes = page.locator(".box")
    assert boxes.count() == len(doc["rows"])
    for row in doc["rows"]:
        box = page.locator(f'.box[data-category="{row["category"]}"]')
        assert box.locator('[data-testid="ytd-count"]').inner_text().replace(",", "") == str(row["count"])
        assert box.locator('[data-testid="ytd-prev"]').inner_text().replace(",", "") == str(row["prev_count"])
    assert "Vintage:" in page.locator("#ytd-provenance").inner_text()
    # change a filter: the CompStat category
    page.select_option('select[name="category"]', "shooting")
    page.click('form.filters button[type="submit"]')
    page.wait_for_url("**category=shooting**")
    cs = api(server, f"/api/compstat.json?as_of={AS_OF}&category=shooting")
    city = {r["period"]: r for r in cs["rows"] if r["area"] == "citywide"}
    row = page.locator('#compstat tr[data-area="citywide"]')
    for p in ("week", "28d", "ytd"):
        assert row.locator(f'td[data-col="{p}_count"]').inner_text().replace(",", "") == str(city[p]["count"])
        assert row.locator(f'td[data-col="{p}_prev"]').inner_text().replace(",", "") == str(city[p]["prev_count"])
    d11 = [r for r in cs["rows"] if r["district"] == 11 and r["period"] == "ytd"][0]
    assert page.locator('#compstat tr[data-area="district 11"] td[data-col="ytd_count"]').inner_text() == str(d11["count"])
    # sort by YTD count (largest first); the order goes into the URL
    page.click('#compstat th[data-key="ytd_count"]')
    assert "sort=-ytd_count" in page.url
    vals = [int(v) for v in page.locator('#compstat tbody td[data-col="ytd_count"]').evaluate_all(
        "els => els.map(e => e.getAttribute('data-value'))")]
    assert vals == sorted(vals, reverse=True)
    shot(page, "overview")
    # the sort survives a reload from the URL
    page.goto(page.url)
    vals2 = page.locator('#compstat tbody td[data-col="ytd_count"]').evaluate_all(
        "els => els.map(e => +e.getAttribute('data-value'))")
    assert vals2 == vals


def test_trends(page, server):
    page.goto(f"{server}/trends?category=battery&end={AS_OF}")
    page.wait_for_selector("#trend-chart .main-svg")
    doc = api(server, f"/api/trends.json?category=battery&end={AS_OF}")
    assert page.locator('[data-testid="trend-total"]').inner_text().replace(",", "") == str(doc["meta"]["total"])
    assert page.locator('[data-testid="trend-prior-total"]').inner_text().replace(",", "") == str(doc["meta"]["prior_total"])
    # two traces: this year and the year before
    assert page.locator("#trend-chart .scatterlayer .trace").count() == 2
    # change filters: monthly, one district
    page.select_option('select[name="interval"]', "month")
    page.select_option('select[name="area_kind"]', "district")
    page.fill('input[name="area"]', "11")
    page.click('form.filters button[type="submit"]')
    page.wait_for_url("**interval=month**")
    page.wait_for_selector("#trend-chart .main-svg")
    assert "area_kind=district" in page.url and "area=11" in page.url
    doc = api(server, f"/api/trends.json?category=battery&area_kind=district&area=11&end={AS_OF}&interval=month"
                      f"&start={doc['meta']['start']}")
    assert page.locator('[data-testid="trend-total"]').inner_text().replace(",", "") == str(doc["meta"]["total"])
    cells = page.locator('#trend-table td[data-col="count"]').all_text_contents()
    assert [int(c) for c in cells] == [r["count"] for r in doc["rows"]]
    shot(page, "trends")


def test_map(page, server):
    q = "category=battery&start=2017-01-01&end=2017-06-30&cell=2000"
    page.goto(f"{server}/map?{q}")
    page.wait_for_selector("#map[data-drawn]")
    doc = api(server, f"/api/map.json?{q.replace('&cell=2000', '')}")
    assert page.locator("#map path.unit").count() == 77
    for r in doc["rows"][:10]:
        if r["unit"] is None:
            continue
        v = page.locator(f'#map path.unit[data-unit="{r["unit"]}"]').get_attribute("data-value")
        assert int(v) == r["count"]
    assert page.locator('[data-testid="map-total"]').inner_text().replace(",", "") == str(doc["meta"]["total"])
    hs = api(server, "/api/hotspots.json?category=battery&start=2017-01-01&end=2017-06-30&cell=2000")
    assert page.locator("#map rect.hot").count() == len(hs["rows"])
    assert page.locator('[data-testid="hot-cells"]').inner_text() == str(hs["meta"]["hot_cells"])
    fc = api(server, "/api/forecast.json?category=battery&as_of=2017-07-01&cell=2000")
    assert page.locator("#map rect.fc").count() == len(fc["rows"])
    assert page.locator('[data-testid="forecast-pai"]').inner_text() == fc["meta"]["pai_text"]
    shot(page, "map")
    # change a filter: rates per 100,000 by district
    page.select_option('select[name="kind"]', "district")
    page.select_option('select[name="measure"]', "rate")
    page.click('form.filters button[type="submit"]')
    page.wait_for_url("**measure=rate**")
    page.wait_for_selector("#map[data-drawn]")
    doc = api(server, "/api/map.json?category=battery&kind=district&measure=rate&start=2017-01-01&end=2017-06-30")
    for r in doc["rows"]:
        if r["unit"] is None or r["rate_per_100k"] is None:
            continue
        v = page.locator(f'#map path.unit[data-unit="{r["unit"]}"]').get_attribute("data-value")
        assert float(v) == pytest.approx(r["rate_per_100k"])
    shot(page, "map-rates")


def test_claim(page, server):
    page.goto(f"{server}/claim")
    page.fill('input[name="text"]', "40 homicides in 2016")
    page.click('form.filters button[type="submit"]')
    page.wait_for_selector('[data-testid="verdict"]')
    assert "text=40+homicides+in+2016" in page.url
    doc = api(server, "/api/claim.json?text=40%20homicides%20in%202016")
    (c,) = doc["checks"]
    assert page.locator('[data-testid="verdict"]').inner_text() == c["verdict"]
    assert page.locator('[data-testid="computed"]').inner_text() == str(c["computed"])
    assert "verdict:" in page.locator('[data-testid="explanation"]').inner_text()
    shot(page, "claim")


def test_data(page, server):
    page.goto(f"{server}/data?limit=1")
    doc = api(server, "/api/data.json")
    (src,) = [s for s in doc["meta"]["sources"] if s["source"] == "chicago"]
    row = page.locator('#sources tr[data-source="chicago"]')
    assert row.locator('td[data-col="incidents"]').inner_text() == str(src["incidents"])
    assert row.locator('[data-testid="freshness"]').inner_text() == src["last_complete_day"]
    rej = api(server, "/api/rejected.json?limit=1")
    assert page.locator('[data-testid="rejected-total"]').inner_text() == str(rej["meta"]["total"])
    assert page.locator("#rejected-rows tbody tr").count() == 1
    page.click("text=next")
    page.wait_for_url("**offset=1**")
    assert page.locator("#rejected-rows tbody tr").count() == 1
    shot(page, "data")


def test_api_docs_render_offline(page, server):
    """Swagger UI comes from the server itself and renders every operation of the schema."""
    failed, bad = [], []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("response", lambda r: bad.append((r.url, r.status)) if r.status >= 400 else None)
    page.goto(f"{server}/api/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("crimescope")
    schema = api(server, "/api/openapi.json")
    paths = page.locator(".swagger-ui .opblock-summary-path").evaluate_all(
        "els => els.map(e => e.getAttribute('data-path'))")
    assert sorted(paths) == sorted(schema["paths"])
    assert failed == [] and bad == []
    shot(page, "api-docs")


def test_error_page(page, server):
    r = page.goto(f"{server}/trends?start=2017-13-01")
    assert r.status == 400
    err = page.locator('[data-testid="error"]')
    assert err.get_attribute("data-type") == "ValidationError"
    assert "start" in err.inner_text()
