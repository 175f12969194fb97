"""Rolling-origin backtests: every model refitted at every origin, scored on what came next.

At each origin ``o`` every model is fitted on the events strictly before ``o``
(a fresh clone each time) and asked for each horizon ``h``; its forecast is
scored against the located events in ``[o, o + h)`` at every coverage (see
:mod:`crimescope.forecast.metrics`). Nothing after ``o`` is visible to a model.

The result keeps one row per (model, origin, horizon, coverage), summaries with
intervals across windows, paired comparisons between models, and per-cell totals
of flagged area and hits at one coverage for the responsible-use section.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..result import Result
from .base import (Forecaster, check_number, invalid, make_model, parse_horizon, parse_time, prepare_events,
                   shared_fit_work, to_days)
from .metrics import parse_coverage, poisson_loglik, score_coverage, score_coverages  # noqa: F401

__all__ = ["backtest", "BacktestResult", "weekly_origins", "offset_sensitivity", "split_target", "DEFAULT_COVERAGES",
           "reliability_bins", "RELIABILITY_BINS", "resolve_jobs"]

DEFAULT_COVERAGES = ("0.5%", "1%", "5%")
#: bins of the reliability table (deciles of expected mass)
RELIABILITY_BINS = 10


def reliability_bins(expected: np.ndarray, observed: np.ndarray, n_bins: int = RELIABILITY_BINS):
    """Cells, expected and observed events in ``n_bins`` bins of equal *expected mass*.

    Cells are sorted by decreasing expected count and cut where the running sum of the
    expected counts crosses ``k / n_bins`` of the total: bin 1 holds the cells expected
    to carry the first tenth of the events (the few hottest), bin 10 the long tail. A
    cell goes to the bin of the midpoint of its share of the running sum, so each bin
    holds about a tenth of the expected events; cells with an expected count of 0 are in
    the last bin. Returns three arrays of length ``n_bins``: cells, expected, observed.
    A calibrated forecast has observed close to expected in every bin; observed above
    expected in bin 1 means the hottest cells were under-forecast.
    """
    e = np.asarray(expected, dtype=float)
    o = np.asarray(observed, dtype=float)
    cells = np.zeros(n_bins)
    exp = np.zeros(n_bins)
    obs = np.zeros(n_bins)
    total = float(e.sum())
    if total <= 0:
        cells[-1], obs[-1] = e.size, float(o.sum())
        return cells, exp, obs
    order = np.argsort(-e, kind="stable")
    es = e[order]
    mid = np.cumsum(es) - es / 2
    b = np.minimum((mid / total * n_bins).astype(np.int64), n_bins - 1)
    b[es <= 0] = n_bins - 1
    return (np.bincount(b, minlength=n_bins).astype(float), np.bincount(b, weights=es, minlength=n_bins),
            np.bincount(b, weights=o[order], minlength=n_bins))


def weekly_origins(start: Any, end: Any, weekday: int = 0, every_days: int = 7) -> list[np.datetime64]:
    """Origins at midnight on ``weekday`` (0 = Monday) from ``start`` (inclusive) to ``end`` (exclusive)."""
    import pandas as pd

    a = pd.Timestamp(parse_time(start, "start")).normalize()
    b = pd.Timestamp(parse_time(end, "end"))
    if b <= a:
        raise invalid("end", str(end), f"a date after start {a.date()}")
    a = a + pd.Timedelta(days=(weekday - a.weekday()) % 7)
    out = []
    while a < b:
        out.append(np.datetime64(a.to_datetime64(), "ns"))
        a = a + pd.Timedelta(days=every_days)
    return out


@dataclass
class BacktestResult(Result):
    """Scores of a rolling-origin backtest.

    Attributes
    ----------
    records : pandas.DataFrame
        One row per model, origin, horizon_days, coverage with n_events, hits,
        best_hits, flagged_area, hit_rate, pai, pei_star, loglik, expected (the forecast's
        total), fit_seconds (wall) and fit_cpu_seconds (this process's CPU time: on a shared
        machine the steadier measure).
    models : list of str
    horizons : list of float (days); coverages : list of str
    cell_totals : dict
        ``(model, horizon_days) -> {"flagged_area", "hits", "events"}`` per-cell sums over
        windows at ``equity_coverage`` (for the responsible-use section).
    equity_coverage : str
    grid : Grid
    settings : dict
        How the backtest was run (origins, category, command...).
    forecasts : dict
        ``(model, horizon_days) -> float32 array (n_origins, n_cells)`` of the expected counts,
        for the models named in ``backtest(keep_forecasts=...)`` (empty otherwise).
    observed : dict
        ``horizon_days -> float32 array (n_origins, n_cells)`` of the observed counts
        (kept with ``forecasts``).
    reliability : pandas.DataFrame or None
        Per model, origin, horizon and decile of expected mass: cells, expected, observed
        (see :func:`reliability_bins`).
    """

    records: Any
    models: list
    horizons: list
    coverages: list
    cell_totals: dict
    equity_coverage: str
    grid: Any
    settings: dict = field(default_factory=dict)
    forecasts: dict = field(default_factory=dict)
    observed: dict = field(default_factory=dict)
    reliability: Any = None

    def headline(self) -> tuple[float, str]:
        """``(horizon_days, coverage)`` the ranking, the report and the saved ranking file are
        read at: 7 days and 1% of the area when the backtest scored them (the forecast layer's
        week and flagged share), else its first horizon and coverage."""
        hz = 7 if any(abs(h - 7) < 1e-9 for h in self.horizons) else self.horizons[0]
        cov = "1%" if "1%" in self.coverages else self.coverages[0]
        return hz, cov

    def summary(self, level: float = 0.95) -> Any:
        """Mean of each metric across windows with a t-interval (``*_lo``, ``*_hi``) per model/horizon/coverage."""
        import pandas as pd
        from scipy import stats

        rows = []
        for (m, h, c), g in self.records.groupby(["model", "horizon_days", "coverage"], sort=False):
            row: dict[str, Any] = {"model": m, "horizon_days": h, "coverage": c, "windows": len(g)}
            for k in ("hit_rate", "pai", "pei_star", "loglik"):
                v = g[k].to_numpy(float)
                v = v[np.isfinite(v)]
                mean = float(v.mean()) if v.size else math.nan
                if v.size > 1:
                    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
                else:
                    half = math.nan
                row[k], row[f"{k}_lo"], row[f"{k}_hi"] = mean, mean - half, mean + half
            if "expected" in g:
                e, n = float(g["expected"].sum()), float(g["n_events"].sum())
                row["expected_total"], row["observed_total"] = e, n
                row["calibration"] = e / n if n > 0 else math.nan
            row["fit_seconds"] = float(g["fit_seconds"].mean())
            rows.append(row)
        return pd.DataFrame(rows)

    def calibration(self, by: str = "year") -> Any:
        """Total expected / total observed events per model and horizon (and year, or per window).

        ``by="year"``: one row per model, horizon and calendar year of the origins, with
        ``windows``, ``expected``, ``observed``, ``ratio`` (1 = calibrated; 0.9 = 10% fewer
        expected than happened), the spread of the per-window ratios (``window_ratio_p10``,
        ``window_ratio_p90``, windows with events only) and ``within_10pct``. ``by="all"``:
        the same over every window; ``by="window"``: one row per window.
        """
        import pandas as pd

        r = self.records
        if "expected" not in r:
            raise invalid("records", "<no expected column>", "a backtest run by this version (records.expected)")
        r = r.drop_duplicates(["model", "origin", "horizon_days"])[
            ["model", "origin", "horizon_days", "expected", "n_events"]].copy()
        r["origin"] = pd.to_datetime(r["origin"])
        if by == "window":
            r = r.rename(columns={"n_events": "observed"})
            r["ratio"] = r["expected"] / r["observed"].where(r["observed"] > 0)
            return r.reset_index(drop=True)
        if by not in ("year", "all"):
            raise invalid("by", by, "'year', 'all' or 'window'")
        keys = ["model", "horizon_days"] + (["year"] if by == "year" else [])
        r["year"] = r["origin"].dt.year
        rows = []
        for k, g in r.groupby(keys, sort=False):
            e, n = float(g["expected"].sum()), float(g["n_events"].sum())
            w = (g["expected"] / g["n_events"].where(g["n_events"] > 0)).dropna().to_numpy(float)
            ratio = e / n if n > 0 else math.nan
            rows.append({**dict(zip(keys, k)), "windows": len(g), "expected": e, "observed": n, "ratio": ratio,
                         "window_ratio_p10": float(np.percentile(w, 10)) if w.size else math.nan,
                         "window_ratio_p90": float(np.percentile(w, 90)) if w.size else math.nan,
                         "within_10pct": bool(abs(ratio - 1) <= 0.10) if n > 0 else False})
        return pd.DataFrame(rows)

    def reliability_table(self, model: str, horizon: Any = 7) -> Any:
        """Deciles of expected mass (see :func:`reliability_bins`) summed over every window.

        Columns: ``bin`` (1 = hottest cells), ``cells`` (mean per window), ``expected``,
        ``observed`` (totals over windows), ``ratio`` = observed / expected.
        """
        if self.reliability is None or not len(self.reliability):
            raise invalid("reliability", None, "a backtest result that kept its reliability bins")
        h = parse_horizon(horizon)
        rel = self.reliability
        g = rel[(rel["model"] == model) & np.isclose(rel["horizon_days"], h)]
        if g.empty:
            raise invalid("model", model, f"one of {sorted(set(rel['model']))} at {h:g} days")
        n_win = g["origin"].nunique()
        t = g.groupby("bin", as_index=False)[["cells", "expected", "observed"]].sum()
        t["cells"] = t["cells"] / n_win
        t["ratio"] = t["observed"] / t["expected"].where(t["expected"] > 0)
        return t

    def ranking(self, horizon: Any = 7, coverage: Any = "1%", metric: str = "hit_rate") -> list[str]:
        """Models ordered best first by the mean of ``metric`` across windows."""
        h = parse_horizon(horizon)
        c = parse_coverage(coverage).label
        s = self.summary()
        s = s[(np.isclose(s["horizon_days"], h)) & (s["coverage"] == c)]
        if s.empty:
            raise invalid("coverage/horizon", f"{c}/{h:g}d", "a coverage and horizon the backtest ran")
        return list(s.sort_values(metric, ascending=False)["model"])

    def compare(self, a: str, b: str, horizon: Any = 7, coverage: Any = "1%", metric: str = "hit_rate",
                n_boot: int = 5000, random_state: int = 0) -> dict:
        """Paired comparison of ``a`` minus ``b`` over the same windows.

        Returns the mean difference, a paired-bootstrap percentile 95% interval, the
        Wilcoxon signed-rank p-value (two-sided; zero differences split), windows won
        by each, and the number of windows.
        """
        from scipy import stats

        h = parse_horizon(horizon)
        c = parse_coverage(coverage).label
        r = self.records
        sel = r[np.isclose(r["horizon_days"], h) & (r["coverage"] == c)]
        pa = sel[sel["model"] == a].set_index("origin")[metric]
        pb = sel[sel["model"] == b].set_index("origin")[metric]
        d = (pa - pb).dropna().to_numpy(float)
        out = {"a": a, "b": b, "metric": metric, "horizon_days": h, "coverage": c, "windows": int(d.size),
               "mean_diff": float(d.mean()) if d.size else math.nan, "ci_lo": math.nan, "ci_hi": math.nan,
               "wilcoxon_p": math.nan, "a_wins": int((d > 0).sum()), "b_wins": int((d < 0).sum())}
        if d.size >= 2:
            rng = np.random.default_rng(random_state)
            boots = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
            out["ci_lo"], out["ci_hi"] = (float(v) for v in np.percentile(boots, [2.5, 97.5]))
            if np.any(d != 0):
                out["wilcoxon_p"] = float(stats.wilcoxon(d, zero_method="zsplit").pvalue)
            else:
                out["wilcoxon_p"] = 1.0
        return out

    def best_vs_baseline(self, horizon: Any = 7, coverage: Any = "1%", metric: str = "hit_rate",
                         baselines: Sequence[str] = ("naive_52w", "naive_all")) -> dict:
        """The top model against the better of the simple baselines, with the paired test.

        ``beats_baseline`` is True only when the mean per-window difference is positive,
        the Wilcoxon signed-rank p < 0.05 and the paired-bootstrap 95% interval excludes 0.
        """
        rank = self.ranking(horizon, coverage, metric)
        base = [m for m in rank if m in baselines]
        if not base:
            raise invalid("baselines", list(baselines), f"models in the backtest {self.models}")
        best = rank[0]
        if best == base[0]:
            others = [m for m in rank if m not in baselines]
            cmp = self.compare(others[0], base[0], horizon, coverage, metric) if others else {}
            return {"best": best, "baseline": base[0], "beats_baseline": False, "comparison": cmp}
        cmp = self.compare(best, base[0], horizon, coverage, metric)
        # both tests must agree: signed-rank p < 0.05 and a bootstrap interval above zero
        beats = cmp["mean_diff"] > 0 and cmp["wilcoxon_p"] < 0.05 and cmp["ci_lo"] > 0
        return {"best": best, "baseline": base[0], "beats_baseline": bool(beats), "comparison": cmp}

    def frame(self):
        """The summary table (one row per model/horizon/coverage)."""
        return self.summary()

    def to_csv(self, path: Any = None) -> str:
        """The summary table as CSV with the provenance as ``#`` lines (written to ``path`` if given)."""
        return Result.to_csv(self, path)

    def window(self) -> dict:
        """The span the backtest saw: first and last origin and ``evaluated_until`` (exclusive: the
        last origin plus the longest horizon), so a ranking is never used to forecast weeks it scored."""
        import pandas as pd

        o = pd.to_datetime(self.records["origin"]) if len(self.records) else pd.Series([], dtype="datetime64[ns]")
        if not len(o):
            return {}
        until = o.max() + pd.Timedelta(days=float(max(self.horizons)))
        return {"first_origin": str(o.min())[:19], "last_origin": str(o.max())[:19],
                "evaluated_until": str(until)[:19]}

    def save_ranking(self, path: Any, horizon: Any = 7, coverage: Any = "1%", **extra: Any) -> None:
        """Write the ranking JSON read by ``forecast --model best``."""
        import json

        h, c = parse_horizon(horizon), parse_coverage(coverage).label
        s = self.summary()
        s = s[np.isclose(s["horizon_days"], h) & (s["coverage"] == c)]
        pai = {m: float(v) for m, v in zip(s["model"], s["pai"]) if np.isfinite(v)} if "pai" in s else {}
        doc = {"ranking": self.ranking(horizon, coverage), "horizon_days": h,
               "coverage": c, "metric": "hit_rate", "pai": pai, "window": self.window(),
               "settings": {k: str(v) for k, v in self.settings.items()}, **extra}
        Path(path).write_text(json.dumps(doc, indent=2), encoding="utf-8")


def _as_models(models: Any) -> dict[str, Forecaster]:
    if isinstance(models, Mapping):
        return dict(models)
    out = {}
    for m in models:
        if isinstance(m, str):
            out[m] = make_model(m)
        elif isinstance(m, Forecaster):
            out[m.name or type(m).__name__] = m
        else:
            raise invalid("models", m, "model names or Forecaster instances")
    return out


def split_target(events: Any, target_category: str | None) -> Any:
    """The rows of ``events`` that are the target: those whose ``category`` is ``target_category``.

    Every row when ``target_category`` is None or there is no ``category`` column.
    """
    import pandas as pd

    if target_category is None or not isinstance(events, pd.DataFrame) or "category" not in events.columns:
        return events
    return events[events["category"] == target_category]


def backtest(events: Any, grid: Any, models: Any, origins: Iterable[Any],
             horizons: Sequence[Any] = (7,), coverages: Sequence[Any] = DEFAULT_COVERAGES,
             equity_coverage: Any = "1%", progress: Callable[[str], None] | None = None,
             settings: dict | None = None, target_category: str | None = None,
             keep_forecasts: Sequence[str] | bool = False, jobs: int = 1) -> BacktestResult:
    """Rolling-origin backtest of ``models`` (names, instances or a name->instance mapping).

    With ``target_category``, ``events`` may also hold related categories' rows,
    tagged by a ``category`` column (:func:`crimescope.stats.events.load_categories`):
    only the target's rows are scored and given to the models, except to models
    whose :meth:`~crimescope.forecast.base.Forecaster.related_categories` is not
    empty, which get every row (and ``target_category`` if they have that setting).

    Every record carries ``expected`` (the forecast's total over the grid) beside
    ``n_events`` (calibration: :meth:`BacktestResult.calibration`), and the result keeps
    the reliability bins of every forecast (:meth:`BacktestResult.reliability_table`).
    ``keep_forecasts`` (True or model names) keeps those models' expected counts per
    window and cell as float32 arrays in ``result.forecasts`` (with ``result.observed``).

    ``jobs`` worker processes score the origins in parallel (0 = one per core; never more than
    the origins; default 1: in this process, no workers). The result is the same, bit for bit and
    in the same order, as with ``jobs=1`` (only ``fit_seconds`` and ``fit_cpu_seconds`` are timings
    of the run); ``progress`` is then called as each origin completes. Each worker holds a copy of
    ``events`` and its own fitting memory, so the peak memory is about ``jobs`` times the serial
    run's (docs/benchmarks/forecast.md). An error in a worker is raised here as it was raised
    there, with a note naming the origin and model; a worker that dies (out of memory) raises
    :class:`~crimescope.errors.EngineError`.
    """
    import pandas as pd

    target_events = split_target(events, target_category)
    mods = _as_models(models)
    if not mods:
        raise invalid("models", models, "at least one model")
    hs = [parse_horizon(h) for h in horizons]
    covs = [parse_coverage(c) for c in coverages]
    eq = parse_coverage(equity_coverage)
    orig = [parse_time(o, "origin") for o in origins]
    if not orig:
        raise invalid("origins", origins, "at least one origin")
    n_jobs = resolve_jobs(jobs, len(orig))
    if n_jobs > 1:
        rows, rel_rows, kept, kept_obs, totals = _run_origins_parallel(
            events, grid, mods, orig, hs, covs, eq, keep_forecasts, target_category, progress, n_jobs)
    else:
        with shared_fit_work():  # each frame validated, located and sorted once; per-origin model work shared
            allev = prepare_events(target_events, np.datetime64("2262-01-01"), grid)
            rows, rel_rows, kept, kept_obs, totals = _run_origins(
                events, target_events, grid, mods, orig, hs, covs, eq, allev, keep_forecasts, target_category,
                progress)
    return BacktestResult(records=pd.DataFrame(rows), models=list(mods), horizons=hs,
                          coverages=[c.label for c in covs], cell_totals=totals,
                          equity_coverage=eq.label, grid=grid, settings=dict(settings or {}),
                          forecasts={k: np.vstack(v) for k, v in kept.items()},
                          observed={h: np.vstack(v) for h, v in kept_obs.items()},
                          reliability=pd.DataFrame(rel_rows))


def _run_origins(events, target_events, grid, mods, orig, hs, covs, eq, allev, keep_forecasts, target_category,
                 progress):
    """The backtest's loop over origins and models (see :func:`backtest`), in this process."""
    located = allev.subset(allev.cell >= 0)
    keep = _kept_models(mods, keep_forecasts)
    acc = _Accumulator(grid, mods, hs, keep)
    for o in orig:
        acc.add(_score_origin(events, target_events, grid, mods, o, hs, covs, eq, located, keep, target_category,
                              progress))
    return acc.rows, acc.rel_rows, acc.kept, acc.kept_obs, acc.totals


def _kept_models(mods, keep_forecasts) -> set:
    return set(mods) if keep_forecasts is True else set(keep_forecasts or ())


class _Accumulator:
    """Collects the parts of :func:`_score_origin` origin after origin, in the order of the origins.

    The serial and the parallel backtest both add the same parts in the same order, so the
    records, reliability rows, kept forecasts and per-cell totals are the same bit for bit."""

    def __init__(self, grid, mods, hs, keep):
        self.area = grid.area
        self.totals = {(m, h): {"flagged_area": np.zeros(grid.n_cells), "hits": np.zeros(grid.n_cells),
                                "events": np.zeros(grid.n_cells)} for m in mods for h in hs}
        self.kept = {(m, h): [] for m in mods if m in keep for h in hs}
        self.kept_obs = {h: [] for h in hs} if keep else {}
        self.rows: list = []
        self.rel_rows: list = []

    def add(self, part: dict) -> None:
        self.rows.extend(part["rows"])
        self.rel_rows.extend(part["rel_rows"])
        for h, obs in part["observed"].items():
            if h in self.kept_obs:
                self.kept_obs[h].append(obs.astype(np.float32))
        for (name, h), f in part["fractions"].items():  # the flagged fraction of each cell at equity_coverage
            obs = part["observed"][h]
            tot = self.totals[(name, h)]
            tot["flagged_area"] += f * self.area
            tot["hits"] += f * obs
            tot["events"] += obs
        for k, exp in part["kept"].items():
            self.kept[k].append(exp)


def _score_origin(events, target_events, grid, mods, o, hs, covs, eq, located, keep, target_category, progress,
                  where: dict | None = None) -> dict:
    """Every model fitted at origin ``o`` and scored: the records, reliability rows, flagged fractions
    at the equity coverage and kept forecasts of this origin (added up by :class:`_Accumulator`).
    ``where`` (if given) is told which model is being fitted, for error reports from a worker."""
    import pandas as pd

    from .metrics import FlagOrder

    area = grid.area
    total = float(area.sum())
    od = float(to_days(o))
    observed, best_order = {}, {}
    for h in hs:
        i0, i1 = np.searchsorted(located.t, [od, od + h], side="left")
        observed[h] = np.bincount(located.cell[i0:i1], minlength=grid.n_cells).astype(float)
        # the best selection of each coverage (PEI*'s hits*) is the same for every model: sorted once
        best_order[h] = FlagOrder(observed[h] / area, area)
    rows, rel_rows, fractions, kept, messages = [], [], {}, {}, []
    for name, proto in mods.items():
        if where is not None:
            where["model"] = name
        model = proto.clone()
        model.name = name
        if target_category is not None:
            model.for_target(target_category)
        data = events if model.related_categories() else target_events
        t0, c0 = time.perf_counter(), time.process_time()
        model.fit(data, o, grid=grid)
        fc = {h: model.predict(h) for h in hs}
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        for h in hs:
            exp, obs = fc[h].expected, observed[h]
            ll = poisson_loglik(exp, obs)
            etot = float(exp.sum())
            if name in keep:
                kept[(name, h)] = exp.astype(np.float32)
            bc, be, bo = reliability_bins(exp, obs)
            for b in range(bc.size):
                rel_rows.append({"model": name, "origin": pd.Timestamp(o), "horizon_days": h, "bin": b + 1,
                                 "cells": bc[b], "expected": be[b], "observed": bo[b]})
            # one sort of the forecast serves every coverage and the equity view
            # (score_coverage and flag_fraction at each, bit for bit)
            order = FlagOrder(exp / area, area)
            for cov, s in zip(covs, score_coverages(exp, obs, area, covs, best_order[h], order)):
                rows.append({"model": name, "origin": pd.Timestamp(o), "horizon_days": h,
                             "coverage": cov.label, "n_events": s.n_events, "hits": s.hits,
                             "best_hits": s.best_hits, "flagged_area": s.flagged_area,
                             "hit_rate": s.hit_rate, "pai": s.pai, "pei_star": s.pei_star,
                             "loglik": ll, "expected": etot, "fit_seconds": secs,
                             "fit_cpu_seconds": cpu})
            fractions[(name, h)] = order.fraction(eq.area_of(total))
        msg = f"{pd.Timestamp(o).date()} {name} {secs:.2f}s"
        messages.append(msg)
        if progress:
            progress(msg)
    return {"rows": rows, "rel_rows": rel_rows, "observed": observed, "fractions": fractions, "kept": kept,
            "messages": messages}


# ----------------------------------------------------------------- worker processes
#: what a worker process of :func:`_run_origins_parallel` scores with (set once per worker by
#: :func:`_worker_init`; only ever set inside those processes, never in the caller's)
_WORKER: dict = {}


def _worker_init(events, grid, mods, hs, covs, eq, keep, target_category) -> None:
    """Set up one worker: the events and settings once, and a :func:`shared_fit_work` block kept
    open for the worker's life, so its origins share prepared frames as the serial loop's do."""
    block = shared_fit_work()
    block.__enter__()
    target_events = split_target(events, target_category)
    allev = prepare_events(target_events, np.datetime64("2262-01-01"), grid)
    _WORKER.update(events=events, target_events=target_events, grid=grid, mods=mods, hs=hs, covs=covs, eq=eq,
                   keep=keep, target_category=target_category, located=allev.subset(allev.cell >= 0),
                   block=block)


def _worker_origin(o) -> dict:
    """Score one origin in a worker (see :func:`_score_origin`); an error names its origin and model."""
    import pandas as pd

    w, where = _WORKER, {"model": None}
    try:
        return _score_origin(w["events"], w["target_events"], w["grid"], w["mods"], o, w["hs"], w["covs"], w["eq"],
                             w["located"], w["keep"], w["target_category"], None, where)
    except Exception as exc:
        exc.add_note(f"in a backtest worker process at origin {pd.Timestamp(o).date()}, model {where['model']}")
        raise


def _run_origins_parallel(events, grid, mods, orig, hs, covs, eq, keep_forecasts, target_category, progress,
                          jobs: int):
    """:func:`_run_origins` with the origins spread over ``jobs`` worker processes (one origin per task).

    Workers are started with ``spawn`` (a fresh interpreter: no OpenMP or thread state copied
    from this process) and each receives the events once. Progress is reported as each origin
    completes; the parts are added in the order of the origins, so the result is the serial one.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    import pandas as pd

    from ..errors import EngineError

    keep = _kept_models(mods, keep_forecasts)
    acc = _Accumulator(grid, mods, hs, keep)
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init,
                               initargs=(events, grid, mods, hs, covs, eq, keep, target_category))
    futures = {}
    try:
        futures = {pool.submit(_worker_origin, o): i for i, o in enumerate(orig)}
        done: dict[int, dict] = {}
        nxt = 0
        from concurrent.futures import as_completed

        for fut in as_completed(futures):
            i = futures[fut]
            try:
                part = fut.result()
            except BrokenProcessPool as exc:
                raise EngineError(f"a backtest worker process died while scoring origin "
                                  f"{pd.Timestamp(orig[i]).date()} (out of memory?): run it again with fewer "
                                  f"jobs (--jobs) or fewer models") from exc
            if progress:
                for msg in part["messages"]:
                    progress(msg)
            done[i] = part
            while nxt in done:  # in the order of the origins, as the serial loop adds them
                acc.add(done.pop(nxt))
                nxt += 1
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return acc.rows, acc.rel_rows, acc.kept, acc.kept_obs, acc.totals


def resolve_jobs(jobs: Any, n_origins: int) -> int:
    """The number of worker processes a backtest uses: ``jobs`` (an integer >= 0; 0 = one per
    core), at most one per origin; 1 means no worker processes (the loop runs in the caller)."""
    import os

    check_number("jobs", jobs, low=0, integer=True)
    n = int(jobs) or (os.cpu_count() or 1)
    return max(1, min(n, int(n_origins)))


def offset_sensitivity(events: Any, grid_for_offset: Callable[[tuple[float, float]], Any], models: Any,
                       origins: Sequence[Any], offsets: Sequence[tuple[float, float]],
                       horizon: Any = 7, coverage: Any = "1%", target_category: str | None = None) -> Any:
    """Mean hit rate / PAI / PEI* of each model on grids shifted by each offset (CRS units)."""
    import pandas as pd

    frames = []
    for off in offsets:
        g = grid_for_offset(tuple(off))
        res = backtest(events, g, models, origins, horizons=(horizon,), coverages=(coverage,),
                       target_category=target_category)
        s = res.summary()
        s.insert(0, "offset_y", off[1])
        s.insert(0, "offset_x", off[0])
        frames.append(s)
    return pd.concat(frames, ignore_index=True)


def ranking_path(store_path: Any, category: str) -> Path:
    """Where ``crimescope backtest`` saves the ranking read by ``forecast --model best``:
    ``<store>.forecast-ranking.<category>.json`` next to the store file."""
    p = Path(store_path)
    return p.with_name(f"{p.name}.forecast-ranking.{category}.json")


#: the model ``forecast --model best`` uses when no usable ranking exists (docs/forecasting.md)
DEFAULT_MODEL = "naive_52w"


def choose_best(store_path: Any, category: str, as_of: Any) -> tuple[str, dict]:
    """``(model, provenance)`` for ``forecast --model best`` as of ``as_of``: the first model of
    the saved ranking only when its backtest ended on or before ``as_of`` (its ``window``); else
    :data:`DEFAULT_MODEL`, and the provenance says why. No look-ahead in model choice."""
    import json

    import pandas as pd

    p = ranking_path(store_path, category)
    info: dict = {"ranking_file": p.name, "default": DEFAULT_MODEL}
    if not p.is_file():
        return DEFAULT_MODEL, {**info, "used": False, "ranking_file": None,
                               "reason": f"no backtest ranking of {category}: the documented default {DEFAULT_MODEL}"}
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        first = str(doc["ranking"][0])
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise invalid("model", "best", f"a readable ranking file at {p.name}") from exc
    win = doc.get("window") or {}
    info["window"] = win
    cut = pd.Timestamp(str(as_of))
    if not win.get("evaluated_until"):
        return DEFAULT_MODEL, {**info, "used": False, "reason": f"the ranking {p.name} records no backtest window, "
                               f"so it may have scored the weeks forecast: the documented default {DEFAULT_MODEL}"}
    if pd.Timestamp(win["evaluated_until"]) > cut:
        return DEFAULT_MODEL, {**info, "used": False, "reason": (
            f"the ranking {p.name} comes from a backtest scored until {win['evaluated_until']}, after the "
            f"forecast's as-of {str(as_of)[:19]}: using it would choose the model with knowledge of the weeks "
            f"forecast, so the documented default {DEFAULT_MODEL} is used")}
    return first, {**info, "used": True, "reason": f"first of the ranking {p.name} (backtest "
                   f"{win.get('first_origin')} to {win['evaluated_until']}, before the as-of)"}


def best_model(store_path: Any, category: str) -> str:
    """The first model of the latest saved backtest ranking for ``category``."""
    import json

    p = ranking_path(store_path, category)
    if not p.is_file():
        raise invalid("model", "best", f"a backtest of {category!r} first (no ranking at {p}); "
                      "run `crimescope backtest --category " + category + "`")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        return str(doc["ranking"][0])
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise invalid("model", "best", f"a readable ranking file at {p}") from exc
