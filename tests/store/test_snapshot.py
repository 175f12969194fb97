"""Published read snapshots (``crimescope.store.snapshot``).

Fixtures: CSV cuts of the shared ``chicago/crimes/2017.csv.gz`` made at test time (its
header, then a slice of its rows). Writers and killed writers are real processes,
because DuckDB's file locks are per process.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from _shared import requires_shared, cut_crimes
from crimescope.errors import StoreError
from crimescope.store import Store, open_for_reading, publish_snapshot, published_snapshot, snapshot_path
from crimescope.store.snapshot import TABLES_CHECKED, is_lock_conflict, snapshot_is_stale

pytestmark = requires_shared


def build(path: Path, *csvs: Path) -> Path:
    from crimescope.sources.chicago import ingest_files

    with Store(path) as store:
        res = ingest_files(store, list(csvs))
    assert all(hasattr(r, "batch_id") for r in res), res
    return path


def counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES_CHECKED}
    finally:
        con.close()


def fingerprint(path: Path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*), sum(hash(source, id, updated_at, iucr, beat)) FROM incidents").fetchone()
    finally:
        con.close()


def run_py(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_snapshot_path():
    assert snapshot_path("/x/chicago.duckdb") == Path("/x/chicago.snapshot.duckdb")
    assert snapshot_path("store") == Path("store.snapshot.duckdb")
    with pytest.raises(StoreError):
        snapshot_path(":memory:")


def test_published_snapshot_is_consistent_and_replaced_in_place(tmp_path):
    db = build(tmp_path / "s.duckdb", cut_crimes(tmp_path / "a.csv", 0, 2000))
    assert published_snapshot(db) is None
    snap = publish_snapshot(db)
    assert snap.path == tmp_path / "s.snapshot.duckdb"
    assert counts(snap.path) == counts(db) and counts(db)["incidents"] > 1900
    assert fingerprint(snap.path) == fingerprint(db)
    Store(snap.path, read_only=True).close()  # a crimescope store with the right schema version
    first = counts(snap.path)["incidents"]

    build(db, cut_crimes(tmp_path / "b.csv", 2000, 3000))
    assert snapshot_is_stale(db, snap)
    snap2 = publish_snapshot(db)
    assert snap2.identity != snap.identity and not snapshot_is_stale(db, snap2)
    assert counts(snap2.path) == counts(db) and counts(db)["incidents"] > first
    assert fingerprint(snap2.path) == fingerprint(db)
    # one snapshot, replaced: no temporary file, no second copy
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".duckdb" or ".tmp-" in p.name) == \
        ["s.duckdb", "s.snapshot.duckdb"]


def test_killed_publisher_leaves_the_previous_snapshot(tmp_path):
    """A publisher SIGKILLed halfway through its copy: the snapshot is the previous one, and the
    next publish removes the half-written temporary file."""
    db = build(tmp_path / "s.duckdb", cut_crimes(tmp_path / "a.csv", 0, 1500))
    before = publish_snapshot(db)
    build(db, cut_crimes(tmp_path / "b.csv", 1500, 3000))
    r = run_py(f"""
import os, shutil, signal
def half(src, dst):
    with open(src, 'rb') as f, open(dst, 'wb') as g:
        g.write(f.read(os.path.getsize(src) // 2))
    os.kill(os.getpid(), signal.SIGKILL)
shutil.copyfile = half
from crimescope.store import publish_snapshot
publish_snapshot({str(db)!r})
""")
    assert r.returncode == -signal.SIGKILL, r.stderr
    temps = list(tmp_path.glob("s.snapshot.duckdb.tmp-*"))
    assert len(temps) == 1 and temps[0].stat().st_size > 0
    after = published_snapshot(db)
    assert after.identity == before.identity
    assert counts(after.path)["incidents"] < counts(db)["incidents"]
    publish_snapshot(db)
    assert not list(tmp_path.glob("s.snapshot.duckdb.tmp-*"))
    assert fingerprint(snapshot_path(db)) == fingerprint(db)


def test_killed_writer_log_is_in_the_next_snapshot(tmp_path):
    """A writer SIGKILLed after a commit leaves it in the write-ahead log; a byte copy of the file
    would miss it, so the snapshot is copied through DuckDB and has it."""
    db = build(tmp_path / "s.duckdb", cut_crimes(tmp_path / "a.csv", 0, 500))
    r = run_py(f"""
import os, signal, duckdb
con = duckdb.connect({str(db)!r})
con.execute("INSERT INTO meta VALUES ('snapshot-test', 'committed in the log only')")
os.kill(os.getpid(), signal.SIGKILL)
""")
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert Path(str(db) + ".wal").exists()
    snap = publish_snapshot(db)
    con = duckdb.connect(str(snap.path), read_only=True)
    assert con.execute("SELECT value FROM meta WHERE key = 'snapshot-test'").fetchone() == ("committed in the log only",)
    con.close()
    assert counts(snap.path) == counts(db)


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print('open', flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_store(db: Path, seconds: float) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "open"
    return p


def test_reader_while_another_process_writes(tmp_path):
    db = build(tmp_path / "s.duckdb", cut_crimes(tmp_path / "a.csv", 0, 500))
    writer = hold_store(db, 60)
    try:
        # no snapshot yet: a clear message, not DuckDB's
        with pytest.raises(StoreError, match="being written by process .* no published snapshot yet"):
            open_for_reading(db, publish=True)
        with pytest.raises(StoreError) as ei:
            publish_snapshot(db)
        assert is_lock_conflict(ei.value)
    finally:
        writer.kill()
        writer.wait()
    snap = publish_snapshot(db)
    writer = hold_store(db, 60)
    try:
        store, got = open_for_reading(db, publish=True)  # the snapshot, although the store is locked
        assert got is not None and got.identity == snap.identity and Path(store.path) == snap.path
        store.close()
    finally:
        writer.kill()
        writer.wait()


def test_writer_waits_while_a_snapshot_is_published(tmp_path):
    """``open_for_writing`` waits for a shared lock held briefly (a publish), and fails clearly after."""
    from crimescope.store import open_for_writing

    db = build(tmp_path / "s.duckdb", cut_crimes(tmp_path / "a.csv", 0, 200))
    reader = subprocess.Popen([sys.executable, "-c", HOLD.replace("sys.argv[1])", "sys.argv[1], read_only=True)"),
                               str(db), "1.5"], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "open"
    said = []
    t0 = time.monotonic()
    store = open_for_writing(db, wait=30, on_wait=said.append)
    store.close()
    reader.wait()
    assert time.monotonic() - t0 < 30 and said and "in use by process" in said[0]
    writer = hold_store(db, 60)
    try:
        with pytest.raises(StoreError, match=r"in use by process \d+ .*waited 0.3 s"):
            open_for_writing(db, wait=0.3)
    finally:
        writer.kill()
        writer.wait()
