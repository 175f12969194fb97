"""The Chicago CSV importer: parsing, versioned upsert, rejected rows, refused files."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone

import pytest

from crimescope.cli.main import main
from crimescope.errors import IngestError
from crimescope.sources.chicago import ingest_file, ingest_files
from crimescope.store import Store

from chicago_rows import HEADER20, HEADER22, R1, R2, row, row22


def write(path, lines, gz=False):
    text = "\n".join(lines) + "\n"
    if gz:
        with gzip.open(path, "wt", newline="") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture
def store():
    s = Store(":memory:")
    yield s
    s.close()


def one(store, sql, params=None):
    return store.con.execute(sql, params or []).fetchone()


def test_real_rows_are_parsed_exactly(store, tmp_path):
    b = ingest_file(store, write(tmp_path / "a.csv", [HEADER20, R1, R2]))
    assert (b.rows_read, b.inserted, b.updated, b.unchanged, b.rejected) == (2, 2, 0, 0, 0)
    r = store.con.execute("SELECT * FROM incidents WHERE id = '10364665'").df().iloc[0]
    assert r.source == "chicago" and r.case_number == "HZ100012"
    assert r.occurred_local == datetime(2016, 1, 1, 0, 1)
    # CST is UTC-6 in January
    assert r.occurred_utc.to_pydatetime() == datetime(2016, 1, 1, 6, 1, tzinfo=timezone.utc)
    assert r.iucr == "1310" and r.fbi_code == "14" and r.primary_type == "CRIMINAL DAMAGE"
    assert (r.beat, r.district, r.ward, r.community_area) == (1011, 10, 24, 29)
    assert not r.arrest and not r.domestic
    assert (r.x, r.y, r.crs) == (1150945.0, 1892794.0, "EPSG:3435")
    assert r.lat == pytest.approx(41.861717546) and r.lon == pytest.approx(-87.721386272)
    assert r.has_location
    assert r.updated_at == datetime(2018, 2, 10, 15, 50, 1)
    assert r.batch_id == b.batch_id


def test_22_column_header_gzip_true_false_and_float_districts(store, tmp_path):
    lines = [HEADER22,
             row22(id_="5", arrest="True", domestic="False", district="12.0", beat="1211", iucr="110"),
             row22(id_="6", x="", y="", lat="", lon="", district="")]
    b = ingest_file(store, write(tmp_path / "b.csv.gz", lines, gz=True))
    assert (b.inserted, b.rejected) == (2, 0)
    got = store.con.execute(
        "SELECT id, arrest, domestic, district, iucr, has_location, x, crs FROM incidents ORDER BY id").fetchall()
    assert got[0] == ("5", True, False, 12, "0110", True, 1170000.0, "EPSG:3435")
    assert got[1] == ("6", False, False, None, "041A", False, None, None)


def test_zero_coordinates_are_kept_but_not_located(store, tmp_path):
    ingest_file(store, write(tmp_path / "z.csv", [HEADER20, row(id_="9", x="0", y="0", lat="36.6", lon="-91.6")]))
    assert one(store, "SELECT x, y, has_location FROM incidents") == (0.0, 0.0, False)


def test_dst_wall_times_convert_to_utc(store, tmp_path):
    lines = [HEADER20,
             row(id_="1", date="07/04/2016 11:30:00 PM"),   # CDT, UTC-5
             row(id_="2", date="11/06/2016 01:30:00 AM"),   # ambiguous: the later (CST) instant, as ICU resolves it
             row(id_="3", date="12/25/2016 12:00:00 PM")]   # CST, UTC-6
    ingest_file(store, write(tmp_path / "d.csv", lines))
    got = dict(store.con.execute(
        "SELECT id, epoch(occurred_utc)::BIGINT FROM incidents").fetchall())
    ts = lambda *a: int(datetime(*a, tzinfo=timezone.utc).timestamp())  # noqa: E731
    assert got == {"1": ts(2016, 7, 5, 4, 30), "2": ts(2016, 11, 6, 7, 30), "3": ts(2016, 12, 25, 18, 0)}


def test_newer_version_replaces_and_older_goes_to_history(store, tmp_path):
    ingest_file(store, write(tmp_path / "v1.csv", [HEADER20, row(id_="7", iucr="041A", updated="01/01/2017 10:00:00 AM")]))
    # same time, different content: an equal version changes nothing
    b = ingest_file(store, write(tmp_path / "v1b.csv", [HEADER20, row(id_="7", iucr="0486", updated="01/01/2017 10:00:00 AM")]))
    assert (b.updated, b.unchanged) == (0, 1)
    # newer: reclassified to homicide
    b = ingest_file(store, write(tmp_path / "v2.csv", [HEADER20, row(id_="7", iucr="0110", ptype="HOMICIDE",
                                                                       fbi="01A", updated="03/01/2017 10:00:00 AM")]))
    assert (b.inserted, b.updated, b.unchanged) == (0, 1, 0)
    # older: ignored
    b = ingest_file(store, write(tmp_path / "v0.csv", [HEADER20, row(id_="7", iucr="0460", updated="06/01/2016 10:00:00 AM")]))
    assert (b.updated, b.unchanged) == (0, 1)
    assert one(store, "SELECT iucr, primary_type FROM incidents WHERE id = '7'") == ("0110", "HOMICIDE")
    hist = store.con.execute("SELECT iucr, updated_at, superseded_by_batch FROM incident_history").fetchall()
    assert hist == [("041A", datetime(2017, 1, 1, 10), 3)]
    assert one(store, "SELECT count(*) FROM incidents") == (1,)


def test_several_versions_in_one_file(store, tmp_path):
    lines = [HEADER20,
             row(id_="8", iucr="041A", updated="01/01/2017 10:00:00 AM"),
             row(id_="8", iucr="0110", updated="03/01/2017 10:00:00 AM"),
             row(id_="8", iucr="0486", updated="02/01/2017 10:00:00 AM"),
             row(id_="8", iucr="0110", updated="03/01/2017 10:00:00 AM")]
    b = ingest_file(store, write(tmp_path / "m.csv", lines))
    assert b.rows_read == 4 == b.inserted + b.updated + b.unchanged + b.rejected
    assert one(store, "SELECT count(*), any_value(iucr) FROM incidents") == (1, "0110")
    assert sorted(r[0] for r in store.con.execute("SELECT iucr FROM incident_history").fetchall()) == ["041A", "0486"]


def test_malformed_rows_are_rejected_with_line_and_reason(store, tmp_path):
    lines = [HEADER20,
             row(id_="1"),                                  # line 2 ok
             row(id_="2", date="13/45/2016 99:00:00 PM"),   # 3 bad date
             row(id_="3") + ",extra",                       # 4 too many fields
             row(id_="4", x="12a4"),                        # 5 non-numeric coordinate
             "5,HZ5,07/04/2016",                             # 6 too few fields
             row(id_=""),                                   # 7 empty id
             row(id_="8", arrest="maybe"),                  # 8 bad boolean
             row(id_="9", district="x12"),                  # 9 bad district
             row(id_="10")]                                 # 10 ok
    path = write(tmp_path / "bad.csv", lines)
    b = ingest_file(store, path)
    assert (b.rows_read, b.inserted, b.rejected) == (9, 2, 7)
    rej = store.con.execute("SELECT line, reason, raw FROM rejected ORDER BY line").fetchall()
    assert [r[0] for r in rej] == [3, 4, 5, 6, 7, 8, 9]
    reasons = {line: reason for line, reason, _ in rej}
    assert reasons[3].startswith("unparseable Date")
    assert "TOO MANY COLUMNS" in reasons[4]
    assert reasons[5] == "non-numeric X Coordinate: 12a4"
    assert "MISSING COLUMNS" in reasons[6]
    assert reasons[7] == "empty ID"
    assert reasons[8].startswith("Arrest is not true/false")
    assert reasons[9] == "non-integer District: x12"
    assert all(raw for _, _, raw in rej)
    assert one(store, "SELECT origin FROM rejected LIMIT 1") == (str(path.resolve()),)
    assert sorted(r[0] for r in store.con.execute("SELECT id FROM incidents").fetchall()) == ["1", "10"]


@pytest.mark.parametrize("content, problem", [
    (b"name,age\nbob,3\n", "not a Chicago crimes export"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
    (b"ID,Case\x00Number\n", "binary data"),
    (b"", "empty file"),
])
def test_files_of_another_format_are_refused_whole(store, tmp_path, content, problem):
    p = tmp_path / "x.csv"
    p.write_bytes(content)
    with pytest.raises(IngestError, match=problem) as ei:
        ingest_file(store, p)
    assert str(p) in str(ei.value)
    assert one(store, "SELECT count(*) FROM batches") == (0,)


def test_truncated_gzip_is_refused_and_nothing_committed(store, tmp_path):
    good = write(tmp_path / "good.csv.gz", [HEADER20] + [row(id_=str(i)) for i in range(1, 3000)], gz=True)
    data = good.read_bytes()
    bad = tmp_path / "cut.csv.gz"
    bad.write_bytes(data[: len(data) // 2])
    other = write(tmp_path / "other.csv", [HEADER20, row(id_="99999")])
    res = ingest_files(store, [bad, other])
    assert isinstance(res[0], IngestError) and "gzip" in str(res[0])
    assert res[1].inserted == 1
    assert one(store, "SELECT count(*) FROM incidents") == (1,)
    assert one(store, "SELECT count(*) FROM batches") == (1,)


def test_cli_exit_status_and_summary(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    good = write(tmp_path / "g.csv", [HEADER20, R1, R2])
    bad_rows = write(tmp_path / "r.csv", [HEADER20, row(id_="3", date="nope")])
    refused = tmp_path / "n.csv"
    refused.write_text("a,b\n1,2\n")
    assert main(["--store", str(db), "ingest", "chicago", str(good)]) == 0
    out = capsys.readouterr().out
    assert "read 2 · inserted 2 · updated 0 · unchanged 0 · rejected 0" in out
    assert main(["--store", str(db), "ingest", "chicago", str(good)]) == 0
    assert "unchanged 2" in capsys.readouterr().out
    assert main(["--store", str(db), "ingest", "chicago", str(bad_rows)]) == 1
    assert main(["--store", str(db), "ingest", "chicago", str(refused), str(good)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(refused) in err and "not a Chicago crimes export" in err


def test_info_json_shape(tmp_path, capsys):
    import json

    db = tmp_path / "s.duckdb"
    main(["--store", str(db), "ingest", "chicago", str(write(tmp_path / "g.csv", [HEADER20, R1, R2, row(id_="3", date="x")]))])
    capsys.readouterr()
    assert main(["--store", str(db), "info", "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["sources"]["chicago"]["incidents"] == 2
    assert info["sources"]["chicago"]["rejected"] == 1
    assert info["sources"]["chicago"]["by_year"] == {"2016": 2}


def test_missing_store_is_a_clear_error(tmp_path, capsys):
    assert main(["--store", str(tmp_path / "none.duckdb"), "info"]) == 2
    assert "no store at" in capsys.readouterr().err


@pytest.mark.parametrize("use_zlib", [False, True])
def test_gzip_check_with_either_inflater(tmp_path, monkeypatch, use_zlib):
    import zlib

    from crimescope.sources import _files

    if use_zlib:
        monkeypatch.setattr(_files, "_inflater", lambda: (zlib, zlib.error))
    full = write(tmp_path / "a.csv.gz", [HEADER20] + [row(id_=str(i)) for i in range(1, 2000)], gz=True)
    data = full.read_bytes()
    assert _files.gzip_problem(full) is None
    two = tmp_path / "two.csv.gz"  # two gzip members, as `cat a.gz b.gz` makes
    two.write_bytes(data + gzip.compress(b"x\n"))
    assert _files.gzip_problem(two) is None
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[:-9])
    assert "truncated" in _files.gzip_problem(cut)
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(data[:20] + b"\xff" * 50 + data[70:])
    assert "gzip" in _files.gzip_problem(bad)
