"""NYPD Shooting Incident Data (Historic / Year To Date), the official CSV export.

One row per shooting victim. The export has no per-victim id, so a record's id is
``INCIDENT_KEY:n`` with n the victim's order among the rows of that incident key
in the file (stable across re-exports as long as NYPD keeps the row order).
Coordinates are New York State Plane Long Island, US feet (EPSG:2263), written
with thousands separators (``"1,001,951"``). The export carries no update time,
so re-ingesting a file changes nothing and revisions are not detected.

Place-based only: the perpetrator and victim demographic columns are not stored.
For the offense taxonomy a victim row gets UCR code ``01A`` when NYPD flags it as
a murder (STATISTICAL_MURDER_FLAG) and ``04A`` (aggravated assault, firearm)
otherwise; ``primary_type`` is ``SHOOTING``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..errors import IngestError
from ..store import Batch, Store
from ..store.upsert import upsert_staged
from ._files import is_gzip, read_header

SOURCE = "nyc_shootings"
TIMEZONE = "America/New_York"
CRS = "EPSG:2263"
EXTENT = (900_000.0, 110_000.0, 1_075_000.0, 280_000.0)
REQUIRED = ["INCIDENT_KEY", "OCCUR_DATE", "OCCUR_TIME", "BORO", "PRECINCT", "STATISTICAL_MURDER_FLAG",
            "X_COORD_CD", "Y_COORD_CD", "Latitude", "Longitude"]


def _num(col: str) -> str:
    return f"try_cast(replace({col}, ',', '') AS DOUBLE)"


def ingest_file(store: Store, path: str | Path) -> Batch:
    """Load one NYPD shooting export in one transaction (refused whole if not this format)."""
    path = Path(path)
    origin = str(path.resolve())
    header = read_header(path)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise IngestError(str(path), f"not an NYPD shooting-incident export: lacks {', '.join(missing)}")
    cols = ", ".join(f"'{h}': 'VARCHAR'" for h in header)
    p = str(path).replace("'", "''")
    comp = "gzip" if is_gzip(path) else "none"
    x0, y0, x1, y1 = EXTENT
    con = store.con
    with store.transaction():
        batch = store.new_batch(SOURCE, "file", origin)
        tag = str(batch.batch_id)
        try:
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE _nyc_raw AS SELECT * FROM read_csv('{p}', header = true,
                    auto_detect = false, columns = {{{cols}}}, delim = ',', quote = '"', escape = '"',
                    compression = '{comp}', store_rejects = true, rejects_table = '_nrej_{tag}',
                    rejects_scan = '_nscan_{tag}', skip = 0)"""
            )
        except duckdb.Error as exc:
            raise IngestError(str(path), f"cannot be read as CSV ({str(exc).splitlines()[0]})") from exc
        occ = "try_strptime(OCCUR_DATE || ' ' || OCCUR_TIME, ['%m/%d/%Y %H:%M:%S', '%Y-%m-%d %H:%M:%S', '%m/%d/%Y %H:%M'])"
        flag = "CASE WHEN STATISTICAL_MURDER_FLAG IN ('true','True','TRUE','Y') THEN true " \
               "WHEN STATISTICAL_MURDER_FLAG IN ('false','False','FALSE','N') THEN false END"
        x, y = _num("X_COORD_CD"), _num("Y_COORD_CD")
        raw_fields = ", ".join(f'"{h}" := "{h}"' for h in header)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _staged AS
            SELECT '{SOURCE}' AS source,
                INCIDENT_KEY || ':' || row_number() OVER (PARTITION BY INCIDENT_KEY ORDER BY _n) AS id,
                INCIDENT_KEY AS case_number,
                {occ} AS occurred_local,
                timezone('{TIMEZONE}', {occ}) AS occurred_utc,
                NULL::VARCHAR AS block, NULL::VARCHAR AS iucr, 'SHOOTING' AS primary_type,
                CASE WHEN {flag} THEN 'MURDER' ELSE 'NON-FATAL SHOOTING' END AS description,
                nullif(LOCATION_DESC, '') AS location_description,
                NULL::BOOLEAN AS arrest, NULL::BOOLEAN AS domestic, NULL::INTEGER AS beat,
                try_cast(PRECINCT AS INTEGER) AS district, NULL::INTEGER AS ward, NULL::INTEGER AS community_area,
                CASE WHEN {flag} THEN '01A' ELSE '04A' END AS fbi_code,
                {x} AS x, {y} AS y, CASE WHEN {x} IS NOT NULL AND {y} IS NOT NULL THEN '{CRS}' END AS crs,
                {_num('Longitude')} AS lon, {_num('Latitude')} AS lat,
                coalesce({x} BETWEEN {x0} AND {x1} AND {y} BETWEEN {y0} AND {y1}, false) AS has_location,
                NULL::TIMESTAMP AS updated_at, NULL::INTEGER AS batch_id, NULL::TIMESTAMPTZ AS loaded_at,
                _n + 2 AS _line,
                to_json(struct_pack({raw_fields}))::VARCHAR AS _raw,
                CASE
                    WHEN INCIDENT_KEY IS NULL OR INCIDENT_KEY = '' THEN 'empty INCIDENT_KEY'
                    WHEN {occ} IS NULL THEN 'unparseable OCCUR_DATE/OCCUR_TIME: ' || coalesce(OCCUR_DATE, '') || ' ' || coalesce(OCCUR_TIME, '')
                    WHEN {flag} IS NULL THEN 'STATISTICAL_MURDER_FLAG is not true/false: ' || coalesce(STATISTICAL_MURDER_FLAG, '')
                    WHEN nullif(X_COORD_CD, '') IS NOT NULL AND {x} IS NULL THEN 'non-numeric X_COORD_CD: ' || X_COORD_CD
                    WHEN nullif(Y_COORD_CD, '') IS NOT NULL AND {y} IS NULL THEN 'non-numeric Y_COORD_CD: ' || Y_COORD_CD
                    WHEN nullif(PRECINCT, '') IS NOT NULL AND try_cast(PRECINCT AS INTEGER) IS NULL THEN 'non-integer PRECINCT: ' || PRECINCT
                END AS _reason
            FROM (SELECT *, rowid AS _n FROM _nyc_raw)"""
        )
        con.execute(
            f"""INSERT INTO rejected SELECT ?, ?, ?, line, 'malformed CSV row (' || error_type || '): ' || error_message,
                csv_line, now() FROM _nrej_{tag}""", [SOURCE, batch.batch_id, origin])
        (n_struct,) = con.execute(f"SELECT count(*) FROM _nrej_{tag}").fetchone()
        upsert_staged(store, "_staged", batch, origin)
        batch.rows_read += n_struct
        batch.rejected += n_struct
        store.finish_batch(batch)
        for t in ("_staged", "_nyc_raw", f"_nrej_{tag}", f"_nscan_{tag}"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
    return batch


def ingest_files(store: Store, paths, *, on_file=None) -> list:
    """Ingest several exports, one transaction each (the importer the NYC profile names).

    Returns, per path in order, its Batch or the IngestError; ``on_file(path, result)`` is
    called after each.
    """
    from ._files import ingest_each

    return ingest_each(lambda path: ingest_file(store, path), paths, on_file=on_file)
