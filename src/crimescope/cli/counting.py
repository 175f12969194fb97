"""Counting commands written by hand: categories, claim; and the renderer every command uses.

The other counting commands (count, ytd, compstat, rates, arrests, cities, pace) are
generated from their declarations in :mod:`crimescope.app.declared`. Every output states
the counting unit, the rule, the source and the data vintage (CSV: leading ``#`` lines;
JSON: a ``meta`` object; table: a caption).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ..errors import ParameterError
from .context import CategoriesFileOpt, load_user_taxonomy, state

FORMAT_HELP = "Output format: table, csv or json."
# options shared by the hand-written counting commands, declared once
FormatOpt = Annotated[str, typer.Option("--format", help=FORMAT_HELP)]
OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file instead of stdout.")]


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

    # declared once in crimescope.app.declared; their commands are generated from the declarations
    from ..app.cli import add_commands

    add_commands(app, "count", "ytd", "compstat", "rates", "arrests", "cities")

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
