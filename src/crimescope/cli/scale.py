"""Scale-out commands: `export-parquet` and `cell-counts`.

Spark runs through `--engine spark --data DIR [--spark-master URL]` on `count`,
`ytd`, `compstat` and `cell-counts`: the same library functions get a
:class:`crimescope.engines.SparkSource` in place of the store, so the same Ibis
expressions run on Spark.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import ParameterError
from .context import state

MASTER_HELP = ("Spark master URL: local[N], local[*] (default), spark://host:7077, yarn, "
               "k8s://https://host:port.")
DATA_HELP = "Parquet export folder written by `crimescope export-parquet` (local, NFS, or a Hadoop URL)."
ENGINE_HELP = "duckdb (the store, default) or spark (the Parquet export given by --data)."

def _counting():
    # the output helpers and option texts of the counting commands, so both engines print alike
    from . import counting

    return counting


def register(app: typer.Typer) -> None:
    @app.command("export-parquet")
    def export_parquet_cmd(
        ctx: typer.Context,
        out_dir: Path = typer.Argument(..., help="Folder to write (must be new or empty unless --overwrite)."),
        source: Optional[List[str]] = typer.Option(None, "--source", help="Export only this source (repeatable; default: all)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing export in OUT_DIR."),
        compression: str = typer.Option("zstd", "--compression", help="Parquet codec: zstd, snappy, gzip, uncompressed."),
    ) -> None:
        """Export the store to Parquet, partitioned by source and year (hive style), for Spark."""
        from ..engines.parquet import export_parquet

        with state(ctx).open_store(read_only=True) as store:
            res = export_parquet(store, out_dir, sources=source or None, overwrite=overwrite,
                                 compression=compression)
        typer.echo(res.summary())

    @app.command("cell-counts")
    def cell_counts_cmd(
        ctx: typer.Context,
        category: str = typer.Option(..., "--category", "-c", help="Category name (see `crimescope categories`)."),
        start: str = typer.Option(..., "--from", help="First local date, inclusive (YYYY-MM-DD)."),
        end: str = typer.Option(..., "--to", help="Last local date, inclusive (YYYY-MM-DD)."),
        cell_size: Optional[float] = typer.Option(None, "--cell-size", help="Cell side in CRS units (default: the cell_size_ft setting, 500 ft)."),
        x0: float = typer.Option(0.0, "--x0", help="Lattice origin x in CRS units."),
        y0: float = typer.Option(0.0, "--y0", help="Lattice origin y in CRS units."),
        period: str = typer.Option("week", "--period", help="Time bin: week (Monday-based), date, month or year."),
        crs: str = typer.Option("EPSG:3435", "--crs", help="CRS of the coordinates counted."),
        engine: str = typer.Option("duckdb", "--engine", help=ENGINE_HELP),
        data: Optional[str] = typer.Option(None, "--data", help=DATA_HELP + " For --engine spark."),
        master: Optional[str] = typer.Option(None, "--spark-master", help=MASTER_HELP),
        fmt: str = typer.Option("csv", "--format", help="Output format: table, csv or json."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    ) -> None:
        """Counts per (grid cell, week): the input of hot-spot and forecast models at scale."""
        from ..engines import open_source
        from ..engines.cells import cell_counts

        c = _counting()
        c._check_format(fmt)
        if engine == "duckdb" and data is not None:
            raise ParameterError("--data is for --engine spark")
        store_path = state(ctx).store_path if engine == "duckdb" else None
        with open_source(engine, store_path=store_path, data=data, spark_master=master) as src:
            res = cell_counts(src, category, start, end, cell_size=cell_size, x0=x0, y0=y0,
                              period=period, crs=crs)
        from .context import emit

        emit(res, fmt, output)
