"""Evaluation methods: speed, and planted effects / placebos on real panels.

    python benchmarks/bench_evaluate.py --store crimescope.duckdb [--draws 200] [--speed-only]

Speed (median of 3 warm runs):
  * Callaway-Sant'Anna, 22 districts x 313 weeks of shootings, SDSC cohorts, 999-draw bootstrap;
  * synthetic control, districts x months, 2 treated (20 donors), all placebos (in space and in time);
  * TWFE DiD on beats x 72 months of shootings.

Coverage is scored on each method's headline interval (randomization test inversion for did,
cs and wdd; pooled placebos for synth; normal for its).

Planted effects (the calibration of every method): on the real district x month
panel of shootings 2012-2016, each draw picks 6 districts and a start month
(2014-07 to 2016-01) at random (seeded per draw). "Planted": counts of the chosen
districts from the start are thinned binomially to ``factor`` (default 0.75: a true
effect of -25%); the share of draws whose interval covers -25% is the coverage.
"Placebo": the same assignments with nothing planted; the share with p < 0.05 is the
false-rejection rate. A method passes when coverage >= 90% and rejections <= 7%.
The rates are written to docs/benchmarks/evaluate.md and to
src/crimescope/evaluate/data/calibration.json, from which every fit of a failing
method warns.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from _machine import command, describe  # noqa: E402

METHODS = ("did", "cs", "synth", "wdd", "its")
#: lighter settings for the 400 fits per method (stated in the page)
FAST = {"cs": {"biters": 499, "n_permutations": 499}, "synth": {"n_pool_draws": 100}, "did": {"n_permutations": 499}}
DOC = ROOT / "docs" / "benchmarks" / "evaluate.md"
CALIBRATION = ROOT / "src" / "crimescope" / "evaluate" / "data" / "calibration.json"


def median_time(fn, runs: int = 3) -> float:
    fn()  # warm
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def speed(store) -> list[tuple[str, str, float, str]]:
    from crimescope.evaluate import build_panel, make_method, sdsc

    rows = []
    wk = build_panel(store, "shooting", "district", "2012-01-01", "2017-12-31", "week")
    t = median_time(lambda: make_method("cs").fit(wk, sdsc()))
    rows.append(("Callaway-Sant'Anna, 999 permutations (default inference) + 999-draw bootstrap", f"{wk.n_units} districts x {wk.n_periods} weeks, "
                 "SDSC cohorts", t, "< 5 s"))
    mo = build_panel(store, "shooting", "district", "2012-01-01", "2017-12-31", "month")
    two = {"7": "2017-02-01", "11": "2017-02-01"}
    t = median_time(lambda: make_method("synth").fit(mo, two))
    rows.append(("synthetic control + all placebos (space and time)",
                 f"{mo.n_units - 2} donors x {mo.n_periods} months, 2 treated", t, "< 10 s"))
    bt = build_panel(store, "shooting", "beat", "2012-01-01", "2017-12-31", "month")
    rng = np.random.default_rng(0)
    pick = {str(u): "2016-01-01" for u in rng.choice(bt.unit_ids, 30, replace=False)}
    t = median_time(lambda: make_method("did").fit(bt, pick))
    rows.append(("TWFE DiD, clustered errors + lead test", f"{bt.n_units} beats x {bt.n_periods} months, "
                 "30 treated", t, "< 5 s"))
    return rows


def draws(panel, n: int, k: int, seed: int):
    """(areas, start) of each draw: k random areas, a random start month 2014-07..2016-01."""
    import datetime as dt

    starts = [dt.date(2014 + (6 + m) // 12, (6 + m) % 12 + 1, 1) for m in range(19)]
    out = []
    for d in range(n):
        r = np.random.default_rng([seed, d])
        areas = list(r.choice(panel.unit_ids, k, replace=False))
        out.append((areas, starts[int(r.integers(len(starts)))], r))
    return out


def calibrate(store, n: int, factor: float, k: int, seed: int):
    from crimescope.evaluate import build_panel, make_method

    panel = build_panel(store, "shooting", "district", "2012-01-01", "2016-12-31", "month")
    truth = factor - 1
    rates = {m: {"covered": 0, "rejected_planted": 0, "rejected_placebo": 0, "n": 0, "failed": 0} for m in METHODS}
    t0 = time.perf_counter()
    for j, (areas, start, r) in enumerate(draws(panel, n, k, seed)):
        coh = {a: start for a in areas}
        y = panel.counts.copy()
        s = panel.period_of(start)
        for a in areas:
            i = panel.index_of(a)
            y[i, s:] = r.binomial(y[i, s:].astype(np.int64), factor)
        planted = panel.with_counts(y, f"planted x{factor} in {areas} from {start}")
        for m in METHODS:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    a = make_method(m, **FAST.get(m, {})).fit(planted, coh).result
                    b = make_method(m, **FAST.get(m, {})).fit(panel, coh).result
            except Exception as exc:  # noqa: BLE001 - a benchmark counts what fails and goes on
                rates[m]["failed"] += 1
                print(f"  draw {j} {m}: {type(exc).__name__}: {exc}", flush=True)
                continue
            rates[m]["n"] += 1
            rates[m]["covered"] += int(a.covers(truth))
            rates[m]["rejected_planted"] += int(a.p_value < 0.05)
            rates[m]["rejected_placebo"] += int(b.p_value < 0.05)
        if (j + 1) % 20 == 0:
            print(f"  {j + 1}/{n} draws, {time.perf_counter() - t0:.0f} s", flush=True)
    out = {}
    for m, v in rates.items():
        nn = max(v["n"], 1)
        cov, rej, pw = v["covered"] / nn, v["rejected_placebo"] / nn, v["rejected_planted"] / nn
        out[m] = {"coverage": cov, "placebo_rejection": rej, "power": pw, "draws": v["n"], "failed": v["failed"],
                  "passes": bool(cov >= 0.9 and rej <= 0.07)}
    return panel, out


def write_doc(speed_rows, cal, args, machine, cmd, panel):
    lines = ["## Evaluation (issue 14)", "", f"Command: `{cmd}`", "", f"Machine: {machine}", ""]
    if speed_rows:
        lines += ["### Speed (median of 3 warm runs)", "", "| what | panel | median | target |", "|---|---|---|---|"]
        lines += [f"| {a} | {b} | {t:.2f} s | {g} |" for a, b, t, g in speed_rows]
        lines.append("")
    if cal:
        lines += ["### Planted effects and placebos", "",
                  f"Real panel: {panel.meta['title']} ({panel.meta['source']}, data vintage max updated_at "
                  f"{panel.meta['vintage']['max_updated_at']}). {args.draws} seeded draws (seed {args.seed}): "
                  f"{args.k} districts and a start month between 2014-07 and 2016-01 picked at random per draw. "
                  f"Planted: their counts from the start thinned binomially to x{args.factor} (true effect "
                  f"{100 * (args.factor - 1):+.0f}%). Placebo: the same assignments, nothing planted. "
                  "Lighter settings than the defaults here: cs 499 permutations (999) and 499 bootstrap draws (999), "
                  "synth 100 pooled placebo sets (200), did 499 permutations (999); wdd at its defaults (500 "
                  "placebo target sets). Coverage is scored on each method's headline interval: "
                  "randomization test inversion for did, cs and wdd, pooled placebos for synth, the normal "
                  "interval of the log rate ratio for its.", "",
                  "| method | coverage of the true effect (>= 90%) | placebo rejections at 5% (<= 7%) | power (planted, p < 0.05) | passes |",
                  "|---|---|---|---|---|"]
        for m, v in cal.items():
            lines.append(f"| {m} | {100 * v['coverage']:.1f}% | {100 * v['placebo_rejection']:.1f}% | "
                         f"{100 * v['power']:.1f}% | {'yes' if v['passes'] else '**no** (warns in its output)'} |")
        lines += ["", "A method that does not pass carries a warning with these rates in every result it "
                      "returns (from `src/crimescope/evaluate/data/calibration.json`, written by this script).", ""]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    old = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if not cal and "### Planted effects" in old:  # a speed-only run keeps the last calibration section
        lines += old[old.index("### Planted effects"):].splitlines()
    if not speed_rows and "### Speed" in old:
        sp = old[old.index("### Speed"):old.index("### Planted") if "### Planted" in old else None]
        i = lines.index("### Planted effects and placebos")
        lines[i:i] = sp.rstrip().splitlines() + [""]
    DOC.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default="crimescope.duckdb")
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--factor", type=float, default=0.75)
    ap.add_argument("--k", type=int, default=6)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--calibration-only", action="store_true")
    args = ap.parse_args()
    from crimescope.store import Store

    machine, cmd = describe(), command()
    print(cmd)
    print(machine)
    store = Store(args.store, read_only=True)
    speed_rows = [] if args.calibration_only else speed(store)
    for a, b, t, g in speed_rows:
        print(f"{a:55s} {b:45s} {t:7.2f} s  (target {g})")
    cal, panel = None, None
    if not args.speed_only:
        panel, cal = calibrate(store, args.draws, args.factor, args.k, args.seed)
        for m, v in cal.items():
            print(f"{m:6s} coverage {100 * v['coverage']:5.1f}%  placebo rejections {100 * v['placebo_rejection']:5.1f}%"
                  f"  power {100 * v['power']:5.1f}%  {'passes' if v['passes'] else 'FAILS'}")
        CALIBRATION.write_text(json.dumps({
            "setting": (f"district x month panels of shootings 2012-2016, {args.k} treated districts, random start "
                        f"2014-07..2016-01, planted x{args.factor}, {args.draws} draws, seed {args.seed}"),
            "methods": cal}, indent=1) + "\n", encoding="utf-8")
    store.close()
    write_doc(speed_rows, cal, args, machine, cmd, panel)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
