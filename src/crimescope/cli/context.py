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


def say_provenance(store, category: str, start=None, end=None, *, period: str | None = None) -> None:
    """`# ` lines stating what the following figures count, as the counting commands do."""
    from ..categories import get_category
    from ..stats.counts import unit_text

    cat = get_category(category)
    period = period or f"{start or 'first record'} to {end or 'last record'} (inclusive local dates)"
    lines = [f"{cat.label}, {period}",
             f"unit: {unit_text(cat)}", f"rule: {cat.name}: {cat.rule}"]
    if store is None:
        lines.append("source: City of Chicago Data Portal CSV extracts, read directly (no store, not versioned)")
    else:
        from ..stats.provenance import data_vintage

        v = data_vintage(store, "chicago")
        lines += [f"source: {v['source_description']}",
                  f"data vintage: max updated_at {v.get('max_updated_at')}, latest batch {v.get('latest_batch_at')}"]
    for line in lines:
        typer.echo(f"# {line}")
