"""The scale-out commands: export-parquet, cell-counts, and --engine spark on the counting commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from crimescope.cli import counting, scale
from crimescope.cli.context import State
from crimescope.store import Store
from engine_fixtures import add_batch, insert_rows, make_row


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _main(ctx: typer.Context, store: Path = typer.Option(..., "--store")) -> None:
        ctx.obj = State(store_path=store)

    counting.register(app)
    scale.register(app)
    return app


@pytest.fixture
def tiny_path(tmp_path):
    p = tmp_path / "t.duckdb"
    with Store(p) as s:
        add_batch(s, 1, "2018-01-10 12:00:00+00")
        insert_rows(s, [make_row(1, "2016-01-04 10:00", x=150.0, y=20.0),
                        make_row(2, "2016-01-05 10:00", x=160.0, y=30.0),
                        make_row(3, "2017-03-01 10:00", x=10.0, y=10.0)])
    return p


def run(args, code=0):
    r = CliRunner().invoke(make_app(), args)
    assert r.exit_code == code, (r.output, r.exception)
    return r


def test_export_then_cell_counts_duckdb(tiny_path, tmp_path):
    out = tmp_path / "pq"
    r = run(["--store", str(tiny_path), "export-parquet", str(out)])
    assert "incidents: 3 rows" in r.output and "source=chicago/year=2016: 2 rows" in r.output
    r = run(["--store", str(tiny_path), "cell-counts", "-c", "homicide", "--from", "2016-01-01",
             "--to", "2017-12-31", "--cell-size", "100", "--format", "json"])
    rows = json.loads(r.output)["rows"]
    assert rows == [{"col": 1, "row": 0, "week": "2016-01-04", "count": 2},
                    {"col": 0, "row": 0, "week": "2017-02-27", "count": 1}]


def test_export_refuses_nonempty(tiny_path, tmp_path):
    out = tmp_path / "pq"
    run(["--store", str(tiny_path), "export-parquet", str(out)])
    r = CliRunner().invoke(make_app(), ["--store", str(tiny_path), "export-parquet", str(out)])
    assert r.exit_code != 0 and "not empty" in str(r.exception)


def test_help_texts():
    for path in (["export-parquet"], ["cell-counts"]):
        r = CliRunner().invoke(make_app(), ["--store", "x", *path, "--help"])
        assert r.exit_code == 0 and "Usage" in r.output, path


def test_spark_commands(tiny_path, tmp_path, spark):
    """`--engine spark` prints what the DuckDB commands print."""
    out = tmp_path / "pq"
    run(["--store", str(tiny_path), "export-parquet", str(out)])
    r = run(["--store", str(tiny_path), "count", "--engine", "spark", "--data", str(out), "--spark-master", "local[2]",
             "-c", "homicide", "--from", "2016-01-01", "--to", "2017-12-31", "--by", "year", "--format", "json"])
    assert [(x["year"], x["count"]) for x in json.loads(r.output)["rows"]] == [(2016, 2), (2017, 1)]
    common = ["cell-counts", "-c", "homicide", "--from", "2016-01-01", "--to", "2017-12-31",
              "--cell-size", "100", "--format", "csv"]
    a = run(["--store", str(tiny_path), *common]).output
    b = run(["--store", str(tiny_path), *common, "--engine", "spark", "--data", str(out)]).output
    assert a == b and "1,0,2016-01-04,2" in a
    r = run(["--store", str(tiny_path), "ytd", "--engine", "spark", "--data", str(out), "-c", "homicide",
             "--as-of", "2017-03-01", "--years", "1", "--format", "csv"])
    assert "2017,2017-01-01,2017-03-01,1" in r.output
    r = run(["--store", str(tiny_path), "compstat", "--engine", "spark", "--data", str(out), "-c", "homicide",
             "--as-of", "2017-03-01", "--by", "none", "--format", "csv"])
    assert "homicide," in r.output
