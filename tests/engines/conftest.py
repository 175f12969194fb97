"""Fixtures of the engine tests: one SparkSession for the whole test session (Spark
starts in tens of seconds), the 2016-2017 shared files in a temporary store and its
Parquet export, and tiny hand-made stores."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from _shared import CRIMES, SHARED


def spark_missing() -> str | None:
    """Why Spark tests cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'crimescope[spark]')"
    if shutil.which("java") is None:
        return "Java is not installed (Spark needs Java 17+)"
    return None


@pytest.fixture(scope="session")
def spark():
    """A local[2] SparkSession shared by every test that needs Spark."""
    why = spark_missing()
    if why:
        pytest.skip(why)
    from crimescope.engines.spark import spark_session

    session = spark_session("local[2]", shuffle_partitions=4, driver_memory="1g",
                            app_name="crimescope-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def store_1617(tmp_path_factory):
    """Path of a store holding the shared 2016 and 2017 Chicago crime files."""
    if SHARED is None:
        pytest.skip("../shared/data not present")
    from crimescope.sources.chicago import ingest_files
    from crimescope.store import Store

    files = [CRIMES / "2016.csv.gz", CRIMES / "2017.csv.gz"]
    path = tmp_path_factory.mktemp("store1617") / "s.duckdb"
    with Store(path) as store:
        results = ingest_files(store, files)
    assert all(hasattr(r, "batch_id") for r in results), results
    return path


@pytest.fixture(scope="session")
def export_1617(store_1617, tmp_path_factory):
    """Parquet export of ``store_1617``."""
    from crimescope.engines import export_parquet
    from crimescope.store import Store

    out = tmp_path_factory.mktemp("export1617") / "pq"
    with Store(store_1617, read_only=True) as store:
        export_parquet(store, out)
    return out
