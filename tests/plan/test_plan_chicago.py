"""Plans on the real Chicago records (the shared 2012-2017 store): constraints, place kinds, CLI, sheets."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from _shared import requires_shared

pytestmark = [requires_shared, pytest.mark.shared]

AS_OF = "2017-07-03"


@pytest.fixture(scope="module")
def harm_events(chicago_store):
    from crimescope.plan.harm import load_harm_events, parse_weights

    return load_harm_events(chicago_store, parse_weights("default"), end="2017-07-02")


@pytest.fixture(scope="module")
def grid():
    from crimescope.spatial.grid import Grid

    return Grid.chicago(500)


@pytest.fixture(scope="module")
def plan(harm_events, grid, chicago_store):
    from crimescope.plan.core import make_plan
    from crimescope.stats.provenance import data_vintage

    return make_plan(harm_events, as_of=AS_OF, grid=grid, budget="120", quotas="proportional", equity_cap=3.0,
                     vintage=data_vintage(chicago_store))


def test_real_plan_keeps_quotas_and_cap(plan, harm_events):
    from crimescope.plan.core import victim_shares

    t = plan.table
    assert len(t) == 120 and plan.solution.gap <= 1e-6
    tot = sum(d["district_expected_harm"] for d in plan.meta["district_totals"])
    for d in plan.meta["district_totals"]:
        share = d["district_expected_harm"] / tot
        assert math.floor(share * 120 + 1e-9) <= d["places"] <= math.ceil(share * 120 - 1e-9)
    shares = victim_shares(harm_events, AS_OF, 365, plan.meta["weights"])
    for a, n in t["community_area"].value_counts().items():
        assert n <= 3 * shares.get(int(a), 0.0) * 120 + 1e-9
    assert plan.constraint_costs["district quotas"] > 0  # quotas move places away from the hottest districts
    assert (t["address"].str.len() > 0).mean() > 0.95
    assert plan.meta["vintage"]["max_updated_at"]
    assert "history from 2012-01-01" in " ".join(plan.meta["notes"])


@pytest.mark.parametrize("kind", ["block", "beat", "h3:9"])
def test_other_place_kinds(kind, harm_events, grid):
    from crimescope.plan.core import make_plan

    p = make_plan(harm_events, as_of=AS_OF, grid=grid, budget="20", places=kind, quotas="proportional")
    assert len(p.table) == 20 and p.meta["places_kind"] == kind
    assert (p.table["district"] != "").all()
    if kind == "beat":  # a beat's district is its leading digits
        assert all(str(int(b) // 100) == d for b, d in zip(p.table["place"], p.table["district"]))
    if kind == "block":
        assert (p.table["place"] == p.table["address"]).all()
    assert p.meta["objective"] <= p.meta["expected_harm_total"] + 1e-9


def test_pdf_sheets(plan, tmp_path):
    pytest.importorskip("weasyprint")
    from crimescope.report.plan_sheet import sheet_html, write_sheets

    d = plan.table["district"].iloc[0]
    html = sheet_html(plan, d)
    assert "Responsible use" in html and plan.table["address"].iloc[0] in html and "data vintage" in html
    files = write_sheets(plan, tmp_path, districts=[d])
    assert files[0].read_bytes()[:4] == b"%PDF"


def test_cli_plan_and_errors(chicago_store_path, tmp_path, capsys):
    from crimescope.cli.main import main

    rc = main(["--store", str(chicago_store_path), "plan", "--as-of", AS_OF, "--budget", "25", "--quotas",
               "proportional", "--format", "json", "--model", "naive_52w"])
    out = capsys.readouterr().out
    assert rc == 0
    doc = json.loads(out)
    assert len(doc["rows"]) == 25 and doc["meta"]["source"]
    rc = main(["--store", str(chicago_store_path), "plan", "--as-of", AS_OF, "--budget", "25", "--quotas", "2-9",
               "--model", "naive_52w"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: infeasible request: the district minimums add up to")
    assert len(err.strip().splitlines()) == 1
    rc = main(["--store", str(chicago_store_path), "plan", "--as-of", AS_OF, "--budget", "lots"])
    assert rc == 2 and "invalid budget" in capsys.readouterr().err


def test_cli_backtest_plan(chicago_store_path, tmp_path, capsys):
    from crimescope.cli.main import main

    out = tmp_path / "bt"
    rc = main(["--store", str(chicago_store_path), "backtest-plan", "--start", "2017-03-06", "--end", "2017-03-20",
               "--budget", "100", "--model", "naive_52w", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and "2 windows" in text and "district quotas" in text and "equity cap" in text
    assert (out / "report.html").is_file() and (out / "costs.csv").read_text().startswith("# Plan backtest")
