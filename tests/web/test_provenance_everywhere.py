"""Every CLI command and every API route: each output format states unit, rule, source and vintage.

The walk is driven by the registered commands and routes themselves: a command or an
``/api/`` route that is neither exercised below nor exempted (with the reason) fails
the test, so a new analysis cannot ship without its provenance.

Runs on the session's web store (every 8th row of the shared 2016-2017 exports, see
conftest.py), copied for the CLI because ``backtest`` writes its ranking next to the store.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from crimescope.result import read_parquet_meta

pytestmark = pytest.mark.shared

PERIOD = ["--from", "2017-01-01", "--to", "2017-06-30"]
GV = ["--category", "gun_violence"]

#: command -> runs: (arguments, outputs) where an output is "stdout:<fmt>" or a file suffix
#: whose file is the ``{out}`` argument
CLI_RUNS: dict[str, list[tuple[list[str], str]]] = {
    "count": [(["count", *GV, *PERIOD, "--by", "district", "--format", f], f"stdout:{f}")
              for f in ("table", "csv", "json")],
    "ytd": [(["ytd", *GV, "--as-of", "2017-06-30", "--format", f], f"stdout:{f}") for f in ("table", "csv", "json")],
    "compstat": [(["compstat", "--as-of", "2017-06-30", "--format", f], f"stdout:{f}")
                 for f in ("table", "csv", "json")],
    "rates": [(["rates", "--category", "homicide", *PERIOD, "--format", f], f"stdout:{f}")
              for f in ("table", "csv", "json")],
    "arrests": [(["arrests", "--category", "robbery", *PERIOD, "--format", f], f"stdout:{f}")
                for f in ("table", "csv", "json")],
    "claim": [(["claim", "--category", "homicide", "--value", "10", *PERIOD, "--format", f], f"stdout:{f}")
              for f in ("table", "csv", "json")],
    "overview": [(["overview", "--as-of", "2017-06-30", "-c", "gun_violence", "-c", "homicide", "--format", f],
                  f"stdout:{f}") for f in ("table", "csv", "json")],
    "trends": [(["trends", *GV, *PERIOD, "--interval", "month", "--format", f], f"stdout:{f}")
               for f in ("table", "csv", "json")],
    "cell-counts": [(["cell-counts", *GV, *PERIOD, "--format", f], f"stdout:{f}") for f in ("table", "csv", "json")],
    "rejected": [(["rejected", "--format", f], f"stdout:{f}") for f in ("table", "csv", "json")],
    "hotspots": [(["hotspots", *GV, *PERIOD, "--cell", "2000"], "stdout:table")]
                + [(["hotspots", *GV, *PERIOD, "--cell", "2000", "--out", "{out}"], s)
                   for s in (".csv", ".geojson", ".parquet", ".json")],
    "concentration": [(["concentration", *GV, *PERIOD, "--units", "district", "--out", "{out}"], s)
                      for s in (".csv", ".parquet", ".json")],
    "emerging": [(["emerging", *GV, *PERIOD, "--cell", "2000", "--out", "{out}"], s)
                 for s in (".csv", ".geojson", ".parquet")],
    "near-repeat": [(["near-repeat", *GV, *PERIOD, "--permutations", "9", "--out", "{out}"], s)
                    for s in (".csv", ".parquet", ".json")],
    "forecast": [(["forecast", "--model", "naive_all", *GV, "--as-of", "2017-06-01", "--cell", "2000ft",
                   "--out", "{out}"], s) for s in (".csv", ".geojson")],
    "backtest": [(["backtest", *GV, "--start", "2017-05-01", "--end", "2017-05-16", "--models", "naive_all,naive_52w",
                   "--horizons", "7", "--coverage", "1%", "--cell", "2000ft", "--out", "{out}"], "dir:.csv")],
    "plan": [(["plan", "--model", "naive_all", "--weights", "gun_violence", "--as-of", "2017-06-05", "--budget", "10", "--cell", "2000",
               "--quotas", "none", "--out", "{out}"], s) for s in (".csv", ".geojson", ".json")],
    "evaluate": [(["evaluate", "--category", "gun_violence", "--areas", "7,11", "--start", "2017-02-01",
                   "--methods", "did", "--format", f], f"stdout:{f}") for f in ("table", "csv", "json")],
    "backtest-plan": [(["backtest-plan", "--model", "naive_all", "--weights", "gun_violence", "--start", "2017-05-01", "--end", "2017-05-16",
                        "--budget", "10", "--cell", "2000", "--out", "{out}"], "dir:.csv")],
}

#: commands that print no figures of the store (or only images), with the reason
CLI_EXEMPT = {
    "ingest": "loads files; prints per-file batch reports",
    "sync": "updates the store from the live API; prints what was fetched",
    "snapshot": "publishes the read snapshot",
    "serve": "starts the server (its routes are walked below)",
    "info": "describes the store itself (rows per year, vintage per source), not a counted figure",
    "categories": "the definitions: rule and source are columns of every row",
    "models": "lists model settings",
    "map": "an image: the title and footer name category, period, rule and source",
    "report": "the weekly brief (PDF/HTML), built from the API results checked below",
    "export-parquet": "copies the stored rows; its manifest records the batches",
    "pace": ("needs three prior covered years, which this 2016-2017 store lacks (refused, as it should be): "
             "its table, CSV and JSON provenance lines are pinned in tests/stats/test_pace.py"),
    "evaluate-methods": "lists the evaluation methods and their assumptions",
    "evaluate-sdsc": "the SDSC case study: the `evaluate` runs walked above, written to a folder with a report",
    "reference": "checks the shipped reference files (boundaries, populations, IUCR list)",
    "reconcile": ("needs the GVA source, which this store lacks (refused); its table, CSV and JSON "
                  "provenance are checked in tests/stats/test_gva_reconcile.py"),
    "cities": "published UCR city tables (not the store): checked in tests/stats/test_rates_cities.py",
}

#: /api route -> query string (``{fmt}`` is walked over json and csv)
API_RUNS = {
    "/api/overview.{fmt}": "as_of=2017-06-30",
    "/api/compstat.{fmt}": "as_of=2017-06-30",
    "/api/trends.{fmt}": "category=gun_violence&start=2017-01-01&end=2017-06-30",
    "/api/map.{fmt}": "category=gun_violence&kind=community_area&start=2017-01-01&end=2017-06-30",
    "/api/hotspots.{fmt}": "category=gun_violence&start=2017-01-01&end=2017-06-30&cell=2000",
    "/api/forecast.{fmt}": "category=gun_violence&as_of=2017-06-01&cell=2000&model=naive_all",
    "/api/claim.{fmt}": "category=homicide&value=10&start=2017-01-01&end=2017-06-30",
    "/api/data.{fmt}": "",
    "/api/rejected.{fmt}": "",
    "/api/arrests.{fmt}": "category=robbery&start=2017-01-01&end=2017-06-30",
    "/api/count.{fmt}": "category=gun_violence&start=2017-01-01&end=2017-06-30&by=district",
    "/api/ytd.{fmt}": "category=gun_violence&as_of=2017-06-30",
    "/api/rates.{fmt}": "category=homicide&start=2017-01-01&end=2017-06-30",
    "/api/evaluate.{fmt}": "category=gun_violence&methods=did",
    "/api/plan.{fmt}": "weights=gun_violence&as_of=2017-06-05&budget=10&cell=2000&model=naive_all",
}
#: routes whose output is one format only (the ``{fmt}`` twins above cover json and csv)
API_GEOJSON = {
    "/api/plan.geojson": "weights=gun_violence&as_of=2017-06-05&budget=10&cell=2000&model=naive_all",
}
API_EXEMPT = {
    "/api/categories.{fmt}": "the definitions: rule and source are columns of every row",
    "/api/geometry/{kind}.geojson": "boundary polygons (reference data, not counts); meta names their file",
    "/api/cities.json": "the registered city profiles (publisher, citation, time zone): no figures",
    "/api/snapshot.json": "what the server reads (snapshot file, publication time, vintage): no figures",
    "/api/openapi.json": "the OpenAPI schema",
    "/api/pace.{fmt}": CLI_EXEMPT["pace"],
    "/api/ucr_cities.{fmt}": CLI_EXEMPT["cities"],
    "/api/docs": "the Swagger UI page",
}

_LINES = {"unit": r"^(# )?unit: \S", "rule": r"^(# )?rule: \S", "source": r"^(# )?source: \S",
          "vintage": r"^(# )?data vintage: max updated_at \d{4}-\d\d-\d\d"}


def check_lines(text: str, where: str) -> None:
    missing = [k for k, rx in _LINES.items() if not re.search(rx, text, re.M)]
    assert not missing, f"{where}: no {', '.join(missing)} line in\n{text[:1500]}"


def check_meta(meta: dict, where: str) -> None:
    missing = [k for k in ("unit", "rule", "source") if not meta.get(k)]
    v = meta.get("vintage") or {}
    if not v.get("max_updated_at") or not v.get("latest_batch_at"):
        missing.append("vintage")
    assert not missing, f"{where}: meta lacks {', '.join(missing)}: {json.dumps(meta, default=str)[:1500]}"


def check_file(path: Path, where: str) -> None:
    suf = path.suffix.lower()
    if suf == ".csv":
        text = path.read_text(encoding="utf-8")
        check_lines(text, where)
        assert len(pd.read_csv(io.StringIO(text), comment="#")) > 0, where
    elif suf in (".json", ".geojson"):
        check_meta(json.loads(path.read_text(encoding="utf-8"))["meta"], where)
    elif suf == ".parquet":
        check_meta(read_parquet_meta(path), where)
        assert len(pd.read_parquet(path)) > 0, where
    else:  # pragma: no cover
        raise AssertionError(f"{where}: unexpected file {path}")


@pytest.fixture(scope="module")
def cli_store(web_store_path, tmp_path_factory):
    d = tmp_path_factory.mktemp("walk")
    dst = d / "walk.duckdb"
    shutil.copy(web_store_path, dst)
    return dst


def _command_names():
    import typer.main

    from crimescope.cli.main import app

    return sorted(typer.main.get_command(app).commands)


def test_every_command_is_walked_or_exempt():
    names = set(_command_names())
    assert names == set(CLI_RUNS) | set(CLI_EXEMPT), (
        f"not walked: {sorted(names - set(CLI_RUNS) - set(CLI_EXEMPT))}; "
        f"unknown: {sorted((set(CLI_RUNS) | set(CLI_EXEMPT)) - names)}")


@pytest.mark.parametrize("name", sorted(CLI_RUNS))
def test_cli_outputs_carry_provenance(name, cli_store, tmp_path):
    from crimescope.cli.main import app

    for i, (args, output) in enumerate(CLI_RUNS[name]):
        out = tmp_path / f"{name}-{i}"
        if output.startswith("."):
            out = out.with_suffix(output)
        argv = ["--store", str(cli_store), *[a.replace("{out}", str(out)) for a in args]]
        r = CliRunner().invoke(app, argv)
        where = f"crimescope {' '.join(args)} ({output})"
        assert r.exit_code == 0, f"{where}: exit {r.exit_code}\n{r.output}\n{r.exception!r}"
        if output.startswith("stdout:"):
            fmt = output.split(":", 1)[1]
            if fmt == "json":
                check_meta(json.loads(r.stdout)["meta"], where)
            else:
                check_lines(r.stdout, where)
        elif output.startswith("dir:"):
            files = sorted(out.glob("*" + output.split(":", 1)[1]))
            assert files, where
            for f in files:
                check_file(f, f"{where} {f.name}")
        else:
            check_file(out, where)
            # the commands also print what the figures count before them
            if name != "backtest":
                check_lines(r.stdout, where + " stdout")


def test_every_route_is_walked_or_exempt(client):
    # the documented routes (the OpenAPI schema lists every /api/ route of the app)
    routes = {p for p in client.get("/api/openapi.json").json()["paths"] if p.startswith("/api/")}
    assert routes - set(API_RUNS) - set(API_GEOJSON) - set(API_EXEMPT) == set(), "routes neither walked nor exempt"
    assert set(API_RUNS) <= routes, f"walked routes that do not exist: {sorted(set(API_RUNS) - routes)}"


@pytest.mark.parametrize("route", sorted(API_RUNS))
def test_api_outputs_carry_provenance(route, client):
    for fmt in ("json", "csv"):
        url = route.replace("{fmt}", fmt) + (f"?{API_RUNS[route]}" if API_RUNS[route] else "")
        r = client.get(url)
        assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:500]}"
        if fmt == "json":
            check_meta(r.json()["meta"], url)
        else:
            check_lines(r.text, url)


@pytest.mark.parametrize("route", sorted(API_GEOJSON))
def test_api_geojson_carries_provenance(route, client):
    r = client.get(f"{route}?{API_GEOJSON[route]}")
    assert r.status_code == 200, f"{route}: {r.status_code} {r.text[:500]}"
    check_meta(r.json()["meta"], route)
