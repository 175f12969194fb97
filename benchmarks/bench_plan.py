"""Planning benchmarks (not part of the test suite).

    python benchmarks/bench_plan.py solve --store STORE      # weekly citywide plan, 500 ft grid, quotas + equity cap
    python benchmarks/bench_plan.py backtest --store STORE   # 52 Mondays of 2017, every plan variant, report

STORE is a crimescope store with the Chicago 2012-2017 records (opened read-only;
default: the CRIMESCOPE_STORE setting). The expected-harm surface is the default harm
mix (docs/planning.md) forecast by ``smooth_counts`` as of 2017-07-03 on the 500 ft
grid. Figures go to docs/benchmarks/plan.md and docs/planning.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _machine import command, describe  # noqa: E402

AS_OF = "2017-07-03"


def _events(store_path):
    from crimescope.plan.harm import load_harm_events, parse_weights
    from crimescope.store import Store

    hw = parse_weights("default")
    with Store(store_path, read_only=True) as st:
        ev = load_harm_events(st, hw, end="2017-12-31")
    return hw, ev


def _full_lp(p) -> float:
    """The linear relaxation of the whole problem (no class reduction): an independent bound."""
    import highspy

    from crimescope.plan import solver

    h = solver._highs()
    h.passModel(solver._model(p, integer=False))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


def solve_bench(args) -> None:
    from crimescope.plan.core import parse_budget, plan_places, victim_shares
    from crimescope.plan.harm import event_weights, harm_forecast
    from crimescope.plan.places import build_places
    from crimescope.plan.solver import PlanProblem, check_solution, solve_greedy, solve_ip
    from crimescope.spatial.grid import Grid
    import pandas as pd

    print(f"# {command()}\n# {describe()}")
    hw, ev = _events(args.store)
    grid = Grid.chicago(500)
    past = ev[ev["occurred_local"] < pd.Timestamp(AS_OF)]
    t0 = time.perf_counter()
    fc = harm_forecast(past, hw, "smooth_counts", AS_OF, grid, 7)
    t_fc = time.perf_counter() - t0
    hist = past[past["occurred_local"] >= pd.Timestamp(AS_OF) - pd.Timedelta(days=365)]
    t0 = time.perf_counter()
    pl = build_places("grid", grid, hist, event_weights(hist, hw))
    t_pl = time.perf_counter() - t0
    shares = victim_shares(past, AS_OF, 365, hw.categories)
    print(f"grid: {grid.n_cells} cells; forecast of the 4-category mix {t_fc:.2f} s; places {t_pl:.2f} s")
    cases = [("267 places (1% of cells), proportional quotas, equity cap 2", "267", 0.0),
             ("1% of the city's area, proportional quotas, equity cap 2", "1%", 0.0),
             ("267 places, proportional quotas, equity cap 2, spacing 1,000 ft", "267", 1000.0)]
    print("| case | ip median (s) | ip min (s) | gap to HiGHS bound | gap to full LP bound | candidates after "
          "reduction | greedy (s) | greedy gap |")
    print("|---|---|---|---|---|---|---|---|")
    for label, budget, spacing in cases:
        b = parse_budget(budget, city_area=float(grid.area.sum()))
        times, sol, prob = [], None, None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            prob, sol, _ = plan_places(fc["expected"], pl, b, quotas="proportional", equity_cap=2.0, shares=shares,
                                       spacing=spacing, planner="ip", constraint_costs=False)
            times.append(time.perf_counter() - t0)
        assert not check_solution(prob, sol.chosen)
        lp = _full_lp(prob)
        gap_lp = max(0.0, (lp - sol.objective) / lp)
        t0 = time.perf_counter()
        g = solve_greedy(prob)
        tg = time.perf_counter() - t0
        print(f"| {label} | {statistics.median(times):.2f} | {min(times):.2f} | {sol.gap:.2e} | {gap_lp:.2e} | "
              f"{sol.candidates} of {prob.n} | {tg:.2f} | {g.gap:.2%} |")


def backtest_bench(args) -> None:
    from crimescope.forecast.backtest import weekly_origins
    from crimescope.plan.backtest import backtest_plans
    from crimescope.plan.report import verdict_lines, write_backtest_report
    from crimescope.spatial.grid import Grid
    import pandas as pd

    print(f"# {command()}\n# {describe()}")
    hw, ev = _events(args.store)
    grid = Grid.chicago(500)
    origins = weekly_origins("2017-01-02", "2018-01-01")
    t0 = time.perf_counter()
    bt = backtest_plans(ev, grid, origins, args.budget, weights=hw, model=args.model, quotas="proportional",
                        equity_cap=2.0, spacing=args.spacing,
                        progress=(lambda s: print(s, file=sys.stderr)) if args.verbose else None)
    secs = time.perf_counter() - t0
    out = Path(args.out)
    write_backtest_report(bt, out, elapsed_seconds=secs)
    pd.set_option("display.width", 200)
    for line in bt.settings_lines():
        print(f"# {line}")
    print(f"52-week plan backtest: {secs:.0f} s ({secs / len(origins):.1f} s per week)")
    print(bt.summary().to_string(index=False))
    print(bt.constraint_costs().to_string(index=False))
    for v in verdict_lines(bt):
        print("-", v)
    print(f"report: {out}/report.html")


def main() -> None:
    from crimescope import settings

    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["solve", "backtest"])
    ap.add_argument("--store", default=str(settings.default_store_path()))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--budget", default="267")
    ap.add_argument("--model", default="smooth_counts")
    ap.add_argument("--spacing", type=float, default=0.0)
    ap.add_argument("--out", default="/tmp/crimescope-plan-backtest")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    {"solve": solve_bench, "backtest": backtest_bench}[args.what](args)


if __name__ == "__main__":
    main()
