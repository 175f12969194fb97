"""State shared by CLI commands (the global options)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from ..store import Store


@dataclass
class State:
    store_path: Path

    def open_store(self, *, read_only: bool = False) -> Store:
        return Store(self.store_path, read_only=read_only)


def state(ctx: typer.Context) -> State:
    """The global options of the running command."""
    return ctx.find_root().obj
