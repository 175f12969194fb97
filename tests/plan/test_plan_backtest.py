"""The backtest of plans on the made-up city: variants, scores by hand, no look-ahead, costs, report files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crimescope.forecast.backtest import weekly_origins
from crimescope.plan.backtest import backtest_plans
from crimescope.plan.harm import observed_harm
from crimescope.plan.report import verdict_lines, write_backtest_report
from crimescope.spatial.grid import Grid

from test_plan_core import AS_OF, W, toy_events, toy_places


@pytest.fixture(scope="module")
def grid():
    return Grid.regular(0.0, 0.0, 10, 10, 500.0)


@pytest.fixture(scope="module")
def bt(grid):
    ev = toy_events(grid, seed=4)
    origins = weekly_origins(AS_OF - pd.Timedelta(days=21), AS_OF + pd.Timedelta(days=7))
    return ev, backtest_plans(ev, grid, origins, "8", weights=W, model="naive_all", places=toy_places(grid),
                              quotas="proportional", equity_cap=1.5)


def test_every_variant_every_window(bt):
    ev, res = bt
    r = res.records
    assert set(r["variant"]) == {"ip", "greedy", "ip_quotas", "greedy_quotas", "top_n", "hotspots"}
    assert r.groupby("variant").size().eq(4).all()  # Mondays 2016-12-12 .. 2017-01-02
    assert (r["places"] <= 8).all()
    # on expected harm (what the plans maximise) the ip is never behind greedy with the same constraints
    for a, b in (("ip", "greedy"), ("ip_quotas", "greedy_quotas")):
        ea = r[r["variant"] == a].set_index("origin")["expected_harm"]
        eb = r[r["variant"] == b].set_index("origin")["expected_harm"]
        assert (ea >= eb - 1e-9).all()
    # unconstrained top-N has the most expected harm; each constraint can only cost
    pivot = r.pivot(index="origin", columns="variant", values="expected_harm")
    assert (pivot["top_n"] >= pivot["ip_quotas"] - 1e-9).all() and (pivot["ip_quotas"] >= pivot["ip"] - 1e-9).all()


def test_observed_harm_is_the_next_window_by_hand(bt, grid):
    ev, res = bt
    r = res.records
    o = r["origin"].iloc[0]
    obs = observed_harm(ev, W, grid, o.to_datetime64(), (o + pd.Timedelta(days=7)).to_datetime64())
    row = r[(r["origin"] == o) & (r["variant"] == "top_n")].iloc[0]
    assert row["window_harm"] == pytest.approx(obs.sum())
    assert 0 <= row["observed_harm"] <= row["window_harm"]


def test_no_look_ahead(grid):
    """Records added after an origin change nothing planned at that origin."""
    ev = toy_events(grid, seed=5)
    o = [AS_OF]
    a = backtest_plans(ev, grid, o, "6", weights=W, model="naive_all", places=toy_places(grid))
    extra = pd.DataFrame({"occurred_local": [AS_OF + pd.Timedelta(hours=5)] * 30, "x": 4750.0, "y": 250.0,
                          "category": "homicide", "id": np.arange(30) + 10**6, "community_area": "1",
                          "district": "2", "block": "X"})
    b = backtest_plans(pd.concat([ev, extra], ignore_index=True), grid, o, "6", weights=W, model="naive_all",
                       places=toy_places(grid))
    ra, rb = a.records.set_index("variant"), b.records.set_index("variant")
    assert (ra["expected_harm"] == rb["expected_harm"]).all()
    # ... but they are scored: the hot spot planted after the origin is harm that fell outside the plans
    assert (rb["window_harm"] == ra["window_harm"] + 300).all()


def test_costs_equity_and_report(bt, tmp_path):
    ev, res = bt
    costs = res.constraint_costs()
    assert list(costs["constraint"]) == ["district quotas", "equity cap"]
    assert (costs["expected_harm_cost"] >= -1e-9).all()
    eq = res.equity
    for v, g in eq.groupby("variant"):
        assert g["place_share"].sum() == pytest.approx(1.0) and g["victim_share"].sum() == pytest.approx(1.0)
    capped = eq[(eq["variant"] == "ip") & (eq["community_area"] > 0)]
    assert len(capped)
    lines = verdict_lines(res)
    assert any(line.startswith("cost of the equity cap") for line in lines)
    assert any(line.startswith("ip_quotas vs greedy_quotas") for line in lines)
    paths = write_backtest_report(res, tmp_path)
    assert {p.name for p in paths} == {"summary.csv", "records.csv", "equity.csv", "costs.csv", "report.html"}
    head = (tmp_path / "summary.csv").read_text().splitlines()
    assert head[0].startswith("# Plan backtest:") and any(h.startswith("# unit: harm in the planned places") for h in head)
    assert "cost of the equity cap" in (tmp_path / "report.html").read_text()
