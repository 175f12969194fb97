"""Calibration of the "on pace for" intervals (not a test): scored against the actual year end.

    python benchmarks/bench_pace.py --store crimescope.duckdb [--max-years 10] [--method shipped|pooled]

For homicides (covered 2001-2017 in the store built from the shared homicide extract) and
for every category the store covers in each year 2012-2017, a pace is made at each month
end January-November of every year with at least three prior covered years (December 31
is the year end itself). Each uses only the prior years (:func:`crimescope.stats.pace.seasonal_pace`,
the function behind ``crimescope pace``, with the dispersion computed from the prior
years' case numbers as ``pace`` does; ``--method pooled`` instead pools the seasonal variance
across the series paced at the same month end, the revision scored once and not shipped,
``benchmarks/_pace_pool.py``, and also prints the shipped coverage for comparison). Reports,
per group: the share of 80% and 95% intervals containing the actual year-end count, and the mean absolute error of the pace
estimate and of the straight-line (365/day) extrapolation. Accuracy, not speed: the
machine only matters for reproducing it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import command, describe  # noqa: E402


def _daily(store, cat, y0, y1):
    import pandas as pd

    from crimescope.stats.query import count_expr, incidents_table

    t = incidents_table(store.ibis(), source="chicago")
    df = count_expr(t, cat, dt.date(y0, 1, 1), dt.date(y1, 12, 31), ["date"]).to_pandas()
    df["date"] = pd.to_datetime(df["date"]).dt.date
    return dict(zip(df["date"], df["count"].astype(int)))


REFUSED: list = []


def ingredients(store, cat, years, max_years: int):
    """One row per (year, month end): the year to date, the prior years' spans and totals, the
    dispersion and the actual year end (what :func:`score` needs)."""
    from crimescope.stats.pace import _dispersion
    from crimescope.stats.query import same_day_year_ago

    daily = _daily(store, cat, years[0], years[-1])
    days = sorted(daily)
    cum, run = {}, 0
    for d in days:
        run += daily[d]
        cum[d] = run

    import bisect

    def upto(d):  # records from the first day through d
        i = bisect.bisect_right(days, d)
        return cum[days[i - 1]] if i else 0

    def span(a, b):
        return upto(b) - upto(a - dt.timedelta(days=1))

    rows = []
    for Y in years[3:]:
        prior = [y for y in years if Y - max_years <= y < Y]
        phi = _dispersion(store, cat, "chicago", prior, None)
        total = span(dt.date(Y, 1, 1), dt.date(Y, 12, 31))
        for m in range(1, 12):
            a = dt.date(Y, m + 1, 1) - dt.timedelta(days=1)
            py = [span(dt.date(y, 1, 1), same_day_year_ago(a, Y - y)) for y in prior]
            pt = [span(dt.date(y, 1, 1), dt.date(y, 12, 31)) for y in prior]
            rows.append({"category": cat.name, "year": Y, "month": m, "actual": total, "py": py, "pt": pt,
                         "ytd": span(dt.date(Y, 1, 1), a), "phi": phi,
                         "elapsed": (a - dt.date(Y, 1, 1)).days + 1,
                         "diy": (dt.date(Y, 12, 31) - dt.date(Y, 1, 1)).days + 1})
    return rows


def score(rows, method: str = "shipped", refused: list | None = None):
    """The paces of ``rows`` (:func:`ingredients`) scored against the year end.

    ``method="pooled"``: the seasonal variance pooled (``benchmarks/_pace_pool.py``, not shipped)
    across the series paced at the same month end of the same year (citywide: homicide alone
    before 2015, homicide and the categories covered 2012-2017 from 2015), the pool of its protocol;
    ``"shipped"``: each series' own (what ``crimescope pace`` does).
    """
    from collections import defaultdict

    from crimescope.errors import ParameterError
    from _pace_pool import pool_seasonal, pooled_pace, series_shares

    pooled = [None] * len(rows)
    if method == "pooled":
        pools = defaultdict(list)
        for i, r in enumerate(rows):
            pools[(r["year"], r["month"])].append(i)
        for idx in pools.values():
            for i, p in zip(idx, pool_seasonal([series_shares(rows[i]["py"], rows[i]["pt"]) for i in idx])):
                pooled[i] = p
    out = []
    for r, pl in zip(rows, pooled):
        try:
            p = pooled_pace(r["ytd"], r["py"], r["pt"], r["phi"], pl, days_elapsed=r["elapsed"],
                            days_in_year=r["diy"])
        except ParameterError as exc:  # refused (e.g. no prior record by this date): counted, not scored
            if refused is not None:
                refused.append((r["category"], r["year"], r["month"], str(exc)))
            continue
        total = r["actual"]
        out.append({"category": r["category"], "year": r["year"], "month": r["month"], "actual": total,
                    "pace": p.estimate, "straight": p.straight_line, "pooled": pl is not None,
                    "in80": p.intervals[0.8][0] <= total <= p.intervals[0.8][1],
                    "in95": p.intervals[0.95][0] <= total <= p.intervals[0.95][1]})
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--max-years", type=int, default=10)
    ap.add_argument("--method", choices=["shipped", "pooled"], default="shipped",
                    help="shipped: each series' own seasonal variance (crimescope pace); pooled: the "
                         "revision scored once and not shipped (benchmarks/_pace_pool.py)")
    args = ap.parse_args(argv)
    import pandas as pd

    from crimescope.categories import load_taxonomy
    from crimescope.stats.significance import _covered_years
    from crimescope.store import Store

    print("command:", command())
    print("machine:", describe())
    tax = load_taxonomy()
    ingr = []
    with Store(args.store, read_only=True) as store:
        ingr += ingredients(store, tax["homicide"], list(range(2001, 2018)), args.max_years)
        cats = [c for c in tax.values() if c.name != "homicide"
                and _covered_years(store, "chicago", c, range(2012, 2018)) == list(range(2012, 2018))]
        for c in cats:
            ingr += ingredients(store, c, list(range(2012, 2018)), args.max_years)
    before = pd.DataFrame(score(ingr, "shipped"))
    df = pd.DataFrame(score(ingr, args.method, REFUSED))
    print(f"method: {args.method} (the seasonal variance {'pooled across the series paced at each month end' if args.method == 'pooled' else 'of each series alone'})")
    df["ae_pace"] = (df["pace"] - df["actual"]).abs()
    df["ae_straight"] = (df["straight"] - df["actual"]).abs()
    df["group"] = ["homicide 2001-2017 (paces 2004-2017)" if c == "homicide" else "categories covered 2012-2017 (paces 2015-2017)"
                   for c in df["category"]]
    agg = {"intervals": ("in80", "size"), "cover_80": ("in80", "mean"), "cover_95": ("in95", "mean"),
           "mae_pace": ("ae_pace", "mean"), "mae_straight": ("ae_straight", "mean")}
    summary = df.groupby("group").agg(**agg)
    summary.loc["all"] = [len(df), df["in80"].mean(), df["in95"].mean(), df["ae_pace"].mean(), df["ae_straight"].mean()]
    print(f"categories covered 2012-2017 besides homicide: {len(cats)} ({', '.join(c.name for c in cats)})")
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.method != "shipped":
        before["group"] = ["homicide" if c == "homicide" else "categories" for c in before["category"]]
        print("for comparison, each series' own variance (the method before the pooling):")
        print(before.groupby("group").agg(cover_80=("in80", "mean"), cover_95=("in95", "mean"))
              .to_string(float_format=lambda v: f"{v:.3f}"))
        hom = df[df["category"] == "homicide"]
        print("homicide paces pooled:", int(hom["pooled"].sum()), "of", len(hom),
              "; 2012-2017 alone: 80%", f"{hom[hom.year >= 2012].in80.mean():.3f}",
              "95%", f"{hom[hom.year >= 2012].in95.mean():.3f}")
    print(f"refused (not scored): {len(REFUSED)}", sorted({r[0] for r in REFUSED}))
    # relative error, so large categories do not dominate the MAE comparison
    df["rel_pace"] = df["ae_pace"] / df["actual"]
    df["rel_straight"] = df["ae_straight"] / df["actual"]
    print("mean relative error, pace vs straight line:",
          f"{df['rel_pace'].mean():.3f} vs {df['rel_straight'].mean():.3f}")
    print("pace error smaller than straight line in", f"{(df['ae_pace'] < df['ae_straight']).mean():.1%}", "of cases")
    by_month = df.groupby("month").agg(cover_80=("in80", "mean"), cover_95=("in95", "mean"),
                                       mae_pace=("rel_pace", "mean"), mae_straight=("rel_straight", "mean"))
    print("by month end (relative errors):")
    print(by_month.to_string(float_format=lambda v: f"{v:.3f}"))
    per_cat = df.groupby("category").agg(n=("in80", "size"), cover_80=("in80", "mean"), cover_95=("in95", "mean"))
    print("per category:")
    print(per_cat.to_string(float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
