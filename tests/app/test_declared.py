"""Analyses declared once (crimescope.app): the generated CLI command and /api/ twins agree
with the library call, and a new analysis is one function plus one registration."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from chicago_rows import HEADER20, row  # noqa: E402
from _generated_app import generated_app  # noqa: E402

# 10 hand-made homicide rows in 2016: districts 7 (6 rows, 2 with an arrest) and 11 (4 rows, 3 arrests)
ROWS = [(7, "true"), (7, "false"), (7, "false"), (7, "true"), (7, "false"), (7, "false"),
        (11, "true"), (11, "true"), (11, "false"), (11, "true")]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from crimescope.sources.chicago import ingest_files
    from crimescope.store import Store

    d = tmp_path_factory.mktemp("app")
    lines = [HEADER20] + [row(id_=str(100 + i), case=f"HZ{i}", date=f"03/{i + 1:02d}/2016 10:00:00 PM", iucr="0110",
                              ptype="HOMICIDE", desc="FIRST DEGREE MURDER", fbi="01A", arrest=a,
                              district=f"{dist:03d}") for i, (dist, a) in enumerate(ROWS)]
    (d / "h.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = d / "s.duckdb"
    with Store(path) as s:
        assert [b.inserted for b in ingest_files(s, [d / "h.csv"])] == [10]
    return path


def _app():
    return generated_app()


def test_arrests_cli_api_and_library_agree(store_path):
    from fastapi.testclient import TestClient

    from crimescope.stats.arrests import arrests
    from crimescope.store import Store
    from crimescope.web.app import create_app

    args = {"category": "homicide", "start": "2016-01-01", "end": "2016-12-31", "by": "district"}
    r = CliRunner().invoke(_app(), ["--store", str(store_path), "arrests", "--category", "homicide", "--from",
                                    "2016-01-01", "--to", "2016-12-31", "--by", "district", "--format", "json"])
    assert r.exit_code == 0, r.output
    cli = json.loads(r.output)
    with TestClient(create_app(store_path, response_cache_mb=0)) as c:
        api = c.get("/api/arrests.json", params=args).json()
        csv_text = c.get("/api/arrests.csv", params=args).text
    with Store(store_path, read_only=True) as s:
        lib = json.loads(arrests(s, "homicide", "2016-01-01", "2016-12-31", ["district"]).to_json())
    assert cli["rows"] == api["rows"] == lib["rows"] == [
        {"district": 7, "count": 6, "arrests": 2, "arrest_unknown": 0, "arrest_share": 0.3333},
        {"district": 11, "count": 4, "arrests": 3, "arrest_unknown": 0, "arrest_share": 0.75}]
    for key in ("unit", "rule", "source", "vintage"):
        assert cli["meta"][key] == api["meta"][key] == lib["meta"][key]
    assert csv_text.startswith("# Arrest share") and "# rule: homicide: iucr in" in csv_text


def test_bad_parameters_one_message_everywhere(store_path):
    from fastapi.testclient import TestClient

    from crimescope.web.app import create_app

    r = CliRunner().invoke(_app(), ["--store", str(store_path), "arrests", "-c", "homicide", "--from", "2016-13-01",
                                    "--to", "2016-12-31"])
    assert r.exit_code != 0 and "is not a date" in str(r.exception)
    with TestClient(create_app(store_path, response_cache_mb=0)) as c:
        r = c.get("/api/arrests.json", params={"category": "homicide", "start": "2016-12-31", "end": "2016-01-01"})
        assert r.status_code == 400 and "before start" in r.json()["error"]["message"]


def test_a_new_analysis_is_one_function_and_one_registration(store_path):
    from fastapi.testclient import TestClient

    from crimescope.app import Analysis, Param, register
    from crimescope.app import registry
    from crimescope.web.app import create_app

    def by_weekday(ds, *, taxonomy, category, year):
        from crimescope.stats import count

        return count(ds, category, f"{year}-01-01", f"{year}-12-31", by=["dow"], taxonomy=taxonomy)

    register(Analysis(name="weekday_counts", summary="Records per day of the week in one year.",
                      params=(Param("category", "category", "Category.", required=True, short="-c"),
                              Param("year", "int", "Calendar year.", required=True)),
                      run=by_weekday))
    try:
        r = CliRunner().invoke(_app(), ["--store", str(store_path), "weekday_counts",
                                        "-c", "homicide", "--year", "2016", "--format", "csv"])
        assert r.exit_code == 0, r.output
        assert "# source: City of Chicago Data Portal" in r.output
        with TestClient(create_app(store_path, response_cache_mb=0)) as c:
            doc = c.get("/api/weekday_counts.json", params={"category": "homicide", "year": 2016}).json()
            assert "/api/weekday_counts.{fmt}" in c.get("/api/openapi.json").json()["paths"]
        # March 1..10, 2016: Tuesday (dow 1) .. Thursday (dow 3) of the next week
        expect = {1: 2, 2: 2, 3: 2, 4: 1, 5: 1, 6: 1, 0: 1}
        assert {r["dow"]: r["count"] for r in doc["rows"]} == expect
        assert sum(expect.values()) == doc["meta"]["total"] == 10
    finally:
        registry._REGISTRY.pop("weekday_counts", None)
