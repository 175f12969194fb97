"""`crimescope reconcile`: police counts beside the Gun Violence Archive's, by month and district."""

from __future__ import annotations

from typing import List, Optional

import typer

from .context import state


def _by(values: Optional[List[str]]) -> list[str]:
    """``--by`` given repeatedly or comma-separated, as one list."""
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def register(app: typer.Typer) -> None:
    @app.command("reconcile")
    def reconcile_cmd(
        ctx: typer.Context,
        start: str = typer.Option(..., "--from", help="First local date, inclusive (YYYY-MM-DD)."),
        end: str = typer.Option(..., "--to", help="Last local date, inclusive (YYYY-MM-DD)."),
        by: Optional[List[str]] = typer.Option(None, "--by", help="month (default), district, or both "
                                                                   "(repeatable or comma-separated)."),
        fmt: str = typer.Option("table", "--format", help="Output format: table, csv or json."),
    ) -> None:
        """Police homicide victims and shooting incidents beside GVA's people killed and injured, with
        the ratio (how much of the police figure the news-based source captures) and why they differ.

        Needs `crimescope ingest gva FILE` first.
        """
        from ..stats.reconcile import reconcile
        from .context import emit

        with state(ctx).open_store(read_only=True) as store:
            emit(reconcile(store, start, end, _by(by) or ["month"]), fmt)
