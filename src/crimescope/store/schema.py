"""The canonical incident schema (documented in docs/schema.md).

One row per record of a source (Chicago: one row per incident, except HOMICIDE
which is one row per victim). The primary key is (source, id); it is enforced by
the ingest code rather than by an index, which keeps bulk loads fast.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

#: (column, DuckDB type, description) in table order
INCIDENT_COLUMNS: list[tuple[str, str, str]] = [
    ("source", "VARCHAR NOT NULL", "Source key, e.g. 'chicago', 'nyc_shootings'."),
    ("id", "VARCHAR NOT NULL", "The source's record id (Chicago `ID`)."),
    ("case_number", "VARCHAR", "Police case number (Chicago `Case Number`; repeats for multi-victim homicides)."),
    ("occurred_local", "TIMESTAMP", "Occurrence as local wall time in the source's time zone (America/Chicago)."),
    ("occurred_utc", "TIMESTAMPTZ", "Occurrence as a UTC instant (a DST-ambiguous wall time takes the later, standard-time instant; a skipped one is read as daylight time)."),
    ("block", "VARCHAR", "Block-level address as published (e.g. `014XX S AVERS AVE`)."),
    ("iucr", "VARCHAR", "Illinois Uniform Crime Reporting code, 4 characters, zero-padded (`0110`)."),
    ("primary_type", "VARCHAR", "Primary offense type as published."),
    ("description", "VARCHAR", "Secondary description as published (wording changed over the years; never matched on)."),
    ("location_description", "VARCHAR", "Kind of place as published."),
    ("arrest", "BOOLEAN", "An arrest was made (as of the record's update time)."),
    ("domestic", "BOOLEAN", "Domestic-related per the Illinois Domestic Violence Act."),
    ("beat", "INTEGER", "Police beat (3-4 digits) or NULL."),
    ("district", "INTEGER", "Police district (NYC: precinct) or NULL."),
    ("ward", "INTEGER", "City council ward or NULL."),
    ("community_area", "INTEGER", "Community area 1-77 or NULL."),
    ("fbi_code", "VARCHAR", "FBI NIBRS/UCR offense code as published (`01A`, `04B`, `08B`, ...)."),
    ("x", "DOUBLE", "Source X coordinate in `crs` units (Chicago: EPSG:3435, US feet)."),
    ("y", "DOUBLE", "Source Y coordinate in `crs` units."),
    ("crs", "VARCHAR", "CRS of x/y, e.g. `EPSG:3435`; NULL when x/y are NULL."),
    ("lon", "DOUBLE", "Longitude, WGS84, as published."),
    ("lat", "DOUBLE", "Latitude, WGS84, as published."),
    ("has_location", "BOOLEAN", "x/y present and inside the source's plausible extent (0,0 and far-away geocodes are false)."),
    ("updated_at", "TIMESTAMP", "Source's last-update time of this version, local wall time as published (`Updated On`)."),
    ("batch_id", "INTEGER", "The ingest batch (file or sync page run) that delivered this version; see `batches`."),
    ("loaded_at", "TIMESTAMPTZ", "When this version was committed to the store."),
]

INCIDENT_COLUMN_NAMES = [c for c, _, _ in INCIDENT_COLUMNS]

HISTORY_EXTRA: list[tuple[str, str, str]] = [
    ("superseded_at", "TIMESTAMPTZ", "When a newer version replaced this one."),
    ("superseded_by_batch", "INTEGER", "Batch that delivered the replacing version."),
]


def _cols(cols: list[tuple[str, str, str]]) -> str:
    return ",\n    ".join(f"{name} {typ}" for name, typ, _ in cols)


DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);

CREATE SEQUENCE IF NOT EXISTS batch_seq START 1;

CREATE TABLE IF NOT EXISTS batches (
    batch_id INTEGER PRIMARY KEY,
    source VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,          -- 'file' or 'sync'
    origin VARCHAR NOT NULL,        -- file path, or URL + dataset for a sync
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    rows_read BIGINT DEFAULT 0,
    inserted BIGINT DEFAULT 0,
    updated BIGINT DEFAULT 0,
    unchanged BIGINT DEFAULT 0,
    rejected BIGINT DEFAULT 0,
    status VARCHAR NOT NULL         -- 'running', 'done', 'failed'
);

CREATE TABLE IF NOT EXISTS incidents (
    {_cols(INCIDENT_COLUMNS)}
);

CREATE TABLE IF NOT EXISTS incident_history (
    {_cols(INCIDENT_COLUMNS + HISTORY_EXTRA)}
);

CREATE TABLE IF NOT EXISTS rejected (
    source VARCHAR NOT NULL,
    batch_id INTEGER,
    origin VARCHAR NOT NULL,        -- file path or sync URL
    line BIGINT,                    -- 1-based line in the file (header = line 1); page row for syncs
    reason VARCHAR NOT NULL,
    raw VARCHAR,                    -- the offending line or record, verbatim
    rejected_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS sync_state (
    source VARCHAR NOT NULL,
    base_url VARCHAR NOT NULL,
    dataset VARCHAR NOT NULL,
    watermark_updated_at TIMESTAMP,   -- updated_on of the last committed row (source wall time)
    watermark_id VARCHAR,             -- id of that row (keyset tiebreak)
    pages_committed BIGINT DEFAULT 0,
    rows_committed BIGINT DEFAULT 0,
    last_started_at TIMESTAMPTZ,
    last_finished_at TIMESTAMPTZ,
    status VARCHAR,                   -- 'running', 'done', 'failed'
    last_error VARCHAR,
    PRIMARY KEY (source, base_url, dataset)
);
"""

# what each batch covers (per source, offense scope and dates): see store/coverage.py
from .coverage import DDL as _COVERAGE_DDL  # noqa: E402

DDL += _COVERAGE_DDL
