"""The overview and CompStat API/page carry the tests; the page colours only flagged cells.

Store: ``web_store_path`` (every 8th row of 2016-2017): two years only, so the pace is
refused (fewer than three prior covered years) and the overview says so instead of a number.
"""

from __future__ import annotations

import csv
import io

import pytest

from _webtests import AS_OF

pytestmark = pytest.mark.shared

OVERVIEW_COLUMNS = ["category", "label", "unit", "start", "end", "count", "prev_start", "prev_end", "prev_count",
                    "change", "pct_change", "rate_ratio", "ci_low", "ci_high", "p_value", "label_", "pace",
                    "pace_low_80", "pace_high_80", "pace_low_95", "pace_high_95", "pace_sentence"]


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
    assert table.count('class="chg ') == cells
    assert "Benjamini-Hochberg" in page and 'data-testid="ytd-label"' in page
