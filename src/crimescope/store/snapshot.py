"""Published read snapshots: a dashboard and a writer on one store.

DuckDB lets one process write a database file, or many processes read it, never
both: a writer takes an exclusive lock on the file and a read-only open a shared
one, and ``ATTACH ... (READ_ONLY)`` takes the same lock. So ``crimescope serve``
never reads the store while it can be written. It reads a *snapshot*: a copy of the
store, ``<stem>.snapshot<suffix>`` next to it (``chicago.duckdb`` ->
``chicago.snapshot.duckdb``), that the writer commands publish after they have
closed the store.

Publishing (:func:`publish_snapshot`) opens the store read-only, which holds the
shared lock for the whole copy: no writer can have the file open, so the bytes
copied are one committed state. It copies them to ``<snapshot>.tmp-<pid>`` in the
same folder, checks the copy (it opens, has the schema, and has the store's row
count in every table), fsyncs it, renames it over the snapshot (an atomic replace
on POSIX) and fsyncs the folder. A publisher killed at any moment leaves the
previous snapshot untouched and at worst a temporary file, which the next publish
removes. A store left with a write-ahead log by a killed writer is copied through
DuckDB (``COPY FROM DATABASE``) instead of byte for byte, since its last commits are
in the log, not yet in the file.

There is one snapshot per store, replaced each time: a store of S bytes needs about
2 S on disk, 3 S for a moment while a reader still holds the previous snapshot open.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from ..errors import StoreError
from .store import Store

__all__ = [
    "Snapshot", "snapshot_path", "published_snapshot", "snapshot_is_stale", "publish_snapshot", "publish_if_behind",
    "is_lock_conflict", "open_for_writing", "open_for_reading", "SnapshotReader", "TABLES_CHECKED",
]

#: tables whose row counts must be equal in the store and in a snapshot of it
TABLES_CHECKED = ("meta", "batches", "incidents", "incident_history", "rejected", "sync_state")

log = logging.getLogger("crimescope.store")

_TMP_MARK = ".tmp-"
_PID_IN_LOCK_MESSAGE = re.compile(r"\(PID (\d+)\)")


@dataclass(frozen=True)
class Snapshot:
    """A published snapshot file.

    Attributes: ``path``; ``published_at`` (UTC, the file's modification time, which is
    when its copy was finished); ``size_bytes``; ``identity`` (device, inode,
    modification time in ns, size), which changes whenever a new snapshot replaces it.
    """

    path: Path
    published_at: dt.datetime
    size_bytes: int
    identity: tuple[int, int, int, int]

    def as_dict(self) -> dict:
        return {"file": self.path.name, "published_at": self.published_at.isoformat(timespec="milliseconds"),
                "size_bytes": self.size_bytes}


def snapshot_path(store_path: str | Path) -> Path:
    """Where the snapshot of ``store_path`` is published: ``<stem>.snapshot<suffix>`` beside it."""
    p = Path(store_path)
    if str(p) == ":memory:":
        raise StoreError("an in-memory store has no snapshot")
    return p.with_name(f"{p.stem}.snapshot{p.suffix or '.duckdb'}")


def _snapshot_of_stat(path: Path, st: os.stat_result) -> Snapshot:
    return Snapshot(path=path, published_at=dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc),
                    size_bytes=st.st_size, identity=(st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size))


def published_snapshot(store_path: str | Path) -> Snapshot | None:
    """The snapshot currently published for ``store_path``, or None when there is none."""
    path = snapshot_path(store_path)
    try:
        return _snapshot_of_stat(path, path.stat())
    except FileNotFoundError:
        return None


def _wal_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".wal")


def snapshot_is_stale(store_path: str | Path, snap: Snapshot) -> bool:
    """True when the store (or its write-ahead log) was modified after ``snap`` was published.

    It happens when a writer was killed after committing, or a write came from the
    Python API, which does not publish. Writer commands publish after they close the
    store, so right after a write the snapshot is newer than the store.
    """
    p = Path(store_path)
    latest = 0
    for f in (p, _wal_path(p)):
        try:
            latest = max(latest, f.stat().st_mtime_ns)
        except FileNotFoundError:
            pass
    return latest > snap.identity[2]


def is_lock_conflict(exc: BaseException) -> bool:
    """True when ``exc`` (or its cause) is DuckDB refusing a file lock held by another process."""
    seen = 0
    while exc is not None and seen < 5:
        if "Could not set lock on file" in str(exc):
            return True
        exc, seen = exc.__cause__, seen + 1
    return False


def _holder(exc: BaseException) -> str:
    m = _PID_IN_LOCK_MESSAGE.search(str(exc.__cause__ or exc))
    return f"process {m.group(1)}" if m else "another process"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temporaries(snap: Path) -> None:
    """Remove ``<snapshot>.tmp-<pid>[.wal]`` files whose publisher is no longer running."""
    for f in snap.parent.glob(f"{snap.name}{_TMP_MARK}*"):
        m = re.match(r"(\d+)", f.name[len(snap.name) + len(_TMP_MARK):])
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            f.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms where a folder cannot be opened (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on a folder
        pass
    finally:
        os.close(fd)


def _row_counts(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> dict[str, int]:
    prefix = f'"{catalog}".main.' if catalog else ""
    return {t: int(con.execute(f"SELECT count(*) FROM {prefix}{t}").fetchone()[0]) for t in TABLES_CHECKED}


def publish_snapshot(store_path: str | Path) -> Snapshot:
    """Publish a consistent read snapshot of the store at ``store_path`` (see the module doc).

    Raises :class:`StoreError` when the store cannot be opened read-only (for instance
    while another process writes it: ``is_lock_conflict(exc)`` is then true) or the copy
    fails; the published snapshot, if any, is then left as it was.
    """
    src = Path(store_path)
    dst = snapshot_path(src)
    tmp = dst.with_name(f"{dst.name}{_TMP_MARK}{os.getpid()}")
    store = Store(src, read_only=True)  # the shared lock: no writer can open the store until we close it
    try:
        _remove_stale_temporaries(dst)
        for f in (tmp, _wal_path(tmp)):
            f.unlink(missing_ok=True)
        expected = _row_counts(store.con)
        try:
            if _wal_path(src).exists():
                # the last commits of a killed writer are in the log: copy what DuckDB reads, not the bytes
                _logical_copy(src, tmp)
            else:
                shutil.copyfile(src, tmp)
            _check_copy(tmp, expected)
            _fsync_file(tmp)
            os.replace(tmp, dst)
            _fsync_dir(dst.parent)
        except BaseException as exc:
            for f in (tmp, _wal_path(tmp)):
                f.unlink(missing_ok=True)
            if isinstance(exc, (duckdb.Error, OSError)):
                raise StoreError(f"cannot publish a snapshot of {src} to {dst}: {exc}") from exc
            raise
    finally:
        store.close()
    return _snapshot_of_stat(dst, dst.stat())


def publish_if_behind(store_path: str | Path) -> Snapshot | None:
    """Publish a new snapshot when the published one is behind the store; the new one, else None.

    A writer killed after its commit and before it published (or a write from the Python
    API, which does not publish) leaves the snapshot behind the store: ``crimescope info``
    and a running ``serve`` call this so it does not stay behind. Nothing is done when there
    is no snapshot (nobody serves this store) or it is up to date, and None is returned when
    another process holds the store to write it (that writer publishes when it finishes).
    Other failures raise :class:`StoreError`.
    """
    snap = published_snapshot(store_path)
    if snap is None or not snapshot_is_stale(store_path, snap):
        return None
    try:
        return publish_snapshot(store_path)
    except StoreError as exc:
        if is_lock_conflict(exc):
            return None
        raise


def _logical_copy(src: Path, tmp: Path) -> None:
    """Copy the store as DuckDB reads it (its file and its log) into a new database ``tmp``."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{_sql_str(src)}' AS crimescope_store (READ_ONLY)")
        con.execute(f"ATTACH '{_sql_str(tmp)}' AS crimescope_snapshot")
        con.execute("COPY FROM DATABASE crimescope_store TO crimescope_snapshot")
        con.execute("DETACH crimescope_snapshot")
    finally:
        con.close()


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def _check_copy(tmp: Path, expected: dict[str, int]) -> None:
    try:
        con = duckdb.connect(str(tmp), read_only=True)
    except duckdb.Error as exc:
        raise StoreError(f"the snapshot copy {tmp} does not open: {exc}") from exc
    try:
        got = _row_counts(con)
    finally:
        con.close()
    if got != expected:
        raise StoreError(f"the snapshot copy {tmp} differs from the store: {got} rows, expected {expected}")


class SnapshotReader:
    """A read-only connection to one snapshot file, with the parts of :class:`Store` a reader uses
    (``path``, ``con``, ``cursor()``, ``close()``).

    The file is attached (``READ_ONLY``) to a private in-memory DuckDB instance. A plain
    ``duckdb.connect(path)`` would not do: DuckDB keeps one instance per path in a process,
    so connecting again to a snapshot replaced by a rename, while the old one is still open,
    returns the old file's data.
    """

    CATALOG = "crimescope_snapshot"

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.read_only = True
        self.con = duckdb.connect(":memory:")
        try:
            self.con.execute(f"ATTACH '{_sql_str(Path(self.path))}' AS {self.CATALOG} (READ_ONLY)")
            self.con.execute(f"USE {self.CATALOG}")
            row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except duckdb.Error as exc:
            self.con.close()
            raise StoreError(f"cannot open snapshot {self.path}: {exc}") from exc
        from .schema import SCHEMA_VERSION

        if row is None or int(row[0]) != SCHEMA_VERSION:
            self.con.close()
            raise StoreError(f"snapshot {self.path} has schema version {row and row[0]}, "
                             f"this crimescope needs {SCHEMA_VERSION}: publish it again")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the snapshot, for use from another thread."""
        cur = self.con.cursor()
        cur.execute(f"USE {self.CATALOG}")
        return cur

    def close(self) -> None:
        self.con.close()


def open_for_writing(store_path: str | Path, *, wait: float = 60.0,
                     on_wait: Callable[[str], None] | None = None) -> Store:
    """Open the store read-write, waiting up to ``wait`` seconds while another process holds it.

    Publishing a snapshot holds the store's shared lock for the length of a copy (about
    a second for the shared Chicago store), so a writer that starts at that moment waits
    instead of failing. ``on_wait`` is called once with a message when it has to wait.
    """
    deadline = time.monotonic() + wait
    told = False
    delay = 0.05
    while True:
        try:
            return Store(store_path)
        except StoreError as exc:
            if not is_lock_conflict(exc):
                raise
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"store {store_path} is in use by {_holder(exc)} (another writer, a snapshot being "
                    f"published, or a `crimescope serve` reading the store itself because it has no "
                    f"snapshot); waited {wait:g} s") from exc
            if not told and on_wait is not None:
                on_wait(f"store {store_path} is in use by {_holder(exc)}; waiting up to {wait:g} s")
                told = True
            time.sleep(delay)
            delay = min(1.0, delay * 2)


def open_for_reading(store_path: str | Path, *,
                     publish: bool = False) -> tuple["Store | SnapshotReader", Snapshot | None]:
    """Open what a reader should read: ``(reader, snapshot)``; ``snapshot`` is None when
    ``reader`` is the store itself (a read-only :class:`Store`), else ``reader`` is a
    :class:`SnapshotReader`.

    * a published snapshot not older than the store: the snapshot;
    * no snapshot, or one older than the store: with ``publish``, a new snapshot is
      published and opened (so the reader never holds the store's lock); without, or
      when publishing is impossible (a read-only folder), the store itself, read-only;
    * the store being written by another process: the snapshot, even an older one (the
      writer publishes a new one when it finishes); with no snapshot, a clear StoreError.
    """
    snap = published_snapshot(store_path)
    if snap is not None and not snapshot_is_stale(store_path, snap):
        return SnapshotReader(snap.path), snap
    try:
        if publish:
            try:
                snap = publish_snapshot(store_path)
                return SnapshotReader(snap.path), snap
            except StoreError as exc:
                if is_lock_conflict(exc) or not Path(store_path).exists():
                    raise
                # e.g. the store's folder is read-only: read the store itself
                log.warning(
                    "%s; reading the store itself, so writers must wait until this reader stops", exc)
        return Store(store_path, read_only=True), None
    except StoreError as exc:
        if not is_lock_conflict(exc):
            raise
        if snap is not None:
            return SnapshotReader(snap.path), snap
        raise StoreError(
            f"store {store_path} is being written by {_holder(exc)} and has no published snapshot yet: "
            f"wait until that write finishes (`crimescope ingest` and `crimescope sync` publish one when "
            f"they finish), or run `crimescope --store {store_path} snapshot` once it has") from exc
