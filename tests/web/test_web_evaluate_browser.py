"""Browser test of the /evaluate page (Playwright with Debian's Chromium, as test_web_browser.py)."""

from __future__ import annotations

import pytest

from test_web_browser import CHROMIUM, api, browser, page, server, shot, sync_api  # noqa: F401

pytestmark = [pytest.mark.shared,
              pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed")]


def test_evaluate_page_shows_the_case_study(page, server):  # noqa: F811
    page.goto(f"{server}/evaluate?category=shooting&methods=did,cs,synth")
    page.wait_for_selector("#chart-methods .main-svg")
    doc = api(server, "/api/evaluate.json?category=shooting&methods=did,cs,synth")
    res = doc["evaluations"]["shooting"]["results"]
    for name, r in res.items():
        row = page.locator(f'#methods-table tr[data-method="{name}"]')
        assert row.locator('td[data-col="p"]').inner_text() == f"{r['effect']['p_value']:.3g}"
    assert page.locator('[data-testid="cohort"]').count() == 6
    assert page.locator("#chart-event .main-svg").count() >= 1 and page.locator("#chart-gaps .main-svg").count() >= 1
    assert "Vintage:" in page.locator(".provenance").first.inner_text()
    # change a filter: homicides, weekly
    page.select_option('select[name="category"]', "homicide")
    page.select_option('select[name="step"]', "week")
    page.click('form.filters button[type="submit"]')
    page.wait_for_url("**category=homicide**")
    page.wait_for_selector("#chart-methods .main-svg")
    assert "Homicide" in page.locator("h2").first.inner_text()
    shot(page, "evaluate")
