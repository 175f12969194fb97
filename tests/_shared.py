"""Where the shared public data lives, for tests (read at test time, never copied)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import typer

from crimescope.settings import shared_data_dir

SHARED: Path | None = shared_data_dir()
CRIMES = SHARED / "chicago" / "crimes" if SHARED else None
CRIME_FILES = sorted(CRIMES.glob("*.csv.gz")) if CRIMES else []
HOMICIDES = SHARED / "chicago" / "homicides-2001-2017.csv.gz" if SHARED else None

requires_shared = pytest.mark.skipif(SHARED is None, reason="../shared/data not present")


def cut_crimes(dst: Path, start: int, stop: int, year: int = 2017) -> Path:
    """Rows ``start``..``stop`` (0-based, after the header) of a shared yearly export, as a plain CSV."""
    with gzip.open(CRIMES / f"{year}.csv.gz", "rt", encoding="utf-8", newline="") as fin, \
            open(dst, "w", encoding="utf-8", newline="") as fout:
        fout.write(fin.readline())
        for i, line in enumerate(fin):
            if i >= stop:
                break
            if i >= start:
                fout.write(line)
    return dst


def spatial_cli_app():
    """A Typer app with only the spatial commands, on a store path that is never opened."""
    from crimescope.cli import spatial as cli_spatial
    from crimescope.cli.context import State

    app = typer.Typer()

    @app.callback()
    def _root(ctx: typer.Context) -> None:
        ctx.obj = State(store_path=Path("unused.duckdb"))

    cli_spatial.register(app)
    return app
