"""Forms built from what exists, and a wrong URL parameter on a page (no browser: the TestClient).

* area pickers: districts by number with their names, community areas by name, each
  unit's label point inside its own boundary;
* only valid combinations: trends with an area kind and no area, the map with beats and
  rate, an unknown category, a malformed date: the page is drawn (status kept) with a box
  saying what was wrong, while the /api/ twin keeps its one error shape;
* the map's layers: choropleth alone by default, the hot spot rule, the forecast caption.
"""

from __future__ import annotations

import math
import re

import pytest

from _webtests import AS_OF

HTML = {"accept": "text/html"}


# ------------------------------------------------------------------------ pickers
def test_area_choices_name_every_unit_and_label_points_lie_inside():
    import json

    import shapely
    from shapely.geometry import shape

    from crimescope.web.geometry import area_choices, geojson_bytes

    d = dict(area_choices("district"))
    assert d["11"] == "District 11 (Harrison)" and d["1"] == "District 1 (Central)"
    assert [int(c) for c, _ in area_choices("district")] == sorted(int(c) for c in d)  # by number
    ca = area_choices("community_area")
    assert len(ca) == 77 and dict(ca)["25"] == "Austin (25)"
    assert [label for _, label in ca] == sorted(label for _, label in ca)  # by name
    for kind in ("district", "community_area", "ward", "beat"):
        doc = json.loads(geojson_bytes(kind))
        for ft in doc["features"]:
            at = ft["properties"]["label_at"]
            g = shape(ft["geometry"])
            # the simplified outline (60 ft) may move an edge a little: allow a hair (about 30 m)
            assert g.buffer(3e-4).contains(shapely.Point(at)), (kind, ft["properties"]["unit"], at)


def test_category_pickers_show_labels_of_the_city_taxonomy(client):
    html = client.get("/trends", headers=HTML).text
    from crimescope.web import views

    cats = views.categories().table
    for r in cats.itertuples():
        assert f'<option value="{r.name}"' in html and f">{r.label}</option>" in html
    assert "(shooting)</option>" not in html  # no machine names beside the labels


def test_trends_form_offers_the_units_of_each_kind(client):
    html = client.get("/trends?area_kind=district&area=11", headers=HTML).text
    m = re.search(r'<label class="area-units" data-kind="district">.*?</label>', html, re.S)
    assert m and 'value="11" selected>District 11 (Harrison)</option>' in m.group(0)
    assert m.group(0).count("<option") == 1 + 23  # "choose a district" + the 23 districts of the boundaries
    other = re.search(r'<label class="area-units" data-kind="community_area" hidden>.*?</label>', html, re.S).group(0)
    assert 'disabled' in other and ">Austin (25)</option>" in other


# -------------------------------------------------------------- a wrong URL on a page
@pytest.mark.parametrize("url, type_, says", [
    ("/trends?area_kind=district", "ParameterError", "a district needs its number"),
    ("/trends?area_kind=district&area=999", "ParameterError", "there is no district 999"),
    ("/trends?start=2017-13-01", "ValidationError", "start"),
    ("/map?kind=beat&measure=rate", "ParameterError", "no population is published for beats"),
    ("/map?category=no_such_thing", "CategoryError", "no_such_thing"),
    (f"/?as_of={AS_OF}&category=nope", "ParameterError", "nope"),
    ("/evaluate?step=fortnight", "ValidationError", "step"),
])
def test_a_wrong_parameter_draws_the_page_with_the_problem_explained(client, url, type_, says):
    r = client.get(url, headers=HTML)
    assert r.status_code in (400, 404) and r.headers["content-type"].startswith("text/html")
    html = r.text
    box = re.search(r'<div class="problem" role="alert" data-testid="error" data-status="(\d+)" '
                    r'data-type="(\w+)">(.*?)</div>', html, re.S)
    assert box, html[:500]
    assert int(box.group(1)) == r.status_code and box.group(2) == type_ and says in box.group(3)
    assert '<form class="filters"' in html and html.index('class="problem"') < html.index('<form class="filters"')
    assert "Vintage:" in html  # the page itself is drawn, with its provenance


def test_the_api_twins_keep_the_error_shape(client):
    r = client.get("/api/trends.json?area_kind=district")
    assert r.status_code == 400 and r.json()["error"]["type"] == "ParameterError"
    r = client.get("/api/map.json?kind=beat&measure=rate")
    assert r.status_code == 400 and r.json()["error"]["type"] == "ParameterError"
    # a page asked without text/html (a script) still gets the JSON error, not a page
    r = client.get("/trends?start=2017-13-01")
    assert r.status_code == 400 and r.json()["error"]["type"] == "ValidationError"


def test_trends_without_an_area_shows_citywide_and_keeps_the_kind_chosen(client):
    html = client.get(f"/trends?area_kind=district&end={AS_OF}", headers=HTML).text
    assert '<option value="district" selected>district</option>' in html
    assert "citywide" in re.search(r"<h2>(.*?)</h2>", html).group(1)
    city = client.get(f"/api/trends.json?end={AS_OF}").json()
    total = re.search(r'data-testid="trend-total">([\d,]+)<', html).group(1)
    assert int(total.replace(",", "")) == city["meta"]["total"]


def test_rate_is_offered_only_where_a_population_exists(client):
    html = client.get("/map?kind=beat", headers=HTML).text
    assert re.search(r'<option value="rate"[^>]*disabled', html)
    assert re.search(r'<option value="beat" data-rate="0"', html) and re.search(
        r'<option value="district" data-rate="1"', html)
    html = client.get("/map?kind=district&measure=rate", headers=HTML).text
    assert not re.search(r'<option value="rate"[^>]*disabled', html) and 'class="problem"' not in html


def test_compstat_citywide_row_is_pinned_first(client):
    html = client.get(f"/?as_of={AS_OF}&category=shooting&sort=-ytd_count", headers=HTML).text
    rows = re.findall(r'<tr data-area="([^"]+)"( class="pinned" data-pinned="1")?>', html)
    assert rows[0] == ("citywide", ' class="pinned" data-pinned="1"')
    assert all(not pinned for _, pinned in rows[1:])


# --------------------------------------------------------------------- map layers
def test_map_shows_the_choropleth_alone_by_default(client):
    html = client.get(f"/map?end={AS_OF}", headers=HTML).text
    assert '"layers": {}' in html and 'data-layer="hotspots"' not in html
    assert re.search(r'<input type="checkbox" data-layer="hot">', html)  # offered, not on
    assert re.search(r'<input type="checkbox" data-layer="basemap" id="basemap-toggle">', html)


def test_hot_spot_rule_keeps_the_strongest_99_percent_cells(client):
    import json

    q = "category=battery&start=2017-01-01&end=2017-06-30&cell=1000"
    html = client.get(f"/map?{q}&hot=true", headers=HTML).text
    data = json.loads(re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.S).group(1))
    shown = data["layers"]["hotspots"]["rows"]
    api = client.get(f"/api/hotspots.json?{q}").json()
    at99 = sorted((r for r in api["rows"] if r["gi_bin"] == 3), key=lambda r: (-r["gi_z"], r["cell_id"]))
    limit = math.ceil(0.01 * api["meta"]["cells"])
    assert len(at99) > limit  # the case the rule is for: more 99% cells than a patrol can use
    assert [r["cell_id"] for r in shown] == [r["cell_id"] for r in at99[:limit]]
    rule = re.search(r'data-testid="hot-rule">(.*?)</p>', html, re.S).group(1)
    assert f"({limit:,} of {api['meta']['cells']:,} cells)" in rule and f"Hot at 99%: {len(at99):,}" in rule
    # every level on request: all 90%+ cells, hot and cold
    html = client.get(f"/map?{q}&hot=true&spots=90", headers=HTML).text
    data = json.loads(re.search(r'id="map-data">(.*?)</script>', html, re.S).group(1))
    assert len(data["layers"]["hotspots"]["rows"]) == len(api["rows"])


def test_forecast_caption_matches_what_is_drawn(client):
    import json

    html = client.get(f"/map?category=battery&end={AS_OF}&fc=true", headers=HTML).text
    data = json.loads(re.search(r'id="map-data">(.*?)</script>', html, re.S).group(1))
    fc = client.get(f"/api/forecast.json?category=battery&as_of=2017-07-01").json()
    assert len(data["layers"]["forecast"]["rows"]) == len(fc["rows"]) > 0 and fc["meta"]["pai"] is None
    assert "not available" not in html  # the forecast is drawn: its accuracy is "not yet measured", said so
    assert 'data-testid="forecast-pai">accuracy not yet measured for this model</span>' in html
    assert "crimescope backtest --category battery" in html  # how to measure it
