"""The `crimescope` command line: a thin layer over the library.

Each command group lives in its own module (``cli/<area>.py``) exposing
``register(app)``; this module wires them up, holds the global options and maps
library errors to one line on stderr and an exit status.
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path

import typer

from .. import settings
from ..errors import CrimescopeError
from ._help import hide_flag_types
from .context import State

hide_flag_types()  # a flag takes no value: no `<bool>` after it in --help

app = typer.Typer(
    name="crimescope",
    help="Violent-crime analytics on city open data: ingest, count, locate, forecast, show.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: command modules, in the order their commands appear in --help
COMMAND_MODULES = [
    "crimescope.cli.data",
    "crimescope.cli.sync",
    "crimescope.cli.counting",
    "crimescope.cli.pace",
    "crimescope.app.cli",  # commands generated from the analysis declarations (crimescope.app)
    "crimescope.cli.spatial",
    "crimescope.cli.forecast",
    "crimescope.cli.plan",
    "crimescope.cli.evaluate",
    "crimescope.cli.web",
    "crimescope.cli.scale",
    "crimescope.cli.reconcile",
]


@app.callback()
def _main(
    ctx: typer.Context,
    store: Path = typer.Option(
        None, "--store", envvar=settings.SETTINGS["store"].env,
        help=f"{settings.SETTINGS['store'].help} (default: {settings.SETTINGS['store'].default})",
    ),
    source: str = typer.Option(
        None, "--source", envvar=settings.SETTINGS["source"].env,
        help=f"{settings.SETTINGS['source'].help} (default: {settings.SETTINGS['source'].default})",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display on stderr (it is off "
                               "anyway when stderr is not a terminal)."),
    wide: bool = typer.Option(False, "--wide", help="Tables at full width (default: fitted to the terminal; "
                              "a pipe or file always gets every column whole)."),
) -> None:
    if source is not None:
        from ..datasets import get_profile

        source = get_profile(source).key  # an unknown city: one line, exit 2, before any work
    ctx.obj = State(store_path=store or settings.default_store_path(), source=source, quiet=quiet, wide=wide)


for _name in COMMAND_MODULES:
    import_module(_name).register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning CrimescopeError into one line and its exit code."""
    try:
        rc = app(args=argv, standalone_mode=False)
        if isinstance(rc, int):
            return rc
    except CrimescopeError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted: committed work is kept; run the command again to resume", err=True)
        return 130
    except Exception as exc:  # usage errors (Typer's click) carry their own message and exit code
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
