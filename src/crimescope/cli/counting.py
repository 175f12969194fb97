"""Counting commands: categories, count, ytd, compstat, rates, arrests, cities, claim.

Each command is a few lines calling ``crimescope.stats``; every output states the
counting unit, the rule, the source and the data vintage (CSV: leading ``#`` lines;
JSON: a ``meta`` object; table: a caption).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ..errors import ParameterError
from .context import CategoriesFileOpt, load_user_taxonomy, state

FORMAT_HELP = "Output format: table, csv or json."
BY_HELP = ("Group by (repeatable or comma-separated): year, month, month_of_year, week, date, dow, "
           "hour, district, beat, ward, community_area, iucr, fbi_code, primary_type.")
VINTAGE_HELP = ("Count the records as they stood at this update time (YYYY-MM-DD[THH:MM]): per record, "
                "the latest version with updated_at <= it, from current and superseded versions.")


ENGINE_HELP = "duckdb (the store, default) or spark (the Parquet export given by --data; see docs/scale.md)."

# options shared by the counting commands, declared once
FormatOpt = Annotated[str, typer.Option("--format", help=FORMAT_HELP)]
OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file instead of stdout.")]
VintageOpt = Annotated[Optional[str], typer.Option("--vintage", help=VINTAGE_HELP)]
ByOpt = Annotated[Optional[List[str]], typer.Option("--by", help=BY_HELP)]
EngineOpt = Annotated[str, typer.Option("--engine", help=ENGINE_HELP)]
CategoryReq = Annotated[str, typer.Option("--category", "-c", help="Category name (see `crimescope categories`).")]
FromReq = Annotated[str, typer.Option("--from", help="First local date, inclusive (YYYY-MM-DD).")]
ToReq = Annotated[str, typer.Option("--to", help="Last local date, inclusive (YYYY-MM-DD).")]
DataOpt = Annotated[Optional[str], typer.Option(
    "--data", help="Parquet export folder (`crimescope export-parquet`), for --engine spark.")]
MasterOpt = Annotated[Optional[str], typer.Option("--spark-master", help="Spark master URL (default local[*]).")]


def _source(ctx, engine: str, data, master):
    """The store, or a SparkSource over a Parquet export (``--engine spark``)."""
    if engine == "duckdb":
        if data is not None or master is not None:
            raise ParameterError("--data and --spark-master are for --engine spark")
        return state(ctx).open_dataset()
    from ..datasets import Dataset
    from ..engines import open_source

    return Dataset(open_source(engine, data=data, spark_master=master), state(ctx).source)


def _by(values: Optional[List[str]]) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def _check_format(fmt: str) -> str:
    if fmt not in ("table", "csv", "json"):
        raise ParameterError(f"--format {fmt!r} is not one of table, csv, json")
    return fmt


def emit(result, fmt: str, output: Optional[Path] = None) -> None:
    """Print (or write) a StatResult in the requested format."""
    _check_format(fmt)
    if fmt == "table" and output is None:
        from rich.console import Console
        from rich.table import Table

        df = result.table
        table = Table()
        for c in df.columns:
            table.add_column(str(c), justify="right" if df[c].dtype.kind in "iuf" else "left")
        cells = [["" if _isna(v) else str(v) for v in row] for row in df.itertuples(index=False)]
        for row in cells:
            table.add_row(*row)
        # wide enough for every cell: a table is never cropped, on a terminal or in a pipe
        need = sum(max([len(str(c))] + [len(r[i]) for r in cells]) + 3 for i, c in enumerate(df.columns)) + 1
        Console(width=max(need, 80)).print(table)
        # the caption as plain lines: a rich caption is wrapped to the table's width, which
        # splits the rule and the file names of a narrow table over many lines
        for line in result.caption_lines():
            typer.echo(line)
        return
    text = result.render(fmt)
    if output is not None:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    else:
        typer.echo(text.rstrip("\n"))


def _isna(v) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def register(app: typer.Typer) -> None:
    @app.command("categories")
    def categories_cmd(
        ctx: typer.Context,
        file: Optional[List[Path]] = typer.Option(
            None, "--categories-file", "--file",
            help="Add the categories of this YAML file (repeatable; `--file` is the older name)."),
        fmt: FormatOpt = "table",
    ) -> None:
        """List the offense categories with their codes, unit, definition and source.

        The table shows name, unit and rule; --format csv or json adds the definition and source.
        """
        from ..stats.categories_table import categories_result

        res = categories_result(file or [], state(ctx).source)
        if fmt == "table":
            res.table = res.table[["name", "unit", "rule", "label"]]
        emit(res, fmt)

    @app.command("count")
    def count_cmd(
        ctx: typer.Context,
        category: CategoryReq,
        start: FromReq,
        end: ToReq,
        by: ByOpt = None,
        fmt: FormatOpt = "table",
        vintage: VintageOpt = None,
        categories_file: CategoriesFileOpt = None,
        output: OutputOpt = None,
        engine: EngineOpt = "duckdb",
        data: DataOpt = None,
        spark_master: MasterOpt = None,
    ) -> None:
        """Count records of a category between two inclusive local dates, optionally grouped."""
        from ..stats.counts import count

        _check_format(fmt)
        tax = load_user_taxonomy(categories_file, category, source=state(ctx).source)
        with _source(ctx, engine, data, spark_master) as store:
            emit(count(store, category, start, end, _by(by), vintage=vintage, taxonomy=tax), fmt, output)

    @app.command("ytd")
    def ytd_cmd(
        ctx: typer.Context,
        category: CategoryReq,
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Last day counted (default: last complete day in the store)."),
        years: int = typer.Option(5, "--years", help="Number of previous years to compare with."),
        by: ByOpt = None,
        fmt: FormatOpt = "table",
        vintage: VintageOpt = None,
        categories_file: CategoriesFileOpt = None,
        output: OutputOpt = None,
        engine: EngineOpt = "duckdb",
        data: DataOpt = None,
        spark_master: MasterOpt = None,
    ) -> None:
        """Year to date (Jan 1 to the as-of date) vs the same span in previous years.

        The as-of year's rows carry avg_previous_years, the mean of the --years previous years.
        """
        from ..stats.periods import ytd

        _check_format(fmt)
        tax = load_user_taxonomy(categories_file, category, source=state(ctx).source)
        with _source(ctx, engine, data, spark_master) as store:
            emit(ytd(store, category, as_of, years, _by(by), vintage=vintage, taxonomy=tax), fmt, output)

    @app.command("compstat")
    def compstat_cmd(
        ctx: typer.Context,
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Last day counted (default: last complete day in the store)."),
        by: Optional[str] = typer.Option("district", "--by", help="'district' (citywide + each district) or 'none' (citywide only)."),
        category: Optional[List[str]] = typer.Option(None, "--category", "-c", help="Categories (repeatable; default: murder, homicide, shooting, gun_violence, robbery, armed_robbery, violent_index)."),
        fmt: FormatOpt = "table",
        vintage: VintageOpt = None,
        categories_file: CategoriesFileOpt = None,
        output: OutputOpt = None,
        engine: EngineOpt = "duckdb",
        data: DataOpt = None,
        spark_master: MasterOpt = None,
    ) -> None:
        """CompStat: week, 28 days and year to date vs the same spans a year earlier."""
        from ..stats.periods import DEFAULT_COMPSTAT_CATEGORIES, compstat

        _check_format(fmt)
        if by not in ("district", "none", None):
            raise ParameterError("--by must be 'district' or 'none'")
        cats = _by(category) or list(DEFAULT_COMPSTAT_CATEGORIES)
        tax = load_user_taxonomy(categories_file, *cats, source=state(ctx).source)
        with _source(ctx, engine, data, spark_master) as store:
            emit(compstat(store, as_of, cats, by_district=(by == "district"), vintage=vintage, taxonomy=tax),
                 fmt, output)

    @app.command("rates")
    def rates_cmd(
        ctx: typer.Context,
        category: CategoryReq,
        start: FromReq,
        end: ToReq,
        by: str = typer.Option("community_area", "--by", help="community_area, district or citywide."),
        census: Optional[int] = typer.Option(None, "--census", help="Census population year: 2010 or 2020 (default: nearest to the period)."),
        fmt: FormatOpt = "table",
        categories_file: CategoriesFileOpt = None,
        output: OutputOpt = None,
    ) -> None:
        """Rates per 100,000 residents by community area, district (apportioned) or citywide."""
        from ..stats.rates import rates

        _check_format(fmt)
        tax = load_user_taxonomy(categories_file, category, source=state(ctx).source)
        with state(ctx).open_dataset() as store:
            emit(rates(store, category, start, end, by=by, census=census, taxonomy=tax), fmt, output)

    # `arrests` is declared once in crimescope.app.declared; its command is generated from it
    from ..app import get as _analysis
    from ..app.cli import command_for

    app.command("arrests")(command_for(_analysis("arrests")))

    @app.command("cities")
    def cities_cmd(
        metric: str = typer.Option("homicides", "--metric", help="homicides, rapes, robberies, aggravated_assaults or violent_crime."),
        year: int = typer.Option(..., "--year", help="Year (Marshall UCR 1975-2015; FiveThirtyEight 2014-2016)."),
        top: Optional[int] = typer.Option(None, "--top", help="Only the N cities with the highest counts."),
        fmt: FormatOpt = "table",
        output: OutputOpt = None,
    ) -> None:
        """City-level counts and rates per 100,000 (partial-year figures flagged)."""
        from ..stats.cities import cities

        _check_format(fmt)
        emit(cities(metric, year, top=top), fmt, output)

    @app.command("claim")
    def claim_cmd(
        ctx: typer.Context,
        text: Optional[str] = typer.Argument(None, help="A sentence such as '110 homicides so far this year' (needs --as-of)."),
        category: Optional[str] = typer.Option(None, "--category", "-c", help="Category claimed about."),
        value: Optional[float] = typer.Option(None, "--value", help="The claimed value."),
        start: Optional[str] = typer.Option(None, "--from", help="First local date of the claim, inclusive."),
        end: Optional[str] = typer.Option(None, "--to", help="Last local date of the claim, inclusive."),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="For 'so far this year' claims: the date the claim was made."),
        district: Optional[int] = typer.Option(None, "--district", help="Claim about one police district."),
        community_area: Optional[int] = typer.Option(None, "--community-area", help="Claim about one community area."),
        tolerance: float = typer.Option(0.0, "--tolerance", help="Absolute difference still counted as a match."),
        file: Optional[Path] = typer.Option(None, "--file", help="YAML file with a list of claims."),
        fmt: FormatOpt = "table",
        categories_file: CategoriesFileOpt = None,
    ) -> None:
        """Check a published figure: computed value, difference, known reasons, verdict."""
        from ..stats.claims import Claim, check_claims, claims_from_yaml, parse_claim

        _check_format(fmt)
        tax = load_user_taxonomy(categories_file, source=state(ctx).source)
        if file is not None:
            claims = claims_from_yaml(file, taxonomy=tax)
        elif text is not None:
            claims = [parse_claim(text, as_of=as_of, taxonomy=tax)]
        else:
            if category is None or value is None:
                raise ParameterError("give a sentence, --file, or --category and --value with --from/--to or --as-of")
            claims = [Claim(category=category, value=value, start=start, end=end, as_of=as_of,
                            district=district, community_area=community_area, tolerance=tolerance)]
        load_user_taxonomy(categories_file, *(c.category for c in claims), source=state(ctx).source)
        with state(ctx).open_dataset() as store:
            result = check_claims(store, claims, taxonomy=tax)
        if fmt == "table":
            typer.echo(result.to_text())
        else:
            emit(result, fmt)
