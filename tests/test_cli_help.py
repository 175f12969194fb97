"""Every command and command group answers --help with a description."""

from __future__ import annotations

import pytest
import typer

from crimescope.cli.main import app, main


def _walk(cmd, path: tuple[str, ...] = ()):
    yield path, cmd
    if hasattr(cmd, "commands"):
        for name, sub in cmd.commands.items():
            yield from _walk(sub, path + (name,))


COMMANDS = list(_walk(typer.main.get_command(app)))


def test_there_are_commands():
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"ingest chicago", "ingest nyc-shootings", "info", "rejected"} <= names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "crimescope")
def test_help(path, capsys):
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage" in out
    cmd = dict(COMMANDS)[path]
    assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"


def _readme_commands():
    import re
    import shlex
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```(?:bash|sh|console)?\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith("crimescope "):
                yield shlex.split(line)[1:]


README_COMMANDS = list(_readme_commands())


def test_readme_has_commands():
    assert len(README_COMMANDS) >= 10


@pytest.mark.parametrize("argv", README_COMMANDS, ids=lambda a: " ".join(a)[:60])
def test_readme_command_uses_real_options(argv, capsys):
    """Every `crimescope ...` line of the README names an existing command and only its options."""
    tree = dict(COMMANDS)
    path: tuple[str, ...] = ()
    root = typer.main.get_command(app)
    takes_value = {o for p in root.params if not getattr(p, "is_flag", False) for o in getattr(p, "opts", [])}
    skip = False
    for word in argv:
        if skip:  # the value of a global option (`--source nyc_shootings`, `--store PATH`)
            skip = False
        elif not path and word in takes_value:
            skip = True
        elif path + (word,) in tree:
            path += (word,)
        elif not word.startswith("-"):
            break
    options = [w.split("=")[0] for w in argv if w.startswith("--")]
    params = {o for p in tree[path].params for o in getattr(p, "opts", [])}
    params |= {o for p in typer.main.get_command(app).params for o in getattr(p, "opts", [])} | {"--help"}
    unknown = [o for o in options if o not in params]
    assert not unknown, f"`crimescope {' '.join(argv)}`: {unknown} are not options of `{' '.join(path)}`"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "crimescope")
def test_help_shows_no_type_after_a_flag(path, capsys):
    """A flag takes no value: `--help -h`, `--overwrite`, `--fdr/--no-fdr` show no `<bool>`."""
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "<bool>" not in out
    assert "-h" in out  # the short help option is still listed
