"""Browser tests: Playwright driving Debian's Chromium against uvicorn on a loopback port.

Every page is opened, a filter is changed, the numbers shown are compared with the
API's, no request leaves the server (works offline), and screenshots are saved to
``test-artifacts/web/`` (git-ignored). Skipped when /usr/bin/chromium or the
playwright package is missing.
"""

from __future__ import annotations

import os
import re
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
    # three traces: this year's full weeks, its partial weeks (drawn apart, not as a drop) and the year before
    assert page.locator("#trend-chart .scatterlayer .trace").count() == 3
    # change filters: monthly, one district
    page.select_option('select[name="interval"]', "month")
    page.select_option('select[name="area_kind"]', "district")
    # the district picker appears (by number and name); the other kinds' pickers stay hidden and unsent
    assert page.locator('label.area-units[data-kind="community_area"]').is_hidden()
    page.select_option('label.area-units[data-kind="district"] select', label="District 11 (Harrison)")
    page.click('form.filters button[type="submit"]')
    page.wait_for_url("**interval=month**")
    page.wait_for_selector("#trend-chart .main-svg")
    assert "area_kind=district" in page.url and "area=11" in page.url
    doc = api(server, f"/api/trends.json?category=battery&area_kind=district&area=11&end={AS_OF}&interval=month"
                      f"&start={doc['meta']['start']}")
    assert page.locator('[data-testid="trend-total"]').inner_text().replace(",", "") == str(doc["meta"]["total"])
    cells = page.locator('#trend-table td[data-col="count"]').all_text_contents()
    assert [int(c.replace(",", "")) for c in cells] == [r["count"] for r in doc["rows"]]
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
    # the choropleth alone by default: no hot spot or forecast cell drawn, nothing fetched for them
    assert page.locator("#map rect.hot, #map rect.cold, #map rect.fc").count() == 0
    assert int(page.locator("#map").get_attribute("data-labels")) >= 20  # community-area names placed
    assert "Austin" in page.locator("#map text.lbl").all_text_contents()
    # turn the hot spot layer on: the page redraws with it; the cells are the API's by the rule shown
    page.check('input[data-layer="hot"]')
    page.wait_for_url("**hot=true**")
    page.wait_for_selector("#map[data-drawn]")
    hs = api(server, "/api/hotspots.json?category=battery&start=2017-01-01&end=2017-06-30&cell=2000")
    at99 = sorted((r for r in hs["rows"] if r["gi_bin"] == 3), key=lambda r: (-r["gi_z"], r["cell_id"]))
    top = at99[: -(-hs["meta"]["cells"] // 100)]
    assert page.locator("#map rect.hot").count() == len(top) > 0
    assert page.locator("#map rect.hot.b3").count() == len(top)
    assert page.locator('[data-testid="hot-cells"]').inner_text() == f'{hs["meta"]["hot_cells"]:,}'
    assert page.locator("#legend-hot .sw").count() == 3  # three confidence levels, three swatches
    # every 90%+ cell on request
    page.select_option('select[data-layer-select="spots"]', "90")
    page.wait_for_url("**spots=90**")
    page.wait_for_selector("#map[data-drawn]")
    assert page.locator("#map rect.hot, #map rect.cold").count() == len(hs["rows"])
    # the forecast layer too: hatched dark cells, caption consistent with what is drawn
    page.check('input[data-layer="fc"]')
    page.wait_for_url("**fc=true**")
    page.wait_for_selector("#map[data-drawn]")
    fc = api(server, "/api/forecast.json?category=battery&as_of=2017-07-01&cell=2000")
    assert page.locator("#map rect.fc").count() == len(fc["rows"])
    caption = page.locator('[data-testid="forecast-pai"]').inner_text()
    assert caption == (fc["meta"]["pai_text"] if fc["meta"]["pai"] is not None else
                       "accuracy not yet measured for this model")
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
    labels = page.locator("#map text.lbl.district").all_text_contents()
    assert "11" in labels and len(labels) >= 15  # district numbers
    # beats have no population: the rate choice is taken away when beats are chosen
    page.select_option('select[name="kind"]', "beat")
    assert page.locator('select[name="measure"] option[value="rate"]').is_disabled()
    assert page.locator('select[name="measure"]').input_value() == "count"
    shot(page, "map-rates")


def test_map_legend_bins_never_overlap(page, server):
    page.goto(f"{server}/map?category=battery&start=2017-01-01&end=2017-06-30")
    page.wait_for_selector("#map[data-drawn]")
    # the binning itself, on hand-made values: counts (step 1) and rates (step 0.1)
    got = page.evaluate("crimescope.bins([0, 0, 1, 2, 3, 3, 4, 7, 9, 12, 40], 1)")
    assert got[0][0] == 0 and got[-1][1] == 40
    for (lo1, hi1), (lo2, hi2) in zip(got, got[1:]):
        assert lo1 <= hi1 < lo2 == hi1 + 1
    got = page.evaluate("crimescope.bins([0.04, 1.25, 3.3, 3.3, 8.0, 12.96], 0.1)")
    for (lo1, hi1), (lo2, _hi2) in zip(got, got[1:]):
        assert lo2 == pytest.approx(hi1 + 0.1)
    assert page.evaluate("crimescope.bins([5, 5, 5], 1)") == [[5, 5]]
    # the legend drawn: each bin "a-b", disjoint, and its count of areas adds up to the areas drawn
    rows = page.locator("#legend-areas div[data-bin]").all_text_contents()
    spans, total = [], 0
    for t in rows:


        m = re.match(r"([\d,]+)(?:–([\d,]+))?\s+\((\d+) community areas?\)", t.replace("\xa0", " "))
        assert m, t
        lo = int(m.group(1).replace(",", ""))
        hi = int((m.group(2) or m.group(1)).replace(",", ""))
        spans.append((lo, hi))
        total += int(m.group(3))
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))
    assert total == page.locator('#map path.unit:not([data-bin="-1"])').count()


def test_map_street_map_only_when_turned_on(browser, server):
    """Off (the default): no request leaves the server. On: tiles are fetched (served here by a stand-in
    for the tile server, since tests run offline) and drawn under the areas, with the attribution."""
    import base64

    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    asked = []
    pg.route("https://tile.openstreetmap.org/**",
             lambda route: (asked.append(route.request.url), route.fulfill(status=200, content_type="image/png", body=png)))
    pg.goto(f"{server}/map?category=battery&start=2017-01-01&end=2017-06-30")
    pg.wait_for_selector("#map[data-drawn]")
    pg.wait_for_timeout(300)
    assert asked == [] and pg.locator("#map image").count() == 0
    pg.check("#basemap-toggle")
    pg.wait_for_selector("#map image")
    assert len(asked) >= 2 and all(u.startswith("https://tile.openstreetmap.org/") for u in asked)
    assert pg.locator("#map-attribution").is_visible() and "basemap=true" in pg.url
    assert "Street map on" in pg.locator('[data-testid="basemap-status"]').inner_text()
    pg.uncheck("#basemap-toggle")
    assert pg.locator("#map image").count() == 0 and "basemap" not in pg.url
    assert pg.locator("#map-attribution").is_hidden()
    ctx.close()


def test_claim(page, server):
    page.goto(f"{server}/claim")
    page.fill('input[name="text"]', "40 homicides in 2016")
    page.click('form.filters button[type="submit"]')
    page.wait_for_selector('[data-testid="verdict"]')
    assert "text=40+homicides+in+2016" in page.url
    doc = api(server, "/api/claim.json?text=40%20homicides%20in%202016")
    (c,) = doc["checks"]
    assert page.locator('[data-testid="verdict"]').inner_text() == c["verdict"]
    assert page.locator('[data-testid="computed"]').inner_text().replace(",", "") == str(c["computed"])
    # the long parts are collapsed (a phone would scroll thousands of pixels): open the explanation
    assert page.locator('[data-testid="explanation"]').is_hidden()
    page.click("text=Full explanation")
    assert "verdict:" in page.locator('[data-testid="explanation"]').inner_text()
    shot(page, "claim")


def test_data(page, server):
    page.goto(f"{server}/data?limit=1")
    doc = api(server, "/api/data.json")
    (src,) = [s for s in doc["meta"]["sources"] if s["source"] == "chicago"]
    row = page.locator('#sources tr[data-source="chicago"]')
    assert row.locator('td[data-col="incidents"]').inner_text() == f'{src["incidents"]:,}'
    assert row.locator('[data-testid="freshness"]').inner_text() == src["last_complete_day"]
    rej = api(server, "/api/rejected.json?limit=1")
    assert page.locator('[data-testid="rejected-total"]').inner_text() == f'{rej["meta"]["total"]:,}'
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
    """A wrong parameter: the trends page itself, drawn without it, under a box that says what was wrong."""
    r = page.goto(f"{server}/trends?start=2017-13-01")
    assert r.status == 400
    err = page.locator('[data-testid="error"]')
    assert err.get_attribute("data-type") == "ValidationError"
    assert "start" in err.inner_text()
    page.wait_for_selector("#trend-chart .main-svg")
    assert page.locator('form.filters select[name="category"]').count() == 1
    # an unknown path is still the error page
    r = page.goto(f"{server}/nowhere")
    assert r.status == 404 and page.locator('[data-testid="error"]').get_attribute("data-type") == "NotFound"
