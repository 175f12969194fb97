"""The embedded DuckDB store: opening, schema, transactions, batches."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb

from ..errors import StoreError
from .schema import DDL, SCHEMA_VERSION
from .sqltext import bind

__all__ = ["Store", "Batch"]


@dataclass
class Batch:
    """Counts of one ingest batch (a file, or one sync run)."""

    batch_id: int
    source: str
    kind: str
    origin: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, other: "Batch") -> None:
        for f in ("rows_read", "inserted", "updated", "unchanged", "rejected"):
            setattr(self, f, getattr(self, f) + getattr(other, f))

    def as_dict(self) -> dict:
        return {
            "batch_id": self.batch_id, "source": self.source, "kind": self.kind,
            "origin": self.origin, "rows_read": self.rows_read, "inserted": self.inserted,
            "updated": self.updated, "unchanged": self.unchanged, "rejected": self.rejected,
        }


class Store:
    """A crimescope store in one DuckDB file (or ``:memory:``).

    >>> store = Store(":memory:")
    >>> store.con.execute("select count(*) from incidents").fetchone()
    (0,)
    """

    def __init__(self, path: str | Path = "crimescope.duckdb", *, read_only: bool = False):
        self.path = str(path)
        self.read_only = read_only
        self._lock = threading.RLock()
        if read_only and self.path != ":memory:" and not Path(self.path).exists():
            raise StoreError(f"no store at {self.path}: run `crimescope ingest chicago ...` first")
        try:
            self.con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:  # locked by another writer, not a DuckDB file, ...
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        if not read_only:
            self._ensure_schema()
        else:
            self._check_schema()
        self._ibis = None

    # -- schema -------------------------------------------------------------
    def _ensure_schema(self) -> None:
        try:
            self.con.execute(DDL)
        except duckdb.Error as exc:
            raise StoreError(f"{self.path} is not a usable crimescope store: {exc}") from exc
        row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self.con.execute(bind("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]))
        elif int(row[0]) != SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema version {row[0]}, this crimescope needs {SCHEMA_VERSION}")
        from .coverage import backfill

        backfill(self)  # stores written before coverage was recorded: derive it from their rows

    def _check_schema(self) -> None:
        try:
            row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except duckdb.Error as exc:
            raise StoreError(f"{self.path} is not a crimescope store") from exc
        if row is None or int(row[0]) != SCHEMA_VERSION:
            raise StoreError(f"{self.path} has an unknown schema version")

    # -- access ---------------------------------------------------------------
    def ibis(self):
        """An Ibis backend over the same DuckDB connection (for the query layer)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the same database, for use from another thread."""
        return self.con.cursor()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """BEGIN ... COMMIT, or ROLLBACK on any exception (which is re-raised)."""
        with self._lock:
            self.con.execute("BEGIN TRANSACTION")
            try:
                yield self.con
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            else:
                self.con.execute("COMMIT")

    def new_batch(self, source: str, kind: str, origin: str) -> Batch:
        """Register a batch row (inside the caller's transaction)."""
        (bid,) = self.con.execute("SELECT nextval('batch_seq')").fetchone()
        self.con.execute(bind(
            "INSERT INTO batches (batch_id, source, kind, origin, started_at, status) "
            "VALUES (?, ?, ?, ?, now(), 'running')",
            [int(bid), source, kind, origin],
        ))
        return Batch(int(bid), source, kind, origin)

    def finish_batch(self, batch: Batch, status: str = "done") -> None:
        self.con.execute(bind(
            "UPDATE batches SET finished_at = now(), rows_read = ?, inserted = ?, updated = ?, "
            "unchanged = ?, rejected = ?, status = ? WHERE batch_id = ?",
            [int(batch.rows_read), int(batch.inserted), int(batch.updated), int(batch.unchanged),
             int(batch.rejected), status, int(batch.batch_id)],
        ))

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
