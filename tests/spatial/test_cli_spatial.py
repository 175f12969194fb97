"""The spatial CLI commands, on a fresh Typer app (the lead adds the module to COMMAND_MODULES)."""

from __future__ import annotations

import importlib

import pytest
from _shared import requires_shared, spatial_cli_app
from typer.testing import CliRunner

import crimescope.spatial as sp


def test_public_api_all_resolves():
    import types

    import crimescope.spatial.concentration  # noqa: F401  (submodules imported first on purpose)
    import crimescope.spatial.kde  # noqa: F401

    for name in sp.__all__:
        assert not isinstance(getattr(sp, name), types.ModuleType), name
    assert sorted(dir(sp)) == sorted(sp.__all__)


def test_every_command_has_help():
    r = CliRunner()
    app = spatial_cli_app()
    for cmd in ("hotspots", "concentration", "emerging", "near-repeat", "map"):
        out = r.invoke(app, [cmd, "--help"])
        assert out.exit_code == 0 and "--from-csv" in out.output, cmd


@pytest.fixture(scope="module")
def summer_2017():
    from crimescope.spatial.sample import read_chicago_csv

    return read_chicago_csv(start="2017-06-01", end="2017-08-31")


@requires_shared
@pytest.mark.shared
def test_commands_on_shared_csv(tmp_path, monkeypatch, summer_2017):
    import crimescope.spatial.sample as sample

    calls = []

    def cached(category, start=None, end=None, **kw):  # read the CSVs once for all commands
        calls.append((getattr(category, "name", category), start, end, kw.get("from_csv")))
        return summer_2017.copy()

    monkeypatch.setattr(sample, "category_events", cached)
    r = CliRunner()
    app = spatial_cli_app()
    common = ["--category", "gun_violence", "--from", "2017-06-01", "--to", "2017-08-31", "--from-csv"]
    out = r.invoke(app, ["hotspots", *common, "--out", str(tmp_path / "gi.csv")])
    assert out.exit_code == 0, out.output
    assert "Hot spot, 99% confidence" in out.output and (tmp_path / "gi.csv").exists()
    # every command first states what its figures count
    assert "# unit: records" in out.output and "# rule: gun_violence: iucr in (" in out.output
    assert "# source: City of Chicago Data Portal" in out.output
    out = r.invoke(app, ["concentration", *common, "--units", "beat"])
    assert out.exit_code == 0, out.output
    assert "generalized Gini" in out.output and "275 beat units" in out.output
    out = r.invoke(app, ["near-repeat", *common, "--permutations", "19"])
    assert out.exit_code == 0, out.output
    assert "same location" in out.output and "0 to 13 days" in out.output
    out = r.invoke(app, ["emerging", *common, "--step", "week"])
    assert out.exit_code == 0, out.output
    assert "Persistent Hot Spot" in out.output
    out = r.invoke(app, ["map", "kde", *common, "--out", str(tmp_path / "kde.png")])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "kde.png").stat().st_size > 10_000
    bad = r.invoke(app, ["hotspots", *common, "--units", "precinct"])
    assert bad.exit_code != 0
    assert calls[0] == ("gun_violence", "2017-06-01", "2017-08-31", True)
    # the positional form and --start/--end are accepted too; no category is a clear error
    out = r.invoke(app, ["hotspots", "gun_violence", "--start", "2017-06-01", "--end", "2017-08-31", "--from-csv"])
    assert out.exit_code == 0, out.output
    assert calls[-1] == ("gun_violence", "2017-06-01", "2017-08-31", True)
    none = r.invoke(app, ["hotspots", "--from", "2017-06-01", "--from-csv"])
    assert none.exit_code != 0 and "a category is needed" in str(none.exception or none.output)


def test_module_imports_lightly():
    importlib.reload(sp)
    assert "Grid" in sp.__all__
