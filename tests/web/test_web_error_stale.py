"""Error pages carry the stale-data banner too (issue 16 item 5, with test_web_stale.py's writer).

A writer killed between its commit and its publish, then another holding the store: the running
server is behind and cannot publish. Its pages say "data as of ..., newer data is being
published"; so do its error pages (404, a bare 400, a 500) and a page shown with a wrong URL parameter
explained. Once the store is current again, none of them says it.
"""

from __future__ import annotations

import re
import subprocess
import sys

from test_web_stale import HOLD, count_in, env, kill_writer_at, published_store  # noqa: F401 (fixture)

from _shared import requires_shared

pytestmark = requires_shared

HTML = {"accept": "text/html"}
BANNER = re.compile(r'<p class="na data-status" role="status">data as of [^<]*newer data is being published</p>')


def test_error_pages_say_the_data_is_behind(tmp_path, published_store):
    from fastapi.testclient import TestClient

    from crimescope.web import create_app

    db, n0 = published_store
    app = create_app(db, snapshot_check_seconds=0)

    @app.get("/_boom", include_in_schema=False)
    def boom():  # an unexpected failure: the 500 page (answered outside the data middleware)
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        def pages():
            return {
                "500": client.get("/_boom", headers=HTML),
                "404": client.get("/no-such-page", headers=HTML),
                "400": client.get("/map?source=no_such_city", headers=HTML),  # no page to fall back on
                "problem": client.get("/map?kind=district&layer=rate&units=beat&start=2017-02-30", headers=HTML),
                "problem404": client.get("/trends?category=no_such_category", headers=HTML),
                "page": client.get("/data", headers=HTML),
            }

        for name, r in pages().items():  # the snapshot is current: no banner anywhere
            assert "newer data is being published" not in r.text, name

        kill_writer_at(tmp_path, db, "after-commit")
        assert count_in(db) > n0 + 900
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE, text=True, env=env())
        try:
            assert holder.stdout.readline().strip() == "holding"
            status = client.get("/api/snapshot.json").json()["data_status"]
            assert status and status.startswith("data as of ")
            got = pages()
            assert got["404"].status_code == 404 and 'data-type="NotFound"' in got["404"].text
            for name, code in (("problem", 400), ("problem404", 404)):
                assert got[name].status_code == code and "could not be shown as asked" in got[name].text
            assert got["400"].status_code == 400 and "<h1>Error 400</h1>" in got["400"].text
            assert "<h1>Error 404</h1>" in got["404"].text
            assert got["500"].status_code == 500 and "boom" not in got["500"].text
            for name, r in got.items():
                assert r.headers["content-type"].startswith("text/html"), name
                assert BANNER.search(r.text), (name, r.status_code, r.text[:600])
                assert status in r.text, name
            # the JSON error of the API keeps its one shape (the status is in meta of results only)
            j = client.get("/api/no-such-route.json")
            assert j.status_code == 404 and set(j.json()) == {"error"}
        finally:
            holder.kill()
            holder.communicate(timeout=60)
