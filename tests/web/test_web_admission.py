"""Admission by route (``crimescope.web.admission``): a claim is answered while the heavy lane is full.

The expensive view is made slow on purpose: ``views.trends`` waits for an Event before computing
its real answer, so the heavy lane stays saturated for as long as the test wants. Nothing here
measures time: the assertions are about order (the claim answered while every heavy request
was still held) and counts (at most ``heavy`` views ran at once; none refused).
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from _webtests import AS_OF

pytestmark = pytest.mark.usefixtures("web_store")

CLAIM = "/api/claim.json?text=40%20homicides%20in%202016"
#: a deadlock guard only (a test that hangs fails instead); no latency is asserted
GUARD_SECONDS = 120


def test_lanes_by_route():
    from crimescope.web.admission import lane_of

    light = ["/claim", "/api/claim.json", "/api/claim.csv", "/api/snapshot.json", "/api/cities.json",
             "/api/categories.json", "/api/geometry/district.geojson", "/static/app.css",
             "/static/vendor/plotly.min.js", "/api/openapi.json", "/api/docs", "/favicon.ico"]
    heavy = ["/", "/api/overview.json", "/api/compstat.json", "/api/trends.json", "/trends", "/map",
             "/api/map.json", "/api/hotspots.json", "/api/forecast.json", "/api/plan.json", "/plan",
             "/evaluate", "/api/evaluate.json", "/data", "/api/data.json", "/claims", "/api/claimx"]
    assert {p: lane_of(p) for p in light} == {p: "light" for p in light}
    assert {p: lane_of(p) for p in heavy} == {p: "heavy" for p in heavy}


@pytest.mark.parametrize("heavy, light", [(0, 4), (2, 0), (-1, -1)])
def test_caps_below_one_are_refused(web_store_path, heavy, light):
    from crimescope.errors import ParameterError
    from crimescope.web import create_app

    with pytest.raises(ParameterError, match="at least 1"):
        create_app(web_store_path, heavy_workers=heavy, light_workers=light)


def test_caps_come_from_the_settings(web_store_path, monkeypatch):
    from crimescope.web import create_app

    monkeypatch.setenv("CRIMESCOPE_WEB_HEAVY", "3")
    monkeypatch.setenv("CRIMESCOPE_WEB_LIGHT", "5")
    app = create_app(web_store_path, response_cache_mb=0)
    assert (app.state.lanes.heavy.cap, app.state.lanes.light.cap, app.state.lanes.threads) == (3, 5, 8)
    app.state.ctx.close()
    app = create_app(web_store_path, response_cache_mb=0, heavy_workers=1)  # an argument wins
    assert (app.state.lanes.heavy.cap, app.state.lanes.light.cap) == (1, 5)
    app.state.ctx.close()


def test_claim_answered_while_the_heavy_lane_is_saturated(web_store_path, monkeypatch):
    import httpx

    from crimescope.web import create_app, views

    heavy, n_heavy = 2, 6
    app = create_app(web_store_path, heavy_workers=heavy, light_workers=1)
    lanes = app.state.lanes
    release = threading.Event()
    lock = threading.Lock()
    inside = {"now": 0, "peak": 0, "calls": 0}
    real_trends = views.trends

    def slow_trends(*a, **kw):  # a fake slow view: held until the test releases it, then the real answer
        with lock:
            inside["now"] += 1
            inside["calls"] += 1
            inside["peak"] = max(inside["peak"], inside["now"])
        try:
            assert release.wait(GUARD_SECONDS), "the test never released the slow views"
            return real_trends(*a, **kw)
        finally:
            with lock:
                inside["now"] -= 1

    monkeypatch.setattr(views, "trends", slow_trends)
    urls = [f"/api/trends.json?category=battery&area_kind=district&area={i}&end={AS_OF}" for i in range(1, n_heavy + 1)]

    async def run():
        async with app.router.lifespan_context(app):  # sets the worker threads to heavy + light, as `serve` does
            import anyio.to_thread

            assert anyio.to_thread.current_default_thread_limiter().total_tokens == heavy + 1
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                held = [asyncio.create_task(c.get(u)) for u in urls]
                while not (lanes.heavy.running == heavy and lanes.heavy.waiting == n_heavy - heavy
                           and inside["now"] == heavy):
                    await asyncio.sleep(0.01)
                # the heavy lane is full and four more wait: a claim, a static file and the schema still answer
                claim = await asyncio.wait_for(c.get(CLAIM), GUARD_SECONDS)
                static = await asyncio.wait_for(c.get("/static/vendor/plotly.min.js"), GUARD_SECONDS)
                saturated = (lanes.heavy.running, lanes.heavy.waiting, inside["now"], any(t.done() for t in held))
                release.set()
                answers = await asyncio.wait_for(asyncio.gather(*held), GUARD_SECONDS)
            return claim, static, saturated, answers

    claim, static, saturated, answers = asyncio.run(run())
    app.state.ctx.close()
    assert claim.status_code == 200 and claim.json()["meta"]
    assert static.status_code == 200 and static.content
    assert saturated == (heavy, n_heavy - heavy, heavy, False)  # answered while every view was still held
    assert [r.status_code for r in answers] == [200] * n_heavy  # queued, none refused
    assert inside["calls"] == n_heavy and inside["peak"] == heavy  # the cap held inside the view
    assert lanes.heavy.peak == heavy and lanes.heavy.admitted == n_heavy
    assert lanes.light.admitted == 2 and lanes.heavy.running == lanes.heavy.waiting == 0


def test_answers_do_not_depend_on_the_caps(web_store_path, client):
    """The same bytes from a server with one worker per lane as from the default one."""
    from fastapi.testclient import TestClient

    from crimescope.web import create_app

    urls = [CLAIM, f"/api/trends.json?category=shooting&end={AS_OF}", f"/api/compstat.json?as_of={AS_OF}",
            "/api/geometry/district.geojson"]
    app = create_app(web_store_path, heavy_workers=1, light_workers=1, response_cache_mb=0)
    with TestClient(app) as narrow:
        got = {u: narrow.get(u) for u in urls}
    for u in urls:
        ref = client.get(u)
        assert ref.status_code == got[u].status_code == 200, u
        assert got[u].content == ref.content, u
