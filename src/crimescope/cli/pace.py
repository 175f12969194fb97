"""`crimescope pace`: the year-end count implied by the year to date, with 80% and 95% intervals.

Declared once in :mod:`crimescope.app.declared`; this module places the generated command.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from ..app.cli import add_commands

    add_commands(app, "pace")
