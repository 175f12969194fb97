"""store/sqltext.py: values written into SQL text read back as the same values in DuckDB,
placeholders inside quotes are left alone, and the ingest path imports neither pandas nor
NumPy (the reason the module exists)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from crimescope.store.sqltext import bind, literal, values_rows

ROOT = Path(__file__).resolve().parents[2]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.booleans(), st.integers(-2**62, 2**62),
                 st.floats(allow_nan=False, allow_infinity=True),
                 st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))),
                 st.dates(), st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))))
def test_literal_round_trips_through_duckdb(value):
    con = duckdb.connect()
    (got,) = con.execute("SELECT " + literal(value)).fetchone()
    assert got == value and type(got) is type(value)


def test_literal_special_values_and_refusals():
    con = duckdb.connect()
    assert con.execute(f"SELECT isnan({literal(float('nan'))})").fetchone() == (True,)
    aware = dt.datetime(2017, 3, 8, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    (got,) = con.execute(f"SELECT epoch({literal(aware)})").fetchone()
    assert got == aware.timestamp()
    with pytest.raises(TypeError, match="no SQL literal"):
        literal(object())
    with pytest.raises(ValueError, match="NUL"):
        literal("a\x00b")


def test_bind_skips_quotes_and_counts_placeholders():
    sql = bind("SELECT ?, '?', 'it''s ?', ? AS \"col?\"", ["a'b", 3])
    assert sql == "SELECT 'a''b', '?', 'it''s ?', 3 AS \"col?\""
    assert duckdb.connect().execute(sql).fetchone() == ("a'b", "?", "it's ?", 3)
    with pytest.raises(ValueError, match="more placeholders"):
        bind("SELECT ?, ?", [1])
    with pytest.raises(ValueError, match="2 values for 1"):
        bind("SELECT ?", [1, 2])


def test_values_rows_inserts_what_parameters_would():
    rows = [["chicago", 1, dt.date(2012, 1, 1), None, dt.datetime(2018, 1, 10, 12)],
            ["o'hare", None, dt.date(2017, 12, 31), 5, None]]
    a, b = duckdb.connect(), duckdb.connect()
    for con in (a, b):
        con.execute("CREATE TABLE t (s VARCHAR, i INTEGER, d DATE, n BIGINT, x TIMESTAMP)")
    a.execute("INSERT INTO t VALUES " + values_rows(rows))
    b.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", rows)
    assert a.execute("SELECT * FROM t").fetchall() == b.execute("SELECT * FROM t").fetchall()


def test_ingest_cli_does_not_import_pandas(tmp_path):
    """`crimescope ingest chicago` on a small export, in a fresh interpreter: neither pandas nor
    NumPy is imported (DuckDB's parameter binding would import both)."""
    src = tmp_path / "crimes.csv"
    src.write_text(
        "ID,Case Number,Date,Block,IUCR,Primary Type,Description,Location Description,Arrest,Domestic,"
        "Beat,District,Ward,Community Area,FBI Code,X Coordinate,Y Coordinate,Updated On,Latitude,Longitude\n"
        "1,HX1,01/02/2017 10:00:00 PM,001XX W MAIN ST,0110,HOMICIDE,FIRST DEGREE MURDER,STREET,false,false,"
        "0111,001,42,32,01A,1176000,1900000,01/10/2018 12:00:00 PM,41.88,-87.63\n"
        "2,HX2,not a date,001XX W MAIN ST,0486,BATTERY,DOMESTIC BATTERY SIMPLE,STREET,false,true,"
        "0111,001,42,32,08B,,,01/10/2018 12:00:00 PM,,\n")
    code = ("import sys, runpy; sys.argv = ['crimescope'] + sys.argv[1:]\n"
            "try:\n    runpy.run_module('crimescope.cli.main', run_name='__main__')\n"
            "except SystemExit as e:\n    rc = e.code\n"
            "print('IMPORTED', 'pandas' in sys.modules, 'numpy' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run([sys.executable, "-c", code, "--store", str(tmp_path / "s.duckdb"), "ingest", "chicago",
                          str(src)], capture_output=True, text=True, env=env, timeout=300)
    assert "read 2 · inserted 1 · updated 0 · unchanged 0 · rejected 1" in out.stdout, out.stdout + out.stderr
    assert "IMPORTED False False" in out.stdout, out.stdout + out.stderr
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM incidents").fetchone() == (1,)
        assert con.execute("SELECT reason FROM rejected").fetchone()[0].startswith("unparseable Date")
        assert con.execute("SELECT count(*) FROM coverage").fetchone()[0] >= 1
