"""A bare Typer app holding only the commands generated from the declarations (no hand-written
ones), with the global ``--store`` and ``--source`` options: what tests/app drive through CliRunner."""

from __future__ import annotations

from pathlib import Path

import typer


def generated_app() -> typer.Typer:
    from crimescope.app import cli as app_cli
    from crimescope.cli.context import State

    app = typer.Typer()

    @app.callback()
    def _root(ctx: typer.Context, store: Path = typer.Option(...), source: str = typer.Option(None)) -> None:
        ctx.obj = State(store_path=store, source=source)

    app_cli.register(app)
    return app
