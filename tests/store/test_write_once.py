"""The write-once path (sources/chicago.py ``_ingest_once``) against the general upsert.

A scan into a store without incidents is read straight into a new ``incidents`` table (its
rows written once), the rejects, batches and coverage done in the same transaction. These
tests ingest the same files into two stores, one allowed the write-once path and one forced
through the general upsert (``WRITE_ONCE`` off, ``all_new`` false), and compare every table
whole (all columns but the wall-clock times of the ingest): hand-made files with value and
structural rejects, a scan whose files share an id, a truncated gzip file among good ones,
and real rows of the shared 2017 export.
"""

from __future__ import annotations

import gzip

from crimescope.errors import IngestError
from crimescope.sources import chicago
from crimescope.sources.chicago import ingest_files
from crimescope.store import Store

from _shared import cut_crimes, requires_shared
from chicago_rows import HEADER20, R1, R2, row
from test_insert_new import COMPARED, tables, write


def ingest_both(tmp_path, monkeypatch, steps):
    """Ingest each step (one ``ingest_files`` call) into a store that may take the write-once
    path and into one that may not; returns both stores' tables, the results of each call
    (a Batch's dict or an IngestError's text) and how many scans the write-once path committed."""
    taken = []
    real = chicago._ingest_once

    def counting(*a, **k):
        out = real(*a, **k)
        taken.append(out is not None)
        return out

    def res(r):
        return str(r) if isinstance(r, IngestError) else r.as_dict()

    out = []
    for once in (True, False):
        with monkeypatch.context() as m:
            m.setattr(chicago, "_ingest_once", counting)
            if not once:
                m.setattr(chicago, "WRITE_ONCE", False)
                m.setattr(chicago, "all_new", lambda *a, **k: False)
            with Store(tmp_path / f"{'once' if once else 'upsert'}.duckdb") as s:
                results = [[res(r) for r in ingest_files(s, files)] for files in steps]
                (leftover,) = s.con.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_incidents_new'").fetchone()
                assert leftover == 0
                out.append((tables(s), results))
    (once_t, once_r), (slow_t, slow_r) = out
    return once_t, slow_t, once_r, slow_r, taken


def test_same_store_with_bad_rows(tmp_path, monkeypatch):
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
    second = write(tmp_path / "b.csv", [HEADER20, row(id_="20"), "21,HZ21", row(id_="22", arrest="maybe")])
    third = write(tmp_path / "c.csv", [HEADER20, row(id_="30", ptype="ROBBERY", iucr="031A")])
    later = write(tmp_path / "d.csv", [HEADER20, row(id_="1", updated="03/01/2017 10:00:00 AM"), row(id_="40")])
    steps = [[first, second, third], [later]]
    once, slow, once_r, slow_r, taken = ingest_both(tmp_path, monkeypatch, steps)
    assert taken == [True]  # the first scan; the later file goes into a store that holds rows
    assert once_r == slow_r
    for t in COMPARED:
        assert once[t] == slow[t], t
    # the contents are what the rules say, not merely equal to each other
    counts = [(r["rows_read"], r["inserted"], r["updated"], r["unchanged"], r["rejected"])
              for step in once_r for r in step]
    assert counts == [(10, 4, 0, 0, 6), (3, 1, 0, 0, 2), (1, 1, 0, 0, 0), (2, 1, 1, 0, 0)]
    lines = sorted((o.rsplit("/", 1)[1], n) for o, n in
                   [(r[2], r[3]) for r in once["rejected"]])
    assert lines == [("a.csv", 5), ("a.csv", 6), ("a.csv", 7), ("a.csv", 8), ("a.csv", 9), ("a.csv", 11),
                     ("b.csv", 3), ("b.csv", 4)]
    assert len(once["incidents"]) == 7 and len(once["incident_history"]) == 1
    assert {r[1] for r in once["coverage"]} == {r[0] for r in once["batches"]}


def test_shared_id_falls_back(tmp_path, monkeypatch):
    # two files of one scan carry versions of one id: the versions must be ordered, so the scan
    # is rolled back and takes the general path (the same store as without the write-once path)
    a = write(tmp_path / "a.csv", [HEADER20, row(id_="50", updated="01/01/2017 10:00:00 AM"), row(id_="52")])
    b = write(tmp_path / "b.csv", [HEADER20, row(id_="50", updated="05/01/2017 10:00:00 AM", iucr="0110"),
                                   row(id_="51", date="bad")])
    once, slow, once_r, slow_r, taken = ingest_both(tmp_path, monkeypatch, [[a, b]])
    assert taken == [False]
    assert once_r == slow_r
    for t in COMPARED:
        assert once[t] == slow[t], t
    assert [(r["inserted"], r["updated"], r["rejected"]) for r in once_r[0]] == [(2, 0, 0), (0, 1, 1)]
    assert [b[0] for b in sorted(once["batches"])] == [1, 2]  # no batch ids drawn by the rolled-back try


def test_truncated_gzip_refused_alone(tmp_path, monkeypatch):
    good = write(tmp_path / "a.csv", [HEADER20, R1, row(id_="7", district="x12")])
    body = "\n".join([HEADER20] + [row(id_=str(100 + k)) for k in range(3000)]) + "\n"
    data = gzip.compress(body.encode())
    bad = tmp_path / "b.csv.gz"
    bad.write_bytes(data[: len(data) * 2 // 3])
    good_gz = tmp_path / "c.csv.gz"
    good_gz.write_bytes(gzip.compress(("\n".join([HEADER20, row(id_="9000"), R2]) + "\n").encode()))
    once, slow, once_r, slow_r, taken = ingest_both(tmp_path, monkeypatch, [[good, bad, good_gz]])
    assert taken[0] is False  # the scan of the three; then the files are read one by one
    assert once_r == slow_r
    for t in COMPARED:
        assert once[t] == slow[t], t
    assert "gzip" in once_r[0][1]
    assert not any(r[2].endswith("b.csv.gz") for r in once["rejected"])
    assert [r["rows_read"] for r in (once_r[0][0], once_r[0][2])] == [2, 2]


@requires_shared
def test_same_store_on_real_rows(tmp_path, monkeypatch):
    a = cut_crimes(tmp_path / "a.csv", 0, 40_000)
    b = cut_crimes(tmp_path / "b.csv", 40_000, 70_000)
    lines = b.read_text(encoding="utf-8").splitlines()
    lines.insert(500, "not,a,row")
    lines[900] = lines[900].replace(",false,", ",maybe,", 1)
    b.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # an extract taken later, overlapping the second, some rows revised: the general path
    c = cut_crimes(tmp_path / "c.csv", 60_000, 80_000)
    lines = c.read_text(encoding="utf-8").splitlines()
    lines[1:200] = [ln.replace("/2018 ", "/2019 ") for ln in lines[1:200]]
    c.write_text("\n".join(lines) + "\n", encoding="utf-8")
    once, slow, once_r, slow_r, taken = ingest_both(tmp_path, monkeypatch, [[a, b], [c]])
    assert taken == [True]
    assert once_r == slow_r
    for t in COMPARED:
        assert once[t] == slow[t], t
    assert len(once["incidents"]) == 80_000 - 1
    assert once_r[0][1]["rejected"] == 2 and once_r[1][0]["updated"] > 0
