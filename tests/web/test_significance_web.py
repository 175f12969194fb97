"""The overview and CompStat API/page carry the tests; the page colours only flagged cells.

Store: ``web_store_path`` (every 8th row of 2016-2017): two years only, so the pace is
refused (fewer than three prior covered years) and the overview says so instead of a number.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from _webtests import AS_OF

pytestmark = pytest.mark.shared

OVERVIEW_COLUMNS = ["category", "label", "unit", "start", "end", "count", "prev_start", "prev_end", "prev_count",
                    "change", "pct_change", "rate_ratio", "ci_low", "ci_high", "p_value", "label_", "pace",
                    "pace_low_80", "pace_high_80", "pace_low_95", "pace_high_95", "pace_sentence", "coverage"]


def test_overview_json_csv_columns(client, web_store):
    from crimescope.stats import significance as sg

    doc = client.get(f"/api/overview.json?as_of={AS_OF}&categories=homicide,shooting").json()
    row = doc["rows"][0]
    # 'label' is the category's label in the overview; the test's label is named test_label there
    assert list(row) == [c if c != "label_" else "test_label" for c in OVERVIEW_COLUMNS]
    t = sg.rate_test(row["count"], 181, row["prev_count"], 182)  # 2017 and 2016 (leap) Jan 1-Jun 30
    assert row["p_value"] == pytest.approx(t.p_value, rel=1e-3) and row["test_label"] == t.label
    assert row["pace"] is None  # 2016-2017 only: refused, not made up
    notes = " ".join(doc["meta"]["notes"])
    assert "no pace" in notes and "at least 3" in notes and "exact conditional" in notes
    for key in ("unit", "rule", "source", "vintage"):
        assert doc["meta"][key]
    text = client.get(f"/api/overview.csv?as_of={AS_OF}&categories=homicide,shooting").text
    body = [l for l in text.splitlines() if not l.startswith("# ")]
    header = next(csv.reader(io.StringIO(body[0])))
    assert header == [c if c != "label_" else "test_label" for c in OVERVIEW_COLUMNS]
    assert any(l.startswith("# note: rate_ratio") for l in text.splitlines())


def test_compstat_api_and_page_flags(client):
    doc = client.get(f"/api/compstat.json?as_of={AS_OF}").json()
    flagged = [r for r in doc["rows"] if r["flagged"]]
    assert doc["meta"]["tests"]["flagged"] == len(flagged)
    assert any("Benjamini-Hochberg" in n for n in doc["meta"]["notes"])
    page = client.get(f"/?as_of={AS_OF}&category=violent_index").text
    cells = page.count('data-flagged="1"')
    shown = [r for r in flagged if r["category"] == "violent_index"]
    assert cells == len(shown)
    # the colour classes of the table are on flagged cells only
    table = page[page.index('id="compstat"'):page.index("</table>", page.index('id="compstat"'))]
    assert len(re.findall(r'class="p-(?:week|28d|ytd) chg (?:up|down)"', table)) == cells
    assert "Benjamini-Hochberg" in page and 'data-testid="ytd-label"' in page


def test_trends_expected_vs_observed_columns(client):
    """The cut store holds 2016-2017 only: fewer than two seasonal cycles of complete weeks
    before the end, so the expected columns are empty and the note says why."""
    doc = client.get(f"/api/trends.json?category=shooting&end={AS_OF}").json()
    assert list(doc["rows"][0]) == ["period", "count", "prior_period", "prior_count", "partial", "expected",
                                    "expected_low", "expected_high", "unusual"]
    assert all(r["expected"] is None and r["unusual"] is None for r in doc["rows"])
    assert any(n.startswith("no seasonal adjustment") and "two seasonal cycles" in n for n in doc["meta"]["notes"])
    text = client.get(f"/api/trends.csv?category=shooting&end={AS_OF}").text
    assert "expected_low" in text and "# note: no seasonal adjustment" in text


@pytest.mark.slow
def test_trends_expected_on_full_store(chicago_store_path):
    """2012-2017 store: monthly homicides 2016-2017 get expectations; the counts outside the
    interval are exactly the rows marked unusual."""
    from fastapi.testclient import TestClient

    from crimescope.web import create_app

    c = TestClient(create_app(chicago_store_path))
    doc = c.get("/api/trends.json?category=homicide&interval=month&start=2016-01-01&end=2017-12-31").json()
    rows = doc["rows"]
    assert all(r["expected"] is not None for r in rows)
    assert [r["unusual"] for r in rows] == [r["count"] < r["expected_low"] or r["count"] > r["expected_high"]
                                           for r in rows]
    assert any("STL" in n for n in doc["meta"]["notes"])
