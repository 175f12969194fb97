"""The counting commands: thin wrappers, every format states unit/rule/source/vintage."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from _shared import requires_shared
from crimescope.cli import counting
from crimescope.cli.context import State
from crimescope.errors import CategoryError, ParameterError
from crimescope.store import Store
from stats_fixtures import build_tiny_store


def make_app() -> typer.Typer:
    """An app like cli/main.py's (global --store) with only the counting commands."""
    app = typer.Typer()

    @app.callback()
    def _main(ctx: typer.Context, store: Path = typer.Option(None, "--store")) -> None:
        ctx.obj = State(store_path=store)

    counting.register(app)
    return app


@pytest.fixture(scope="module")
def store_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "tiny.duckdb"
    mem = build_tiny_store()
    with Store(path) as s:
        for table in ("batches", "incidents", "coverage"):  # the hand-made rows' declared coverage too
            s.con.register("_src", mem.con.execute(f"SELECT * FROM {table}").arrow())
            s.con.execute(f"INSERT INTO {table} SELECT * FROM _src")
            s.con.unregister("_src")
    mem.close()
    return path


def run(store_file, *args):
    res = CliRunner().invoke(make_app(), ["--store", str(store_file), *args])
    return res


def test_count_csv(store_file):
    res = run(store_file, "count", "-c", "homicide", "--from", "2016-01-01", "--to", "2016-12-31",
              "--by", "district", "--format", "csv")
    assert res.exit_code == 0, res.output
    assert res.output.startswith("# Homicide")
    assert "# unit: victims" in res.output and "# data vintage:" in res.output
    df = pd.read_csv(io.StringIO(res.output), comment="#")
    assert df.to_dict(orient="list") == {"district": [1, 2], "count": [2, 2]}


def test_ytd_json_and_table(store_file):
    res = run(store_file, "ytd", "-c", "homicide", "--as-of", "2017-03-08", "--years", "2", "--format", "json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert [r["count"] for r in d["rows"]] == [1, 4, 2] and d["meta"]["unit"].startswith("victims")
    res = run(store_file, "ytd", "-c", "homicide", "--as-of", "2017-03-08", "--years", "2")
    assert res.exit_code == 0 and "unit: victims" in res.output and "2017" in res.output


def test_compstat_default_as_of(store_file):
    res = run(store_file, "compstat", "--by", "none", "-c", "robbery", "--format", "csv")
    assert res.exit_code == 0, res.output
    df = pd.read_csv(io.StringIO(res.output), comment="#")
    assert set(df["end"]) == {"2017-12-31"} and (df["area"] == "citywide").all()
    assert "# periods: week = 7 days" in res.output


def test_categories_and_arrests(store_file, tmp_path):
    res = run(store_file, "categories", "--format", "csv")
    assert res.exit_code == 0 and "gun_violence" in res.output
    out = tmp_path / "a.csv"
    res = run(store_file, "arrests", "-c", "homicide", "--from", "2016-01-01", "--to", "2017-12-31",
              "--format", "csv", "-o", str(out))
    assert res.exit_code == 0 and "not the FBI clearance rate" in out.read_text()


def test_claim_command(store_file):
    res = run(store_file, "claim", "2 homicides so far this year", "--as-of", "2017-03-08")
    assert res.exit_code == 0, res.output
    assert "verdict: MATCHES" in res.output
    res = run(store_file, "claim", "-c", "murder", "--value", "3", "--from", "2016-01-01", "--to", "2016-12-31",
              "--format", "json")
    assert json.loads(res.output)["rows"][0]["verdict"] == "matches"


def test_errors_are_library_errors(store_file):
    res = run(store_file, "count", "-c", "nope", "--from", "2016-01-01", "--to", "2016-12-31")
    assert isinstance(res.exception, CategoryError)
    res = run(store_file, "count", "-c", "homicide", "--from", "2016-01-01", "--to", "2016-12-31", "--format", "xml")
    assert isinstance(res.exception, ParameterError)
    res = run(store_file, "claim")
    assert isinstance(res.exception, ParameterError)


@requires_shared
@pytest.mark.shared
def test_rates_and_cities_commands(store_file):
    res = run(store_file, "rates", "-c", "homicide", "--from", "2016-01-01", "--to", "2016-12-31",
              "--by", "district", "--format", "csv")
    assert res.exit_code == 0, res.output
    assert "area overlap" in res.output and "EPSG:3435" in res.output
    df = pd.read_csv(io.StringIO(res.output), comment="#")
    assert df["count"].sum() == 4 and {"population", "rate_per_100k"} <= set(df.columns)
    res = run(store_file, "cities", "--year", "2016", "--format", "json")
    d = json.loads(res.output)
    assert all(r["partial_year"] for r in d["rows"]) and "PARTIAL" in d["meta"]["source"]
