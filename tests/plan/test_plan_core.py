"""Plans from records on a made-up city: planted hot spots found, constraints kept, hours, outputs.

The city is a 10 x 10 grid of 500 ft cells; districts are the west and east halves,
community areas five bands of two rows. Records are generated in code (fixed seeds):
a uniform background plus planted hot spots at known cells and hours.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from crimescope.errors import CoverageError, ParameterError
from crimescope.plan.core import make_plan, parse_budget, parse_quotas, plan_places, victim_shares
from crimescope.plan.harm import DEFAULT_WEIGHTS, common_coverage, event_weights, observed_harm, parse_weights
from crimescope.plan.places import Places, parse_place_kind
from crimescope.plan.when import format_hours, high_hours, hour_of_week, hour_profiles, koper_schedule
from crimescope.spatial.grid import Grid

START = pd.Timestamp("2016-01-04")  # a Monday
AS_OF = pd.Timestamp("2017-01-02")  # a Monday


@pytest.fixture(scope="module")
def grid():
    return Grid.regular(0.0, 0.0, 10, 10, 500.0)


def toy_places(grid) -> Places:
    cx, cy = grid.centroids()
    district = np.where(grid.cols < 5, "1", "2").astype(object)
    ca = (grid.rows // 2 + 1).astype(np.int64)
    return Places(kind="grid", ids=np.array([str(c) for c in grid.cell_ids], dtype=object), x=cx, y=cy,
                  area=grid.area.copy(), district=district, community_area=ca,
                  address=np.array([f"{c:03d}XX W TOY ST" for c in grid.cell_ids], dtype=object),
                  from_cells=sp.identity(grid.n_cells, format="csr"), geometry=None, grid=grid)


def cell_xy(grid, cell):
    cx, cy = grid.centroids()
    return cx[cell], cy[cell]


def toy_events(grid, seed=0, hot=((22, "homicide", 40, 4 * 24 + 22), (77, "shooting", 60, 5 * 24 + 1))):
    """Background of both categories everywhere (50 homicides, 400 shootings) plus, per (cell, category, n, hour of week), n records
    in that cell at that hour of the week."""
    rng = np.random.default_rng(seed)
    rows = []
    days = (AS_OF + pd.Timedelta(days=14) - START).days
    for cat, n_bg in (("homicide", 50), ("shooting", 400)):
        t = START + pd.to_timedelta(rng.uniform(0, days, n_bg), unit="D")
        rows.append(pd.DataFrame({"occurred_local": t, "x": rng.uniform(0, 5000, n_bg),
                                  "y": rng.uniform(0, 5000, n_bg), "category": cat}))
    for cell, cat, n, how in hot:
        x, y = cell_xy(grid, cell)
        week = rng.integers(0, days // 7, n)
        t = START + pd.to_timedelta(week * 7 * 24 + how, unit="h") + pd.to_timedelta(rng.uniform(0, 59, n), unit="m")
        rows.append(pd.DataFrame({"occurred_local": t, "x": x + rng.uniform(-200, 200, n),
                                  "y": y + rng.uniform(-200, 200, n), "category": cat}))
    ev = pd.concat(rows, ignore_index=True).sort_values("occurred_local", kind="stable").reset_index(drop=True)
    ev["id"] = np.arange(len(ev))
    cells = grid.locate(ev["x"].to_numpy(), ev["y"].to_numpy())
    ev["community_area"] = (grid.rows[cells] // 2 + 1).astype(str)
    ev["district"] = np.where(grid.cols[cells] < 5, "1", "2")
    ev["block"] = [f"{grid.cell_ids[c]:03d}XX W TOY ST" for c in cells]
    return ev


W = parse_weights("homicide=10,shooting=1")


# ------------------------------------------------------------ parsing
@pytest.mark.parametrize("spec,kind,amount", [("40", "places", 40), ("40places", "places", 40),
                                               ("0.5sqmi", "area", 0.5 * 5280 ** 2), ("1%", "area", 1e6),
                                               ("120h", "hours", 120)])
def test_parse_budget(spec, kind, amount):
    b = parse_budget(spec, city_area=1e8)
    assert (b.kind, b.amount) == (kind, pytest.approx(amount))


@pytest.mark.parametrize("spec", ["", "-3", "forty", "2.5", "101%", "0"])
def test_parse_budget_refuses(spec):
    with pytest.raises(ParameterError, match="invalid budget"):
        parse_budget(spec, city_area=1e8)


def test_parse_quotas():
    assert parse_quotas("none") is None and parse_quotas("proportional") == "proportional"
    assert parse_quotas("2-6") == (2.0, 6.0)
    assert parse_quotas("11:2-6,015:1-4") == {"11": (2.0, 6.0), "15": (1.0, 4.0)}
    with pytest.raises(ParameterError, match="invalid quotas"):
        parse_quotas("lots")


def test_parse_weights():
    d = parse_weights("default")
    assert d.weights == DEFAULT_WEIGHTS and "not its table" in d.rule
    one = parse_weights("gun_violence")
    assert one.weights == {"gun_violence": 1.0} and one.unit == "events"
    assert parse_weights("homicide=5475, shooting=1825").weights == {"homicide": 5475.0, "shooting": 1825.0}
    for bad in ("homicide=-1", "homicide=5,homicide=6", "homicide=x"):
        with pytest.raises(ParameterError):
            parse_weights(bad)
    from crimescope.errors import CategoryError

    with pytest.raises(CategoryError):
        parse_weights("not_a_category=3")


@pytest.mark.parametrize("kind", ["grid", "block", "beat", "h3:9"])
def test_place_kinds(kind):
    assert parse_place_kind(kind) == kind
    for bad in ("ward", "h3:3", "cells"):
        with pytest.raises(ParameterError):
            parse_place_kind(bad)


# ------------------------------------------------------------ harm
def test_event_weights_count_a_record_once_under_its_largest_weight():
    ev = pd.DataFrame({"id": [1, 1, 2, 3], "category": ["shooting", "homicide", "shooting", "robbery"]})
    assert event_weights(ev, W).tolist() == [0.0, 10.0, 1.0, 0.0]


def test_observed_harm_hand_computed(grid):
    ev = pd.DataFrame({"id": [1, 2, 3, 4], "category": ["homicide", "shooting", "shooting", "homicide"],
                       "occurred_local": pd.to_datetime(["2017-01-02 01:00", "2017-01-03 00:00", "2017-01-08 23:59",
                                                         "2017-01-09 00:00"]),
                       "x": [250.0, 250.0, 750.0, 250.0], "y": [250.0, 250.0, 250.0, 250.0]})
    h = observed_harm(ev, W, grid, "2017-01-02", "2017-01-09")
    assert h[0] == 11.0 and h[1] == 1.0 and h.sum() == 12.0  # the record at the window's end is out


def test_common_coverage_cuts_to_the_latest_first_record():
    ev = pd.DataFrame({"category": ["homicide", "homicide", "shooting", "shooting"],
                       "occurred_local": pd.to_datetime(["2001-05-03", "2012-02-01", "2011-12-31", "2012-01-05"])})
    out = common_coverage(ev, ["homicide", "shooting"])
    # shooting's first month is 2011-12: the mix starts there; homicides of 2001 are cut
    assert out["occurred_local"].min() == pd.Timestamp("2011-12-31") and len(out) == 3
    assert "2011-12-01" in out.attrs["coverage"] and "2001-05-01" in out.attrs["coverage"]
    with pytest.raises(CoverageError, match="no records of armed_robbery"):
        common_coverage(ev, ["homicide", "armed_robbery"])


# ------------------------------------------------------------ hours and visits
def test_format_hours():
    assert format_hours(np.array([4 * 24 + 20, 4 * 24 + 21, 4 * 24 + 22, 5 * 24 + 1])) == \
        "Fri 20:00-23:00, Sat 01:00-02:00"
    assert format_hours(np.array([23, 24])) == "Mon 23:00-24:00, Tue 00:00-01:00"


def test_hour_profile_finds_the_planted_hour():
    how = np.r_[np.full(30, 4 * 24 + 22), np.arange(168)]  # 30 records Fri 22:00 + one per hour
    ev_x = np.r_[np.zeros(30), np.full(168, 5000.0)]
    place_of = np.r_[np.zeros(30, np.int64), np.full(168, -1)]
    prof = hour_profiles(np.array([0.0, 9000.0]), np.array([0.0, 0.0]), place_of, np.array([0, 1]),
                         ev_x, np.zeros(ev_x.size), how, np.ones(ev_x.size), radius=1500)
    assert prof.shape == (2, 168) and np.allclose(prof.sum(axis=1), 1)
    assert high_hours(prof[0], 1).tolist() == [4 * 24 + 22]
    # place 1 has no own or neighbouring record: the city profile alone
    assert high_hours(prof[1], 1).tolist() == [4 * 24 + 22]


def test_koper_schedule():
    prof = np.zeros(168)
    prof[[10, 11, 12, 100, 101]] = [5, 4, 3, 2, 1]
    prof = prof / prof.sum() * 0.9 + 0.1 / 168
    v = koper_schedule(prof, 1.0, 15, np.random.default_rng(1))
    assert len(v) == 4 and all(d == 15 for _, _, d in v)
    assert len({h for h, _, _ in v}) == 4 and all(0 <= m <= 45 for _, m, _ in v)
    assert v == sorted(v)
    assert koper_schedule(prof, 0.1, 12) == []  # 6 minutes: no whole visit
    with pytest.raises(ParameterError, match="10 to 16"):
        koper_schedule(prof, 1.0, 30)


# ------------------------------------------------------------ plans on the toy city
def _plan(grid, **kw):
    ev = toy_events(grid)
    args = dict(as_of=AS_OF, grid=grid, budget="6", weights=W, model="naive_all", places=toy_places(grid),
                data_dir=None)
    args.update(kw)
    return make_plan(ev, **args)


def test_planted_hot_spots_are_chosen_first_with_their_hours(grid):
    plan = _plan(grid)
    t = plan.table
    assert t["place"].iloc[0] == "22"  # 40 homicides x 10 beat 60 shootings x 1
    assert "77" in set(t["place"].iloc[:2])
    # the homicides of cell 22 were all on Fridays 22:00-23:00, the shootings of 77 on Saturdays 01:00
    assert high_hours(plan.profiles[0], 1).tolist() == [4 * 24 + 22]
    assert "Fri 22:00-23:00" in t["high_hours"].iloc[0] or "Fri 21:00-" in t["high_hours"].iloc[0]
    k77 = t.index[t["place"] == "77"][0]
    assert high_hours(plan.profiles[k77], 1).tolist() == [5 * 24 + 1]
    assert t["expected_harm"].is_monotonic_decreasing
    assert plan.solution.gap <= 1e-6 and len(t) == 6


def test_quotas_and_cap_hold_and_their_costs_are_reported(grid):
    plan = _plan(grid, budget="8", quotas="proportional", equity_cap=1.5)
    t = plan.table
    value = plan.value
    pl = plan.places
    share_w = value[pl.district == "1"].sum() / value.sum()
    n1 = int((t["district"] == "1").sum())
    assert math.floor(share_w * 8) <= n1 <= math.ceil(share_w * 8)
    shares = victim_shares(toy_events(grid), AS_OF, 365, W.categories)
    for a, n in t["community_area"].value_counts().items():
        assert n <= math.floor(1.5 * shares[int(a)] * 8 + 1e-9)
    costs = plan.constraint_costs
    assert set(costs) == {"unconstrained", "district quotas", "equity cap"}
    assert costs["district quotas"] >= -1e-9 and costs["equity cap"] >= -1e-9
    assert costs["unconstrained"] - costs["district quotas"] - costs["equity cap"] == \
        pytest.approx(plan.solution.objective)
    assert any("cost of the equity cap" in n for n in plan.meta["notes"])


def test_a_cap_that_binds_costs_harm(grid):
    # the hot cells are in community areas 2 (cell 22, row 2) and 4 (cell 77, row 7); at 0.5 x their share
    # of victims no area may take more than half its share of the budget, so some best cells are given up
    free = _plan(grid, budget="8")
    capped = _plan(grid, budget="8", equity_cap=0.5)
    assert capped.solution.objective < free.solution.objective
    assert capped.constraint_costs["equity cap"] == pytest.approx(free.solution.objective - capped.solution.objective)


def test_spacing_and_exclusions(grid):
    plan = _plan(grid, budget="6", spacing=1200, exclude=["22", "district:2"])
    t = plan.table
    assert "22" not in set(t["place"]) and set(t["district"]) == {"1"}
    pl = plan.places
    idx = plan.chosen
    d = np.hypot(pl.x[idx][:, None] - pl.x[idx][None, :], pl.y[idx][:, None] - pl.y[idx][None, :])
    assert (d[np.triu_indices(idx.size, 1)] >= 1200).all()
    with pytest.raises(ParameterError, match="invalid exclude 'nowhere'"):
        _plan(grid, exclude=["nowhere"])


def test_infeasible_quotas_are_a_clear_error(grid):
    with pytest.raises(ParameterError, match="district minimums add up to 8, more than the budget of 6"):
        _plan(grid, budget="6", quotas="4-10")


def test_hours_budget_gives_places_and_visits(grid):
    plan = _plan(grid, budget="9h", hours_per_place=1.5, visit_minutes=15)
    assert len(plan.table) == 6
    assert all(len(v.split(", ")) == 6 for v in plan.table["visits"])  # 90 minutes = 6 visits of 15


def test_outputs_carry_provenance(grid):
    plan = _plan(grid, vintage={"max_updated_at": "2018-01-01 00:00:00", "latest_batch_at": "x"})
    csv = plan.to_csv()
    head = [ln for ln in csv.splitlines() if ln.startswith("# ")]
    assert any(ln.startswith("# unit: expected harm") for ln in head)
    assert any(ln.startswith("# rule: user harm weights: homicide 10, shooting 1") for ln in head)
    assert any("data vintage: max updated_at 2018-01-01" in ln for ln in head)
    doc = json.loads(plan.to_json())
    assert doc["meta"]["planner"] == "ip" and len(doc["rows"]) == 6 and doc["meta"]["responsible_use"]
    gj = plan.to_geojson()
    assert gj["meta"]["rule"] == plan.meta["rule"] and len(gj["features"]) == 6
    assert gj["features"][0]["properties"]["place"] == "22"
    assert shapely.geometry.shape(gj["features"][0]["geometry"]).area > 0


def test_greedy_planner_and_its_gap(grid):
    plan = _plan(grid, planner="greedy", spacing=700)
    assert plan.solution.planner == "greedy" and 0 <= plan.solution.gap <= 1
    assert plan.meta["bound"] >= plan.meta["objective"]


def test_plan_uses_only_the_past(grid):
    ev = toy_events(grid)
    later = ev.copy()
    extra = pd.DataFrame({"occurred_local": [AS_OF + pd.Timedelta(hours=3)] * 50, "x": 4750.0, "y": 4750.0,
                          "category": "homicide", "id": np.arange(50) + 10**6, "community_area": "5",
                          "district": "2", "block": "099XX W TOY ST"})
    later = pd.concat([later, extra], ignore_index=True)
    a = make_plan(ev, as_of=AS_OF, grid=grid, budget="6", weights=W, model="naive_all", places=toy_places(grid))
    b = make_plan(later, as_of=AS_OF, grid=grid, budget="6", weights=W, model="naive_all", places=toy_places(grid))
    assert a.table["place"].tolist() == b.table["place"].tolist()


def test_too_many_spacing_conflicts_is_refused(grid, monkeypatch):
    import crimescope.plan.core as core

    monkeypatch.setattr(core, "MAX_CONFLICTS", 50)
    with pytest.raises(ParameterError, match=r"invalid spacing=2000: .* pairs of places are closer"):
        _plan(grid, spacing=2000)
