"""Scale-out commands: `export-parquet`, `cell-counts`, and `spark count|ytd|compstat|cell-counts`.

The `spark ...` commands take the options of the counting commands plus `--data`
(a folder written by `export-parquet`) and `--spark-master`; they call the same
library functions with a :class:`crimescope.engines.SparkSource` in place of the
store, so the same Ibis expressions run on Spark.
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

spark_app = typer.Typer(
    help="Run the counting commands on Apache Spark over a Parquet export of the store.",
    no_args_is_help=True,
)


def _spark_source(data: str, master: Optional[str]):
    from ..engines.spark import SparkSource

    return SparkSource(str(data), master=master)


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
        c.emit(res, fmt, output)

    app.add_typer(spark_app, name="spark")


@spark_app.command("count")
def spark_count(
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    master: Optional[str] = typer.Option(None, "--spark-master", help=MASTER_HELP),
    category: str = typer.Option(..., "--category", "-c", help="Category name (see `crimescope categories`)."),
    start: str = typer.Option(..., "--from", help="First local date, inclusive (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--to", help="Last local date, inclusive (YYYY-MM-DD)."),
    by: Optional[List[str]] = typer.Option(None, "--by", help="Group by (repeatable or comma-separated), as in `crimescope count`."),
    fmt: str = typer.Option("table", "--format", help="Output format: table, csv or json."),
    vintage: Optional[str] = typer.Option(None, "--vintage", help="Count the records as they stood at this update time, as in `crimescope count`."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """`crimescope count` on Spark."""
    from ..stats.counts import count

    c = _counting()
    c._check_format(fmt)
    with _spark_source(data, master) as src:
        res = count(src, category, start, end, c._by(by), vintage=vintage)
    c.emit(res, fmt, output)


@spark_app.command("ytd")
def spark_ytd(
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    master: Optional[str] = typer.Option(None, "--spark-master", help=MASTER_HELP),
    category: str = typer.Option(..., "--category", "-c", help="Category name."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Last day counted (default: last complete day in the data)."),
    years: int = typer.Option(5, "--years", help="Number of previous years to compare with."),
    by: Optional[List[str]] = typer.Option(None, "--by", help="Group by, as in `crimescope ytd`."),
    fmt: str = typer.Option("table", "--format", help="Output format: table, csv or json."),
    vintage: Optional[str] = typer.Option(None, "--vintage", help="Count the records as they stood at this update time."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """`crimescope ytd` on Spark."""
    from ..stats.periods import ytd

    c = _counting()
    c._check_format(fmt)
    with _spark_source(data, master) as src:
        res = ytd(src, category, as_of, years, c._by(by), vintage=vintage)
    c.emit(res, fmt, output)


@spark_app.command("compstat")
def spark_compstat(
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    master: Optional[str] = typer.Option(None, "--spark-master", help=MASTER_HELP),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Last day counted (default: last complete day in the data)."),
    by: Optional[str] = typer.Option("district", "--by", help="'district' (citywide + each district) or 'none' (citywide only)."),
    category: Optional[List[str]] = typer.Option(None, "--category", "-c", help="Categories (repeatable; default as in `crimescope compstat`)."),
    fmt: str = typer.Option("table", "--format", help="Output format: table, csv or json."),
    vintage: Optional[str] = typer.Option(None, "--vintage", help="Count the records as they stood at this update time."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """`crimescope compstat` on Spark."""
    from ..stats.periods import DEFAULT_COMPSTAT_CATEGORIES, compstat

    c = _counting()
    c._check_format(fmt)
    if by not in ("district", "none", None):
        raise ParameterError("--by must be 'district' or 'none'")
    cats = c._by(category) or list(DEFAULT_COMPSTAT_CATEGORIES)
    with _spark_source(data, master) as src:
        res = compstat(src, as_of, cats, by_district=(by == "district"), vintage=vintage)
    c.emit(res, fmt, output)


@spark_app.command("cell-counts")
def spark_cell_counts(
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    master: Optional[str] = typer.Option(None, "--spark-master", help=MASTER_HELP),
    category: str = typer.Option(..., "--category", "-c", help="Category name."),
    start: str = typer.Option(..., "--from", help="First local date, inclusive (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--to", help="Last local date, inclusive (YYYY-MM-DD)."),
    cell_size: Optional[float] = typer.Option(None, "--cell-size", help="Cell side in CRS units (default 500 ft)."),
    x0: float = typer.Option(0.0, "--x0", help="Lattice origin x in CRS units."),
    y0: float = typer.Option(0.0, "--y0", help="Lattice origin y in CRS units."),
    period: str = typer.Option("week", "--period", help="Time bin: week, date, month or year."),
    crs: str = typer.Option("EPSG:3435", "--crs", help="CRS of the coordinates counted."),
    fmt: str = typer.Option("csv", "--format", help="Output format: table, csv or json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """`crimescope cell-counts --engine spark`: counts per (grid cell, week) on Spark."""
    from ..engines.cells import cell_counts

    c = _counting()
    c._check_format(fmt)
    with _spark_source(data, master) as src:
        res = cell_counts(src, category, start, end, cell_size=cell_size, x0=x0, y0=y0,
                          period=period, crs=crs)
    c.emit(res, fmt, output)
