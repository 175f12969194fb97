"""Evaluation commands: `evaluate` (generated from its declaration in crimescope.app.declared, with the
renderings below), `evaluate-sdsc`, `evaluate-methods` (thin wrappers over crimescope.evaluate)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .context import state

__all__ = ["register"]


def emit_evaluation(ev, fmt: str, output: Optional[Path], params: dict) -> None:
    """How `crimescope evaluate` shows its evaluation: ``ev.render(fmt)`` on stdout, or written to
    ``--output`` (said on stderr)."""
    text = ev.render(fmt)
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
    else:
        typer.echo(text)


def write_figures(ev, folder: Path, params: dict) -> str:
    """`--figures`: the evaluation's figures (`--figure-format` png or svg) in ``folder``."""
    from ..evaluate.plots import save_figures

    paths = save_figures(ev, folder, params["figure_format"])
    return f"wrote {len(paths)} figures to {folder}"


def register(app: typer.Typer) -> None:
    """Add `evaluate`, `evaluate-sdsc` and `evaluate-methods` to the app."""

    @app.command("evaluate-methods")
    def methods_cmd() -> None:
        """List the evaluation methods with their settings."""
        from ..evaluate.base import make_method, summaries

        from .context import echo_item

        for name, text in summaries().items():
            echo_item(name, [text, repr(make_method(name))], 8)

    # `evaluate` is declared once (crimescope.app.declared); its command is generated from the declaration
    from ..app.cli import add_commands

    add_commands(app, "evaluate")

    @app.command("evaluate-sdsc")
    def sdsc_cmd(
        ctx: typer.Context,
        out: Path = typer.Option(Path("sdsc"), "--out", help="Folder for summary.csv, case_study.json, "
                                 "report.md and the figures."),
        step: str = typer.Option("month", "--step", help="week or month."),
        methods: str = typer.Option("all", "--methods", help="Comma-separated methods or 'all'."),
        shift_months: int = typer.Option(1, "--shift-months", help="Sensitivity: move every start by -N and +N months."),
        cohorts: Optional[Path] = typer.Option(None, "--cohorts", help="Other dates for the six districts "
                                               "(default: the shipped SDSC file)."),
    ) -> None:
        """The Strategic Decision Support Center case study: shootings, homicides, gun violence, 2012-2017."""
        from ..evaluate.casestudy import sdsc_case_study
        from ..evaluate.cohorts import read_cohorts
        from ..evaluate.run import parse_methods

        names = parse_methods(methods)
        ch = read_cohorts(cohorts) if cohorts is not None else None
        store = state(ctx).open_store(read_only=True)
        try:
            cs = sdsc_case_study(store, step=step, methods=names, shift_months=shift_months, cohorts=ch)
        finally:
            store.close()
        paths = cs.write(out)
        from .context import table_width

        typer.echo(cs.summary().to_text(width=table_width()))
        typer.echo(f"wrote {len(paths)} files to {out} (report.md, summary.csv, case_study.json, figures)")
