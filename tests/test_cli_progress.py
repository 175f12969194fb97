"""Progress display: on stderr only, only on a terminal, never with --quiet, never in stdout."""

from __future__ import annotations

import io
import sys

import typer
from typer.testing import CliRunner

from crimescope.cli import context
from crimescope.cli.context import State, progress, progress_shown


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def _app(total):
    app = typer.Typer()

    @app.command()
    def run(quiet: bool = typer.Option(False, "--quiet")):
        with progress("work", total, quiet=quiet) as step:
            for i in range(3):
                step(f"part {i}")
        typer.echo("result 42")

    return app


def test_off_when_stderr_is_not_a_terminal_or_quiet(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not progress_shown()
    monkeypatch.setattr(sys, "stderr", _TTY())
    assert progress_shown() and not progress_shown(quiet=True)


def test_nothing_in_stdout_under_clirunner():
    for total in (3, None):
        r = CliRunner().invoke(_app(total), [])
        assert r.exit_code == 0, r.output
        assert r.stdout == "result 42\n"
        assert r.stderr == ""  # CliRunner's stderr is not a terminal: no progress at all


def test_on_a_terminal_it_draws_on_stderr_only(monkeypatch):
    err = _TTY()
    monkeypatch.setattr(sys, "stderr", err)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    calls = []
    with progress("backtest", 4) as step:
        assert not isinstance(step, context._NoProgress)
        for i in range(4):
            step(f"window {i}")
            calls.append(i)
    assert calls == [0, 1, 2, 3] and out.getvalue() == ""
    with progress("backtest", 4, quiet=True) as step:
        assert isinstance(step, context._NoProgress)


def test_quiet_is_a_global_option(tmp_path):
    from crimescope.cli.main import app

    seen = {}

    @app.command("_probe", hidden=True)
    def probe(ctx: typer.Context):
        seen["state"] = ctx.find_root().obj

    try:
        r = CliRunner().invoke(app, ["--store", str(tmp_path / "s.duckdb"), "--quiet", "_probe"])
        assert r.exit_code == 0, r.output
        assert isinstance(seen["state"], State) and seen["state"].quiet
        CliRunner().invoke(app, ["--store", str(tmp_path / "s.duckdb"), "_probe"])
        assert not seen["state"].quiet
    finally:
        app.registered_commands[:] = [c for c in app.registered_commands if c.name != "_probe"]
