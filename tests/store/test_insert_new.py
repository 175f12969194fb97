"""The insert-only path (store/upsert.py ``all_new`` + ``insert_new``) against the general upsert.

A file whose good rows are all new records (no id repeated in the scan, none stored) is
inserted without the upsert's join. These tests ingest the same files into two stores, one
with the insert-only path and one forced through the general upsert, and compare every
table whole (all columns but the wall-clock times of the ingest), on hand-made files with
revisions and bad rows and on real rows of the shared 2017 export.
"""

from __future__ import annotations

import pytest

from crimescope.sources import chicago
from crimescope.sources.chicago import ingest_files
from crimescope.store import Store
from crimescope.store import upsert
from crimescope.store.upsert import all_new

from _shared import cut_crimes, requires_shared
from chicago_rows import HEADER20, R1, R2, row

#: every column of each table but the times at which the ingest ran
COMPARED = {
    "incidents": "* EXCLUDE (loaded_at)",
    "incident_history": "* EXCLUDE (loaded_at, superseded_at)",
    "rejected": "* EXCLUDE (rejected_at)",
    "batches": "* EXCLUDE (started_at, finished_at)",
    "coverage": "*",
    "sync_state": "*",
}


def write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def tables(store: Store) -> dict[str, list[tuple]]:
    return {t: sorted(store.con.execute(f"SELECT {cols} FROM {t}").fetchall(), key=repr)
            for t, cols in COMPARED.items()}


def ingest_both(tmp_path, monkeypatch, steps):
    """Ingest each step (a list of files, one ``ingest_files`` call) into a store with the
    insert-only path and into one without; returns both stores' tables, the batches of
    each call, and how many files took the insert-only path."""
    calls = []
    real_insert_new = upsert.insert_new

    def counting_insert_new(*a, **k):
        calls.append(a[2].origin)
        return real_insert_new(*a, **k)

    out = []
    for fast in (True, False):
        with monkeypatch.context() as m:
            m.setattr(chicago, "insert_new", counting_insert_new)
            m.setattr(chicago, "WRITE_ONCE", False)  # a scan into an empty store: tests/store/test_write_once.py
            if not fast:
                m.setattr(chicago, "all_new", lambda *a, **k: False)
            with Store(tmp_path / f"{'fast' if fast else 'upsert'}.duckdb") as s:
                res = [[b.as_dict() for b in ingest_files(s, files)] for files in steps]
                out.append((tables(s), res))
    (fast_tables, fast_res), (slow_tables, slow_res) = out
    return fast_tables, slow_tables, fast_res, slow_res, calls


def test_same_store_with_revisions_and_bad_rows(tmp_path, monkeypatch):
    first = write(tmp_path / "a.csv", [
        HEADER20, R1, R2,
        row(id_="1", updated="01/01/2017 10:00:00 AM"),
        row(id_="2", date="13/45/2016 99:00:00 PM"),      # bad date
        row(id_="3") + ",extra",                          # too many fields (structural)
        row(id_="4", x="12a4"),                           # non-numeric coordinate
        "5,HZ5,07/04/2016",                               # too few fields (structural)
        row(id_=""),                                      # empty id
        row(id_="6", iucr="0110", ptype="HOMICIDE", fbi="01A"),
        row(id_="7", district="x12"),                     # bad district
    ])
    second = write(tmp_path / "b.csv", [HEADER20, row(id_="20"), row(id_="21", ptype="ROBBERY", iucr="031A")])
    # revises ids of the first file: newer, equal, older; and repeats one id inside the file
    revisions = write(tmp_path / "c.csv", [
        HEADER20,
        row(id_="1", iucr="0110", ptype="HOMICIDE", fbi="01A", updated="03/01/2017 10:00:00 AM"),
        row(id_="6", iucr="0486", updated="02/10/2018 03:50:01 PM"),
        row(id_="20", updated="01/01/2010 10:00:00 AM"),
        row(id_="30", updated="01/01/2017 10:00:00 AM"),
        row(id_="30", updated="02/01/2017 10:00:00 AM"),
        row(id_="31", arrest="maybe"),                    # bad boolean
    ])
    later = write(tmp_path / "d.csv", [HEADER20, row(id_="40"), row(id_="41", date="bad"), row(id_="42")])
    # one scan of two files whose ids overlap each other: the second revises the first
    overlap_a = write(tmp_path / "e.csv", [HEADER20, row(id_="50", updated="01/01/2017 10:00:00 AM")])
    overlap_b = write(tmp_path / "f.csv", [HEADER20, row(id_="50", updated="05/01/2017 10:00:00 AM", iucr="0110"),
                                           row(id_="51")])
    steps = [[first, second], [revisions], [later], [overlap_a, overlap_b]]
    fast, slow, fast_res, slow_res, calls = ingest_both(tmp_path, monkeypatch, steps)
    # the insert-only path was taken for the new files only: the first scan, and the later file
    # into a store that holds other ids
    assert sorted(calls) == sorted(str(p.resolve()) for p in (first, second, later))
    assert fast_res == slow_res
    for t in COMPARED:
        assert fast[t] == slow[t], t
    # and the contents are what the rules say (not merely equal to each other)
    assert len(fast["rejected"]) == 8
    assert len(fast["incident_history"]) == 3  # id 1 (newer came), id 30's first version, id 50's first
    counts = [(r["inserted"], r["updated"], r["unchanged"], r["rejected"]) for step in fast_res for r in step]
    assert counts == [(4, 0, 0, 6), (2, 0, 0, 0), (1, 2, 2, 1), (2, 0, 0, 1), (1, 0, 0, 0), (1, 1, 0, 0)]


@requires_shared
def test_same_store_on_real_rows(tmp_path, monkeypatch):
    a = cut_crimes(tmp_path / "a.csv", 0, 40_000)
    b = cut_crimes(tmp_path / "b.csv", 40_000, 70_000)
    # an extract taken later: overlapping the second, with some rows revised
    c = cut_crimes(tmp_path / "c.csv", 60_000, 80_000)
    lines = c.read_text(encoding="utf-8").splitlines()
    lines[1:200] = [ln.replace("/2018 ", "/2019 ") for ln in lines[1:200]]  # `Updated On` a year later
    c.write_text("\n".join(lines) + "\nnot,a,row\n", encoding="utf-8")
    fast, slow, fast_res, slow_res, calls = ingest_both(tmp_path, monkeypatch, [[a, b], [c]])
    assert len(calls) == 2
    assert fast_res == slow_res
    for t in COMPARED:
        assert fast[t] == slow[t], t
    assert len(fast["incidents"]) == 80_000
    assert fast_res[1][0]["updated"] > 0 and fast_res[1][0]["rejected"] == 1


# -- all_new on hand-built staged tables ---------------------------------------------------


@pytest.fixture
def store():
    s = Store(":memory:")
    yield s
    s.close()


def staged(store, rows):
    """A staged table of (id, _reason) rows of source chicago."""
    store.con.execute("CREATE OR REPLACE TEMP TABLE _st (source VARCHAR, id VARCHAR, _reason VARCHAR)")
    for id_, reason in rows:
        store.con.execute("INSERT INTO _st VALUES ('chicago', ?, ?)", [id_, reason])
    return "_st"


@pytest.mark.parametrize("int_key", [None, "CAST(id AS BIGINT)"])
def test_all_new_answers(store, int_key):
    assert all_new(store, staged(store, [("1", None), ("2", None), ("3", None)]), int_key=int_key)
    assert not all_new(store, staged(store, [("1", None), ("2", None), ("1", None)]), int_key=int_key)
    # a repeated id on a rejected row is no repeat of a record
    assert all_new(store, staged(store, [("1", None), ("1", "bad date")]), int_key=int_key)
    assert all_new(store, staged(store, []), int_key=int_key)
    # ids far apart (a range wider than the bit string) are checked by hashing
    assert all_new(store, staged(store, [("1", None), (str(2**40), None)]), int_key=int_key)
    assert not all_new(store, staged(store, [("1", None), (str(2**40), None), ("1", None)]), int_key=int_key)
    # an id already stored
    store.con.execute("INSERT INTO incidents (source, id) VALUES ('chicago', '2')")
    assert not all_new(store, staged(store, [("1", None), ("2", None)]), int_key=int_key)
    # ... found also when it is not among the first ids looked up
    many = [(str(k), None) for k in range(100, 140)] + [("2", None)]
    assert not all_new(store, staged(store, many), int_key=int_key)
    # ... of another source is no match
    assert all_new(store, staged(store, [("1", None)]), int_key=int_key)
    store.con.execute("DELETE FROM incidents")
    store.con.execute("INSERT INTO incidents (source, id) VALUES ('nyc_shootings', '1')")
    assert all_new(store, staged(store, [("1", None)]), int_key=int_key)


def test_int_key_errs_only_towards_the_upsert(store):
    # '012' and '12' are two ids as text; as numbers they collide, so the check says "not all new"
    st = staged(store, [("012", None), ("12", None)])
    assert all_new(store, st)
    assert not all_new(store, st, int_key="CAST(id AS BIGINT)")
