"""The planners against brute force, hand-computed plans and a reference MILP solver (scipy's HiGHS).

Every problem here is made in code: small grids of places with hand-set values, districts
and community areas. Brute force enumerates every subset (at most 2^12).
"""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crimescope.errors import ParameterError
from crimescope.plan.solver import (PLANNERS, GroupBound, PlanProblem, check_solution, lp_bound, reduce_problem,
                                    solve, solve_greedy, solve_ip)


def brute_force(p: PlanProblem):
    """(best objective, best set) over every subset, or (None, None) when nothing is feasible."""
    best, best_set = None, None
    for r in range(p.n + 1):
        for c in itertools.combinations(range(p.n), r):
            if check_solution(p, c):
                continue
            v = float(p.value[list(c)].sum())
            if best is None or v > best + 1e-12:
                best, best_set = v, c
    return best, best_set


def grid_conflicts(nx: int, ny: int) -> np.ndarray:
    """Queen neighbours on an nx x ny lattice (index = row * nx + col)."""
    out = []
    for r in range(ny):
        for c in range(nx):
            for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < ny and 0 <= cc < nx:
                    out.append((r * nx + c, rr * nx + cc))
    return np.array(out)


# ------------------------------------------------------------ hand-computed
def test_hand_made_quota_plan():
    # districts A = {0, 1, 2}, B = {3}; budget 2; B must get one place
    v = np.array([10.0, 9.0, 8.0, 1.0])
    bounds = [GroupBound("district", "B", np.array([3]), lo=1)]
    p = PlanProblem(v, 1, 2, bounds)
    for name in PLANNERS:
        s = solve(p, name)
        assert s.chosen.tolist() == [0, 3]
        assert s.objective == pytest.approx(11.0)
    # without the quota: the two best
    assert solve_ip(PlanProblem(v, 1, 2)).chosen.tolist() == [0, 1]


def test_spacing_greedy_is_suboptimal_and_says_so():
    # a row of three places, neighbours conflict: greedy takes the middle (6) and is stuck;
    # the optimum is both ends (5 + 5); the LP bound is 10 as well (x = 1, 0, 1)
    p = PlanProblem(np.array([5.0, 6.0, 5.0]), 1, 2, conflicts=[(0, 1), (1, 2)])
    ip = solve_ip(p)
    gr = solve_greedy(p)
    assert ip.chosen.tolist() == [0, 2] and ip.objective == pytest.approx(10.0)
    assert ip.gap == pytest.approx(0.0, abs=1e-9) and ip.status == "optimal"
    assert gr.chosen.tolist() == [1] and gr.objective == pytest.approx(6.0)
    assert gr.bound == pytest.approx(10.0)
    assert gr.gap == pytest.approx(0.4)


def test_equity_cap_cost_hand_made():
    # community area 1 holds the three best places but may take at most 1 of a budget of 3
    v = np.array([9.0, 8.0, 7.0, 2.0, 1.0])
    ca1 = GroupBound("equity", "1", np.array([0, 1, 2]), hi=1.4)  # floor to 1 whole place
    p = PlanProblem(v, 1, 3, [ca1])
    s = solve_ip(p)
    assert s.chosen.tolist() == [0, 3, 4] and s.objective == pytest.approx(12.0)
    assert solve_ip(PlanProblem(v, 1, 3)).objective - s.objective == pytest.approx(12.0)


def test_area_budget_uses_costs():
    # cost = area: the big place (value 10, area 3) does not fit a budget of 2 next to anything
    v = np.array([10.0, 6.0, 5.0])
    p = PlanProblem(v, np.array([3.0, 1.0, 1.0]), 2.5)
    assert solve_ip(p).chosen.tolist() == [1, 2]
    assert solve_greedy(p).chosen.tolist() == [1, 2]


def test_exclusions_are_never_chosen():
    v = np.array([10.0, 9.0, 8.0])
    p = PlanProblem(v, 1, 2, excluded=np.array([True, False, False]))
    for name in PLANNERS:
        assert solve(p, name).chosen.tolist() == [1, 2]


# ------------------------------------------------------------ brute force on hand-made grids
@pytest.mark.parametrize("seed", range(6))
def test_ip_equals_brute_force_on_a_4x3_grid(seed):
    rng = np.random.default_rng(seed)
    nx, ny = 4, 3
    v = np.round(rng.gamma(0.7, 3.0, nx * ny), 3)
    cols = np.arange(nx * ny) % nx
    rows = np.arange(nx * ny) // nx
    districts = [GroupBound("district", "west", np.flatnonzero(cols < 2), lo=1, hi=3),
                 GroupBound("district", "east", np.flatnonzero(cols >= 2), lo=1, hi=3)]
    equity = [GroupBound("equity", str(r), np.flatnonzero(rows == r), hi=2) for r in range(ny)]
    spacing = grid_conflicts(nx, ny) if seed % 2 else np.empty((0, 2), np.int64)
    p = PlanProblem(v, 1, 4, districts + equity, spacing)
    best, best_set = brute_force(p)
    s = solve_ip(p)
    assert not check_solution(p, s.chosen)
    assert s.objective == pytest.approx(best, abs=1e-9)
    assert s.gap <= 1e-6
    g = solve_greedy(p)
    assert not check_solution(p, g.chosen)
    assert g.objective <= best + 1e-9
    assert g.bound >= best - 1e-9  # the LP bound really bounds the optimum


# ------------------------------------------------------------ property: constraints hold in every plan
@st.composite
def problems(draw):
    n = draw(st.integers(2, 9))
    v = np.array(draw(st.lists(st.floats(0, 10, allow_nan=False), min_size=n, max_size=n)))
    area = draw(st.booleans())
    cost = (np.array(draw(st.lists(st.floats(0.5, 3.0), min_size=n, max_size=n))) if area else np.ones(n))
    budget = draw(st.floats(0.5, float(cost.sum())) if area else st.integers(1, n).map(float))
    n_groups = draw(st.integers(0, 3))
    bounds = []
    for k in range(n_groups):
        members = np.array(sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n))))
        lo = draw(st.sampled_from([0.0, 0.0, 1.0, 2.0]))
        hi = draw(st.sampled_from([math.inf, 1.0, 2.0, 3.0, 4.0]))
        if lo > hi:
            lo, hi = hi, lo
        bounds.append(GroupBound("district" if k % 2 == 0 else "equity", str(k), members, lo, hi))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4))
    excluded = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))) & draw(st.booleans())
    return dict(value=v, cost=cost, budget=budget, bounds=bounds,
                conflicts=np.array(pairs, dtype=np.int64).reshape(-1, 2), excluded=excluded)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
@example(dict(value=np.zeros(2), cost=np.array([2.0, 2.0]), budget=1.0,  # found by hypothesis: at least
              bounds=[GroupBound("district", "0", np.array([0]), 1.0, 1.0)],   # area 1, at most 1, places of 2
              conflicts=np.empty((0, 2), np.int64), excluded=np.zeros(2, bool)))
def test_every_plan_keeps_every_constraint(args):
    try:
        p = PlanProblem(**args)
    except ParameterError as exc:
        # refused when it is made (bounds that no whole number of places meets): only if the
        # request as given has no feasible plan either
        assert "infeasible" in str(exc)
        raw = SimpleNamespace(**args, n=len(args["value"]))
        assert brute_force(raw) == (None, None), f"a feasible request was refused: {exc}"
        return
    best, _ = brute_force(p)
    for name in PLANNERS:
        try:
            s = solve(p, name)
        except ParameterError as exc:
            assert "infeasible" in str(exc) or "could not meet" in str(exc)
            if name == "ip":
                assert best is None, f"ip refused a feasible problem: {exc}"
            continue
        assert best is not None, f"{name} returned a plan for an infeasible problem"
        assert check_solution(p, s.chosen) == []
        assert s.objective == pytest.approx(float(p.value[s.chosen].sum()))
        assert s.objective <= best + 1e-7
        assert s.bound >= best - 1e-6 * max(1.0, best)
        if name == "ip":
            assert s.objective == pytest.approx(best, rel=1e-6, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.lists(st.integers(1, 3), min_size=3, max_size=3), st.integers(0, 2**31 - 1))
def test_quotas_hold_for_random_budgets(budget, los, seed):
    """District minimums and maximums hold whatever the budget; over-budget minimums are refused."""
    rng = np.random.default_rng(seed)
    n = 30
    v = rng.gamma(0.5, 2.0, n)
    d = rng.integers(0, 3, n)
    bounds = [GroupBound("district", str(k), np.flatnonzero(d == k), lo=float(los[k]), hi=float(los[k] + 2))
              for k in range(3)]
    p = PlanProblem(v, 1, budget, bounds)
    need = sum(min(los[k], int((d == k).sum())) for k in range(3))
    for name in PLANNERS:
        if sum(los) > budget or any(los[k] > (d == k).sum() for k in range(3)):
            with pytest.raises(ParameterError, match="infeasible"):
                solve(p, name)
            continue
        s = solve(p, name)
        assert check_solution(p, s.chosen) == []
        counts = np.bincount(d[s.chosen], minlength=3)
        assert all(los[k] <= counts[k] <= los[k] + 2 for k in range(3))
        assert len(s.chosen) >= need


# ------------------------------------------------------------ infeasible requests
def test_quotas_over_budget_is_a_clear_error():
    bounds = [GroupBound("district", str(k), np.array([2 * k, 2 * k + 1]), lo=2) for k in range(3)]
    p = PlanProblem(np.arange(6.0), 1, 5, bounds)
    for name in PLANNERS:
        with pytest.raises(ParameterError, match=r"district minimums add up to 6, more than the budget of 5"):
            solve(p, name)


def test_minimum_above_a_districts_places_is_a_clear_error():
    p = PlanProblem(np.arange(4.0), 1, 4, [GroupBound("district", "7", np.array([0]), lo=2)])
    with pytest.raises(ParameterError, match=r"district 7 needs at least 2 but its places not excluded hold only 1"):
        solve_ip(p)


def test_caps_against_quotas_is_a_clear_error():
    # the district needs 2 of its places, the only community area they are in may take 1
    bounds = [GroupBound("district", "1", np.array([0, 1]), lo=2),
              GroupBound("equity", "5", np.array([0, 1]), hi=1)]
    with pytest.raises(ParameterError, match="infeasible"):
        solve_ip(PlanProblem(np.ones(4), 1, 3, bounds))


@pytest.mark.parametrize("kw", [{"value": [-1.0, 2.0]}, {"value": [np.nan, 1.0]}, {"budget": 0},
                                {"cost": [0.0, 1.0]}])
def test_bad_problem_data(kw):
    args = {"value": [1.0, 2.0], "cost": 1.0, "budget": 1, **kw}
    with pytest.raises(ParameterError):
        PlanProblem(np.asarray(args["value"]), np.asarray(args["cost"]), args["budget"])


def test_unknown_planner():
    with pytest.raises(ParameterError, match="invalid planner='lp'"):
        solve(PlanProblem(np.ones(2), 1, 1), "lp")


# ------------------------------------------------------------ reduction and parity with scipy's milp
def _scipy_optimum(p: PlanProblem) -> float:
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    rows = [p.cost]
    lo, hi = [-np.inf], [p.budget]
    for g in p.bounds:
        r = np.zeros(p.n)
        r[g.members] = p.cost[g.members]
        rows.append(r)
        lo.append(g.lo if g.lo > 0 else -np.inf)
        hi.append(g.hi)
    for a, b in p.conflicts:
        r = np.zeros(p.n)
        r[[a, b]] = 1
        rows.append(r)
        lo.append(-np.inf)
        hi.append(1)
    res = milp(-p.value, constraints=LinearConstraint(sp.csr_matrix(np.vstack(rows)), lo, hi),
               integrality=np.ones(p.n), bounds=Bounds(0, np.where(p.excluded, 0, 1)),
               options={"mip_rel_gap": 1e-9})
    assert res.status == 0
    return -float(res.fun)


@pytest.mark.parametrize("seed", range(4))
def test_reduced_ip_matches_scipy_milp_on_the_full_problem(seed):
    """The class reduction keeps the optimum: 400 places, 5 districts x 8 areas, quotas and caps."""
    rng = np.random.default_rng(100 + seed)
    n = 400
    v = np.round(rng.gamma(0.4, 2.0, n), 2)  # rounded: many ties inside classes
    d = rng.integers(0, 5, n)
    a = rng.integers(0, 8, n)
    B = 25
    share = np.bincount(a, minlength=8) / n
    bounds = [GroupBound("district", str(k), np.flatnonzero(d == k), lo=4, hi=6) for k in range(5)]
    bounds += [GroupBound("equity", str(k), np.flatnonzero(a == k), hi=1.5 * share[k] * B) for k in range(8)]
    conflicts = np.empty((0, 2), np.int64)
    if seed % 2:
        x, y = rng.random(n) * 20, rng.random(n) * 20
        from scipy.spatial import cKDTree

        conflicts = cKDTree(np.column_stack([x, y])).query_pairs(1.0, output_type="ndarray")
    p = PlanProblem(v, 1, B, bounds, conflicts)
    sub, keep = reduce_problem(p)
    assert keep.size < n or conflicts.size  # with spacing a class keeps N (D + 1) + 1 places
    s = solve_ip(p)
    assert check_solution(p, s.chosen) == []
    assert s.objective == pytest.approx(_scipy_optimum(p), rel=1e-7)
    assert lp_bound(p) >= s.objective - 1e-9


# ------------------------------------------------------------ planner conformance
@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_planner_contract(name):
    rng = np.random.default_rng(7)
    v = rng.gamma(0.5, 1.0, 60)
    d = np.arange(60) % 4
    p = PlanProblem(v, 1, 10, [GroupBound("district", str(k), np.flatnonzero(d == k), lo=2, hi=4)
                               for k in range(4)], excluded=np.arange(60) % 13 == 0)
    s1, s2 = solve(p, name), solve(p, name)
    assert s1.planner == name
    assert s1.chosen.dtype.kind == "i" and np.all(np.diff(s1.chosen) > 0)
    assert np.array_equal(s1.chosen, s2.chosen)  # deterministic
    assert not p.excluded[s1.chosen].any()
    assert s1.objective == pytest.approx(float(v[s1.chosen].sum()))
    assert s1.bound >= s1.objective - 1e-9 and 0 <= s1.gap <= 1
    assert s1.status in ("optimal", "time_limit", "feasible")
    assert check_solution(p, s1.chosen) == []
