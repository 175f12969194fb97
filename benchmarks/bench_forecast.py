"""Forecasting benchmarks and the real 2017 backtest (not part of the test suite).

    python benchmarks/bench_forecast.py speed      # each model, 30,000 training events, 500 ft grid
    python benchmarks/bench_forecast.py sepp       # SEPP on a year of citywide gun violence: time, memory
    python benchmarks/bench_forecast.py leading    # leading_indicators with its six related categories
    python benchmarks/bench_forecast.py backtest   # 52 Mondays of 2017, every model, table + HTML report
    python benchmarks/bench_forecast.py backtest --weeks 8 --jobs 2   # the first 8, in two worker processes
    python benchmarks/bench_forecast.py windows --plan 2015:2:1 --out DIR   # window by window, appended

Events are read straight from ``../shared/data/chicago/crimes/*.csv.gz`` with
DuckDB (the store is not needed): ``gun_violence`` = IUCR 0110, 0130, 0141, 0142,
041A, 041B, 0450, 0451, 0480, 0481, 0488, 0489 (the taxonomy's definition);
rows without coordinates, or at (0, 0), are dropped. Models that read related
categories (``leading_indicators``) get them too, tagged by a ``category`` column
and matched on the taxonomy's codes. Figures go to
docs/benchmarks/forecast.md and docs/forecasting.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe  # noqa: E402

GUN_IUCR = ("0110", "0130", "0141", "0142", "041A", "041B", "0450", "0451", "0480", "0481", "0488", "0489")




def load_categories(names) -> pd.DataFrame:
    """Rows of several taxonomy categories, one per (record, category), tagged by ``category``.

    Categories are matched on IUCR / FBI codes exactly as the store's counting
    layer does; rows without coordinates, or at (0, 0), keep has_location false.
    """
    from crimescope.categories.taxonomy import load_taxonomy

    tax = load_taxonomy()
    df = load("TRUE", extra=', "FBI Code" AS fbi')
    iucr = df["iucr"].str.zfill(4).to_numpy(object)
    fbi = df["fbi"].to_numpy(object)
    frames = []
    for name in dict.fromkeys(names):
        c = tax[name]
        part = df[np.isin(iucr, list(c.iucr)) | np.isin(fbi, list(c.fbi))].drop(columns="fbi")
        frames.append(part.assign(category=name))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["occurred_local", "id", "category"], kind="stable").reset_index(drop=True)


def load(where: str, extra: str = "") -> pd.DataFrame:
    import duckdb

    from crimescope.settings import shared_data_dir

    shared = shared_data_dir()
    if shared is None:
        sys.exit("shared data not found (set CRIMESCOPE_SHARED_DATA)")
    files = str(shared / "chicago" / "crimes" / "*.csv.gz")
    con = duckdb.connect()
    df = con.execute(f"""
        SELECT ID AS id, strptime("Date", '%m/%d/%Y %I:%M:%S %p') AS occurred_local,
               TRY_CAST("X Coordinate" AS DOUBLE) AS x, TRY_CAST("Y Coordinate" AS DOUBLE) AS y,
               TRY_CAST("Community Area" AS INTEGER) AS community_area, IUCR AS iucr,
               "Primary Type" AS primary_type{extra}
        FROM read_csv('{files}', header=true, all_varchar=true)
        WHERE {where}
        ORDER BY occurred_local, id""").df()
    ok = df["x"].notna() & df["y"].notna() & (df["x"] > 0) & (df["y"] > 0)
    df["has_location"] = ok
    return df


def gun_violence() -> pd.DataFrame:
    codes = ",".join(f"'{c}'" for c in GUN_IUCR)
    return load(f"IUCR IN ({codes})")


def cmd_speed(args) -> None:
    from crimescope.forecast.base import make_model, registry
    from crimescope.spatial.grid import Grid

    as_of = pd.Timestamp("2017-01-02")
    codes = ",".join(f"'{c}'" for c in GUN_IUCR)
    ev = load(f"(IUCR IN ({codes}) OR \"Primary Type\" = 'ROBBERY')")
    ev = ev[ev["has_location"] & (ev["occurred_local"] < as_of)].tail(30_000)
    grid = Grid.chicago(500.0)
    print(f"{len(ev)} training events {ev.occurred_local.min()} .. {ev.occurred_local.max()}; "
          f"grid {grid.n_cells} cells of 500 ft")
    rows = []
    for name in sorted(registry()):
        times = []
        for _ in range(args.repeat):
            m = make_model(name)
            t0 = time.perf_counter()
            m.fit(ev, as_of, grid=grid).predict(7)
            times.append(time.perf_counter() - t0)
        rows.append((name, statistics.median(times), min(times)))
        print(f"{name:22s} median {statistics.median(times):6.2f} s   min {min(times):6.2f} s")
    return rows


def cmd_sepp(args) -> None:
    import resource
    import tracemalloc

    from crimescope.forecast import SEPP
    from crimescope.spatial.grid import Grid

    ev = gun_violence()
    grid = Grid.chicago(500.0)
    year = ev[(ev.occurred_local >= "2017-01-01") & (ev.occurred_local < "2018-01-01")]
    print(f"SEPP on {int(year.has_location.sum())} located gun-violence events of 2017")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    t0 = time.perf_counter()
    m = SEPP(window_days=365).fit(year, "2018-01-01", grid=grid)
    fit_s = time.perf_counter() - t0
    fc = m.predict(7)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fit {fit_s:.2f} s ({m.n_iter_} EM iterations, {m.n_pairs_} candidate pairs); "
          f"traced peak {peak / 2**20:.0f} MiB; process max RSS {rss1:.0f} MiB (before fit {rss0:.0f} MiB)")
    print(f"theta={m.theta_:.3f} omega={m.omega_:.3f}/day (mean delay {1 / m.omega_:.1f} d) sigma={m.sigma_:.0f} ft;"
          f" forecast total {fc.expected.sum():.1f} events/week")


def cmd_leading(args) -> None:
    """leading_indicators on all gun violence before an origin plus its six related categories."""
    import tracemalloc

    from crimescope.spatial.grid import Grid

    model = _make(args.model).for_target("gun_violence")  # a registry model or a written-down candidate
    cache = Path(args.events_cache) if args.events_cache else None
    if cache is not None and cache.is_file():
        data = pd.read_pickle(cache)
        assert set(model.related_categories()) <= set(data["category"]), "the cached events lack a category"
    else:
        data = load_categories(["gun_violence", *model.related_categories()])
        if cache is not None:
            data.to_pickle(cache)
    grid = Grid.chicago(500.0)
    as_of = pd.Timestamp(args.as_of)
    before = data[data.occurred_local < as_of]
    print(f"{int((before.category == 'gun_violence').sum())} gun_violence + "
          f"{int((before.category != 'gun_violence').sum())} related rows before {as_of.date()}; "
          f"grid {grid.n_cells} cells of 500 ft")
    model.clone().fit(data, as_of, grid=grid)  # first fit builds the cached kernel maps
    lgb_cpu = _time_lightgbm()  # CPU inside LightGBM's fit (its Dataset too) and predict, per fit
    times, cpus, in_lgb = [], [], []
    for _ in range(args.repeat):
        lgb_cpu["fit"] = lgb_cpu["predict"] = 0.0
        t0, c0 = time.perf_counter(), time.process_time()
        m = model.clone().fit(data, as_of, grid=grid)
        m.predict(7)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        in_lgb.append((lgb_cpu["fit"], lgb_cpu["predict"]))
    tracemalloc.start()
    model.clone().fit(data, as_of, grid=grid).predict(7)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{args.model}: CPU time of fit + predict median {statistics.median(cpus):.2f} s (min {min(cpus):.2f}); "
          f"load average {' '.join(f'{v:.1f}' for v in __import__('os').getloadavg())}")
    print(f"fit + predict: wall median {statistics.median(times):.2f} s, min {min(times):.2f} s over {args.repeat}; "
          f"{m.n_train_rows_} training rows; traced peak {peak / 2**20:.0f} MiB")
    k = cpus.index(statistics.median(cpus)) if args.repeat % 2 else int(np.argsort(cpus)[args.repeat // 2])
    lf, lp = in_lgb[k]
    print(f"split of the median fit (CPU): LightGBM training {lf:.2f} s (Dataset binning included), LightGBM "
          f"predict {lp:.2f} s, everything else (events, features, training rows) {cpus[k] - lf - lp:.2f} s")


def _time_lightgbm() -> dict:
    """Count this process's CPU inside ``LGBMRegressor.fit`` and ``.predict`` (the bench's split)."""
    import lightgbm as lgb

    acc = {"fit": 0.0, "predict": 0.0}
    for name in ("fit", "predict"):
        real = getattr(lgb.LGBMRegressor, name)

        def timed(self, *a, _real=real, _name=name, **k):
            c = time.process_time()
            try:
                return _real(self, *a, **k)
            finally:
                acc[_name] += time.process_time() - c

        setattr(lgb.LGBMRegressor, name, timed)
    return acc


#: pre-registered candidates that are not (yet) registry models (docs/forecasting.md, round five)
def _candidates() -> dict:
    from crimescope.forecast.base import make_model
    from crimescope.forecast.leading import HIT

    return {"leading_hit": lambda: make_model("leading_bagged", **{k: v for k, v in HIT.items()}),
            # round six's speed candidate (docs/forecasting.md, "A faster candidate")
            "leading_fast": lambda: make_model("leading_bagged", max_iter=50, learning_rate=0.2)}


def _make(name: str):
    from crimescope.forecast.base import make_model, registry

    cands = _candidates()
    if name in cands and name not in registry():
        return cands[name]()
    return make_model(name)


def cmd_backtest(args) -> None:
    from crimescope.forecast.backtest import backtest, offset_sensitivity, split_target, weekly_origins
    from crimescope.forecast.base import make_model, registry
    from crimescope.forecast.report import equity_frame, write_report
    from crimescope.spatial.grid import Grid

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = args.models.split(",") if args.models else sorted(registry())
    models = {n: _make(n).for_target("gun_violence") for n in names}
    related = [c for c in dict.fromkeys(c for m in models.values() for c in m.related_categories())]
    cache = Path(args.events_cache) if args.events_cache else None
    if cache is not None and cache.is_file():
        data = pd.read_pickle(cache)
        assert set(related) <= set(data["category"]), "the cached events lack a related category"
    else:
        data = load_categories(["gun_violence", *related]) if related else gun_violence()
        if cache is not None:
            data.to_pickle(cache)
    ev = split_target(data, "gun_violence")
    grid = Grid.chicago(500.0)
    origins = weekly_origins(f"{args.year}-01-01", f"{args.year + 1}-01-01")[: args.weeks]
    origins = origins[args.first::args.every]  # --every 2: every other Monday; --first: where to start
    covs = ["0.5%", "1%", "5%", "0.25sqmi", "0.75sqmi"]
    print(f"{len(ev)} gun_violence events 2012-2017 (+ {len(data) - len(ev)} rows of related categories "
          f"{related}); {len(origins)} origins; models {names}", flush=True)
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = backtest(data, grid, models, origins, horizons=[1, 7, 28], coverages=covs,
                   settings={"category": "gun_violence", "cell": "500ft", "year": args.year,
                             "command": " ".join(sys.argv)},
                   # each fit's wall time, then this process's CPU and wall so far (a run stopped early still
                   # tells its pace)
                   progress=(lambda s: print(f"{s}  [process CPU {time.process_time() - c0:.0f} s, wall "
                                             f"{time.perf_counter() - t0:.0f} s]", flush=True))
                   if args.verbose else None,
                   target_category="gun_violence",
                   keep_forecasts=args.keep_forecasts.split(",") if args.keep_forecasts else False,
                   jobs=args.jobs)
    secs = time.perf_counter() - t0
    cpu = time.process_time() - c0
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"backtest --jobs {args.jobs}: {secs:.0f} s wall, {cpu:.0f} s CPU (this process), "
          f"{kids.ru_utime + kids.ru_stime:.0f} s CPU (worker processes); peak RSS {own.ru_maxrss / 2**20:.1f} GiB "
          f"(this process), {kids.ru_maxrss / 2**20:.1f} GiB (largest worker); load average "
          f"{' '.join(f'{v:.1f}' for v in __import__('os').getloadavg())}", flush=True)
    res.records.to_csv(out / "records.csv", index=False)
    res.to_csv(out / "summary.csv")
    res.calibration("year").to_csv(out / "calibration.csv", index=False)
    res.reliability.to_csv(out / "reliability.csv", index=False)
    if res.forecasts:  # expected and observed counts per window and cell, for analyses after the run
        np.savez_compressed(out / "forecasts.npz", origins=np.array([str(o) for o in origins]),
                            **{f"obs_{h:g}": v for h, v in res.observed.items()},
                            **{f"{m}__{h:g}": v for (m, h), v in res.forecasts.items()})
    offsets = None
    if args.offsets:
        pick = args.offset_models.split(",")
        t1 = time.perf_counter()
        offsets = offset_sensitivity(data, lambda off: Grid.chicago(500.0, offset=off),
                                     {p: make_model(p).for_target("gun_violence") for p in pick}, origins,
                                     [(0, 0), (250, 0), (0, 250), (250, 250)], horizon=7, coverage="1%",
                                     target_category="gun_violence")
        offsets.to_csv(out / "offsets.csv", index=False)
        print(f"offset sensitivity: {time.perf_counter() - t1:.0f} s", flush=True)
    bvb = res.best_vs_baseline(7, "1%")
    (out / "best_vs_baseline.json").write_text(json.dumps(bvb, indent=2, default=str))
    res.save_ranking(out / "ranking.json")
    write_report(res, out / "report.html", events=ev, offsets=offsets,
                 title=f"Backtest: weekly gun_violence, {args.year}, 500 ft cells",
                 elapsed_seconds=secs)
    equity_frame(res, 7).to_csv(out / "equity.csv", index=False)
    s = res.summary()
    wk = s[np.isclose(s.horizon_days, 7)]
    print(wk.pivot(index="model", columns="coverage", values=["hit_rate", "pai", "pei_star"]).round(3).to_string())
    print(json.dumps(bvb, indent=2, default=str))


def spread_order(n: int, step: int = 7) -> list[int]:
    """Positions 0..n-1 in the order ``k * step mod n`` (``step`` prime to ``n``, else 1): any prefix
    of the order is spread over the whole list (a year's windows over the whole year)."""
    import math

    step = step if math.gcd(step, n) == 1 else 1
    return [(k * step) % n for k in range(n)]


def cmd_windows(args) -> None:
    """Score windows one at a time, appending each window's records as soon as it is done.

    For long runs on a shared machine: whatever completes is kept. ``--plan`` lists
    ``YEAR:EVERY:FIRST`` chunks; each chunk's windows are taken in :func:`spread_order`, the
    chunks interleaved window by window; ``--worker i --workers n`` takes every n-th of that
    sequence from the i-th. Events come from ``--cache`` (a pickle of this script's
    ``load_categories`` frame) when it exists, else from the CSVs (and are saved there).
    """
    from crimescope.forecast.backtest import backtest, weekly_origins
    from crimescope.spatial.grid import Grid

    names = args.models.split(",")
    models = {n: _make(n).for_target("gun_violence") for n in names}
    related = [c for c in dict.fromkeys(c for m in models.values() for c in m.related_categories())]
    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.is_file():
        data = pd.read_pickle(cache)
    else:
        data = load_categories(["gun_violence", *related]) if related else gun_violence()
        if cache is not None:
            data.to_pickle(cache)
    if related:
        assert set(related) <= set(data["category"]), "the cached events lack a related category"
    chunks = []
    for part in args.plan.split(","):
        y, every, first = (int(v) for v in part.split(":"))
        o = weekly_origins(f"{y}-01-01", f"{y + 1}-01-01")[first::every]
        chunks.append([o[k] for k in spread_order(len(o))])
    seq = [c[k] for k in range(max(map(len, chunks))) for c in chunks if k < len(c)]
    mine = seq[args.worker::args.workers]
    grid = Grid.chicago(500.0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "records.csv"
    print(f"{len(mine)} windows for worker {args.worker} of {args.workers}: "
          f"{', '.join(str(o)[:10] for o in mine)}; models {names}", flush=True)
    for o in mine:
        t0, c0 = time.perf_counter(), time.process_time()
        res = backtest(data, grid, models, [o], horizons=[1, 7, 28],
                       coverages=["0.5%", "1%", "5%", "0.25sqmi", "0.75sqmi"], target_category="gun_violence")
        res.records.to_csv(path, mode="a", header=not path.exists(), index=False)
        print(f"{str(o)[:10]} done: {time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.1f} s CPU; "
              f"load {' '.join(f'{v:.1f}' for v in __import__('os').getloadavg())}", flush=True)


def _variants_backtest(variants: dict, year_from: int, year_to: int, coverages, out: Path):
    """Backtest model variants (cheap ones) on every Monday of the years; records.csv + paired tests."""
    from crimescope.forecast.backtest import backtest, weekly_origins

    ev = gun_violence()
    from crimescope.spatial.grid import Grid

    grid = Grid.chicago(500.0)
    origins = [o for y in range(year_from, year_to + 1) for o in weekly_origins(f"{y}-01-01", f"{y + 1}-01-01")]
    res = backtest(ev, grid, variants, origins, horizons=[7], coverages=coverages)
    out.mkdir(parents=True, exist_ok=True)
    res.records.to_csv(out / "records.csv", index=False)
    s = res.summary()
    print(s.pivot(index="model", columns="coverage", values="hit_rate").round(4).to_string())
    return res


def cmd_prospective(args) -> None:
    """prospective_hotspot against the published settings: distance unit, time cut-off, bandwidth."""
    from crimescope.forecast.base import make_model
    from crimescope.forecast.hotspot import BOWERS_UNIT_FT

    v = {"naive_all": make_model("naive_all"), "naive_52w": make_model("naive_52w"),
         "pro_round3": make_model("prospective_hotspot", distance_unit=None)}
    for unit in (BOWERS_UNIT_FT, None):
        for win in (56, 182, 364, 728, 1460):
            for bw in (1312.0, 500.0):
                v[f"pro_u{unit or 500:.0f}_w{win}_bw{bw:g}"] = make_model(
                    "prospective_hotspot", time_window_days=win, bandwidth=bw, distance_unit=unit)
    res = _variants_backtest(v, args.year, args.year, ["1%", "0.25sqmi"], Path(args.out))
    for m in v:
        if m != "naive_all":
            c = res.compare(m, "naive_all", 7, "1%")
            print(f"{m:24s} {100 * c['mean_diff']:+.2f} [{100 * c['ci_lo']:+.2f}, {100 * c['ci_hi']:+.2f}] "
                  f"p={c['wilcoxon_p']:.4f} {c['a_wins']}-{c['b_wins']}")


def cmd_small(args) -> None:
    """Small-area (0.25 sq mi) candidates: decayed, lightly smoothed counts, against both count baselines."""
    from crimescope.forecast.base import make_model

    v = {"naive_all": make_model("naive_all"), "naive_52w": make_model("naive_52w")}
    for hl in (365, 730, 1460):
        v[f"decay{hl}"] = make_model("smooth_counts", smooth_weight=0.0, half_life_days=hl)
        for bw in (500, 750, 1250):
            v[f"decay{hl}_bw{bw}_w0.25"] = make_model("smooth_counts", smooth_weight=0.25, half_life_days=hl,
                                                       bandwidth=bw)
    res = _variants_backtest(v, args.year_from, args.year_to, ["1%", "0.25sqmi", "0.75sqmi"], Path(args.out))
    for m in v:
        if not m.startswith("naive"):
            for b in ("naive_all", "naive_52w"):
                c = res.compare(m, b, 7, "0.25sqmi")
                print(f"{m:24s} - {b}: {100 * c['mean_diff']:+.3f} [{100 * c['ci_lo']:+.3f}, {100 * c['ci_hi']:+.3f}] "
                      f"p={c['wilcoxon_p']:.4f} {c['a_wins']}-{c['b_wins']}")


def saved_result(dirs):
    """A BacktestResult from the records.csv of backtest output folders (scores only: no grid, no totals)."""
    from crimescope.forecast.backtest import BacktestResult

    recs = pd.concat([pd.read_csv(Path(d) / "records.csv", comment="#") for d in dirs], ignore_index=True)
    return BacktestResult(records=recs, models=sorted(recs["model"].unique()), horizons=[], coverages=[],
                          cell_totals={}, equity_coverage="", grid=None)


def cmd_pool(args) -> None:
    """Paired comparison of two models over the windows of several backtests (e.g. two years)."""
    res = saved_result(args.dirs)
    print(f"{args.a} minus {args.b}, hit rate, horizon {args.horizon} d, backtests: {', '.join(args.dirs)}")
    for cov in args.coverage.split(","):
        c = res.compare(args.a, args.b, args.horizon, cov)
        beats = c["mean_diff"] > 0 and c["wilcoxon_p"] < 0.05 and c["ci_lo"] > 0
        print(f"{cov:>6}: {c['windows']} windows, {100 * c['mean_diff']:+.2f} points "
              f"[{100 * c['ci_lo']:+.2f}, {100 * c['ci_hi']:+.2f}], Wilcoxon p = {c['wilcoxon_p']:.3f}, "
              f"won {c['a_wins']}-{c['b_wins']}; beats by the rule: {beats}")


def cmd_rolling(args) -> None:
    """Per-year and pooled tables of backtest folders (one per year): accuracy, the rule, calibration."""
    res = saved_result(args.dirs)
    r = res.records
    r["year"] = pd.to_datetime(r["origin"]).dt.year
    years = sorted(r["year"].unique())
    a, b = args.a, args.b

    def fmt_p(p):
        return "<0.001" if p < 0.001 else f"{p:.3f}"

    for cov in args.coverage.split(","):
        print(f"\n{a} vs {b}, weekly, {cov}\n")
        print("| year | windows | " + f"hit {a} | hit {b} | PAI {a} | PAI {b} | PAI ratio | "
              "mean diff (points) | 95% CI | Wilcoxon p | won-lost | beats by the rule |")
        print("|" + "---|" * 12)
        for y in years + ["pooled"]:
            sub = r if y == "pooled" else r[r["year"] == y]
            from crimescope.forecast.backtest import BacktestResult

            rr = BacktestResult(records=sub, models=sorted(sub["model"].unique()), horizons=[], coverages=[],
                                cell_totals={}, equity_coverage="", grid=None)
            c = rr.compare(a, b, 7, cov)
            sel = sub[np.isclose(sub["horizon_days"], 7) & (sub["coverage"] == cov)]
            ha, hb = (sel[sel["model"] == m]["hit_rate"].mean() for m in (a, b))
            pa, pb = (sel[sel["model"] == m]["pai"].mean() for m in (a, b))
            beats = c["mean_diff"] > 0 and c["wilcoxon_p"] < 0.05 and c["ci_lo"] > 0
            print(f"| {y} | {c['windows']} | {ha:.3f} | {hb:.3f} | {pa:.1f} | {pb:.1f} | {pa / pb:.2f} | "
                  f"{100 * c['mean_diff']:+.2f} | [{100 * c['ci_lo']:+.2f}, {100 * c['ci_hi']:+.2f}] | "
                  f"{fmt_p(c['wilcoxon_p'])} | {c['a_wins']}-{c['b_wins']} | {'yes' if beats else 'no'} |")
    if "expected" in r:
        cal = res.calibration("year")
        cal = cal[np.isclose(cal["horizon_days"], 7)]
        print("\nCalibration, weekly: total expected / total observed\n")
        piv = cal.pivot(index="model", columns="year", values="ratio")
        print("| model | " + " | ".join(str(c) for c in piv.columns) + " |")
        print("|" + "---|" * (len(piv.columns) + 1))
        for m, row in piv.iterrows():
            print(f"| {m} | " + " | ".join(f"{v:.3f}" for v in row) + " |")


def mixture_records(dirs, mixtures, coverages, horizon: float = 7.0) -> pd.DataFrame:
    """Records (as a backtest writes them) of kept forecasts and of weighted means of them.

    ``mixtures``: name -> {model: weight}. Reads ``forecasts.npz`` of each backtest folder (run
    with ``--keep-forecasts``); an ``EnsembleMean`` of registry-default members gives exactly
    these weighted means, so the scores are the ensemble's.
    """
    from crimescope.forecast.metrics import score_coverage
    from crimescope.spatial.grid import Grid

    area = Grid.chicago(500.0).area
    rows = []
    for d in dirs:
        z = np.load(Path(d) / "forecasts.npz")
        obs = z[f"obs_{horizon:g}"].astype(float)
        kept = {k.split("__")[0]: z[k].astype(float) for k in z.files if k.endswith(f"__{horizon:g}")}
        cands = dict(kept)
        for name, w in mixtures.items():
            if not set(w) <= set(kept):
                continue
            tot = sum(w.values())
            cands[name] = sum(v * kept[m] for m, v in w.items()) / tot
        for i, o in enumerate(z["origins"]):
            for name, f in cands.items():
                for cov in coverages:
                    sc = score_coverage(f[i], obs[i], area, cov)
                    rows.append({"model": name, "origin": pd.Timestamp(str(o)), "horizon_days": horizon,
                                 "coverage": sc.coverage, "n_events": sc.n_events, "hits": sc.hits,
                                 "hit_rate": sc.hit_rate, "pai": sc.pai, "pei_star": sc.pei_star,
                                 "loglik": np.nan, "fit_seconds": np.nan})
    return pd.DataFrame(rows)


SMALL_AREA_MIXTURES = {f"lb{int(w * 100)}_{b}": {"leading_bagged": w, b: 1 - w}
                       for b in ("naive_all", "naive_52w") for w in (0.25, 0.5, 0.75)}


def cmd_mix(args) -> None:
    """Small-area candidates from kept forecasts: each model and the pre-registered mixtures."""
    from crimescope.forecast.backtest import BacktestResult

    recs = mixture_records(args.dirs, SMALL_AREA_MIXTURES, args.coverage.split(","))
    res = BacktestResult(records=recs, models=sorted(recs["model"].unique()), horizons=[7.0], coverages=[],
                         cell_totals={}, equity_coverage="", grid=None)
    for cov in args.coverage.split(","):
        s = recs[recs["coverage"] == cov].groupby("model")["hit_rate"].mean().sort_values(ascending=False)
        base = max((m for m in ("naive_all", "naive_52w") if m in s), key=lambda m: s[m])
        print(f"\n{cov}: pooled mean hit rate over {recs['origin'].nunique()} windows; better baseline {base}\n")
        print("| model | hit rate | minus baseline (points) | 95% CI | Wilcoxon p | won-lost | beats by the rule |")
        print("|---|---|---|---|---|---|---|")
        for m, v in s.items():
            if m == base:
                print(f"| {m} | {v:.4f} | | | | | |")
                continue
            c = res.compare(m, base, 7, cov)
            beats = c["mean_diff"] > 0 and c["wilcoxon_p"] < 0.05 and c["ci_lo"] > 0
            print(f"| {m} | {v:.4f} | {100 * c['mean_diff']:+.2f} | [{100 * c['ci_lo']:+.2f}, {100 * c['ci_hi']:+.2f}] "
                  f"| {c['wilcoxon_p']:.3f} | {c['a_wins']}-{c['b_wins']} | {'yes' if beats else 'no'} |")
    if args.out:
        recs.to_csv(args.out, index=False)


def cmd_tables(args) -> None:
    """The markdown tables of docs/forecasting.md from a backtest output folder."""
    d = Path(args.dir)
    res = saved_result([d])
    s = res.summary()

    def row(cells):
        return "| " + " | ".join(cells) + " |"

    for h in (7.0, 1.0, 28.0):
        w = s[np.isclose(s.horizon_days, h)]
        piv = {k: w.pivot(index="model", columns="coverage", values=k) for k in ("hit_rate", "pai", "pei_star",
                                                                                  "hit_rate_lo", "hit_rate_hi",
                                                                                  "loglik")}
        order = piv["hit_rate"]["1%"].sort_values(ascending=False).index
        print(f"\n**Horizon {h:g} days** (means over {int(w.windows.max())} weekly origins)\n")
        head = ["model", "hit 0.5%", "hit 1%", "hit 5%", "PAI 0.5%", "PAI 1%", "PAI 5%"]
        if h == 7.0:
            head += ["PEI* 0.25 sq mi", "PEI* 0.75 sq mi", "hit 1% 95% CI"]
        head += ["loglik"]
        print(row(head))
        print(row(["---"] * len(head)))
        for m in order:
            c = [m] + [f"{piv['hit_rate'].loc[m, k]:.3f}" for k in ("0.5%", "1%", "5%")]
            c += [f"{piv['pai'].loc[m, k]:.1f}" for k in ("0.5%", "1%", "5%")]
            if h == 7.0:
                c += [f"{piv['pei_star'].loc[m, k]:.3f}" for k in ("0.25sqmi", "0.75sqmi")]
                c += [f"{piv['hit_rate_lo'].loc[m, '1%']:.3f}-{piv['hit_rate_hi'].loc[m, '1%']:.3f}"]
            c += [f"{piv['loglik'].loc[m, '1%']:.1f}"]
            print(row(c))
    base = args.b
    print(f"\nAll models against `{base}`, weekly, 1% (mean difference in points of hit rate, bootstrap 95% "
          "interval, Wilcoxon p, windows won-lost):\n")
    print(row(["model", "mean diff", "95% CI", "Wilcoxon p", "won-lost"]))
    print(row(["---"] * 5))
    cmp = [res.compare(m, base, 7, "1%") for m in res.models if m not in (base, "naive_52w")]
    for c in sorted(cmp, key=lambda c: -c["mean_diff"]):
        p = "<0.001" if c["wilcoxon_p"] < 0.001 else f"{c['wilcoxon_p']:.3f}"
        print(row([c["a"], f"{100 * c['mean_diff']:+.2f}", f"[{100 * c['ci_lo']:+.2f}, {100 * c['ci_hi']:+.2f}]",
                   p, f"{c['a_wins']}-{c['b_wins']}"]))
    print("\nThe top model against the better baseline per horizon and coverage (28-day windows overlap week to "
          "week, so their p-values are optimistic):\n")
    print(row(["horizon", "coverage", "best model", "baseline", "mean diff (hit rate)", "95% CI (bootstrap)",
               "Wilcoxon p", "windows won-lost", "beats by the rule"]))
    print(row(["---"] * 9))
    for h in (7, 1, 28):
        for cov in ("1%", "5%", "0.25sqmi"):
            b = res.best_vs_baseline(h, cov)
            c = b["comparison"]
            p = "<0.001" if c["wilcoxon_p"] < 0.001 else f"{c['wilcoxon_p']:.3f}"
            print(row([f"{h} d", cov.replace("sqmi", " sq mi"), b["best"], b["baseline"], f"{c['mean_diff']:+.4f}",
                       f"[{c['ci_lo']:+.4f}, {c['ci_hi']:+.4f}]", p, f"{c['a_wins']}-{c['b_wins']}",
                       "yes" if b["beats_baseline"] else "no"]))
    if (d / "offsets.csv").is_file():
        off = pd.read_csv(d / "offsets.csv", comment="#")
        models = list(dict.fromkeys(off["model"]))
        print("\n" + row(["offset (x, y)"] + models))
        print(row(["---"] * (len(models) + 1)))
        for (ox, oy), g in off.groupby(["offset_x", "offset_y"], sort=False):
            v = dict(zip(g["model"], g["hit_rate"]))
            print(row([f"({ox:g}, {oy:g})"] + [f"{v[m]:.3f}" for m in models]))
        mean = off.groupby("model")["hit_rate"].mean()
        print(row(["mean of 4"] + [f"{mean[m]:.3f}" for m in models]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("--repeat", type=int, default=3)
    sub.add_parser("sepp")
    lp = sub.add_parser("leading", help="leading_indicators fit time and memory with its related categories")
    lp.add_argument("--as-of", default="2017-01-02")
    lp.add_argument("--model", default="leading_indicators")
    lp.add_argument("--repeat", type=int, default=5)
    lp.add_argument("--events-cache", default="", help="a pickle of the events frame: read if it exists, else written")
    bp = sub.add_parser("backtest")
    bp.add_argument("--year", type=int, default=2017)
    bp.add_argument("--weeks", type=int, default=52)
    bp.add_argument("--models", default="")
    bp.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "crimescope-forecast-backtest"))
    bp.add_argument("--every", type=int, default=1, help="use every N-th Monday (default: all)")
    bp.add_argument("--first", type=int, default=0, help="index of the first Monday used (with --every)")
    bp.add_argument("--offsets", action="store_true")
    bp.add_argument("--offset-models", default="naive_all,naive_52w,grid_hawkes,stkde")
    bp.add_argument("--verbose", action="store_true")
    bp.add_argument("--keep-forecasts", default="", help="models whose per-cell forecasts go to forecasts.npz")
    bp.add_argument("--jobs", type=int, default=1, help="worker processes scoring origins (backtest(jobs=...))")
    bp.add_argument("--events-cache", default="", help="a pickle of load_categories' frame: read if it exists, "
                    "else written (skips the CSVs on a second run)")
    wp = sub.add_parser("windows", help="score windows one by one, appending records as each completes")
    wp.add_argument("--plan", required=True, help="YEAR:EVERY:FIRST chunks, comma-separated")
    wp.add_argument("--models", default="naive_all,naive_52w,leading_bagged")
    wp.add_argument("--worker", type=int, default=0)
    wp.add_argument("--workers", type=int, default=1)
    wp.add_argument("--cache", default="")
    wp.add_argument("--out", required=True)
    pp = sub.add_parser("pool", help="pooled paired test over several backtest output folders")
    pp.add_argument("dirs", nargs="+")
    pp.add_argument("--a", default="smooth_counts")
    pp.add_argument("--b", default="naive_all")
    pp.add_argument("--horizon", type=float, default=7)
    pp.add_argument("--coverage", default="0.5%,1%,5%")
    xp = sub.add_parser("prospective", help="prospective_hotspot variants against the published settings")
    xp.add_argument("--year", type=int, default=2016)
    xp.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "crimescope-prospective"))
    sp2 = sub.add_parser("small", help="0.25 sq mi candidates (decayed, lightly smoothed counts)")
    sp2.add_argument("--year-from", type=int, default=2014)
    sp2.add_argument("--year-to", type=int, default=2016)
    sp2.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "crimescope-small-area"))
    rp = sub.add_parser("rolling", help="per-year and pooled tables of several backtest folders")
    rp.add_argument("dirs", nargs="+")
    rp.add_argument("--a", default="leading_bagged")
    rp.add_argument("--b", default="naive_all")
    rp.add_argument("--coverage", default="1%,0.25sqmi")
    mp = sub.add_parser("mix", help="small-area candidates scored from kept forecasts (forecasts.npz)")
    mp.add_argument("dirs", nargs="+")
    mp.add_argument("--coverage", default="0.25sqmi,1%")
    mp.add_argument("--out", default="")
    tp = sub.add_parser("tables", help="markdown tables of a backtest output folder (docs/forecasting.md)")
    tp.add_argument("dir")
    tp.add_argument("--b", default="naive_all", help="baseline of the all-models comparison")
    args = ap.parse_args()
    print(f"$ python {' '.join(sys.argv)}\n{describe()}", flush=True)
    {"speed": cmd_speed, "sepp": cmd_sepp, "leading": cmd_leading, "backtest": cmd_backtest,
     "pool": cmd_pool, "tables": cmd_tables, "prospective": cmd_prospective, "small": cmd_small,
     "rolling": cmd_rolling, "mix": cmd_mix, "windows": cmd_windows}[args.cmd](args)


if __name__ == "__main__":
    main()
