"""A walk over the analysis registry: every declared analysis has its CLI command and its
/api/ JSON and CSV twins, and every generated interface offers exactly the declared parameters."""

from __future__ import annotations

import pytest
import typer.main


def _cli_commands():
    from crimescope.cli.main import app

    return typer.main.get_command(app).commands


@pytest.fixture(scope="module")
def openapi(tmp_path_factory):
    from fastapi.testclient import TestClient

    from crimescope.store import Store
    from crimescope.web.app import create_app

    path = tmp_path_factory.mktemp("walk") / "empty.duckdb"
    Store(path).close()
    with TestClient(create_app(path, response_cache_mb=0)) as c:
        return c.get("/api/openapi.json").json()


def _analyses():
    from crimescope.app import analyses

    return analyses()


def test_the_shipped_analyses_are_declared():
    assert {"count", "ytd", "compstat", "rates", "arrests", "cities", "pace", "overview", "trends", "map", "hotspots",
            "forecast", "claim", "plan"} <= set(_analyses())


@pytest.mark.parametrize("name", sorted(_analyses()))
def test_every_analysis_has_a_cli_command(name):
    """A generated command takes exactly the declared CLI parameters; a hand-written one
    (``cli=False``: it writes files or reads a YAML of claims) has the analysis's name."""
    a = _analyses()[name]
    commands = _cli_commands()
    assert name in commands, f"no `crimescope {name}` command"
    if not a.cli:
        return
    opts = {o for p in commands[name].params for o in getattr(p, "opts", [])}
    dests = {p.name for p in commands[name].params}
    for p in a.params:
        offered = p.offered("cli")
        assert (p.name in dests) == offered, f"{name}: {p.name} {'missing' if offered else 'offered'}"
        if offered:
            q = p.on("cli")
            assert q.option in opts and (q.short is None or q.short in opts), (name, q.option)
            opt = next(o for o in commands[name].params if o.name == p.name)
            assert opt.required == q.required, (name, p.name)
    assert {"--format", *a.output_flags} <= opts
    for o in a.writes:  # the files it also writes, each behind its own option, with that output's options
        assert o.flag in opts and {q.on("cli").option for q in o.options} <= opts, (name, o.flag)
    assert ("--categories-file" in opts) == (a.taxonomy and a.store)
    assert ("--engine" in opts) == a.engines
    help_text = commands[name].help or ""
    assert help_text.startswith(a.summary), name


@pytest.mark.parametrize("name", sorted(_analyses()))
def test_every_analysis_has_json_and_csv_routes(name, openapi):
    a = _analyses()[name]
    path = f"/api/{a.route_name}.{{fmt}}"
    assert a.api and path in openapi["paths"], f"no {path} route"
    op = openapi["paths"][path]["get"]
    query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    assert query == {p.name for p in a.params if p.offered("api")} | {"source"}, name
    required = {p["name"] for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")}
    assert required == {p.name for p in a.params if p.offered("api") and p.on("api").required}, name
    for fmt_, summary in a.api_files.items():  # one-format routes beside the twins, same parameters
        other = openapi["paths"][f"/api/{a.route_name}.{fmt_}"]["get"]
        assert {p["name"] for p in other.get("parameters", []) if p["in"] == "query"} == query, (name, fmt_)
        assert other["summary"] == summary
    fmt = next(p for p in op["parameters"] if p["name"] == "fmt")
    schema = fmt["schema"]
    if "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert set(schema["enum"]) == {"json", "csv"}
    assert op["summary"] == a.summary


def test_choice_parameters_list_their_values(openapi):
    trends = openapi["paths"]["/api/trends.{fmt}"]["get"]
    p = next(p for p in trends["parameters"] if p["name"] == "interval")
    schema = p["schema"]
    if "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert set(schema["enum"]) == {"week", "month"}


def test_a_parameter_of_one_interface_only():
    """compstat's ``--all`` cuts the terminal table; its API ``category`` keeps one category's rows."""
    a = _analyses()["compstat"]
    by_name = {p.name: p for p in a.params}
    assert by_name["all"].cli and not by_name["all"].api
    assert by_name["category"].api and not by_name["category"].cli
    parsed = a.parse({"categories": "homicide, shooting,homicide"})
    assert parsed["categories"] == ["homicide", "shooting"] and parsed["all"] is False
    from crimescope.errors import ParameterError

    with pytest.raises(ParameterError, match="at most 12"):
        a.parse({"categories": ",".join(f"c{i}" for i in range(13))})
    with pytest.raises(ParameterError, match="unknown parameters"):
        a.parse({"colour": "red"})
