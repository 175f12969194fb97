"""Helpers of the engine tests: tiny stores of hand-written rows (no shared data)."""

from __future__ import annotations

import datetime as dt

BASE = dict(
    source="chicago", case_number=None, occurred_utc=None, block=None, description=None,
    location_description=None, arrest=False, domestic=False, beat=111, district=1, ward=1,
    community_area=1, fbi_code="01A", x=1176000.0, y=1900000.0, crs="EPSG:3435", lon=-87.6,
    lat=41.8, has_location=True, updated_at=dt.datetime(2018, 1, 10, 12, 0), batch_id=1,
    loaded_at=None, primary_type="HOMICIDE", iucr="0110",
)


def make_row(id, occurred: str, **kw) -> dict:
    r = dict(BASE)
    r.update(id=str(id), occurred_local=dt.datetime.fromisoformat(occurred))
    r.update(kw)
    return r


def insert_rows(store, rows, table: str = "incidents") -> None:
    from crimescope.store.schema import INCIDENT_COLUMN_NAMES

    cols = list(INCIDENT_COLUMN_NAMES)
    if table == "incident_history":
        cols += ["superseded_at", "superseded_by_batch"]
    ph = ", ".join("?" for _ in cols)
    for r in rows:
        store.con.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({ph})", [r.get(c) for c in cols])


def add_batch(store, batch_id: int, when: str) -> None:
    store.con.execute(
        "INSERT INTO batches (batch_id, source, kind, origin, started_at, finished_at, status) "
        "VALUES (?, 'chicago', 'file', ?, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ, 'done')",
        [batch_id, f"file{batch_id}.csv", when, when])
    # hand-made rows: the batch declares its coverage (all types up to the day before it was taken)
    import datetime as _dt

    from crimescope.store.coverage import declare_batch

    taken = _dt.datetime.fromisoformat(when[:19])
    declare_batch(store, "chicago", batch_id, "2000-01-01", taken.date() - _dt.timedelta(days=1), extracted_at=taken)
