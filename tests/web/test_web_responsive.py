"""Every page at 1400 px (desktop) and 390 px (a phone), in Debian's Chromium through Playwright.

For each page x width: nothing wider than the viewport (``document.scrollingElement.scrollWidth
<= innerWidth``, and no element reaching past the right edge unless it sits in a box that
scrolls), no console error, no failed request and no error answer other than the page's own
expected status, nothing fetched from outside the server; at 390 px every control is at least
44 px tall (a finger). Then filters are used at both widths and the numbers shown are compared
with the /api/ twin. Screenshots go to ``test-artifacts/web/responsive-*.png``.
"""

from __future__ import annotations

import pytest

from _webtests import AS_OF
from test_web_browser import ARTIFACTS, CHROMIUM, api, browser, server, sync_api  # noqa: F401

pytestmark = [pytest.mark.shared,
              pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed")]

WIDTHS = (1400, 390)
#: name -> (path, expected status, a selector that is there once the page is drawn)
PAGES = {
    "overview": (f"/?as_of={AS_OF}", 200, "#compstat"),
    "trends": (f"/trends?end={AS_OF}", 200, "#trend-chart .main-svg"),
    "map": (f"/map?end={AS_OF}", 200, "#map[data-drawn]"),
    "map-layers": (f"/map?category=battery&end={AS_OF}&cell=2000&hot=true&fc=true", 200, "#map[data-drawn]"),
    "claim": ("/claim?text=40+homicides+in+2016", 200, '[data-testid="verdict"]'),
    "data": ("/data", 200, "#sources"),
    "plan": (f"/plan?as_of=2017-07-01&budget=20", 200, "#plan-table"),
    "evaluate": ("/evaluate?category=shooting&methods=did", 200, "#chart-methods .main-svg"),
    "bad-parameter": ("/trends?area_kind=district", 400, "#trend-chart .main-svg"),
    "bad-date": ("/map?start=2017-13-01", 400, "#map[data-drawn]"),
    "not-found": ("/nowhere", 404, '[data-testid="error"]'),
}

#: elements reaching past the right edge that are not inside a box that scrolls or clips
_OVERFLOW_JS = """() => {
  const W = window.innerWidth, out = [];
  document.querySelectorAll('body *').forEach(e => {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= W + 0.5) return;
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX !== 'visible') { const pr = p.getBoundingClientRect(); if (pr.right <= W + 0.5) return; }
    }
    out.push(e.tagName + (e.id ? '#' + e.id : '') + ' right=' + Math.round(r.right));
  });
  return {scroll: document.scrollingElement.scrollWidth, inner: W, height: document.scrollingElement.scrollHeight,
          wide: out.slice(0, 8)};
}"""

#: visible controls shorter than 44 px (a check box or radio counts by its label)
_TAP_JS = """() => {
  const small = [];
  document.querySelectorAll('button, select, input:not([type=hidden]), summary, header a').forEach(e => {
    if (e.closest('.js-plotly-plot')) return;           // Plotly's own chart parts (its tool bar is hidden)
    let t = e;
    if (e.type === 'checkbox' || e.type === 'radio') t = e.closest('label') || e;
    const r = t.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;        // not shown (a closed picker, a hidden field)
    if (r.height < 43.5) small.push(e.tagName + '[' + (e.name || e.textContent.trim().slice(0, 24)) + '] ' + Math.round(r.height));
  });
  return small;
}"""


def _open(browser, server, width, path):  # noqa: F811
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    log = {"console": [], "failed": [], "bad": [], "outside": []}
    pg.on("console", lambda m: log["console"].append((m.text, (m.location or {}).get("url"))) if m.type == "error" else None)
    pg.on("pageerror", lambda e: log["console"].append((str(e), None)))
    pg.on("requestfailed", lambda r: log["failed"].append(r.url))
    pg.on("response", lambda r: log["bad"].append((r.url, r.status)) if r.status >= 400 else None)
    pg.on("request", lambda r: log["outside"].append(r.url) if not r.url.startswith((server, "data:", "about:")) else None)
    return ctx, pg, log


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_and_loads_cleanly(browser, server, name, width):  # noqa: F811
    path, status, ready = PAGES[name]
    ctx, pg, log = _open(browser, server, width, path)
    try:
        r = pg.goto(server + path)
        assert r.status == status
        pg.wait_for_selector(ready)
        pg.wait_for_timeout(300)  # late layout (Plotly's resize, map labels)
        m = pg.evaluate(_OVERFLOW_JS)
        assert m["scroll"] <= m["inner"], m
        assert m["wide"] == [], m
        if width < 700:
            assert pg.evaluate(_TAP_JS) == []
        if name == "claim" and width < 700:
            assert m["height"] < 1600, m  # the long parts are collapsed
        url = server + path
        # Chromium logs the document's own 4xx as a console error: that one is the expected answer
        expected = [(url, status)] if status >= 400 else []
        assert [c for c in log["console"] if not (status >= 400 and c[1] == url)] == []
        assert log["failed"] == [] and log["bad"] == expected and log["outside"] == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"responsive-{name}-{width}.png"), full_page=True)
    finally:
        ctx.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_filters_change_the_numbers_and_equal_the_api(browser, server, width):  # noqa: F811
    ctx, pg, log = _open(browser, server, width, "/")
    try:
        # overview: the CompStat table for another category, a district's YTD as the API says
        pg.goto(f"{server}/?as_of={AS_OF}")
        before = pg.locator('#compstat tr[data-area="district 11"] td[data-col="ytd_count"]').inner_text()
        pg.select_option('select[name="category"]', "shooting")
        pg.click('form.filters button[type="submit"]')
        pg.wait_for_url("**category=shooting**")
        cs = api(server, f"/api/compstat.json?as_of={AS_OF}&category=shooting")
        d11 = [r for r in cs["rows"] if r["district"] == 11 and r["period"] == "ytd"][0]
        after = pg.locator('#compstat tr[data-area="district 11"] td[data-col="ytd_count"]').inner_text()
        assert after.replace(",", "") == str(d11["count"]) and after != before
        # the categories picker: labelled check boxes joined into one comma list
        pg.click("details.picker > summary")
        pg.check('details.picker input[value="battery"]')
        pg.check('details.picker input[value="robbery"]')
        assert pg.locator("details.picker > summary").inner_text() == "2 chosen"
        # the CompStat category follows: only the chosen ones are offered (shooting is not among them)
        assert pg.locator('select[name="category"] option').evaluate_all("os => os.map(o => o.value)") == [
            "battery", "robbery"]
        pg.click('form.filters button[type="submit"]')
        pg.wait_for_url("**categories=battery%2Crobbery**")
        ov = api(server, f"/api/overview.json?as_of={AS_OF}&categories=battery,robbery")
        assert pg.locator(".box").count() == len(ov["rows"]) == 2
        for row in ov["rows"]:
            got = pg.locator(f'.box[data-category="{row["category"]}"] [data-testid="ytd-count"]').inner_text()
            assert got.replace(",", "") == str(row["count"])
        # trends: another category, then one district picked by name
        pg.goto(f"{server}/trends?end={AS_OF}")
        pg.select_option('select[name="category"]', "robbery")
        pg.select_option('select[name="area_kind"]', "district")
        pg.select_option('label.area-units[data-kind="district"] select', "11")
        pg.click('form.filters button[type="submit"]')
        pg.wait_for_url("**category=robbery**")
        pg.wait_for_selector("#trend-chart .main-svg")
        assert "area_kind=district" in pg.url and "area=11" in pg.url
        start = pg.locator('input[name="start"]').input_value()
        doc = api(server, f"/api/trends.json?category=robbery&area_kind=district&area=11&start={start}&end={AS_OF}")
        assert pg.locator('[data-testid="trend-total"]').inner_text().replace(",", "") == str(doc["meta"]["total"])
        # map: another category; the total and each area's value are the API's
        pg.goto(f"{server}/map?end={AS_OF}")
        pg.wait_for_selector("#map[data-drawn]")
        pg.select_option('select[name="category"]', "homicide")
        pg.click('form.filters button[type="submit"]')
        pg.wait_for_url("**category=homicide**")
        pg.wait_for_selector("#map[data-drawn]")
        start = pg.locator('input[name="start"]').input_value()
        doc = api(server, f"/api/map.json?category=homicide&start={start}&end={AS_OF}")
        assert pg.locator('[data-testid="map-total"]').inner_text().replace(",", "") == str(doc["meta"]["total"])
        for r in doc["rows"]:
            if r["unit"] is not None:
                assert pg.locator(f'#map path.unit[data-unit="{r["unit"]}"]').get_attribute("data-value") == str(r["count"])
        assert log["failed"] == [] and log["bad"] == [] and log["outside"] == [] and log["console"] == []
    finally:
        ctx.close()
