"""Chicago's "Crimes - 2001 to present" (Socrata ijzp-q8t2): CSV exports and API pages.

Both paths end in :func:`ingest_raw`, which takes rows as text in the portal's
field names (the SODA names, which the CSV header maps to), parses them in DuckDB,
sends malformed rows to ``rejected`` with the reason, and upserts the rest.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import duckdb

if TYPE_CHECKING:  # pragma: no cover - only a type: pyarrow (0.5 s to import) is not needed to ingest
    import pyarrow as pa

from ..errors import IngestError
from ..store import Batch, Store
from ..store.sqltext import bind
from ..store.upsert import all_new, finish_new, insert_new, upsert_staged
from ._files import gzip_problem, is_gzip, read_header

SOURCE = "chicago"
TIMEZONE = "America/Chicago"
CRS = "EPSG:3435"  # Illinois State Plane East, NAD83, US survey feet
#: plausible extent of Chicago in EPSG:3435 (generous); outside it a geocode is not usable
EXTENT = (1_000_000.0, 1_750_000.0, 1_300_000.0, 2_000_000.0)

#: SODA field names, in the order of the 22-column CSV export
RAW_COLUMNS = [
    "id", "case_number", "date", "block", "iucr", "primary_type", "description",
    "location_description", "arrest", "domestic", "beat", "district", "ward",
    "community_area", "fbi_code", "x_coordinate", "y_coordinate", "year", "updated_on",
    "latitude", "longitude", "location",
]
_CSV_NAMES = {
    "ID": "id", "Case Number": "case_number", "Date": "date", "Block": "block",
    "IUCR": "iucr", "Primary Type": "primary_type", "Description": "description",
    "Location Description": "location_description", "Arrest": "arrest",
    "Domestic": "domestic", "Beat": "beat", "District": "district", "Ward": "ward",
    "Community Area": "community_area", "FBI Code": "fbi_code",
    "X Coordinate": "x_coordinate", "Y Coordinate": "y_coordinate", "Year": "year",
    "Updated On": "updated_on", "Latitude": "latitude", "Longitude": "longitude",
    "Location": "location",
}
HEADER_22 = list(_CSV_NAMES)
HEADER_20 = [h for h in HEADER_22 if h not in ("Year", "Location")]
#: human names for reasons, keyed by raw name
_LABEL = {v: k for k, v in _CSV_NAMES.items()}

_TS_FORMATS = "['%m/%d/%Y %I:%M:%S %p', '%Y-%m-%dT%H:%M:%S.%g', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S']"


# Text is kept verbatim (no trim: trimming every field costs more than the read).
# Casts tolerate surrounding blanks; a field of blanks only is malformed.


def _ts(col: str) -> str:
    return f"try_strptime({col}, {_TS_FORMATS})"


def _num(col: str) -> str:
    return f"try_cast({col} AS DOUBLE)"


def _int(col: str) -> str:
    # '012', '12', '12.0' -> 12; '12.5' or 'x' -> NULL (and a reason below)
    d = _num(col)
    return f"CASE WHEN {d} = floor({d}) THEN CAST({d} AS INTEGER) END"


def _bool(col: str) -> str:
    return (f"CASE WHEN {col} IN ('true', 'True', 'TRUE') THEN true "
            f"WHEN {col} IN ('false', 'False', 'FALSE') THEN false END")


def _blank(col: str) -> str:
    return f"({col} IS NULL OR {col} = '')"


def _reason_sql() -> str:
    """First failing check of a row, as text; NULL for a good row (typed columns are `_t_*`)."""
    checks = [
        (_blank("id"), "'empty ID'"),
        ("_t_id IS NULL", "'ID is not a whole number: ' || id"),
        (_blank("date"), "'missing Date'"),
        ("_t_occ IS NULL", "'unparseable Date: ' || date"),
        (f"_t_upd IS NULL AND NOT {_blank('updated_on')}", "'unparseable Updated On: ' || updated_on"),
    ]
    for c in ("x_coordinate", "y_coordinate", "latitude", "longitude"):
        checks.append((f"_t_{c} IS NULL AND NOT {_blank(c)}", f"'non-numeric {_LABEL[c]}: ' || {c}"))
    for c in ("beat", "district", "ward", "community_area"):
        checks.append((f"_t_{c} IS NULL AND NOT {_blank(c)}", f"'non-integer {_LABEL[c]}: ' || {c}"))
    for c in ("arrest", "domestic"):
        checks.append((f"_t_{c} IS NULL AND NOT {_blank(c)}", f"'{_LABEL[c]} is not true/false: ' || {c}"))
    checks.append(("length(_t_iucr) NOT BETWEEN 3 AND 4", "'malformed IUCR: ' || iucr"))
    whens = " ".join(f"WHEN {cond} THEN {msg}" for cond, msg in checks)
    return f"CASE {whens} END"


def _parse_sql(raw_from: str, *, raw_text: str = "_raw", line: str = "_line") -> str:
    """SELECT turning raw text rows into staged canonical rows with a `_reason`.

    ``raw_from`` is a table name or a ``read_csv(...)`` call; ``raw_text`` and
    ``line`` are SQL for the verbatim record and its line (evaluated for rejected
    rows only where it matters).
    """
    x0, y0, x1, y1 = EXTENT
    typed = f"""
        SELECT *,
            try_cast(id AS BIGINT) AS _t_id,
            {_ts('date')} AS _t_occ,
            {_ts('updated_on')} AS _t_upd,
            {_num('x_coordinate')} AS _t_x_coordinate,
            {_num('y_coordinate')} AS _t_y_coordinate,
            {_num('latitude')} AS _t_latitude,
            {_num('longitude')} AS _t_longitude,
            {_int('beat')} AS _t_beat,
            {_int('district')} AS _t_district,
            {_int('ward')} AS _t_ward,
            {_int('community_area')} AS _t_community_area,
            {_bool('arrest')} AS _t_arrest,
            {_bool('domestic')} AS _t_domestic,
            upper(nullif(iucr, '')) AS _t_iucr
        FROM {raw_from}
    """
    checked = f"SELECT *, {_reason_sql()} AS _reason FROM ({typed})"
    return f"""
    SELECT
        '{SOURCE}' AS source,
        id,
        nullif(case_number, '') AS case_number,
        _t_occ AS occurred_local,
        timezone('{TIMEZONE}', _t_occ) AS occurred_utc,
        nullif(block, '') AS block,
        lpad(_t_iucr, 4, '0') AS iucr,
        nullif(primary_type, '') AS primary_type,
        nullif(description, '') AS description,
        nullif(location_description, '') AS location_description,
        _t_arrest AS arrest,
        _t_domestic AS domestic,
        _t_beat AS beat,
        _t_district AS district,
        _t_ward AS ward,
        _t_community_area AS community_area,
        nullif(fbi_code, '') AS fbi_code,
        _t_x_coordinate AS x,
        _t_y_coordinate AS y,
        CASE WHEN _t_x_coordinate IS NOT NULL AND _t_y_coordinate IS NOT NULL THEN '{CRS}' END AS crs,
        _t_longitude AS lon,
        _t_latitude AS lat,
        coalesce(_t_x_coordinate BETWEEN {x0} AND {x1} AND _t_y_coordinate BETWEEN {y0} AND {y1}, false)
            AS has_location,
        _t_upd AS updated_at,
        NULL::INTEGER AS batch_id,
        NULL::TIMESTAMPTZ AS loaded_at,
        {line} AS _line,
        CASE WHEN _reason IS NOT NULL THEN {raw_text} END AS _raw,
        _reason
    FROM ({checked})
    """


def ingest_raw(store: Store, rows: "pa.Table | str", batch: Batch, *, origin: str) -> Batch:
    """Parse, reject and upsert rows given as text in the portal's field names.

    ``rows`` is a pyarrow Table (or the name of a DuckDB table) with string columns
    named as :data:`RAW_COLUMNS` (``year`` and ``location`` may be absent) plus
    ``_line`` (int) and ``_raw`` (the verbatim line or record). Call inside
    ``store.transaction()``. Adds the counts to ``batch`` and returns it.
    """
    con = store.con
    if isinstance(rows, str):
        name = rows
    else:
        missing = [c for c in RAW_COLUMNS if c not in rows.column_names and c not in ("year", "location")]
        missing += [c for c in ("_line", "_raw") if c not in rows.column_names]
        if missing:
            raise IngestError(origin, f"records lack the fields {', '.join(missing)}")
        name = "_raw_page"
        con.register(name, rows)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _staged AS {_parse_sql(name)}")
    finally:
        if not isinstance(rows, str):
            con.unregister(name)
    try:
        return upsert_staged(store, "_staged", batch, origin)
    finally:
        con.execute("DROP TABLE IF EXISTS _staged")


def _check_header(path: Path) -> list[str]:
    header = read_header(path)
    if header == HEADER_20 or header == HEADER_22:
        return header
    got = ",".join(header)[:120]
    raise IngestError(
        str(path),
        f"not a Chicago crimes export: header is {got!r}; expected the portal's 20 or 22 columns "
        f"starting ID,Case Number,Date",
    )


def _read_csv_sql(paths: list[Path], header: list[str], tag: str) -> str:
    cols = ", ".join(f"'{_CSV_NAMES[h]}': 'VARCHAR'" for h in header)
    comps = {"gzip" if is_gzip(p) else "none" for p in paths}
    comp = comps.pop() if len(comps) == 1 else "auto"
    plist = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"
    return (
        f"read_csv({plist}, header = true, auto_detect = false, columns = {{{cols}}}, "
        f"delim = ',', quote = '\"', escape = '\"', compression = '{comp}', filename = '_file', "
        f"store_rejects = true, rejects_table = '_rej_err_{tag}', rejects_scan = '_rej_scan_{tag}', "
        f"strict_mode = true, null_padding = false)"
    )


def _stage(store: Store, paths: list[Path], header: list[str], tag: str) -> None:
    """Read, type and check the rows of files sharing one header, in one parallel pass.

    Creates ``_staged_all`` (rows in file order, with ``_fidx``, the file's position in
    ``paths``) and the DuckDB rejects tables ``_rej_err_<tag>`` / ``_rej_scan_<tag>``.
    Raises duckdb.Error.

    Each file's commit reads its rows by ``_fidx``, an integer: the row groups of the other
    files are skipped by their min/max statistics (DuckDB keeps only an 8-byte prefix of a
    text column's, which the paths share, so a filter on the path would scan every row).
    The path itself is not staged (1.7 million copies of it cost more than the lookup).
    """
    store.con.execute(f"CREATE OR REPLACE TEMP TABLE _staged_all AS {_scan_sql(paths, header, tag)}")


def _scan_sql(paths: list[Path], header: list[str], tag: str) -> str:
    """SELECT reading ``paths`` into staged rows (:func:`_parse_sql`'s columns and ``_fidx``)."""
    fields = [_CSV_NAMES[h] for h in header]
    raw_text = "to_json(struct_pack(" + ", ".join(f"{c} := {c}" for c in fields) + "))::VARCHAR"
    sql = _parse_sql(_read_csv_sql(paths, header, tag), raw_text=raw_text, line="NULL::BIGINT")
    return sql.replace("        _reason\n    FROM (",
                       f"        _reason,\n        {_fidx_sql('_file', paths)} AS _fidx\n    FROM (", 1)


def _fidx_sql(col: str, paths: list[Path]) -> str:
    """SQL: the position in ``paths`` of the file named by text column ``col``."""
    return ("(CASE " + col + " " + " ".join(f"WHEN {_quote(str(p))} THEN {k}" for k, p in enumerate(paths))
            + " END)::INTEGER")


def _fix_reject_lines(con: duckdb.DuckDBPyConnection, tag: str, paths: list[Path],
                      staged: str = "_staged_all") -> dict[int, tuple[int, int]]:
    """Give each rejected staged row (in table ``staged``) its line and gather the structural rejects.

    A record's line is its record number in its file + 1 (the header) + the
    number of structural rejects (rows DuckDB could not split) before it.
    Returns ``{fidx: (staged rows, rows with a _reason)}`` per file.
    """
    # DuckDB logs one error per missing column of a short row: keep the first per line
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rej_all AS
            SELECT _file, {_fidx_sql('_file', paths)} AS _fidx, line, error_type, error_message, csv_line,
                   line - row_number() OVER (PARTITION BY _file ORDER BY line) AS adj
            FROM (SELECT s.file_path AS _file, e.line, arg_min(e.error_type, e.column_idx) AS error_type,
                         arg_min(e.error_message, e.column_idx) AS error_message, any_value(e.csv_line) AS csv_line
                  FROM _rej_err_{tag} e JOIN _rej_scan_{tag} s ON s.scan_id = e.scan_id AND s.file_id = e.file_id
                  GROUP BY ALL)"""
    )
    counts = {int(k): (int(n), int(b)) for k, n, b in con.execute(
        f"SELECT _fidx, count(*), count(*) FILTER (WHERE _reason IS NOT NULL) FROM {staged} GROUP BY _fidx"
    ).fetchall()}
    if not any(b for _, b in counts.values()):
        return counts
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _file_start AS
           SELECT _fidx, min(rowid) AS first FROM {staged} GROUP BY _fidx"""
    )
    con.execute(
        f"""UPDATE {staged} SET _line = rowid + 2 - (
               SELECT f.first FROM _file_start f WHERE f._fidx = {staged}._fidx)
           WHERE _reason IS NOT NULL"""
    )
    con.execute(
        f"""UPDATE {staged} SET _line = _line + (
               SELECT count(*) FROM _rej_all r WHERE r._fidx = {staged}._fidx AND r.adj <= {staged}._line - 1)
           WHERE _reason IS NOT NULL"""
    )
    return counts


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _commit_file(store: Store, path: Path, fidx: int, counts: tuple[int, int] | None = None) -> Batch:
    """Upsert one staged file's rows (``_fidx = fidx`` in ``_staged_all``) in its own transaction.

    With ``counts`` (its staged rows and rejected rows), the rows are known to be all new
    records (:func:`~crimescope.store.upsert.all_new`) and are inserted without the upsert's
    join and duplicate check.
    """
    con = store.con
    origin = str(path.resolve())
    with store.transaction():
        batch = store.new_batch(SOURCE, "file", origin)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW _staged AS SELECT * EXCLUDE (_fidx) FROM _staged_all "
            f"WHERE _fidx = {int(fidx)}"
        )
        try:
            # structural rejects (wrong number of fields, bad quoting, bad UTF-8) keep their line
            con.execute(bind(
                """INSERT INTO rejected SELECT ?, ?, ?, line,
                       'malformed CSV row (' || error_type || '): ' || error_message, csv_line, now()
                   FROM _rej_all WHERE _file = ?""",
                [SOURCE, int(batch.batch_id), origin, str(path)],
            ))
            (n_struct,) = con.execute(bind("SELECT count(*) FROM _rej_all WHERE _file = ?", [str(path)])).fetchone()
            if counts is None:
                upsert_staged(store, "_staged", batch, origin)
            else:
                insert_new(store, "_staged", batch, origin, n_rows=counts[0], n_rejected=counts[1])
            batch.rows_read += n_struct
            batch.rejected += n_struct
            store.finish_batch(batch)
        finally:
            con.execute("DROP VIEW IF EXISTS _staged")
    return batch


#: the write-once path for a scan into a store without incidents (a switch for the tests)
WRITE_ONCE = True
_NEW = "_incidents_new"


def _incidents_empty(store: Store) -> bool:
    return store.con.execute("SELECT count(*) FROM (SELECT 1 FROM incidents LIMIT 1)").fetchone()[0] == 0


def _next_batch_ids(con: duckdb.DuckDBPyConnection, n: int) -> list[int]:
    """The ids the next ``n`` calls of ``nextval('batch_seq')`` will return."""
    start, inc, last = con.execute(
        "SELECT start_value, increment_by, last_value FROM duckdb_sequences() WHERE sequence_name = 'batch_seq'"
    ).fetchone()
    first = int(start) if last is None else int(last) + int(inc)
    return [first + k * int(inc) for k in range(n)]


def _ingest_once(store: Store, paths: list[Path], header: list[str], tag: str, checks: dict) -> list[Batch] | None:
    """Read one scan's files straight into a new ``incidents`` table, writing each row once.

    Only for a store whose ``incidents`` is empty. The scan is inserted into a table of the
    store (``incidents``' columns and the staging columns ``_line``, ``_raw``, ``_reason``,
    ``_fidx``); in the same transaction each file gets its batch, its structural and value
    rejects go to ``rejected`` (with their lines, as :func:`_commit_file` writes them), its
    coverage is recorded from its good rows, the rejected rows are deleted, the staging
    columns dropped (no rewrite: DuckDB drops their column data) and the table takes the
    place of the empty ``incidents``. This is the general path's result (same rows, batches,
    counts, rejects, coverage; tests/store/test_write_once.py), but the rows are written
    once instead of staged and copied, and all files commit together.

    Returns None, with nothing committed, when the result would differ from the general path:
    the read fails, a gzip file is incomplete (that file alone must be refused), or an id
    occurs twice among the good rows (versions to order). The caller then takes that path.
    """
    con = store.con
    with store._lock:
        con.execute("BEGIN TRANSACTION")
        try:
            ok = _write_once(store, paths, header, tag, checks)
        except duckdb.Error:
            ok = None
        except BaseException:
            con.execute("ROLLBACK")
            raise
        if ok is None:
            con.execute("ROLLBACK")
            return None
        con.execute("COMMIT")
    return ok


def _write_once(store: Store, paths: list[Path], header: list[str], tag: str, checks: dict) -> list[Batch] | None:
    from ..store.schema import INCIDENT_COLUMNS

    con = store.con
    bids = _next_batch_ids(con, len(paths))
    cols = ", ".join(f"{n} {t}" for n, t, _ in INCIDENT_COLUMNS)
    con.execute(f"CREATE TABLE {_NEW} ({cols}, _line BIGINT, _raw VARCHAR, _reason VARCHAR, _fidx INTEGER)")
    sql = _scan_sql(paths, header, tag)
    # the id of a rejected row may be missing (NOT NULL in incidents); only its raw text is kept
    sql = sql.replace("        id,\n", "        coalesce(id, '') AS id,\n", 1)
    bid_case = "(CASE _fidx " + " ".join(f"WHEN {k} THEN {b}" for k, b in enumerate(bids)) + " END)::INTEGER"
    sql = sql.replace("        NULL::INTEGER AS batch_id,\n        NULL::TIMESTAMPTZ AS loaded_at,\n",
                      "        NULL::INTEGER AS batch_id,\n        now() AS loaded_at,\n", 1)
    con.execute(f"INSERT INTO {_NEW} SELECT * REPLACE ({bid_case} AS batch_id) FROM ({sql})")
    counts = _fix_reject_lines(con, tag, paths, staged=_NEW)
    if any(checks[i].result() for i in checks):
        return None  # the incomplete file is refused by the general path, the others committed
    if not all_new(store, _NEW, int_key="CAST(id AS BIGINT)"):
        return None
    batches = []
    for k, path in enumerate(paths):
        origin = str(path.resolve())
        batch = store.new_batch(SOURCE, "file", origin)
        if batch.batch_id != bids[k]:  # pragma: no cover - nothing else draws batch ids meanwhile
            raise duckdb.Error("batch ids drawn out of order")
        n_rows, n_bad = counts.get(k, (0, 0))
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW _staged AS SELECT * EXCLUDE (_fidx) FROM {_NEW} WHERE _fidx = {k}")
        con.execute(bind(
            """INSERT INTO rejected SELECT ?, ?, ?, line,
                   'malformed CSV row (' || error_type || '): ' || error_message, csv_line, now()
               FROM _rej_all WHERE _file = ?""",
            [SOURCE, int(batch.batch_id), origin, str(path)],
        ))
        (n_struct,) = con.execute(bind("SELECT count(*) FROM _rej_all WHERE _file = ?", [str(path)])).fetchone()
        finish_new(store, "_staged", batch, origin, n_rows=n_rows, n_rejected=n_bad)
        batch.rows_read += n_struct
        batch.rejected += n_struct
        store.finish_batch(batch)
        con.execute("DROP VIEW _staged")
        batches.append(batch)
    if any(n_bad for _, n_bad in counts.values()):
        con.execute(f"DELETE FROM {_NEW} WHERE _reason IS NOT NULL")
    for c in ("_line", "_raw", "_reason", "_fidx"):
        con.execute(f"ALTER TABLE {_NEW} DROP COLUMN {c}")
    con.execute("DROP TABLE incidents")
    con.execute(f"ALTER TABLE {_NEW} RENAME TO incidents")
    return batches


def ingest_file(store: Store, path: str | Path) -> Batch:
    """Load one CSV export (plain or gzip) in one transaction; refused whole on a bad file.

    Raises :class:`IngestError` (nothing committed) when the file is not this
    format or cannot be read to its end. Malformed rows go to ``rejected`` with
    their line: the record's line counting the header as line 1 (the physical
    line unless a quoted field spans lines).
    """
    (res,) = ingest_files(store, [path])
    if isinstance(res, IngestError):
        raise res
    return res


def _describe_read_error(exc: Exception) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    low = str(exc).lower()
    if "gzip" in low or "zlib" in low or "inflate" in low or "compress" in low:
        return f"truncated or corrupt gzip stream ({msg})"
    return f"cannot be read as CSV ({msg})"


def ingest_files(
    store: Store,
    paths: Iterable[str | Path],
    *,
    on_file: Callable[[Path, "Batch | IngestError"], None] | None = None,
) -> list["Batch | IngestError"]:
    """Ingest several exports; each file is committed (or refused) on its own.

    Files with the same header are read together in one parallel DuckDB scan
    (gzip streams decompress on separate threads), then each file's rows are
    upserted in a transaction of its own. If the joint read fails (a truncated
    gzip, say), the files are read one by one so that only the bad file is
    refused. Into a store without incidents, a scan's files are read straight into
    ``incidents`` and committed together (:func:`_ingest_once`). Returns, per path in
    order, its Batch or the IngestError.
    """
    paths = [Path(p) for p in paths]
    results: dict[int, Batch | IngestError] = {}
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, p in enumerate(paths):
        try:
            groups.setdefault(tuple(_check_header(p)), []).append(i)
        except IngestError as exc:
            results[i] = exc
            if on_file:
                on_file(p, exc)
    con = store.con
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        for n_group, (header, idx) in enumerate(groups.items()):
            chunks = _chunks(paths, idx)
            while chunks:
                chunk = chunks.pop(0)
                tag = f"{n_group}_{chunk[0]}_{len(chunk)}"
                # gzip integrity is checked on a thread while DuckDB reads
                checks = {i: pool.submit(gzip_problem, paths[i]) for i in chunk if is_gzip(paths[i])}
                if WRITE_ONCE and _incidents_empty(store):
                    try:
                        done = _ingest_once(store, [paths[i] for i in chunk], list(header), tag, checks)
                    finally:
                        _drop_stage(con, tag)
                    if done is not None:
                        for i, b in zip(chunk, done):
                            results[i] = b
                            if on_file:
                                on_file(paths[i], b)
                        continue
                try:
                    _stage(store, [paths[i] for i in chunk], list(header), tag)
                except duckdb.Error as exc:
                    _drop_stage(con, tag)
                    if len(chunk) > 1:  # find the bad file(s): read them one at a time
                        chunks = [[i] for i in chunk] + chunks
                        continue
                    _refuse(results, on_file, chunk[0], paths[chunk[0]], _describe_read_error(exc))
                    continue
                try:
                    counts = _fix_reject_lines(con, tag, [paths[i] for i in chunk])
                    # no id repeats in the chunk and none is stored: each file's rows are all new
                    new = all_new(store, "_staged_all", int_key="CAST(id AS BIGINT)")  # good ids are whole numbers
                    for k, i in enumerate(chunk):
                        problem = checks[i].result() if i in checks else None
                        if problem:
                            _refuse(results, on_file, i, paths[i], problem)
                            continue
                        results[i] = _commit_file(store, paths[i], k, counts.get(k, (0, 0)) if new else None)
                        if on_file:
                            on_file(paths[i], results[i])
                finally:
                    _drop_stage(con, tag)
    finally:
        pool.shutdown(cancel_futures=True)
    return [results[i] for i in range(len(paths))]


#: files read together in one scan are bounded, so staging memory stays bounded
MAX_FILES_PER_READ = 6
MAX_BYTES_PER_READ = 120 * 2**20  # on disk; about 1 GB of staged rows for gzip input


def _chunks(paths: list[Path], idx: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    size = 0
    for i in idx:
        n = paths[i].stat().st_size
        if not out or len(out[-1]) >= MAX_FILES_PER_READ or size + n > MAX_BYTES_PER_READ:
            out.append([])
            size = 0
        out[-1].append(i)
        size += n
    return out


def _refuse(results: dict, on_file, i: int, path: Path, problem: str) -> None:
    err = IngestError(str(path), problem)
    results[i] = err
    if on_file:
        on_file(path, err)


def _drop_stage(con: duckdb.DuckDBPyConnection, tag: str) -> None:
    for t in ("_staged_all", f"_rej_err_{tag}", f"_rej_scan_{tag}", "_rej_all", "_file_start"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
