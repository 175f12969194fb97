"""``serve``'s start-up warming builds what the first distinct views of a category need.

After the count tables, the warming builds, per category of the city, its daily counts per area
(trends) and its records' grid cells by day on each grid of the hot spot layer, and for the
Overview's categories the event history (forecast layer) and the records per case (pace). A
burst of distinct views then builds none of them, and what they answer from the warmed
structures equals what the store answers (an app without the per-snapshot aggregate).
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from _shared import requires_shared

pytestmark = requires_shared


def _kinds(ctx) -> dict[str, set]:
    """The keys kept in the served generation's aggregate, by kind."""
    out: dict[str, set] = {}
    for k in list(ctx.generation.aggregates._values):
        out.setdefault(k[0], set()).add(k)
    return out


@pytest.fixture(scope="module")
def warmed(web_store_path):
    from crimescope.web import create_app
    from crimescope.web.geometry import _choices

    _choices.cache_clear()  # so that the area lists found below were built by this app's warming
    app = create_app(web_store_path, warm=True, response_cache_mb=0)
    with TestClient(app, raise_server_exceptions=False) as c:
        deadline = time.monotonic() + 600
        while c.get("/api/snapshot.json").json()["warming"]:
            assert time.monotonic() < deadline, "the warming did not finish"
            time.sleep(0.2)
        yield app, c


def test_warming_builds_cell_days_events_and_case_counts(warmed):
    from crimescope.web.app import WARM_CELLS, _warm_categories

    app, c = warmed
    ctx = app.state.ctx
    held = c.get("/api/snapshot.json").json()["snapshot_structures_bytes"]
    for kind in ("counts", "cell_days", "events", "cases"):
        assert held.get(kind, 0) > 0, (kind, held)
    kinds = _kinds(ctx)
    cats = _warm_categories(ctx)
    assert len(kinds["counts"]) >= len(cats) > 30
    # one per (category, grid); the Overview's categories' histories and case counts
    assert len(kinds["cell_days"]) == len(cats) * len(WARM_CELLS)
    assert {k[2] for k in kinds["events"]} >= {"murder", "homicide", "shooting", "robbery", "violent_index"}
    assert {k[2] for k in kinds["cases"]} >= {"murder", "homicide", "shooting", "robbery", "violent_index"}
    # every category's record types (coverage), and what a claim about a headline category reads
    assert {k[3] for k in kinds["coverage"] if k[1] == "types"} >= {cat.rule for cat in cats}
    assert {k[2] for k in kinds["claim_rows"]} >= {"murder", "homicide", "shooting", "robbery", "violent_index"}
    assert kinds["claim_revisions"] and kinds["claim_batches"]
    # the pickers' area lists (claim, trends and map forms) and the trends' STL module
    import sys

    from crimescope.web.geometry import _choices

    assert _choices.cache_info().currsize >= len(ctx.profile.mapped_kinds())
    assert "statsmodels.tsa.seasonal" in sys.modules  # (run alone, this file fails without the warming's import)


@pytest.mark.parametrize("url", [
    "/api/hotspots.json?category=battery&start=2017-03-01&end=2017-06-30&cell=2000",
    "/api/hotspots.json?category=theft&start=2016-11-15&end=2017-01-20&cell=1000",
    "/api/hotspots.json?category=burglary&start=2017-01-01&end=2017-02-28&cell=500",
    "/api/trends.json?category=assault&area_kind=ward&area=7&end=2017-10-01&interval=month",
    "/api/forecast.json?category=shooting&as_of=2017-06-05&model=naive_52w",
    "/api/overview.json?as_of=2017-04-30",
    "/api/claim.json?text=512+murders+in+2016",
    "/api/claim.json?text=2100+robberies+in+2017&district=11",
])
def test_views_after_warming_build_nothing_and_equal_the_store(warmed, web_store_path, url):
    from crimescope.web import create_app

    app, c = warmed
    before = _kinds(app.state.ctx)
    r = c.get(url)
    assert r.status_code == 200, r.text
    after = _kinds(app.state.ctx)
    for kind in ("counts", "cell_days", "events", "cases", "coverage", "claim_rows", "claim_revisions"):
        assert after.get(kind, set()) == before.get(kind, set()), (kind, after.get(kind, set()) - before.get(kind, set()))
    with TestClient(create_app(web_store_path, aggregates=False, response_cache_mb=0)) as plain:
        want = plain.get(url)
    assert want.status_code == 200
    assert r.json() == want.json()


def test_warming_writes_float_texts_ahead_and_freezes_the_heap(warmed):
    """The warming keeps the JSON texts of the grids' cell coordinates and of rounded z scores
    (routes._common.keep_float_texts), and moves what it built out of the collector's passes."""
    import gc

    import numpy as np

    from crimescope.app.dashboard import cell_lonlat
    from crimescope.web import views
    from crimescope.web.routes import _common

    app, c = warmed
    lon = np.round(cell_lonlat(views._grid(app.state.ctx, 1000))[0], 6)
    assert all(_common._FLOAT_KEPT.get(v) == repr(v) for v in lon[:50].tolist())
    assert _common._FLOAT_KEPT.get(2.345) == "2.345"
    assert gc.get_freeze_count() > 0
