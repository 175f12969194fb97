"""A CSV already in crimescope's columns, for a city whose export needs no translation.

The file has a header naming columns of the ``incidents`` table (see
``crimescope.store.schema``): ``id`` and ``occurred_local`` (``YYYY-MM-DD HH:MM[:SS]``,
local wall time) are required; ``iucr``, ``fbi_code``, ``primary_type``, ``description``,
``x``, ``y`` (in the profile's CRS), ``lon``, ``lat``, the area columns (``beat``,
``district``, ``ward``, ``community_area``), ``arrest``, ``domestic``, ``case_number``,
``block``, ``location_description`` and ``updated_at`` are optional. A row with an
unreadable required value goes to ``rejected`` with its reason; revisions follow the
store's rule (a newer ``updated_at`` replaces the stored version).

``ingest_files`` is the importer a city profile names (``importer:
"crimescope.sources.canonical:ingest_files"``); the profile is passed as ``profile``
(its key is the rows' source, its time zone makes ``occurred_utc``, its CRS is ``crs``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..errors import IngestError
from ..store import Batch, Store
from ..store.upsert import upsert_staged
from ._files import is_gzip, read_header

__all__ = ["ingest_file", "ingest_files", "COLUMNS"]

#: column -> SQL type it is read as (all others in the file are ignored)
COLUMNS = {
    "id": "VARCHAR", "case_number": "VARCHAR", "occurred_local": "TIMESTAMP", "block": "VARCHAR",
    "iucr": "VARCHAR", "primary_type": "VARCHAR", "description": "VARCHAR", "location_description": "VARCHAR",
    "arrest": "BOOLEAN", "domestic": "BOOLEAN", "beat": "INTEGER", "district": "INTEGER", "ward": "INTEGER",
    "community_area": "INTEGER", "fbi_code": "VARCHAR", "x": "DOUBLE", "y": "DOUBLE", "lon": "DOUBLE",
    "lat": "DOUBLE", "updated_at": "TIMESTAMP",
}
REQUIRED = ("id", "occurred_local")


def ingest_file(store: Store, path: str | Path, *, profile) -> Batch:
    """Load one canonical CSV for ``profile`` in one transaction (refused whole if it lacks ``id``/``occurred_local``)."""
    from ..datasets import get_profile

    prof = get_profile(profile)
    path = Path(path)
    origin = str(path.resolve())
    header = read_header(path)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise IngestError(str(path), f"not a canonical crimescope CSV: lacks {', '.join(missing)}")
    cols = ", ".join(f"'{h}': 'VARCHAR'" for h in header)
    p = str(path).replace("'", "''")
    comp = "gzip" if is_gzip(path) else "none"

    def val(c: str) -> str:
        if c not in header:
            return f"NULL::{COLUMNS[c]}"
        if COLUMNS[c] == "VARCHAR":
            return f"nullif(trim(\"{c}\"), '')"
        return f"try_cast(nullif(trim(\"{c}\"), '') AS {COLUMNS[c]})"

    bad = [f"WHEN nullif(trim(\"{c}\"), '') IS NOT NULL AND {val(c)} IS NULL THEN 'unreadable {c}: ' || \"{c}\""
           for c in header if c in COLUMNS and COLUMNS[c] != "VARCHAR"]
    con = store.con
    with store.transaction():
        batch = store.new_batch(prof.key, "file", origin)
        try:
            con.execute(f"""CREATE OR REPLACE TEMP TABLE _can_raw AS SELECT * FROM read_csv('{p}', header = true,
                            auto_detect = false, columns = {{{cols}}}, compression = '{comp}')""")
        except duckdb.Error as exc:
            raise IngestError(str(path), f"cannot be read as CSV ({str(exc).splitlines()[0]})") from exc
        x, y = val("x"), val("y")
        occ = val("occurred_local")
        raw_fields = ", ".join(f'"{h}" := "{h}"' for h in header)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _staged AS
            SELECT '{prof.key}' AS source, {val('id')} AS id, {val('case_number')} AS case_number,
                {occ} AS occurred_local, timezone('{prof.timezone}', {occ}) AS occurred_utc,
                {val('block')} AS block, upper({val('iucr')}) AS iucr, {val('primary_type')} AS primary_type,
                {val('description')} AS description, {val('location_description')} AS location_description,
                {val('arrest')} AS arrest, {val('domestic')} AS domestic, {val('beat')} AS beat,
                {val('district')} AS district, {val('ward')} AS ward, {val('community_area')} AS community_area,
                upper({val('fbi_code')}) AS fbi_code, {x} AS x, {y} AS y,
                CASE WHEN {x} IS NOT NULL AND {y} IS NOT NULL THEN '{prof.crs}' END AS crs,
                {val('lon')} AS lon, {val('lat')} AS lat,
                coalesce({x} IS NOT NULL AND {y} IS NOT NULL, false) AS has_location,
                {val('updated_at')} AS updated_at, NULL::INTEGER AS batch_id, NULL::TIMESTAMPTZ AS loaded_at,
                _n + 2 AS _line, to_json(struct_pack({raw_fields}))::VARCHAR AS _raw,
                CASE WHEN {val('id')} IS NULL THEN 'empty id'
                     WHEN {occ} IS NULL THEN 'unreadable occurred_local: ' || coalesce("occurred_local", '')
                     {' '.join(bad)}
                END AS _reason
            FROM (SELECT *, rowid AS _n FROM _can_raw)""")
        upsert_staged(store, "_staged", batch, origin)
        store.finish_batch(batch)
        for t in ("_staged", "_can_raw"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
    return batch


def ingest_files(store: Store, paths, *, profile, on_file=None) -> list:
    """Ingest several canonical CSVs for ``profile``, one transaction each; per path its Batch or IngestError."""
    from ._files import ingest_each

    return ingest_each(lambda path: ingest_file(store, path, profile=profile), paths, on_file=on_file)
