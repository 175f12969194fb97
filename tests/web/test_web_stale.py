"""A writer killed between its commit and its publish does not leave `serve` on old data.

The writer is the real ``crimescope ingest chicago`` command in another process. A hook in
that process (the script below replaces the CLI's ``publish_after_write`` or the store's
``close``) writes a marker and waits at the hook point; the test then SIGKILLs it, so the
store holds committed rows that the published snapshot does not. Then:

* a new ``crimescope serve`` (a real process on 127.0.0.1) publishes the store's data and
  serves it;
* a server that was running all along notices (within its snapshot check interval), says so
  while a writer holds the store ("data as of ..., newer data is being published": a banner on
  pages, ``meta.data_status`` in JSON), publishes the data itself once the store is free, and
  switches to it without a restart;
* ``crimescope info`` publishes it too.

Fixtures: CSV cuts of the shared ``chicago/crimes/2017.csv.gz`` (rows 0-1,000 for the first
store, rows 1,000-2,000 for the write).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from _shared import cut_crimes, requires_shared

pytestmark = requires_shared

#: `crimescope ingest chicago` that stops at a hook point: argv[1] marker file, argv[2] the point
#:   after-commit: the store committed and closed, the snapshot not yet published
#:   before-close: the last file committed, the store not yet closed (its write-ahead log may hold it)
WRITER = r"""
import os, sys, time
marker, point = sys.argv[1], sys.argv[2]
def wait_here(*_a, **_k):
    open(marker, "w").write(str(os.getpid()))
    time.sleep(600)  # until the test kills this process
if point == "after-commit":
    from crimescope.cli import data as _data
    _data.publish_after_write = wait_here
elif point == "before-close":
    from crimescope.store import store as _store
    _close = _store.Store.close
    def close(self):
        if not self.read_only:
            wait_here()
        _close(self)
    _store.Store.close = close
else:
    raise SystemExit(f"unknown hook point {point}")
from crimescope.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("CRIMESCOPE_") or k == "CRIMESCOPE_SHARED_DATA"}


def count_in(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM incidents").fetchone()[0]
    finally:
        con.close()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crimescope.cli.main", *args], capture_output=True, text=True,
                          timeout=180, env=env())


@pytest.fixture
def published_store(tmp_path):
    """A store of 1,000 rows with its snapshot published; returns (store, rows in it)."""
    from crimescope.sources.chicago import ingest_files
    from crimescope.store import Store, publish_snapshot

    db = tmp_path / "live.duckdb"
    with Store(db) as store:
        ingest_files(store, [cut_crimes(tmp_path / "first.csv", 0, 1000)])
    publish_snapshot(db)
    return db, count_in(db)


def kill_writer_at(tmp_path: Path, db: Path, point: str) -> None:
    """Run the writer of rows 1,000-2,000 until its hook point, then SIGKILL it."""
    marker = tmp_path / f"at-{point}"
    csv = cut_crimes(tmp_path / "second.csv", 1000, 2000)
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(marker), point, "--store", str(db),
                          "ingest", "chicago", str(csv)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert p.poll() is None, p.communicate()
            assert time.monotonic() < deadline, "the writer did not reach its hook point"
            time.sleep(0.02)
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL


def snapshot_rows(db: Path) -> int:
    from crimescope.store import snapshot_path

    return count_in(snapshot_path(db))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("point", ["after-commit", "before-close"])
def test_serve_started_after_a_killed_writer_serves_its_committed_data(tmp_path, published_store, point):
    import httpx

    from crimescope.store import published_snapshot

    db, n0 = published_store
    snap0 = published_snapshot(db)
    kill_writer_at(tmp_path, db, point)
    assert published_snapshot(db).identity == snap0.identity  # the killed writer never published
    assert snapshot_rows(db) == n0
    n1 = count_in(db)  # opens the store as DuckDB reads it (file and log)
    assert n1 > n0 + 900  # the 1,000 new rows (a few may repeat or be rejected) were committed

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "crimescope.cli.main", "--store", str(db), "serve",
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env())
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/data.json", timeout=30)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        assert r.status_code == 200, r.text
        assert r.json()["meta"]["sources"][0]["incidents"] == n1
        snap = httpx.get(f"http://127.0.0.1:{port}/api/snapshot.json", timeout=30).json()
        assert snap["reads"] == "snapshot" and snap["published_at"] > snap0.as_dict()["published_at"]
        assert snap["behind_store"] is False and snap["data_status"] is None
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert snapshot_rows(db) == n1


def test_info_publishes_a_snapshot_left_behind(tmp_path, published_store):
    db, n0 = published_store
    kill_writer_at(tmp_path, db, "after-commit")
    n1 = count_in(db)
    assert snapshot_rows(db) == n0 < n1
    r = cli("--store", str(db), "info")
    assert r.returncode == 0, r.stderr
    assert "snapshot live.snapshot.duckdb was behind the store" in r.stdout
    assert snapshot_rows(db) == n1
    r = cli("--store", str(db), "info")  # up to date now: nothing to publish, nothing said
    assert r.returncode == 0 and "was behind" not in r.stdout


#: holds the store open read-write (DuckDB's exclusive lock) until killed: a writer at work
HOLD = r"""
import sys, time
from crimescope.store import Store
s = Store(sys.argv[1])
s.con.execute("UPDATE meta SET value = value WHERE key = 'schema_version'")
s.con.execute("CHECKPOINT")
print("holding", flush=True)
time.sleep(600)
"""


def test_running_server_says_it_is_behind_then_picks_up_the_data(tmp_path, published_store):
    from fastapi.testclient import TestClient

    from crimescope.web import create_app

    db, n0 = published_store
    app = create_app(db, snapshot_check_seconds=0)
    with TestClient(app, raise_server_exceptions=False) as client:
        def incidents():
            r = client.get("/api/data.json")
            assert r.status_code == 200, r.text
            return r.json()["meta"]["sources"][0]["incidents"]

        assert incidents() == n0
        page = client.get("/data")
        assert page.status_code == 200 and "newer data is being published" not in page.text
        assert "data_status" not in client.get("/api/trends.json?category=battery&start=2017-01-01"
                                               "&end=2017-01-31").json()["meta"]

        kill_writer_at(tmp_path, db, "after-commit")
        n1 = count_in(db)
        assert n1 > n0 + 900
        # a writer now holds the store: the server cannot publish and says it is behind
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE, text=True, env=env())
        try:
            assert holder.stdout.readline().strip() == "holding"
            assert incidents() == n0
            snap = client.get("/api/snapshot.json").json()
            assert snap["behind_store"] is True
            assert snap["data_status"].startswith("data as of ") and snap["data_status"].endswith(
                "newer data is being published")
            page = client.get("/data")
            assert page.status_code == 200 and "newer data is being published" in page.text
            r = client.get("/api/trends.json?category=battery&start=2017-01-01&end=2017-01-31")
            assert r.json()["meta"]["data_status"] == snap["data_status"]
            assert "behind the store" in r.headers["x-crimescope-data"]
        finally:
            holder.kill()
            holder.communicate(timeout=60)
        # the store is free: the server publishes it itself and switches, without a restart
        deadline = time.monotonic() + 120
        while incidents() != n1:
            assert time.monotonic() < deadline, "the running server did not pick up the data"
            time.sleep(0.2)
        snap = client.get("/api/snapshot.json").json()
        assert snap["behind_store"] is False and snap["data_status"] is None
        r = client.get("/api/trends.json?category=battery&start=2017-01-01&end=2017-01-31")
        assert "data_status" not in r.json()["meta"] and "behind" not in r.headers["x-crimescope-data"]
    assert snapshot_rows(db) == n1
