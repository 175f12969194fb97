"""The plan's human formats (the text table, the deployment sheet) print quantities with thousands
separators; CSV, JSON and GeoJSON keep plain numbers (issue 16)."""

from __future__ import annotations

import json
import re

import pytest
from test_plan_core import AS_OF, toy_events, toy_places

from crimescope.plan.harm import parse_weights


@pytest.fixture(scope="module")
def big_plan():
    """The toy city's plan with weights large enough that expected harms run into thousands."""
    from crimescope.plan.core import make_plan
    from crimescope.spatial.grid import Grid

    grid = Grid.regular(0.0, 0.0, 10, 10, 500.0)
    return make_plan(toy_events(grid), as_of=AS_OF, grid=grid, budget="6",
                     weights=parse_weights("homicide=100000,shooting=10000"), model="naive_all",
                     places=toy_places(grid), data_dir=None)


def test_text_table_has_separators_for_quantities_only(big_plan):
    from crimescope.plan.output import write_plan

    t = big_plan.table
    assert t["expected_harm"].max() >= 1000  # else the test would prove nothing
    text = write_plan(big_plan, "table")
    lines = text.splitlines()
    head = lines[0].split()
    k = head.index("expected_harm")
    for row, line in zip(t.itertuples(index=False), lines[2:2 + len(t)]):
        cells = line.split()
        v = float(row.expected_harm)
        want = f"{v:,.3f}".rstrip("0").rstrip(".")
        assert want in cells, (want, line)
        if v >= 1000:
            assert "," in want
        assert cells[1] == str(row.place)  # ids are never grouped
    assert re.search(r"\d,\d{3}", lines[2]) is not None


def test_csv_json_geojson_keep_plain_numbers(big_plan):
    from crimescope.plan.output import write_plan

    doc = json.loads(write_plan(big_plan, "json"))
    assert [r["expected_harm"] for r in doc["rows"]] == pytest.approx(big_plan.table["expected_harm"].tolist())
    csv = write_plan(big_plan, "csv")
    body = [ln for ln in csv.splitlines() if not ln.startswith("#")]
    assert body[0].split(",")[:2] == ["rank", "place"]
    v = float(big_plan.table["expected_harm"].iloc[0])
    assert any(repr(v) in ln or f"{v}" in ln for ln in body[1:])
    assert not re.search(r'"\d{1,3},\d{3}', csv)  # no grouped number in quotes
    gj = json.loads(write_plan(big_plan, "geojson"))
    assert isinstance(gj["features"][0]["properties"]["expected_harm"], float)


def test_sheet_formats_numbers_for_people(big_plan):
    from crimescope.report.brief import fmt_num
    from crimescope.report.plan_sheet import sheet_html

    d = big_plan.table["district"].iloc[0]
    rows = big_plan.district_sheet(d)
    html = sheet_html(big_plan, d)
    harm = float(rows["expected_harm"].sum())
    assert harm >= 1000
    assert f"<b>Expected harm in these places:</b> {fmt_num(harm, 1)} (" in html and "," in fmt_num(harm, 1)
    for v in rows["expected_harm"]:
        assert f'<td class="n">{fmt_num(v, 1)}</td>' in html
    assert "e+0" not in html  # never scientific notation
