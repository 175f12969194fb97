"""Counting commands written by hand: categories; and the renderer every command uses.

The other counting commands (count, ytd, compstat, rates, arrests, cities, claim, pace) are
generated from their declarations in :mod:`crimescope.app.declared`. Every output states
the counting unit, the rule, the source and the data vintage (CSV: leading ``#`` lines;
JSON: a ``meta`` object; table: a caption).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ..errors import ParameterError
from .context import state

FORMAT_HELP = "Output format: table, csv or json."
# options shared by the hand-written counting commands, declared once
FormatOpt = Annotated[str, typer.Option("--format", help=FORMAT_HELP)]


def _wrap(line: str, width: Optional[int]) -> str:
    """A caption line wrapped to ``width`` (None: as it is), continued with an indent."""
    if not width:
        return line
    import textwrap

    return "\n".join(textwrap.wrap(line, width, subsequent_indent="  ", break_on_hyphens=False) or [""])


def _check_format(fmt: str) -> str:
    if fmt not in ("table", "csv", "json"):
        raise ParameterError(f"--format {fmt!r} is not one of table, csv, json")
    return fmt


def emit(result, fmt: str, output: Optional[Path] = None) -> None:
    """Print (or write) a StatResult in the requested format: the one renderer of every command
    (:func:`crimescope.cli.context.emit`: tables fitted to the terminal, numbers by column type)."""
    from .context import emit as _emit

    _emit(result, fmt, output)


def register(app: typer.Typer) -> None:
    @app.command("categories")
    def categories_cmd(
        ctx: typer.Context,
        file: Optional[List[Path]] = typer.Option(
            None, "--categories-file", "--file",
            help="Add the categories of this YAML file (repeatable; `--file` is the older name)."),
        fmt: FormatOpt = "table",
        all_: bool = typer.Option(False, "--all", help="The long form: every category with its unit, full rule, "
                                  "definition and source, wrapped to the terminal."),
    ) -> None:
        """List the offense categories: name, label, how many codes, what they match.

        --all gives each category's unit, full rule, definition and source; --format csv or
        json always gives every field.
        """
        from ..stats.categories_table import categories_result

        _check_format(fmt)
        if fmt != "table":
            emit(categories_result(file or [], state(ctx).source), fmt)
            return
        if not all_:
            from .context import table_width

            res = categories_result(file or [], state(ctx).source, concise=True)
            width = table_width()
            t = res.table
            # a terminal too narrow for a readable label and match: the label first (--all has the rule)
            if width is not None and len(t) and (t["name"].str.len().max() + 16 + 5 + 16 + 6) > width:
                res.table = t.drop(columns=["matches"])
                res.meta["notes"] = [n.replace("; --all", "; matches: what the codes are, shown on a "
                                               "terminal of 80 columns or more; --all") for n in res.meta["notes"]]
            emit(res, fmt)
            return
        from ..result import Result
        from ..textable import render_records
        from .context import table_width

        res = categories_result(file or [], state(ctx).source)
        width = table_width()
        typer.echo(render_records(res.table, width, title=("label",)))
        typer.echo("")
        for line in Result(None, res.meta).caption_lines():
            typer.echo(_wrap(line, width))

    # declared once in crimescope.app.declared; their commands are generated from the declarations
    from ..app.cli import add_commands

    add_commands(app, "count", "ytd", "compstat", "rates", "arrests", "cities", "claim")
