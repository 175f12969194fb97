"""Fuzzing the importer with mangled lines and files: no crash, every row accounted for."""

from __future__ import annotations

import gzip

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crimescope.errors import IngestError
from crimescope.sources.chicago import ingest_file
from crimescope.store import Store

from chicago_rows import HEADER20, R1, R2, row

BASE = [R1, R2] + [row(id_=str(100 + i)) for i in range(6)]
PRINTABLE = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='\r\n"\x00'),
                    max_size=12)


@st.composite
def mangled_line(draw, line):
    fields = line.split(",")
    op = draw(st.sampled_from(["keep", "replace", "drop", "add", "garbage", "truncate"]))
    if op == "replace":
        i = draw(st.integers(0, len(fields) - 1))
        fields[i] = draw(PRINTABLE).replace(",", ";")
    elif op == "drop":
        del fields[draw(st.integers(0, len(fields) - 1))]
    elif op == "add":
        fields.insert(draw(st.integers(0, len(fields))), draw(PRINTABLE).replace(",", ";"))
    elif op == "garbage":
        return draw(PRINTABLE.filter(lambda s: s.strip() != ""))
    elif op == "truncate":
        return line[: draw(st.integers(1, len(line)))]
    return ",".join(fields)


@st.composite
def mangled_file(draw):
    lines = [draw(mangled_line(line)) for line in BASE]
    return lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=mangled_file())
def test_rows_read_equal_loaded_plus_rejected(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fz") / "f.csv"
    path.write_text("\n".join([HEADER20] + lines) + "\n")
    with Store(":memory:") as store:
        b = ingest_file(store, path)
        (n_inc,) = store.con.execute("SELECT count(*) FROM incidents").fetchone()
        (n_rej,) = store.con.execute("SELECT count(*) FROM rejected").fetchone()
    assert b.rows_read == len(lines)
    assert b.rows_read == b.inserted + b.updated + b.unchanged + b.rejected
    assert b.rejected == n_rej
    assert n_inc == b.inserted  # ids may repeat in the input; each is stored once
    assert b.inserted + b.updated + b.unchanged == b.rows_read - n_rej


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=0, max_size=400), gz=st.booleans())
def test_arbitrary_bytes_never_crash(tmp_path_factory, data, gz):
    path = tmp_path_factory.mktemp("fb") / ("f.csv.gz" if gz else "f.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    with Store(":memory:") as store:
        try:
            b = ingest_file(store, path)
        except IngestError as exc:
            assert str(path) in str(exc)
            assert store.con.execute("SELECT count(*) FROM incidents").fetchone() == (0,)
        else:
            assert b.rows_read == b.inserted + b.updated + b.unchanged + b.rejected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=10, max_value=10_000))
def test_truncated_gzip_anywhere_is_refused(tmp_path_factory, cut):
    d = tmp_path_factory.mktemp("gz")
    full = gzip.compress(("\n".join([HEADER20] + [row(id_=str(i)) for i in range(1, 400)]) + "\n").encode())
    path = d / "t.csv.gz"
    path.write_bytes(full[: min(cut, len(full) - 1)])
    with Store(":memory:") as store:
        try:
            ingest_file(store, path)
        except IngestError:
            pass
        else:
            raise AssertionError("a truncated gzip file was accepted")
        assert store.con.execute("SELECT count(*) FROM incidents").fetchone() == (0,)


def test_header_with_bare_carriage_return_is_refused(tmp_path):
    """csv's own error (a bare CR inside an unquoted field) becomes an IngestError naming the file."""
    path = tmp_path / "cr.csv"
    path.write_bytes(b'ID,Case\rNumber"x\n1,2\n')
    with Store(":memory:") as store:
        with pytest.raises(IngestError, match="header is not a CSV line"):
            ingest_file(store, path)
        assert store.con.execute("SELECT count(*) FROM incidents").fetchone() == (0,)
