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
            "forecast", "claim", "plan", "evaluate", "rejected"} <= set(_analyses())


@pytest.mark.parametrize("name", sorted(_analyses()))
def test_every_analysis_has_a_cli_command(name):
    """A generated command takes exactly the declared CLI parameters; a hand-written one
    (``cli=False``: it draws images, or takes any units or models and writes files) has the
    analysis's name."""
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
            opt = next(o for o in commands[name].params if o.name == p.name)
            if q.positional and q.kind == "category":  # an optional argument, or its option (checked once given)
                arg = next(o for o in commands[name].params if o.name == f"{p.name}_arg")
                assert arg.param_type_name == "argument" and not arg.required and not opt.required, (name, p.name)
                assert q.option in opts and (q.short is None or q.short in opts), (name, q.option)
            elif q.positional:  # an argument (claim's sentence), not an option
                assert opt.param_type_name == "argument", (name, p.name)
                assert opt.required == q.required, (name, p.name)
            else:
                assert {q.option, *q.aliases} <= opts and (q.short is None or q.short in opts), (name, q.option)
                assert opt.required == q.required, (name, p.name)
    assert set(a.output_flags) <= opts
    assert ("--format" in opts) == (len(a.formats) > 1), name  # one format (hotspots' table): no --format
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
    assert op["summary"] == a.route_summary == (a.api_summary or a.summary)


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


def _provenance_walk():
    """The runs of tests/web/test_provenance_everywhere.py (which checks, on real data, that each
    output carries unit, rule, source and vintage lines or ``meta``)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "web" / "test_provenance_everywhere.py"
    spec = importlib.util.spec_from_file_location("_provenance_walk", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", sorted(_analyses()))
def test_every_output_of_every_analysis_is_checked_for_provenance(name):
    """Each declared analysis's command is walked, or exempted with a reason; a generated one in every
    format it offers (on stdout, or as a file of each suffix when its format comes from the output
    file's: then the table, the terminal rendering, is not walked). Each of its routes (the JSON/CSV
    twins and its one-format routes) is walked, or exempted with a reason."""
    a = _analyses()[name]
    walk = _provenance_walk()
    if name in walk.CLI_EXEMPT:
        assert walk.CLI_EXEMPT[name].strip(), name
    elif not a.cli:
        assert walk.CLI_RUNS[name], name
    else:
        runs = walk.CLI_RUNS[name]
        seen = set()
        for args, output in runs:
            if output.startswith("stdout:"):
                seen.add(output.split(":", 1)[1])
            elif output.startswith("."):
                seen.add(output[1:])
        missing = set(a.formats) - seen - ({"table"} if a.format_from_output else set())
        assert not missing, f"`crimescope {name}`: formats {sorted(missing)} are not walked for provenance"
    for route in [f"/api/{a.route_name}.{{fmt}}", *(f"/api/{a.route_name}.{f}" for f in a.api_files)]:
        walked = route in walk.API_RUNS or route in walk.API_GEOJSON
        assert walked or walk.API_EXEMPT.get(route, "").strip(), f"{route} is neither walked nor exempt"


def test_a_parameter_offered_differently_on_each_interface():
    """plan's ``budget``: required on the command line; on the API optional (default 40) with the
    web's pattern; ``as_of`` a date/time text on the command line, a date on the API."""
    from crimescope.errors import ParameterError

    a = _analyses()["plan"]
    by_name = {p.name: p for p in a.params}
    budget = by_name["budget"]
    assert budget.on("cli").required and not budget.on("api").required and budget.on("api").default == "40"
    assert by_name["as_of"].on("cli").kind == "text" and by_name["as_of"].on("api").kind == "date"
    assert not by_name["exclude"].offered("api") and by_name["exclude"].offered("cli")
    with pytest.raises(ParameterError, match="--as-of is required"):
        a.parse({}, on="cli")
    api = a.parse({}, on="api")
    assert api["budget"] == "40" and api["as_of"] is None and api["exclude"] is None and api["time_limit"] == 60.0
    ev = {p.name: p for p in _analyses()["evaluate"].params}
    assert ev["shift"].on("api").le == 3 and ev["shift"].on("cli").le is None
    with pytest.raises(ParameterError, match="--shift-months must be >= 0"):
        _analyses()["evaluate"].parse({"shift": -1}, on="cli")
    with pytest.raises(ParameterError, match="--shift-months: 4 is outside 0 to 3"):
        _analyses()["evaluate"].parse({"shift": 4}, on="api")
    assert _analyses()["evaluate"].parse({"shift": 4}, on="cli")["shift"] == 4


def test_a_generated_command_is_placed_once():
    """A command module placing a generated command (``add_commands``) replaces the one generated
    earlier: each analysis has exactly one command."""
    from crimescope.cli.main import app

    names = [c.name for c in app.registered_commands]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
