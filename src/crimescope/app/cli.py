"""CLI commands generated from the analysis declarations (``register(app)``, like every cli module)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, List, Optional

import typer

__all__ = ["register", "command_for", "add_commands", "open_dataset"]

ENGINE_HELP = "duckdb (the store, default) or spark (the Parquet export given by --data; see docs/scale.md)."
DATA_HELP = "Parquet export folder (`crimescope export-parquet`), for --engine spark."
MASTER_HELP = "Spark master URL (default local[*])."


def _option(p):
    """(annotation, default) of the Typer parameter for a declared Param."""
    names = [p.option] + ([p.short] if p.short else [])
    default = ... if p.required else p.default
    if p.kind in ("by", "categories"):
        return Annotated[Optional[List[str]], typer.Option(*names, help=p.help)], (list(p.default or ()) or None)
    if p.kind == "bool":
        return Annotated[bool, typer.Option(*names, help=p.help)], bool(p.default)
    if p.kind in ("int", "float"):
        t = int if p.kind == "int" else float
        return Annotated[t if p.required or p.default is not None else Optional[t],
                         typer.Option(*names, help=p.help)], default
    return Annotated[Optional[str] if not p.required else str, typer.Option(*names, help=p.help)], default


def open_dataset(ctx: typer.Context, engine: str = "duckdb", data=None, master=None):
    """The store read as the ``--source`` city, or a SparkSource over a Parquet export (``--engine spark``)."""
    from ..cli.context import state
    from ..errors import ParameterError

    if engine == "duckdb":
        if data is not None or master is not None:
            raise ParameterError("--data and --spark-master are for --engine spark")
        return state(ctx).open_dataset()
    from ..datasets import Dataset
    from ..engines import open_source

    return Dataset(open_source(engine, data=data, spark_master=master), state(ctx).source)


def command_for(analysis):
    """A Typer command function for ``analysis``: its params, then --format, --output, --categories-file
    (and --engine/--data/--spark-master when it declares ``engines``)."""
    from ..cli.context import CATEGORIES_FILE_HELP

    def command(ctx: typer.Context, **values):
        from ..cli.context import load_user_taxonomy, state
        from ..cli.counting import _check_format, emit

        fmt = values.pop("fmt")
        output = values.pop("output")
        files = values.pop("categories_file", None)
        engine = values.pop("engine", "duckdb"), values.pop("data", None), values.pop("spark_master", None)
        _check_format(fmt)
        st = state(ctx)
        parsed = analysis.parse(values)  # every value checked before a file or the store is read
        if not analysis.store:
            res = analysis.run(None, taxonomy=None, **parsed)
        else:
            tax = load_user_taxonomy(files, *analysis.category_names(values), source=st.source)
            with open_dataset(ctx, *engine) as ds:
                res = analysis.run(ds, taxonomy=tax, **parsed)
        if fmt == "table" and output is None and analysis.table is not None:
            res = analysis.table(res, parsed)
            if isinstance(res, str):
                typer.echo(res)
                return
        emit(res, fmt, output)

    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for p in analysis.params:
        if not p.cli:
            continue
        ann, default = _option(p)
        params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=default))
    params.append(inspect.Parameter("fmt", inspect.Parameter.KEYWORD_ONLY, default="table",
                                    annotation=Annotated[str, typer.Option("--format", help="Output format: table, csv or json.")]))
    if analysis.taxonomy and analysis.store:
        params.append(inspect.Parameter("categories_file", inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=Annotated[Optional[List[Path]],
                                                             typer.Option("--categories-file", help=CATEGORIES_FILE_HELP)]))
    params.append(inspect.Parameter("output", inspect.Parameter.KEYWORD_ONLY, default=None,
                                    annotation=Annotated[Optional[Path],
                                                         typer.Option("--output", "-o", help="Write to this file instead of stdout.")]))
    if analysis.engines:
        params += [
            inspect.Parameter("engine", inspect.Parameter.KEYWORD_ONLY, default="duckdb",
                              annotation=Annotated[str, typer.Option("--engine", help=ENGINE_HELP)]),
            inspect.Parameter("data", inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation=Annotated[Optional[str], typer.Option("--data", help=DATA_HELP)]),
            inspect.Parameter("spark_master", inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation=Annotated[Optional[str], typer.Option("--spark-master", help=MASTER_HELP)]),
        ]
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {q.name: q.annotation for q in params}
    command.__name__ = f"{analysis.name}_cmd"
    command.__doc__ = analysis.summary + ("\n\n" + analysis.description if analysis.description else "")
    return command


def add_commands(app: typer.Typer, *names: str) -> None:
    """Add the generated commands of the analyses ``names`` (a command module places them in its
    part of ``--help``, as ``cli.counting`` does for count, ytd, compstat, ...)."""
    from .registry import get

    for name in names:
        app.command(name)(command_for(get(name)))


def register(app: typer.Typer) -> None:
    """Add one command per declared analysis that asks for one."""
    from .registry import analyses

    taken = {c.name for c in app.registered_commands}
    for a in analyses().values():
        if a.cli and a.name not in taken:
            app.command(a.name)(command_for(a))
