"""`crimescope sync chicago` as a real process: killed mid-sync and restarted, exit statuses.

The process runs against the SODA test server on 127.0.0.1 with small pages; the
server blocks (or the test waits for) a given request, the test SIGKILLs the
process, checks what was committed, and runs it again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from crimescope.store import Store
from soda_server import Fault, SodaServer
from sync_helpers import (
    assert_prefix_committed,
    assert_store_equals_source,
    requires_shared,
)


CLI = [sys.executable, "-m", "crimescope.cli.main"]
PAGE = 100


def start(db, server, *extra, env=None) -> subprocess.Popen:
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("CRIMESCOPE_") or k == "CRIMESCOPE_SHARED_DATA"}
    e.update(env or {})
    return subprocess.Popen(
        [*CLI, "--store", str(db), "sync", "chicago", "--base-url", server.base_url,
         "--page-size", str(PAGE), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e,
    )


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def wait_for_request(server: SodaServer, proc: subprocess.Popen, n: int, timeout: float = 60) -> None:
    """Until request ``n`` reached the server; fails at once if the process exits."""
    deadline = time.monotonic() + timeout
    while not server.wait_for_request(n, timeout=0.1):
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"the sync exited ({proc.returncode}) before request {n}: {err.strip()[:300]}")
        assert time.monotonic() < deadline, f"the sync never sent request {n}"


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.shared
@requires_shared
def test_killed_mid_sync_then_restarted_loses_and_repeats_nothing(tmp_path, server, source):
    db = tmp_path / "store.duckdb"
    release = threading.Event()
    server.fault_at(5, Fault("block", release=release))  # page 5 hangs until the test says so
    proc = start(db, server)
    try:
        wait_for_request(server, proc, 5)
        kill(proc)  # pages 1-4 are committed; the process dies waiting for page 5
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
    with Store(db) as s:
        assert s.con.execute("SELECT count(*) FROM incidents").fetchone() == (4 * PAGE,)
        st = s.con.execute("SELECT pages_committed, rows_committed, status FROM sync_state").fetchone()
        assert st == (4, 4 * PAGE, "running")  # killed: nobody could write 'failed'
        assert_prefix_committed(s, source)
        early = s.con.execute("SELECT id FROM incidents ORDER BY updated_at, id::BIGINT LIMIT 1").fetchone()[0]
    old, _ = source.revise(early, description="REVISED WHILE DOWN")  # changes while the client is down
    server.heal()

    code, out, err = finish(start(db, server))
    assert (code, err) == (0, ""), err
    assert "rejected" in out and len(out.strip().splitlines()) == 1
    with Store(db) as s:
        assert_store_equals_source(s, source)
        # nothing twice: every id was inserted exactly once over both runs
        assert s.con.execute("SELECT sum(inserted) FROM batches").fetchone() == (len(source),)
        assert s.con.execute("SELECT id, description FROM incident_history").fetchall() == [
            (early, old["description"])]
        assert s.con.execute("SELECT status, last_error FROM sync_state").fetchone() == ("done", None)


@pytest.mark.shared
@requires_shared
def test_killed_at_arbitrary_moments(tmp_path, server, source):
    """Kill a little after a request arrives (parsing, upserting or committing), four
    times; after each kill the store holds exactly what the watermark says."""
    db = tmp_path / "store.duckdb"
    env = {"CRIMESCOPE_SYNC_OVERLAP": "0"}  # resume exactly at the keyset
    last_wm = None
    for delay in (0.0, 0.03, 0.08, 0.15):
        n = len(server.requests)
        proc = start(db, server, env=env)
        try:
            while not server.wait_for_request(n + 3, timeout=0.1) and proc.poll() is None:
                pass
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)  # a no-op if it has already exited
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        if proc.returncode == 0:  # it finished before the kill: nothing left to interrupt
            break
        assert proc.returncode == -signal.SIGKILL, err
        with Store(db) as s:
            wm = assert_prefix_committed(s, source)
            pages, rows = s.con.execute("SELECT pages_committed, rows_committed FROM sync_state").fetchone()
            done = s.con.execute(
                "SELECT count(*), coalesce(sum(rows_read), 0) FROM batches WHERE kind = 'sync' AND status = 'done'"
            ).fetchone()
            assert (pages, rows) == done  # watermark and data were committed together
            assert wm is not None and (last_wm is None or wm > last_wm)  # each run got further
            last_wm = wm
    code, out, err = finish(start(db, server, env=env))
    assert (code, err) == (0, "")
    with Store(db) as s:
        assert_store_equals_source(s, source)
        assert s.con.execute("SELECT sum(inserted), sum(unchanged) FROM batches").fetchone() == (len(source), 0)


@pytest.mark.shared
@requires_shared
def test_repeated_failure_exits_2_with_one_line(tmp_path, server, source):
    db = tmp_path / "store.duckdb"
    server.fail_from(3, Fault("status", status=500))
    code, out, err = finish(start(db, server, env={"CRIMESCOPE_MAX_RETRIES": "2"}))
    assert code == 2
    assert err.splitlines() == [
        f"error: GET {server.base_url}/resource/ijzp-q8t2.json failed after 2 attempts; "
        f"last problem: HTTP 500 Internal Server Error"
    ]
    with Store(db) as s:
        assert s.con.execute("SELECT count(*) FROM incidents").fetchone() == (2 * PAGE,)
        assert s.con.execute("SELECT status, pages_committed FROM sync_state").fetchone() == ("failed", 2)


@pytest.mark.shared
@requires_shared
def test_rejected_records_exit_1_and_a_summary(tmp_path, server, source):
    bad = dict(source.records()[0], id="99000003", x_coordinate="east of here")
    bad["updated_on"] = (source.max_updated_on() + timedelta(seconds=1)).isoformat() + ".000"
    source.add(bad)
    code, out, err = finish(start(tmp_path / "s.duckdb", server))
    assert code == 1 and err == ""
    n = len(source)
    assert f"{n:,} rows read: {n - 1:,} inserted, 0 updated, 0 unchanged, 1 rejected" in out


def test_sync_command_is_registered():
    from crimescope.cli.main import COMMAND_MODULES

    assert "crimescope.cli.sync" in COMMAND_MODULES


def test_help_names_the_options(tmp_path):
    r = subprocess.run([*CLI, "sync", "chicago", "--help"], capture_output=True, text=True,
                       env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0
    for opt in ("--base-url", "--dataset", "--since", "--occurred-since", "--page-size", "CRIMESCOPE_SOCRATA_TOKEN"):
        assert opt in r.stdout
