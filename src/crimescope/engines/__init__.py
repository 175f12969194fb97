"""Compute engines: the same Ibis aggregations on DuckDB (default) or Apache Spark.

* :func:`export_parquet` writes the store as a Parquet dataset partitioned by
  ``source`` and ``year`` (hive style), the input of Spark;
* :class:`SparkSource` is that dataset seen through Spark; pass it wherever the
  counting API takes a store (``crimescope.stats.count``, ``ytd``, ``compstat``,
  :func:`cell_counts`) and the same expressions run on the cluster;
* :func:`cell_counts` counts records per (grid cell, week) on either engine;
* :func:`open_source` opens the store or a Spark source by engine name.

Spark is optional (``pip install 'crimescope[spark]'``); nothing here imports
pyspark until a Spark session is made.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "export_parquet": "crimescope.engines.parquet",
    "ExportResult": "crimescope.engines.parquet",
    "read_manifest": "crimescope.engines.parquet",
    "SparkSource": "crimescope.engines.spark",
    "spark_session": "crimescope.engines.spark",
    "EngineError": "crimescope.errors",
    "cell_counts": "crimescope.engines.cells",
    "cell_counts_expr": "crimescope.engines.cells",
}

#: engine names accepted by ``--engine``
ENGINES = ("duckdb", "spark")

__all__ = ["ENGINES", "open_source", *_LAZY]


def open_source(engine: str = "duckdb", *, store_path=None, data=None, spark_master=None,
                session=None):
    """The store (``duckdb``) or a :class:`SparkSource` (``spark``), as a context manager.

    ``store_path`` is the DuckDB store for ``duckdb``; ``data`` the Parquet export
    folder and ``spark_master`` the master URL for ``spark``.
    """
    from ..errors import ParameterError

    if engine == "duckdb":
        from ..store import Store

        if store_path is None:
            raise ParameterError("the duckdb engine needs a store path")
        return Store(store_path, read_only=True)
    if engine == "spark":
        if data is None:
            raise ParameterError("--engine spark needs --data DIR, a folder written by `crimescope export-parquet`")
        from .spark import SparkSource

        return SparkSource(data, master=spark_master, session=session)
    raise ParameterError(f"--engine {engine!r} is not one of: {', '.join(ENGINES)}")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'crimescope.engines' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
