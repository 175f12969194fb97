"""Helpers for the counting tests: tiny stores made of hand-written rows (no shared data)."""

from __future__ import annotations

import datetime as dt

from crimescope.store import Store
from crimescope.store.schema import INCIDENT_COLUMN_NAMES

DEFAULTS = dict(
    source="chicago", case_number=None, occurred_utc=None, block=None, description=None,
    location_description=None, arrest=False, domestic=False, beat=111, district=1, ward=1,
    community_area=1, fbi_code="26", x=1176000.0, y=1900000.0, crs="EPSG:3435", lon=-87.6,
    lat=41.8, has_location=True, updated_at=dt.datetime(2018, 1, 10, 12, 0), batch_id=1,
    loaded_at=None, primary_type="OTHER OFFENSE",
)

FBI_OF = {"0110": "01A", "0130": "01A", "0141": "01B", "0142": "01B", "041A": "04B",
          "041B": "04B", "0450": "04B", "031A": "03", "0320": "03", "051A": "04A", "0486": "08B",
          "0820": "06", "143A": "15"}
TYPE_OF = {"0110": "HOMICIDE", "0130": "HOMICIDE", "0141": "HOMICIDE", "0142": "HOMICIDE",
           "041A": "BATTERY", "041B": "BATTERY", "0450": "BATTERY", "0486": "BATTERY",
           "031A": "ROBBERY", "0320": "ROBBERY", "051A": "ASSAULT", "0820": "THEFT",
           "143A": "WEAPONS VIOLATION"}


def row(id, occurred, iucr, **kw) -> dict:
    r = dict(DEFAULTS)
    r.update(id=str(id), occurred_local=occurred if isinstance(occurred, dt.datetime)
             else dt.datetime.fromisoformat(occurred), iucr=iucr,
             fbi_code=FBI_OF.get(iucr, "26"), primary_type=TYPE_OF.get(iucr, "OTHER OFFENSE"))
    r.update(kw)
    return r


def insert(store: Store, rows: list[dict], table: str = "incidents") -> None:
    cols = list(INCIDENT_COLUMN_NAMES)
    extra = ["superseded_at", "superseded_by_batch"] if table == "incident_history" else []
    ph = ", ".join("?" for _ in cols + extra)
    for r in rows:
        store.con.execute(f"INSERT INTO {table} ({', '.join(cols + extra)}) VALUES ({ph})",
                          [r.get(c) for c in cols + extra])


def add_batch(store: Store, batch_id: int, origin: str, when: str, covers=("2000-01-01", None)) -> None:
    """A finished file batch taken at ``when``; hand-made rows do not pass through an importer, so
    the batch declares what it covers: all offense types from ``covers[0]`` to ``covers[1]``
    (default: the day before ``when``), extracted at ``when``."""
    store.con.execute(
        "INSERT INTO batches (batch_id, source, kind, origin, started_at, finished_at, status) "
        "VALUES (?, 'chicago', 'file', ?, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ, 'done')",
        [batch_id, origin, when, when])
    declare_covered(store, batch_id, when, covers)


def declare_covered(store: Store, batch_id: int, when: str, covers=("2000-01-01", None), source="chicago"):
    from crimescope.store.coverage import declare_batch

    taken = dt.datetime.fromisoformat(when[:19])
    last = covers[1] or (taken.date() - dt.timedelta(days=1))
    declare_batch(store, source, batch_id, covers[0], last, extracted_at=taken)


def build_tiny_store() -> Store:
    """A store with a handful of hand-made rows; expectations are counted by hand in each test.

    Rows (id: local time, IUCR, district):
      1: 2016-01-01 00:00 0110 d1      2: 2016-03-01 10:00 0110 d2 (case C2)
      3: 2016-03-01 10:00 0110 d2 (case C2, second victim)   4: 2016-02-29 23:59 0142 d1
      5: 2017-01-01 00:00 041A d1      6: 2017-02-28 12:00 0110 d3
      7: 2017-03-01 00:00 041B d2      8: 2017-03-08 23:59 0110 d2 (arrest)
      9: 2017-03-09 00:00 0110 d1     10: 2016-03-05 08:00 031A d1 (arrest)
     11: 2017-03-05 08:00 031A NULL district   12: 2017-03-06 09:00 0820 d1
     13: 2015-03-01 12:00 0110 d1     14: 2017-12-31 23:59 0320 d2
    """
    s = Store(":memory:")
    add_batch(s, 1, "crimes.csv", "2018-01-10 12:00:00+00")
    insert(s, [
        row(1, "2016-01-01 00:00", "0110", case_number="C1"),
        row(2, "2016-03-01 10:00", "0110", district=2, case_number="C2"),
        row(3, "2016-03-01 10:00", "0110", district=2, case_number="C2"),
        row(4, "2016-02-29 23:59", "0142", case_number="C4"),
        row(5, "2017-01-01 00:00", "041A"),
        row(6, "2017-02-28 12:00", "0110", district=3, case_number="C6"),
        row(7, "2017-03-01 00:00", "041B", district=2),
        row(8, "2017-03-08 23:59", "0110", district=2, arrest=True, case_number="C8"),
        row(9, "2017-03-09 00:00", "0110", case_number="C9"),
        row(10, "2016-03-05 08:00", "031A", arrest=True),
        row(11, "2017-03-05 08:00", "031A", district=None, beat=None),
        row(12, "2017-03-06 09:00", "0820"),
        row(13, "2015-03-01 12:00", "0110", case_number="C13"),
        row(14, "2017-12-31 23:59", "0320", district=2),
    ])
    return s


def same_answer(f, plain, fast, *args, **kw):
    """``f(plain)`` and ``f(fast)`` are equal (a DataFrame with its attrs, or a result's table and
    meta), or both refuse with the same error; returns the fast answer (None after a refusal)."""
    import pandas as pd
    import pytest

    try:
        want = f(plain, *args, **kw)
    except Exception as exc:  # noqa: BLE001 - the fast path must refuse the same way
        with pytest.raises(type(exc)) as got:
            f(fast, *args, **kw)
        assert str(got.value) == str(exc)
        return None
    got = f(fast, *args, **kw)
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want)
        assert got.attrs == want.attrs
    else:
        pd.testing.assert_frame_equal(got.table, want.table)
        assert got.meta == want.meta
    return got
