"""The Parquet export: layout, round trip, refusals; SparkSource's metadata side (no Spark)."""

from __future__ import annotations

import datetime as dt
import json
import sys

import duckdb
import pandas as pd
import pytest

from crimescope.engines import export_parquet, read_manifest
from crimescope.engines.parquet import MANIFEST
from crimescope.errors import CrimescopeError, ParameterError, StoreError
from crimescope.store import INCIDENT_COLUMN_NAMES, Store
from engine_fixtures import add_batch, insert_rows, make_row


@pytest.fixture
def tiny(tmp_path):
    """Rows in 2016, 2017, one without an occurrence time, one NYC row; one superseded version."""
    s = Store(tmp_path / "tiny.duckdb")
    add_batch(s, 1, "2018-01-10 12:00:00+00")
    add_batch(s, 2, "2018-02-10 12:00:00+00")
    insert_rows(s, [
        make_row(1, "2016-01-04 00:00"),
        make_row(2, "2016-12-31 23:59:59", district=None),
        make_row(3, "2017-01-01 00:00", batch_id=2, updated_at=dt.datetime(2018, 2, 1)),
        make_row(4, "2017-06-01 12:00", occurred_local=None),
        make_row(5, "2017-06-01 12:00", source="nyc_shootings", crs="EPSG:2263"),
    ])
    insert_rows(s, [dict(make_row(3, "2016-12-31 23:00"), superseded_at=dt.datetime(2018, 2, 10),
                         superseded_by_batch=2)], table="incident_history")
    yield s
    s.close()


def test_layout_and_manifest(tiny, tmp_path):
    out = tmp_path / "pq"
    res = export_parquet(tiny, out)
    assert res.rows == {"incidents": 5, "incident_history": 1, "batches": 2, "coverage": 2}
    parts = sorted(p.relative_to(out / "incidents").parent.as_posix()
                   for p in (out / "incidents").rglob("*.parquet"))
    assert parts == ["source=chicago/year=0", "source=chicago/year=2016", "source=chicago/year=2017",
                     "source=nyc_shootings/year=2017"]
    assert sorted(res.partitions) == [
        ("incident_history", "chicago", 2016, 1),
        ("incidents", "chicago", 0, 1), ("incidents", "chicago", 2016, 2),
        ("incidents", "chicago", 2017, 1), ("incidents", "nyc_shootings", 2017, 1)]
    m = json.loads((out / MANIFEST).read_text())
    assert m == read_manifest(out)
    assert m["sources"] == ["chicago", "nyc_shootings"] and m["partitioning"] == ["source", "year"]
    assert (out / "batches.parquet").exists()
    assert not list(tmp_path.glob(".pq.tmp-*"))  # the temporary folder was renamed


def test_round_trip_is_exact(tiny, tmp_path):
    export_parquet(tiny, tmp_path / "pq")
    con = duckdb.connect()
    back = con.execute(
        f"SELECT {', '.join(INCIDENT_COLUMN_NAMES)} FROM read_parquet('{tmp_path}/pq/incidents/**/*.parquet', "
        "hive_partitioning = true) ORDER BY source, id").df()
    orig = tiny.con.execute(f"SELECT * FROM incidents ORDER BY source, id").df()
    pd.testing.assert_frame_equal(back, orig, check_dtype=False)
    assert con.execute(f"DESCRIBE SELECT * FROM read_parquet('{tmp_path}/pq/incidents/**/*.parquet')").df() \
        .set_index("column_name")["column_type"].to_dict()["occurred_local"] == "TIMESTAMP"


def test_source_filter(tiny, tmp_path):
    res = export_parquet(tiny, tmp_path / "pq", sources=["nyc_shootings"])
    assert res.rows["incidents"] == 1 and res.manifest["sources"] == ["nyc_shootings"]
    with pytest.raises(ParameterError, match="not in the store: atlantis"):
        export_parquet(tiny, tmp_path / "pq2", sources=["atlantis"])


def test_refuses_to_overwrite_by_default(tiny, tmp_path):
    out = tmp_path / "pq"
    export_parquet(tiny, out)
    with pytest.raises(ParameterError, match="not empty"):
        export_parquet(tiny, out)
    insert_rows(tiny, [make_row(9, "2017-07-01 00:00")])
    assert export_parquet(tiny, out, overwrite=True).rows["incidents"] == 6
    assert read_manifest(out)["rows"]["incidents"] == 6
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("precious")
    with pytest.raises(ParameterError, match="holds no crimescope export"):
        export_parquet(tiny, other, overwrite=True)
    assert (other / "notes.txt").read_text() == "precious"


def test_bad_parameters(tiny, tmp_path):
    with pytest.raises(ParameterError, match="compression"):
        export_parquet(tiny, tmp_path / "a", compression="lz5")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ParameterError, match="not a folder"):
        export_parquet(tiny, f)


def test_manifest_checks(tmp_path):
    with pytest.raises(StoreError, match="not a crimescope Parquet export"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"format": 99, "schema_version": 1}))
    with pytest.raises(StoreError, match="export again"):
        read_manifest(tmp_path)


def test_spark_source_metadata_matches_store(tiny, tmp_path):
    """The driver-side DuckDB connection answers the counting layer's metadata queries alike."""
    from crimescope.engines import SparkSource
    from crimescope.stats.counts import last_complete_day
    from crimescope.stats.provenance import data_vintage

    export_parquet(tiny, tmp_path / "pq")
    src = SparkSource(tmp_path / "pq")  # no Spark session is started for metadata
    try:
        assert src._session is None
        assert last_complete_day(src) == last_complete_day(tiny)
        assert data_vintage(src) == data_vintage(tiny)
        assert data_vintage(src, vintage="2018-01-15") == data_vintage(tiny, vintage="2018-01-15")
        assert data_vintage(src, "nyc_shootings", batch=1) == data_vintage(tiny, "nyc_shootings", batch=1)
        assert src._session is None
    finally:
        src.close()


def test_spark_source_needs_an_export(tmp_path):
    from crimescope.engines import SparkSource

    with pytest.raises(StoreError, match="export-parquet"):
        SparkSource(tmp_path)


def test_missing_pyspark_is_a_clear_error(monkeypatch):
    from crimescope.engines.spark import EngineError, spark_session

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(EngineError, match=r"pip install 'crimescope\[spark\]'") as exc:
        spark_session()
    assert isinstance(exc.value, CrimescopeError)


def test_missing_java_is_a_clear_error(monkeypatch):
    pytest.importorskip("pyspark")
    from crimescope.engines import spark as mod

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(mod.shutil, "which", lambda name: None)
    with pytest.raises(mod.EngineError, match="Java 17"):
        mod.spark_session("local[1]")


def test_open_source_checks_the_engine(tmp_path):
    from crimescope.engines import open_source

    with pytest.raises(ParameterError, match="not one of: duckdb, spark"):
        open_source("presto")
    with pytest.raises(ParameterError, match="--data"):
        open_source("spark")


def test_lazy_import():
    """Importing the engines package does not import pyspark."""
    import subprocess

    code = ("import sys, crimescope.engines as e; e.ENGINES; "
            "import crimescope.engines.spark; assert 'pyspark' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names_resolve():
    import crimescope.engines as e

    assert set(e.__all__) == {"ENGINES", "open_source", "export_parquet", "ExportResult", "read_manifest",
                              "SparkSource", "spark_session", "EngineError", "cell_counts", "cell_counts_expr"}
    for name in e.__all__:
        assert getattr(e, name) is not None
    with pytest.raises(AttributeError):
        e.no_such_thing


def test_empty_store(tmp_path):
    """An empty store exports to a manifest with zero rows; the metadata side still answers."""
    from crimescope.engines import SparkSource

    with Store(tmp_path / "e.duckdb") as s:
        res = export_parquet(s, tmp_path / "pq")
    assert res.rows == {"incidents": 0, "incident_history": 0, "batches": 0, "coverage": 0} and res.partitions == []
    with SparkSource(tmp_path / "pq") as src:
        assert src.con.execute("SELECT count(*) FROM incidents").fetchone() == (0,)
        assert [r[0] for r in src.con.execute("DESCRIBE incidents").fetchall()] == list(INCIDENT_COLUMN_NAMES)
