"""The Spark engine: the counting layer's Ibis expressions on Apache Spark.

:class:`SparkSource` stands where a :class:`crimescope.store.Store` stands for the
counting functions (``count``, ``ytd``, ``compstat``, :func:`cell_counts`):

* ``source.ibis()`` is an Ibis PySpark backend whose ``incidents`` and
  ``incident_history`` tables are the Parquet export (see
  :mod:`crimescope.engines.parquet`), so the aggregations of
  :mod:`crimescope.stats.query` compile to Spark SQL and run on the cluster;
* ``source.con`` is a DuckDB connection on the driver with the same tables as views
  over the export plus the small ``batches`` table. The counting functions use it
  only for metadata (data vintage, last complete day): a max over one or two
  columns of one source's partitions, no aggregation of the data itself.

pyspark is an optional dependency (``pip install 'crimescope[spark]'``), imported
only when a Spark session is made; Spark needs Java 17 or newer.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..errors import EngineError, ParameterError, StoreError
from .parquet import PARTITIONED_TABLES, SINGLE_TABLES, read_manifest

__all__ = ["EngineError", "SparkSource", "spark_session", "DEFAULT_MASTER", "LOCAL_CONF",
           "spark_schema"]

#: Spark master used when none is given: local mode on every core of this machine
DEFAULT_MASTER = "local[*]"

#: log4j2 configuration of the driver: errors only, on stderr
LOG4J_CONF = Path(__file__).with_name("spark-log4j2.properties")

#: configuration applied to a session this module creates (a caller's ``conf`` wins)
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.memory": "1g",
    "spark.sql.parquet.filterPushdown": "true",
    "spark.ui.showConsoleProgress": "false",
}

_SPARK_TYPES = {
    "VARCHAR": "StringType",
    "TIMESTAMP": "TimestampNTZType",   # DuckDB TIMESTAMP: wall time, no zone
    "TIMESTAMPTZ": "TimestampType",    # DuckDB TIMESTAMPTZ: an instant
    "BOOLEAN": "BooleanType",
    "INTEGER": "IntegerType",
    "BIGINT": "LongType",
    "DOUBLE": "DoubleType",
}


def _import_pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError("the Spark engine needs pyspark: pip install 'crimescope[spark]' "
                          "(pyspark >=3.5,<4.1 and Java 17+)") from exc
    return SparkSession


def _check_java() -> None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return
    if shutil.which("java") is None:
        raise EngineError("the Spark engine needs Java 17 or newer: no `java` on PATH and no JAVA_HOME")


def spark_session(master: str | None = None, *, app_name: str = "crimescope",
                  driver_memory: str | None = None, shuffle_partitions: int | None = None,
                  conf: dict | None = None, log_level: str = "ERROR"):
    """A SparkSession on ``master`` (default :data:`DEFAULT_MASTER`, local mode).

    ``master`` is any Spark master URL: ``local[N]``, ``spark://host:7077``, ``yarn``,
    ``k8s://https://host:443``. In local mode, shuffle partitions default to twice the
    number of local threads (Spark's 200 is made for clusters). If a session already
    runs in this process it is returned as is, untouched (Spark allows one
    SparkContext per process); :class:`SparkSource` then works in a child session of it.
    """
    SparkSession = _import_pyspark()
    _check_java()
    master = master or DEFAULT_MASTER
    if not isinstance(master, str) or not master.strip():
        raise ParameterError("--spark-master must be a Spark master URL such as local[2] or spark://host:7077")
    cfg = dict(LOCAL_CONF)
    if driver_memory:
        cfg["spark.driver.memory"] = str(driver_memory)
    if master.startswith("local"):
        cfg["spark.sql.shuffle.partitions"] = str(max(2, 2 * _local_threads(master)))
        cfg["spark.pyspark.python"] = sys.executable
        cfg["spark.driver.host"] = "127.0.0.1"
        cfg["spark.driver.bindAddress"] = "127.0.0.1"
    if shuffle_partitions is not None:
        if int(shuffle_partitions) < 1:
            raise ParameterError("shuffle_partitions must be >= 1")
        cfg["spark.sql.shuffle.partitions"] = str(int(shuffle_partitions))
    # the driver logs errors only (no default-profile banner, no WARN lines on every start)
    java_opts = f"-Dlog4j.configurationFile={LOG4J_CONF.as_uri()} -Dlog4j2.configurationFile={LOG4J_CONF.as_uri()}"
    cfg["spark.driver.extraJavaOptions"] = (java_opts + " " + cfg.get("spark.driver.extraJavaOptions", "")).strip()
    cfg.update({k: str(v) for k, v in (conf or {}).items()})
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(master).appName(app_name)
    for k, v in cfg.items():
        builder = builder.config(k, v)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # py4j / PySparkRuntimeError: JVM did not start, bad master
        raise EngineError(f"cannot start Spark on {master}: {exc}") from exc
    session.sparkContext.setLogLevel(log_level)
    return session


def _local_threads(master: str) -> int:
    """Threads of a ``local``, ``local[N]``, ``local[*]`` or ``local[N,F]`` master."""
    inner = master[len("local"):].strip("[]").split(",")[0].strip()
    if inner == "":
        return 1
    if inner == "*":
        return os.cpu_count() or 2
    return int(inner) if inner.isdigit() else 2


def spark_schema(columns, *, partition_year: bool = True):
    """The Spark StructType of an exported table (``[(name, DuckDB type), ...]``)."""
    from pyspark.sql import types as T

    fields = [T.StructField(c, getattr(T, _SPARK_TYPES[ty.split()[0]])(), True) for c, ty in columns]
    if partition_year:
        fields.append(T.StructField("year", T.IntegerType(), True))
    return T.StructType(fields)


class SparkSource:
    """A Parquet export seen through Spark, usable wherever the counting API takes a store.

    Parameters
    ----------
    path : str or Path
        The export folder written by :func:`crimescope.engines.export_parquet`
        (a local or shared path; any Hadoop URL Spark can read, e.g. ``s3a://`` or
        ``hdfs://``, works for the data, but the metadata connection needs a path
        the driver's DuckDB can read).
    master : str, optional
        Spark master URL (default :data:`DEFAULT_MASTER`). Ignored when ``session`` is given.
    session : pyspark.sql.SparkSession, optional
        An existing session to use; a child session (``session.newSession()``) holds
        this source's temporary views, so several sources can share one SparkContext.
    conf : dict, optional
        Extra Spark configuration for a session created here.

    Attributes
    ----------
    path : str
    manifest : dict
        The export's manifest (row counts, sources, schema version).
    session : pyspark.sql.SparkSession
        The (child) session holding the ``incidents`` / ``incident_history`` views.
    con : duckdb.DuckDBPyConnection
        Driver-side metadata connection (see the module docstring).
    """

    engine = "spark"

    def __init__(self, path, *, master: str | None = None, session=None, conf: dict | None = None):
        self.path = str(path)
        self.manifest = read_manifest(self.path)
        self.master = master
        self._parent = session
        self._conf = conf
        self._session = None
        self._ibis = None
        self._con = None

    # -- Spark side ------------------------------------------------------------
    @property
    def session(self):
        if self._session is None:
            parent = self._parent or spark_session(self.master, conf=self._conf)
            s = parent.newSession()
            for table, cols in PARTITIONED_TABLES.items():
                self._register(s, table, cols)
            self._session = s
        return self._session

    def _register(self, s, table: str, cols) -> None:
        names = [c for c, _ in cols]
        base = f"{self.path.rstrip('/')}/{table}"
        schema = spark_schema(cols)
        if int(self.manifest["rows"].get(table, 0)) == 0:
            df = s.createDataFrame([], schema)
        else:
            df = s.read.schema(schema).option("basePath", base).parquet(base)
        df.select(*names).createOrReplaceTempView(table)

    def ibis(self):
        """An Ibis PySpark backend with the ``incidents`` and ``incident_history`` tables."""
        if self._ibis is None:
            import ibis

            try:
                self._ibis = ibis.pyspark.connect(self.session)
            except ImportError as exc:
                raise EngineError("the Ibis PySpark backend is missing: pip install 'crimescope[spark]'") from exc
        return self._ibis

    # -- driver-side metadata ----------------------------------------------------
    @property
    def con(self):
        if self._con is None:
            self._con = _metadata_connection(self.path, self.manifest)
        return self._con

    def close(self) -> None:
        """Close the metadata connection and drop this source's views (the SparkContext stays)."""
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._session is not None:
            for table in PARTITIONED_TABLES:
                self._session.catalog.dropTempView(table)
            self._session = None
            self._ibis = None

    def __enter__(self) -> "SparkSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SparkSource({self.path!r}, master={self.master or DEFAULT_MASTER!r})"


def _metadata_connection(path: str, manifest: dict):
    """DuckDB (in memory) with ``incidents``/``incident_history`` as views over the export."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        for table, cols in PARTITIONED_TABLES.items():
            names = ", ".join(c for c, _ in cols)
            if int(manifest["rows"].get(table, 0)) == 0:
                ddl = ", ".join(f"{c} {ty}" for c, ty in cols)
                con.execute(f"CREATE TABLE {table} ({ddl})")
                continue
            glob = f"{path.rstrip('/')}/{table}/**/*.parquet"
            con.execute(
                f"CREATE VIEW {table} AS SELECT {names} FROM read_parquet('{glob}', "
                "hive_partitioning = true, hive_types = {'source': VARCHAR, 'year': INTEGER})")
        for table in SINGLE_TABLES:
            f = f"{path.rstrip('/')}/{table}.parquet"
            if table == "coverage" and not os.path.exists(f):  # older exports: coverage derived from rows
                continue
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{f}')")
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"cannot read the Parquet export {path}: {exc}") from exc
    return con

