"""What a commander or a reporter sees: the defects found by looking at every page (issue 16), each pinned.

* On a phone the CompStat table shows one period at a time, year to date first, inside the screen;
  the other periods are one tap away. On a desktop all three periods show and the switch does not.
* A week cut by the span (fewer days counted) is not drawn as a drop: it is left out of the trend
  line, drawn apart as an open diamond, and marked in the table.
* Counts carry thousands separators and the Data page speaks words, not column names.
* The hot spot rule picker's choices fit its box (nothing clipped).
* p-values below 0.001 read "p < 0.001", not "4.37e-20".

Browser parts: Playwright with Debian's Chromium on the cut store (``web_store_path``); the rest on
the TestClient. The expectations come from the /api/ twins.
"""

from __future__ import annotations

import re

import pytest

from _webtests import AS_OF
from test_web_browser import CHROMIUM, api, browser, server, sync_api  # noqa: F401
from test_web_responsive import _OVERFLOW_JS

browser_only = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed")
pytestmark = [pytest.mark.shared]


def _page(browser, width):  # noqa: F811
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    return ctx, pg


def _in_view(pg, selector) -> bool:
    return pg.locator(selector).evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= innerWidth + 0.5; }")


@browser_only
def test_compstat_shows_year_to_date_within_a_phone_screen(browser, server):  # noqa: F811
    cs = api(server, f"/api/compstat.json?as_of={AS_OF}&category=shooting")
    d11 = {r["period"]: r for r in cs["rows"] if r["district"] == 11}
    ctx, pg = _page(browser, 390)
    try:
        pg.goto(f"{server}/?as_of={AS_OF}&category=shooting")
        row = '#compstat tr[data-area="district 11"] '
        # year to date first, inside the screen, and its figure is the API's
        assert _in_view(pg, row + 'td[data-col="ytd_count"]')
        assert pg.locator(row + 'td[data-col="ytd_count"]').inner_text().replace(",", "") == str(d11["ytd"]["count"])
        assert pg.locator(row + 'td[data-col="week_count"]').is_hidden()
        assert pg.locator('.period-switch button[data-show="ytd"]').get_attribute("aria-pressed") == "true"
        m = pg.evaluate(_OVERFLOW_JS)
        assert m["scroll"] <= m["inner"] and m["wide"] == [], m
        # one tap: the 28 days, then the week, each inside the screen with the API's figure
        for period in ("28d", "week"):
            pg.click(f'.period-switch button[data-show="{period}"]')
            cell = row + f'td[data-col="{period}_count"]'
            assert _in_view(pg, cell)
            assert pg.locator(cell).inner_text().replace(",", "") == str(d11[period]["count"])
            assert pg.locator(row + 'td[data-col="ytd_count"]').is_hidden()
            assert pg.locator(f'.period-switch button[data-show="{period}"]').get_attribute("aria-pressed") == "true"
        # all three: the table scrolls inside its own box, the page does not
        pg.click('.period-switch button[data-show="all"]')
        assert pg.locator(row + 'td[data-col="ytd_count"]').is_visible()
        m = pg.evaluate(_OVERFLOW_JS)
        assert m["scroll"] <= m["inner"] and m["wide"] == [], m
        assert pg.errors == []
    finally:
        ctx.close()
    ctx, pg = _page(browser, 1400)
    try:
        pg.goto(f"{server}/?as_of={AS_OF}&category=shooting")
        assert pg.locator(".period-switch").is_hidden()
        for period in ("week", "28d", "ytd"):
            assert _in_view(pg, f'#compstat tr[data-area="district 11"] td[data-col="{period}_count"]')
    finally:
        ctx.close()


@browser_only
@pytest.mark.parametrize("width", (1400, 390))
def test_partial_weeks_are_drawn_apart_not_as_a_drop(browser, server, width):  # noqa: F811
    # 2017-01-01 is a Sunday and 2017-03-15 a Wednesday: the first and the last week are cut by the span
    q = "category=battery&start=2017-01-01&end=2017-03-15"
    doc = api(server, f"/api/trends.json?{q}")
    cut = [r["period"] for r in doc["rows"] if r["partial"]]
    assert cut == ["2016-12-26", "2017-03-13"], cut
    ctx, pg = _page(browser, width)
    try:
        pg.goto(f"{server}/trends?{q}")
        pg.wait_for_selector("#trend-chart .main-svg")
        traces = pg.evaluate("() => document.getElementById('trend-chart').data.map("
                             "t => ({name: t.name, x: t.x, y: t.y, marker: t.marker || {}}))")
        line, apart = traces[0], traces[1]
        assert len(line["x"]) == len(doc["rows"])
        for x, y, r in zip(line["x"], line["y"], doc["rows"]):
            assert y == (None if r["partial"] else r["count"]), (x, y, r)
        assert apart["name"].startswith("partial week")
        # visible: an open symbol takes the marker colour for its outline, so it must not be the background's
        assert apart["marker"]["symbol"].endswith("-open") and apart["marker"]["color"] not in ("#fff", "#ffffff", "white")
        assert apart["x"] == cut and apart["y"] == [r["count"] for r in doc["rows"] if r["partial"]]
        # the table marks them, and a sentence above the chart says why they are apart
        assert pg.locator("#trend-table tr[data-partial]").count() == len(cut)
        note = pg.locator('[data-testid="partial-note"]').inner_text()
        assert "2 partial weeks" in note and all(p in note for p in cut)
        m = pg.evaluate(_OVERFLOW_JS)
        assert m["scroll"] <= m["inner"] and m["wide"] == [], m
        assert pg.errors == []
    finally:
        ctx.close()


@browser_only
@pytest.mark.parametrize("width", (1400, 390))
def test_hot_spot_rule_picker_is_not_clipped(browser, server, width):  # noqa: F811
    ctx, pg = _page(browser, width)
    try:
        pg.goto(f"{server}/map?category=battery&start=2017-01-01&end=2017-06-30&cell=2000&hot=true")
        pg.wait_for_selector("#map[data-drawn]")
        # the widest choice, in the select's own font, fits inside the box beside its arrow
        fit = pg.locator('select[data-layer-select="spots"]').evaluate("""s => {
            const c = document.createElement('canvas').getContext('2d'), st = getComputedStyle(s);
            c.font = st.fontSize + ' ' + st.fontFamily;
            const widest = Math.max(...Array.from(s.options).map(o => c.measureText(o.textContent).width));
            return {widest: widest, room: s.clientWidth - 28, n: s.options.length};
        }""")
        assert fit["n"] == 4 and fit["widest"] <= fit["room"], fit
        hs = api(server, "/api/hotspots.json?category=battery&start=2017-01-01&end=2017-06-30&cell=2000")
        assert pg.locator('[data-testid="hot-cells"]').inner_text() == f'{hs["meta"]["hot_cells"]:,}'
    finally:
        ctx.close()


def test_data_page_speaks_words_with_separators(client):
    doc = client.get("/api/data.json").json()
    (src,) = [s for s in doc["meta"]["sources"] if s["source"] == "chicago"]
    assert src["incidents"] >= 1000  # so a separator is due
    html = client.get("/data").text
    assert f'data-col="incidents" data-value="{src["incidents"]}">{src["incidents"]:,}<' in html
    # column names of the store are not headings; the limits are sentences with their numbers formatted
    assert "<th>max updated_at</th>" not in html and "latest update at the source" in html
    limits = html[html.index('id="limits"'):]
    assert "<dt>min_date</dt>" not in limits and "<dt>earliest date asked</dt>" in limits
    assert '<dd data-key="max_offset">10,000,000</dd>' in limits
    # ingest batch times to the minute (UTC), the full stamp in the tooltip; counts with separators
    batches = html[html.index('id="batches"'):html.index("</table>", html.index('id="batches"'))]
    assert not re.search(r">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+", batches)
    assert re.search(r'class="when" title="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC<', batches)
    assert re.search(r"<td>\d{1,3}(,\d{3})+</td>", batches)


def test_overview_p_values_read_plainly(client):
    doc = client.get(f"/api/overview.json?as_of={AS_OF}&categories=battery,theft,shooting").json()
    html = client.get(f"/?as_of={AS_OF}&categories=battery,theft,shooting").text
    labels = re.findall(r'data-testid="ytd-label">(.*?)</div>', html, re.S)
    assert len(labels) == len(doc["rows"]) == 3
    for row, label in zip(doc["rows"], labels):
        assert not re.search(r"\de-\d", label), label
        if row["p_value"] is not None:
            want = "p &lt; 0.001" if row["p_value"] < 0.001 else f"p = {row['p_value']:.2g}"  # HTML-escaped
            assert want in label, (want, label)
    assert any(r["p_value"] is not None and r["p_value"] < 0.001 for r in doc["rows"])  # the case is exercised


def test_map_table_names_the_areas(client):
    html = client.get(f"/map?end={AS_OF}").text
    table = html[html.index('id="map-table"'):]
    assert 'data-value="25">Austin (25)</td>' in table  # the name, not the bare code
    html = client.get(f"/map?end={AS_OF}&kind=district").text
    assert 'data-value="11">District 11 (Harrison)</td>' in html[html.index('id="map-table"'):]
