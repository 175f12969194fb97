"""Shared pieces of the sync tests: the fixture records and the store-equals-source check."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

import pytest

from crimescope.settings import shared_data_dir
from soda_server import SodaSource, load_chicago_records

SHARED = shared_data_dir()
CRIMES_2017 = SHARED / "chicago" / "crimes" / "2017.csv.gz" if SHARED else None
requires_shared = pytest.mark.skipif(
    CRIMES_2017 is None or not CRIMES_2017.exists(), reason="../shared/data/chicago/crimes/2017.csv.gz not present"
)


@lru_cache(maxsize=1)
def _records() -> tuple[dict[str, Any], ...]:
    # ~1,270 records: the first 1,200 rows of 2017.csv.gz and the homicides among its
    # first 30,000 rows (see soda_server.load_chicago_records for the tie tweak)
    return tuple(load_chicago_records(CRIMES_2017))


def fresh_source() -> SodaSource:
    return SodaSource([dict(r) for r in _records()])


def key(rec: dict[str, Any]) -> tuple[datetime, int]:
    return datetime.fromisoformat(rec["updated_on"]), int(rec["id"])


def _bool(v: Any) -> bool | None:
    return None if v is None else bool(v)


def assert_store_equals_source(store, source: SodaSource) -> None:
    """Same ids; each stored with the source's current version; no id twice."""
    con = store.con
    dups = con.execute(
        "SELECT id, count(*) FROM incidents GROUP BY 1 HAVING count(*) > 1"
    ).fetchall()
    assert dups == []
    rows = con.execute(
        "SELECT id, updated_at, case_number, primary_type, description, arrest, domestic, block "
        "FROM incidents WHERE source = 'chicago'"
    ).fetchall()
    snap = source.snapshot()
    stored = {r[0]: r for r in rows}
    missing = sorted(set(snap) - set(stored))
    extra = sorted(set(stored) - set(snap))
    assert not missing and not extra, f"missing {missing[:5]} ({len(missing)}), extra {extra[:5]} ({len(extra)})"
    for rid, (_, upd, case, ptype, desc, arrest, domestic, block) in stored.items():
        rec = snap[rid]
        assert (upd, case, ptype, desc, arrest, domestic, block) == (
            datetime.fromisoformat(rec["updated_on"]), rec.get("case_number"), rec.get("primary_type"),
            rec.get("description"), _bool(rec.get("arrest")), _bool(rec.get("domestic")), rec.get("block"),
        ), rid


def assert_prefix_committed(store, source: SodaSource) -> tuple[datetime, int] | None:
    """After an interruption: every source record up to the stored watermark is in the
    store with its version, and nothing that is not in the source. Returns the watermark."""
    con = store.con
    assert con.execute("SELECT id FROM incidents GROUP BY 1 HAVING count(*) > 1").fetchall() == []
    row = con.execute("SELECT watermark_updated_at, watermark_id FROM sync_state").fetchone()
    stored = dict(con.execute("SELECT id, updated_at FROM incidents").fetchall())
    snap = source.snapshot()
    assert set(stored) <= set(snap)
    if row is None or row[0] is None:
        return None
    wm = (row[0], int(row[1]))
    for rid, rec in snap.items():
        if key(rec) <= wm:
            assert stored.get(rid) == datetime.fromisoformat(rec["updated_on"]), rid
    return wm
