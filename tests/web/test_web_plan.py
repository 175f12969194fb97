"""The Plan page and its JSON/CSV/GeoJSON twins: the library's plan, constraints from the URL, errors.

Store: ``web_store_path`` (conftest: every 8th row of the 2016-2017 shared exports).
"""

from __future__ import annotations

import csv
import io
import math

import pytest

pytestmark = pytest.mark.shared

WEEK = "2017-07-03"
BASE = f"as_of={WEEK}&budget=30&model=naive_52w"


def _get(client, url, status=200):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:400])
    return r


def test_plan_json_equals_the_library(client, web_store_path):
    from crimescope.plan.core import make_plan
    from crimescope.plan.harm import load_harm_events, parse_weights
    from crimescope.spatial.grid import Grid
    from crimescope.store import Store

    doc = _get(client, f"/api/plan.json?{BASE}&quotas=proportional").json()
    meta = doc["meta"]
    for key in ("unit", "rule", "source", "vintage", "period", "gap", "constraint_costs", "responsible_use"):
        assert meta.get(key) is not None, key
    assert len(doc["rows"]) == 30 and meta["planner"] == "ip" and meta["gap"] <= 1e-6
    hw = parse_weights("default")
    with Store(web_store_path, read_only=True) as st:
        ev = load_harm_events(st, hw, end="2017-07-02")
    lib = make_plan(ev, as_of=WEEK, grid=Grid.chicago(500), budget="30", weights=hw, model="naive_52w",
                    quotas="proportional")
    assert [r["place"] for r in doc["rows"]] == lib.table["place"].tolist()
    assert meta["objective"] == pytest.approx(lib.solution.objective)


def test_constraints_in_the_url_hold(client):
    doc = _get(client, f"/api/plan.json?{BASE}&quotas=proportional&equity_cap=3").json()
    meta = doc["meta"]
    assert set(meta["constraint_costs"]) == {"unconstrained", "district quotas", "equity cap"}
    counts = {}
    for r in doc["rows"]:
        counts[r["district"]] = counts.get(r["district"], 0) + 1
    for d in meta["district_totals"]:
        share = d["district_expected_harm"] / sum(x["district_expected_harm"] for x in meta["district_totals"])
        assert math.floor(share * 30 + 1e-9) <= counts.get(d["district"], 0) <= math.ceil(share * 30 - 1e-9)
    for e in meta["equity"]:
        if e["community_area"] > 0:
            assert e["budget_share"] <= 3 * e["victim_share"] + 1e-9


def test_csv_and_geojson_twins(client):
    text = _get(client, f"/api/plan.csv?{BASE}").text
    head = [ln for ln in text.splitlines() if ln.startswith("# ")]
    assert any(ln.startswith("# unit: expected harm") for ln in head)
    assert any(ln.startswith("# data vintage:") for ln in head)
    rows = list(csv.DictReader(io.StringIO("\n".join(ln for ln in text.splitlines() if not ln.startswith("# ")))))
    gj = _get(client, f"/api/plan.geojson?{BASE}").json()
    assert [f["properties"]["place"] for f in gj["features"]] == [r["place"] for r in rows]
    assert gj["meta"]["rule"].startswith("crimescope default harm weights")


def test_page_draws_the_plan(client):
    html = _get(client, f"/plan?{BASE}&quotas=proportional&equity_cap=3").text
    assert 'data-testid="plan-places">30<' in html and "data:image/png;base64," in html
    assert "Cost of the district quotas" in html and "/api/plan.json?" in html and "Place-based only" in html


@pytest.mark.parametrize("query,msg", [("budget=30&quotas=5-9", "infeasible"),
                                       ("budget=forty", ""), ("budget=30&model=sepp", "invalid model"),
                                       ("budget=30&places=ward", ""), ("budget=30&weights=nothing", "")])
def test_bad_requests_are_4xx_in_the_error_shape(client, query, msg):
    r = client.get(f"/api/plan.json?as_of={WEEK}&{query}")
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    body = r.json()
    assert "error" in body
    if msg:
        assert msg in r.text
