"""Export of the store to a Parquet dataset, the input of the Spark engine.

Layout of an export folder (hive-style partitions, readable by Spark, DuckDB,
Arrow, Trino, ...)::

    OUT_DIR/
      crimescope-export.json               manifest: format, schema version, row counts
      incidents/source=chicago/year=2016/data_0.parquet
      incidents/source=chicago/year=2017/data_0.parquet
      incident_history/source=.../year=.../data_0.parquet   (only if the store has history)
      batches.parquet                      the ingest batches (for the data vintage)

``year`` is the calendar year of ``occurred_local`` (0 for a record without an
occurrence time). ``source`` and ``year`` are directory names, not columns inside
the files; a reader that restores them as columns gets the store's columns plus
``year``. Rows are written sorted by ``occurred_local`` inside each partition, so
the Parquet min/max statistics of ``occurred_local`` let a reader skip row groups
outside a date filter.

The export is written into a temporary sibling folder and renamed at the end, so
an interrupted export never leaves a half-written dataset under ``OUT_DIR``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ParameterError, StoreError
from ..store.schema import HISTORY_EXTRA, INCIDENT_COLUMNS, SCHEMA_VERSION

__all__ = ["ExportResult", "export_parquet", "read_manifest", "MANIFEST", "EXPORT_FORMAT",
           "PARTITION_COLUMNS"]

#: name of the manifest file inside an export folder
MANIFEST = "crimescope-export.json"
#: version of the export layout (bumped when the layout changes)
EXPORT_FORMAT = 1
#: hive partition columns, outermost first
PARTITION_COLUMNS = ("source", "year")
#: tables exported partitioned, with their (column, DuckDB type) lists
PARTITIONED_TABLES = {
    "incidents": [(c, t.replace(" NOT NULL", "")) for c, t, _ in INCIDENT_COLUMNS],
    "incident_history": [(c, t.replace(" NOT NULL", "")) for c, t, _ in INCIDENT_COLUMNS + HISTORY_EXTRA],
}
#: small tables exported as one file each
SINGLE_TABLES = ("batches", "coverage")  # coverage: what each batch holds (store/coverage.py)


@dataclass
class ExportResult:
    """What :func:`export_parquet` wrote.

    Attributes
    ----------
    path : pathlib.Path
        The export folder.
    rows : dict
        ``{table: rows written}`` for ``incidents``, ``incident_history``, ``batches``.
    partitions : list of tuple
        ``(table, source, year, rows)`` per partition written.
    seconds : float
        Wall time of the export.
    manifest : dict
        The content of ``crimescope-export.json``.
    """

    path: Path
    rows: dict
    partitions: list = field(default_factory=list)
    seconds: float = 0.0
    manifest: dict = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"exported to {self.path} in {self.seconds:.1f} s"]
        for t, n in self.rows.items():
            lines.append(f"  {t}: {n:,} rows")
        for t, s, y, n in self.partitions:
            lines.append(f"  {t}/source={s}/year={y}: {n:,} rows")
        return "\n".join(lines)


def _sql_str(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def export_parquet(store, out_dir, *, sources=None, overwrite: bool = False,
                   compression: str = "zstd", row_group_size: int = 122_880) -> ExportResult:
    """Write the store's incidents (and history, batches) as a partitioned Parquet dataset.

    Parameters
    ----------
    store : crimescope.store.Store
        The store to export (read-only access is enough).
    out_dir : str or Path
        Folder to create. It must not exist, or be empty, unless ``overwrite`` is true
        (then an existing export there is replaced).
    sources : list of str, optional
        Export only these sources (default: all).
    overwrite : bool
        Replace an existing export in ``out_dir``.
    compression : str
        Parquet codec: ``zstd`` (default), ``snappy``, ``gzip`` or ``uncompressed``.
    row_group_size : int
        Rows per Parquet row group.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    if compression not in ("zstd", "snappy", "gzip", "uncompressed"):
        raise ParameterError(f"compression {compression!r} is not one of zstd, snappy, gzip, uncompressed")
    if int(row_group_size) < 1_000:
        raise ParameterError("row_group_size must be at least 1000")
    if out.exists() and not out.is_dir():
        raise ParameterError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise ParameterError(f"{out} is not empty: pass overwrite=True (--overwrite) to replace it")
        if not (out / MANIFEST).exists():
            raise ParameterError(f"{out} is not empty and holds no crimescope export: refusing to replace it")
    con = store.con
    where = ""
    if sources:
        sources = [str(s) for s in sources]
        known = {r[0] for r in con.execute("SELECT DISTINCT source FROM incidents").fetchall()}
        missing = [s for s in sources if s not in known]
        if missing:
            raise ParameterError(f"source(s) not in the store: {', '.join(missing)}")
        where = "WHERE source IN (" + ", ".join(_sql_str(s) for s in sources) + ")"

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    rows: dict[str, int] = {}
    partitions: list[tuple[str, str, int, int]] = []
    try:
        for table, cols in PARTITIONED_TABLES.items():
            counts = con.execute(
                f"SELECT source, coalesce(year(occurred_local), 0) AS y, count(*) FROM {table} {where} "
                "GROUP BY ALL ORDER BY ALL").fetchall()
            rows[table] = sum(int(n) for _, _, n in counts)
            partitions += [(table, s, int(y), int(n)) for s, y, n in counts]
            if not counts:
                continue  # nothing to write; the manifest records 0 rows
            col_list = ", ".join(c for c, _ in cols)
            con.execute(
                f"COPY (SELECT {col_list}, coalesce(year(occurred_local), 0) AS year FROM {table} {where} "
                f"ORDER BY source, year, occurred_local, id) TO {_sql_str(tmp / table)} "
                f"(FORMAT parquet, PARTITION_BY (source, year), COMPRESSION {compression}, "
                f"ROW_GROUP_SIZE {int(row_group_size)})")
        for table in SINGLE_TABLES:
            if table == "coverage":  # an older store opened read-only may have none: derived from rows
                from ..store.coverage import _has_table

                if not _has_table(con):
                    continue
            w = where if table in ("batches", "coverage") else ""
            rows[table] = con.execute(f"SELECT count(*) FROM {table} {w}").fetchone()[0]
            con.execute(f"COPY (SELECT * FROM {table} {w} ORDER BY ALL) TO "
                        f"{_sql_str(tmp / (table + '.parquet'))} (FORMAT parquet)")
        manifest = {
            "format": EXPORT_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "created_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
            "store": str(getattr(store, "path", "")),
            "sources": sorted({s for _, s, _, _ in partitions}),
            "partitioning": list(PARTITION_COLUMNS),
            "partition_note": "year = calendar year of occurred_local (0 when it is NULL)",
            "rows": rows,
            "tables": {t: [[c, ty] for c, ty in cols] for t, cols in PARTITIONED_TABLES.items()},
            "compression": compression,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        import duckdb

        if isinstance(exc, duckdb.Error):
            raise StoreError(f"export to {out} failed: {exc}") from exc
        raise
    return ExportResult(out, rows, partitions, time.perf_counter() - t0, manifest)


def read_manifest(path) -> dict:
    """The manifest of an export folder; :class:`StoreError` if it is not a usable export."""
    p = Path(str(path))
    f = p / MANIFEST
    if not f.is_file():
        raise StoreError(f"{p} is not a crimescope Parquet export (no {MANIFEST}): "
                         "run `crimescope export-parquet` first")
    try:
        m = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{f} is unreadable: {exc}") from exc
    if m.get("format") != EXPORT_FORMAT or m.get("schema_version") != SCHEMA_VERSION:
        raise StoreError(f"{p}: export format {m.get('format')} / schema {m.get('schema_version')}; "
                         f"this crimescope reads format {EXPORT_FORMAT} / schema {SCHEMA_VERSION}: export again")
    return m
