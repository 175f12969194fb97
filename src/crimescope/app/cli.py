"""CLI commands generated from the analysis declarations (``register(app)``, like every cli module)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, List, Optional

import typer

__all__ = ["register", "command_for", "add_commands", "open_dataset", "check_format"]

ENGINE_HELP = "duckdb (the store, default) or spark (the Parquet export given by --data; see docs/scale.md)."
DATA_HELP = "Parquet export folder (`crimescope export-parquet`), for --engine spark."
MASTER_HELP = "Spark master URL (default local[*])."


def _option(p):
    """(annotation, default) of the Typer parameter for a declared Param (as the CLI offers it)."""
    p = p.on("cli")
    names = [p.option, *p.aliases] + ([p.short] if p.short else [])
    default = ... if p.required else p.default
    if p.positional and p.kind == "category":  # the option beside its argument (see _category_argument)
        return Annotated[Optional[str], typer.Option(*names, help=p.help)], None
    if p.positional:  # an argument (claim's sentence)
        if p.kind != "text":
            raise ValueError(f"param {p.name}: only a text or a category is taken as a positional argument")
        return Annotated[str if p.required else Optional[str], typer.Argument(help=p.help)], default
    if p.kind == "bool" and p.default:  # on unless turned off
        return Annotated[bool, typer.Option(f"{p.option}/--no-{p.option[2:]}", help=p.help)], True
    if p.kind in ("by", "categories", "list"):
        return Annotated[Optional[List[str]], typer.Option(*names, help=p.help)], (list(p.default or ()) or None)
    if p.kind == "bool":
        return Annotated[bool, typer.Option(*names, help=p.help)], bool(p.default)
    if p.kind in ("int", "float"):
        t = int if p.kind == "int" else float
        return Annotated[t if p.required or p.default is not None else Optional[t],
                         typer.Option(*names, help=p.help)], default
    if p.kind == "path":
        return Annotated[Optional[Path] if not p.required else Path, typer.Option(*names, help=p.help)], default
    return Annotated[Optional[str] if not p.required else str, typer.Option(*names, help=p.help)], default


def _category_argument(p):
    """(name, annotation) of the optional argument a positional ``category`` also takes."""
    p = p.on("cli")
    return f"{p.name}_arg", Annotated[Optional[str], typer.Argument(metavar=f"[{p.name.upper()}]", help=p.help)]


def _one_category(p, values: dict) -> None:
    """A positional category's value from its argument or its option (not two different ones)."""
    from ..errors import ParameterError

    q = p.on("cli")
    arg, opt = values.pop(f"{p.name}_arg"), values.get(p.name)
    if arg and opt and arg != opt:
        raise ParameterError(f"{p.name} given twice: {arg!r} and {q.option} {opt!r}")
    values[p.name] = arg or opt
    if q.required and not values[p.name]:
        raise ParameterError(f"a {p.name} is needed: {q.option} NAME (see `crimescope categories`)")


def _keyword(name, annotation, default):
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def check_format(fmt: str, formats=("table", "csv", "json")) -> str:
    """``fmt`` if it is one of ``formats`` (the one message of every generated command)."""
    from ..errors import ParameterError

    if fmt not in formats:
        raise ParameterError(f"--format {fmt!r} is not one of {', '.join(formats)}")
    return fmt


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
    """A Typer command function for ``analysis``: its params (a positional category's argument first),
    then --format (when it has more than one format), the output file
    (--output, or the declared ``output_flags``), --categories-file (and --engine/--data/--spark-master
    when it declares ``engines``), and one option per declared :class:`~crimescope.app.registry.Output`
    with that output's own options."""
    from ..cli.context import CATEGORIES_FILE_HELP
    from .registry import resolve

    outputs = {o.name: o for o in analysis.writes}

    def command(ctx: typer.Context, **values):
        from ..cli.context import load_user_taxonomy, state
        from ..cli.counting import emit

        for p in both:
            _one_category(p, values)
        fmt = values.pop("fmt", analysis.formats[0])
        output = values.pop("output")
        files = values.pop("categories_file", None)
        engine = values.pop("engine", "duckdb"), values.pop("data", None), values.pop("spark_master", None)
        wanted = {name: values.pop(name) for name in outputs}
        extra = {q.name: q.on("cli").parse(values.pop(q.name)) for o in analysis.writes for q in o.options}
        if fmt is None:  # format_from_output: the output file's suffix, else table
            suffix = output.suffix.lower().lstrip(".") if output is not None else ""
            fmt = suffix if suffix in analysis.formats and suffix != "table" else "table"
        check_format(fmt, analysis.formats)
        st = state(ctx)
        parsed = analysis.parse(values, on="cli")  # every value checked before a file or the store is read
        if not analysis.store:
            res = analysis.run(None, taxonomy=None, **parsed)
        else:
            tax = load_user_taxonomy(files, *analysis.category_names(values, on="cli"), source=st.source)
            if analysis.store_unless and parsed[analysis.store_unless]:  # the city without its store
                from ..datasets import Dataset

                res = analysis.run(Dataset(None, st.source), taxonomy=tax, **parsed)
            else:
                with open_dataset(ctx, *engine) as ds:
                    res = analysis.run(ds, taxonomy=tax, **parsed)
        if analysis.emit is not None:
            resolve(analysis.emit)(res, fmt, output, parsed)
        elif fmt == "table" and output is None and analysis.table is not None:
            shown = analysis.table(res, parsed)
            if isinstance(shown, str):  # a table hook's own text: wrapped to the terminal like every line
                from ..cli.context import wrap_lines

                typer.echo(wrap_lines(shown))
            else:
                emit(shown, fmt, output)
        else:
            emit(res, fmt, output)
        for name, path in wanted.items():
            if path is not None:
                line = resolve(outputs[name].write)(res, path, {**parsed, **extra})
                if line:
                    typer.echo(line, err=outputs[name].err)

    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    both = [p for p in analysis.params if p.offered("cli") and p.on("cli").positional and p.kind == "category"]
    for p in both:  # the argument first, then the options
        name, ann = _category_argument(p)
        params.append(_keyword(name, ann, None))
    for p in analysis.params:
        if p.offered("cli"):
            ann, default = _option(p)
            params.append(_keyword(p.name, ann, default))
    if len(analysis.formats) > 1:
        params.append(_keyword("fmt", Annotated[Optional[str] if analysis.format_from_output else str,
                                                typer.Option("--format", help=analysis.format_help)],
                               None if analysis.format_from_output else "table"))
    if analysis.taxonomy and analysis.store:
        params.append(_keyword("categories_file", Annotated[Optional[List[Path]],
                                                             typer.Option("--categories-file", help=CATEGORIES_FILE_HELP)],
                               None))
    params.append(_keyword("output", Annotated[Optional[Path], typer.Option(*analysis.output_flags,
                                                                             help=analysis.output_help)], None))
    for o in analysis.writes:
        params.append(_keyword(o.name, Annotated[Optional[Path], typer.Option(o.flag, help=o.help)], None))
        for q in o.options:
            ann, default = _option(q)
            params.append(_keyword(q.name, ann, default))
    if analysis.engines:
        params += [
            _keyword("engine", Annotated[str, typer.Option("--engine", help=ENGINE_HELP)], "duckdb"),
            _keyword("data", Annotated[Optional[str], typer.Option("--data", help=DATA_HELP)], None),
            _keyword("spark_master", Annotated[Optional[str], typer.Option("--spark-master", help=MASTER_HELP)], None),
        ]
    names = [q.name for q in params]
    if len(set(names)) != len(names):
        raise ValueError(f"{analysis.name}: a parameter name is used twice in {names}")
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {q.name: q.annotation for q in params}
    command.__name__ = f"{analysis.name}_cmd"
    command.__doc__ = analysis.doc("cli")
    command.__analysis__ = analysis
    return command


def add_commands(app: typer.Typer, *names: str) -> None:
    """Add the generated commands of the analyses ``names`` (a command module places them in its
    part of ``--help``, as ``cli.counting`` does for count, ytd, compstat, ...)."""
    from .registry import get

    for name in names:
        # placed here: a command generated earlier for the same analysis (by :func:`register`) is replaced
        app.registered_commands[:] = [c for c in app.registered_commands
                                      if not (c.name == name and hasattr(c.callback, "__analysis__"))]
        app.command(name)(command_for(get(name)))


def register(app: typer.Typer) -> None:
    """Add one command per declared analysis that asks for one."""
    from .registry import analyses

    taken = {c.name for c in app.registered_commands}
    for a in analyses().values():
        if a.cli and a.name not in taken:
            app.command(a.name)(command_for(a))
