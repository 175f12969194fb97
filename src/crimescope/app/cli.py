"""CLI commands generated from the analysis declarations (``register(app)``, like every cli module)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, List, Optional

import typer

__all__ = ["register", "command_for"]


def _option(p):
    """(annotation, default) of the Typer parameter for a declared Param."""
    names = [p.option] + ([p.short] if p.short else [])
    if p.kind == "by":
        return Annotated[Optional[List[str]], typer.Option(*names, help=p.help)], None
    if p.kind == "int":
        return Annotated[Optional[int], typer.Option(*names, help=p.help)], (... if p.required else p.default)
    return Annotated[Optional[str] if not p.required else str, typer.Option(*names, help=p.help)], \
        (... if p.required else p.default)


def command_for(analysis):
    """A Typer command function for ``analysis``: its params, then --format, --output, --categories-file."""
    from ..cli.context import CATEGORIES_FILE_HELP

    def command(ctx: typer.Context, **values):
        from ..cli.context import load_user_taxonomy, state
        from ..cli.counting import _check_format, emit

        fmt = values.pop("fmt")
        output = values.pop("output")
        files = values.pop("categories_file")
        _check_format(fmt)
        st = state(ctx)
        cats = [values[p.name] for p in analysis.params if p.kind == "category" and values.get(p.name)]
        tax = load_user_taxonomy(files, *cats, source=st.source)
        with st.open_dataset() as ds:
            emit(analysis(ds, taxonomy=tax, **values), fmt, output)

    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for p in analysis.params:
        ann, default = _option(p)
        params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=default))
    params += [
        inspect.Parameter("fmt", inspect.Parameter.KEYWORD_ONLY, default="table",
                          annotation=Annotated[str, typer.Option("--format", help="Output format: table, csv or json.")]),
        inspect.Parameter("categories_file", inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=Annotated[Optional[List[Path]],
                                               typer.Option("--categories-file", help=CATEGORIES_FILE_HELP)]),
        inspect.Parameter("output", inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=Annotated[Optional[Path],
                                               typer.Option("--output", "-o", help="Write to this file instead of stdout.")]),
    ]
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {q.name: q.annotation for q in params}
    command.__name__ = f"{analysis.name}_cmd"
    command.__doc__ = analysis.summary + ("\n\n" + analysis.description if analysis.description else "")
    return command


def register(app: typer.Typer) -> None:
    """Add one command per declared analysis that asks for one."""
    from .registry import analyses

    taken = {c.name for c in app.registered_commands}
    for a in analyses().values():
        if a.cli and a.name not in taken:  # a command module may already have placed it (arrests)
            app.command(a.name)(command_for(a))
