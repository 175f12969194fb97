"""The dashboard keeps answering while another process writes the store, and shows the new data
after the write without a restart.

Fixtures: CSV cuts of the shared ``chicago/crimes/2017.csv.gz`` made at test time (its header,
then rows 0-1,000 for the first store, rows 1,000-2,000 for the write). The writer is the real
``crimescope ingest chicago`` command in another process; a hook in that process pauses it
inside its write transaction (store open read-write, DuckDB's exclusive lock held) until the
test lets it go, or until the test SIGKILLs it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from _shared import requires_shared, cut_crimes

pytestmark = requires_shared

#: runs `crimescope ingest chicago`, pausing in Store.finish_batch (inside the write transaction)
WRITER = r"""
import os, sys, time
from crimescope.store import store as _store
from crimescope.cli.main import main
marker, go = sys.argv[1], sys.argv[2]
_finish = _store.Store.finish_batch
def finish_batch(self, batch, status="done"):
    _finish(self, batch, status)
    open(marker, "w").write(str(os.getpid()))
    while not os.path.exists(go):
        time.sleep(0.02)
_store.Store.finish_batch = finish_batch
sys.exit(main(sys.argv[3:]))
"""


def store_count(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM incidents").fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def store_and_app(tmp_path):
    from fastapi.testclient import TestClient

    from crimescope.sources.chicago import ingest_files
    from crimescope.store import Store
    from crimescope.web import create_app

    db = tmp_path / "live.duckdb"
    with Store(db) as store:
        ingest_files(store, [cut_crimes(tmp_path / "first.csv", 0, 1000)])
    n0 = store_count(db)
    app = create_app(db, snapshot_check_seconds=0)  # publishes the first snapshot: the store has none
    with TestClient(app, raise_server_exceptions=False) as client:
        yield db, app, client, n0


#: fields of /api/snapshot.json that change while the same snapshot is served (tests/web/test_web_stale.py)
LIVE_FIELDS = ("behind_store", "data_status", "warming", "count_tables_bytes", "snapshot_structures_bytes",
               "response_cache")


def incidents(client) -> tuple[int, dict, str]:
    r = client.get("/api/data.json")
    assert r.status_code == 200, r.text
    snap = {k: v for k, v in client.get("/api/snapshot.json").json().items() if k not in LIVE_FIELDS}
    return (r.json()["meta"]["sources"][0]["incidents"], snap,
            r.headers["x-crimescope-data"].split("; behind the store")[0])


def start_writer(tmp_path, db, csv) -> tuple[subprocess.Popen, Path, Path]:
    marker, go = tmp_path / "writing", tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRIMESCOPE_") or k == "CRIMESCOPE_SHARED_DATA"}
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(marker), str(go), "--store", str(db),
                          "ingest", "chicago", str(csv)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "the writer did not start writing"
        time.sleep(0.02)
    return p, marker, go


def assert_store_is_write_locked(db: Path) -> None:
    """What happened before snapshots: another process cannot even read the store."""
    r = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(db)!r}, read_only=True)"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "Could not set lock on file" in r.stderr


def test_app_answers_during_a_write_and_shows_it_after(tmp_path, store_and_app):
    db, app, client, n0 = store_and_app
    n, snap0, header0 = incidents(client)
    assert n == n0 and snap0["reads"] == "snapshot" and snap0["file"] == "live.snapshot.duckdb"
    assert header0.startswith("snapshot live.snapshot.duckdb; published ")
    old_gen = app.state.ctx.generation

    writer, _, go = start_writer(tmp_path, db, cut_crimes(tmp_path / "second.csv", 1000, 2000))
    try:
        assert_store_is_write_locked(db)
        for _ in range(5):  # the app keeps answering, with the published data
            assert incidents(client)[:2] == (n0, snap0)
            assert client.get("/api/trends.json?category=battery&start=2017-01-01&end=2017-01-31").status_code == 200
    finally:
        go.touch()
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert "snapshot live.snapshot.duckdb published" in out

    n1 = store_count(db)
    assert n1 > n0 + 900
    n, snap1, header1 = incidents(client)  # no restart
    assert n == n1
    assert snap1["published_at"] > snap0["published_at"] and header1 != header0
    assert snap1["vintage"]["batches"] == snap0["vintage"]["batches"] + 1
    assert old_gen.closed and not app.state.ctx.generation.closed


def test_writer_killed_mid_write_leaves_the_previous_snapshot_served(tmp_path, store_and_app):
    from crimescope.store import published_snapshot

    db, _app, client, n0 = store_and_app
    _, snap0, header0 = incidents(client)
    ident = published_snapshot(db).identity
    writer, _, _ = start_writer(tmp_path, db, cut_crimes(tmp_path / "second.csv", 1000, 2000))
    os.kill(writer.pid, signal.SIGKILL)
    writer.communicate(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    assert published_snapshot(db).identity == ident
    assert incidents(client) == (n0, snap0, header0)
    assert store_count(db) == n0  # the killed transaction was never committed


def test_app_refuses_clearly_when_the_store_is_written_and_has_no_snapshot(tmp_path):
    from crimescope.errors import StoreError
    from crimescope.sources.chicago import ingest_files
    from crimescope.store import Store
    from crimescope.web import create_app

    db = tmp_path / "busy.duckdb"
    with Store(db) as store:
        ingest_files(store, [cut_crimes(tmp_path / "first.csv", 0, 200)])
    writer, _, go = start_writer(tmp_path, db, cut_crimes(tmp_path / "second.csv", 200, 300))
    try:
        with pytest.raises(StoreError, match=r"being written by process \d+ and has no published snapshot yet: "
                                             r"wait .*`crimescope --store .* snapshot`"):
            create_app(db)
    finally:
        go.touch()
        writer.communicate(timeout=120)
    assert writer.returncode == 0
