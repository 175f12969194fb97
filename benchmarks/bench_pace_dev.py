"""Development data of the pace intervals (not the bars' data): NYC shootings and Chicago homicide before 2012.

    python benchmarks/bench_pace_dev.py --store crimescope.duckdb [--data ../shared/data]

A revision of the pace of issue 13 (pooling the seasonal share's year-to-year variance across
the series of a store, ``benchmarks/_pace_pool.py``; scored once and not shipped) was chosen on
these series only (docs/benchmarks/significance.md, "A second revision tried and not shipped"):

* NYC shootings 2006-2022 (``nyc/NYPD_Shooting_Incident_Data__Historic__12col_subset.csv``,
  victims, read directly: the subset lacks the INCIDENT_KEY and coordinates that
  ``ingest nyc-shootings`` requires): citywide (all, murders, non-fatal; a pool of 3, too
  small to pool), per borough (all, murders: a pool of 10) and per precinct with victims in
  every year (a pool of up to 77); dispersion 1 (no incident key);
* Chicago homicide victims 2001-2011 from the store (the homicide extract), citywide (a pool
  of 1: never pooled) and per district with records in every year (a pool of up to 22),
  dispersion from case numbers as ``pace`` computes it.

A pace at each month end January-November of every year with at least three prior years,
scored against the year end; the prior years are all earlier years (at most 10), or only the
last 3, 4 or 5 (``--last``; the bars' categories have 3-5). A pool is the series of one group
at one month end of one year. Reports the shipped method (own variance, t with ``n - 1`` df)
and the pooled one, by group and by the series' mean annual count.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import command, describe  # noqa: E402


def _spans(daily):
    days = sorted(daily)
    cum, run = [], 0
    for d in days:
        run += daily[d]
        cum.append(run)

    def upto(d):
        i = bisect.bisect_right(days, d)
        return cum[i - 1] if i else 0

    return lambda a, b: upto(b) - upto(a - dt.timedelta(days=1))


def paces(series, group, daily, years, phi_of=lambda prior: 1.0, max_years=10):
    """Ingredients of each pace of one series (its year-to-date, prior spans and year end)."""
    from crimescope.stats.query import same_day_year_ago

    span = _spans(daily)
    out = []
    for Y in years[3:]:
        prior = [y for y in years if Y - max_years <= y < Y]
        phi = phi_of(prior)
        total = span(dt.date(Y, 1, 1), dt.date(Y, 12, 31))
        for m in range(1, 12):
            a = dt.date(Y, m + 1, 1) - dt.timedelta(days=1)
            out.append(dict(series=series, group=group, Y=Y, m=m, phi=phi, actual=total,
                            py=[span(dt.date(y, 1, 1), same_day_year_ago(a, Y - y)) for y in prior],
                            pt=[span(dt.date(y, 1, 1), dt.date(y, 12, 31)) for y in prior],
                            ytd=span(dt.date(Y, 1, 1), a), elapsed=(a - dt.date(Y, 1, 1)).days + 1,
                            diy=(dt.date(Y, 12, 31) - dt.date(Y, 1, 1)).days + 1))
    return out


def development_rows(store_path, data):
    import pandas as pd

    from crimescope.categories import load_taxonomy
    from crimescope.stats.pace import _CaseCounts
    from crimescope.stats.query import count_expr, incidents_table
    from crimescope.store import Store

    rows = []
    nyc = pd.read_csv(Path(data) / "nyc" / "NYPD_Shooting_Incident_Data__Historic__12col_subset.csv",
                      usecols=["OCCUR_DATE", "BORO", "PRECINCT", "STATISTICAL_MURDER_FLAG"])
    nyc["date"] = pd.to_datetime(nyc["OCCUR_DATE"], format="%m/%d/%Y").dt.date
    nyc["murder"] = nyc["STATISTICAL_MURDER_FLAG"].astype(str).str.upper().eq("TRUE")
    years = list(range(2006, 2023))

    def add(name, group, sub):
        rows.extend(paces(name, group, sub.groupby("date").size().to_dict(), years))

    add("nyc:shootings", "nyc:city", nyc)
    add("nyc:murders", "nyc:city", nyc[nyc.murder])
    add("nyc:nonfatal", "nyc:city", nyc[~nyc.murder])
    for b, sub in nyc.groupby("BORO"):
        add(f"nyc:{b}:shootings", "nyc:boro", sub)
        add(f"nyc:{b}:murders", "nyc:boro", sub[sub.murder])
    for p, sub in nyc.groupby("PRECINCT"):
        if sub.date.map(lambda d: d.year).nunique() == len(years):
            add(f"nyc:pct{p}", "nyc:precinct", sub)
    cat = load_taxonomy()["homicide"]
    with Store(store_path, read_only=True) as s:
        t = incidents_table(s.ibis(), source="chicago")
        df = count_expr(t, cat, dt.date(2001, 1, 1), dt.date(2011, 12, 31), ["date", "district"]).to_pandas()
        df["date"] = pd.to_datetime(df["date"]).dt.date
        cases = _CaseCounts(s, cat, "chicago")
    chy = list(range(2001, 2012))
    rows.extend(paces("chi:homicide", "chi:city", df.groupby("date")["count"].sum().to_dict(), chy,
                      lambda pr: cases.dispersion(pr, None)))
    for d, sub in df.groupby("district"):
        if len({x.year for x in sub.date}) == len(chy):
            rows.extend(paces(f"chi:homicide:d{int(d)}", "chi:district", sub.groupby("date")["count"].sum().to_dict(),
                              chy, lambda pr, d=d: cases.dispersion(pr, int(d))))
    return rows


def evaluate(rows, last=0):
    """Score the shipped and the pooled method on ``rows`` (prior years cut to the last ``last``)."""
    import pandas as pd

    from crimescope.errors import ParameterError
    from _pace_pool import pool_seasonal, pooled_pace, series_shares

    use = []
    for r in rows:
        py, pt = (r["py"][-last:], r["pt"][-last:]) if last else (r["py"], r["pt"])
        use.append(dict(r, py=py, pt=pt, sh=series_shares(py, pt)))
    pools = defaultdict(list)
    for i, r in enumerate(use):
        pools[(r["group"], r["Y"], r["m"])].append(i)
    for idx in pools.values():
        for i, p in zip(idx, pool_seasonal([use[i]["sh"] for i in idx])):
            use[i]["pooled"] = p
    out = []
    for r in use:
        res = dict(series=r["series"], group=r["group"], Y=r["Y"], m=r["m"], size=None)
        for name, pooled in (("shipped", None), ("pooled", r["pooled"])):
            try:
                p = pooled_pace(r["ytd"], r["py"], r["pt"], r["phi"], pooled,
                                days_elapsed=r["elapsed"], days_in_year=r["diy"])
            except ParameterError:
                break
            T = r["actual"]
            res[f"{name}_80"] = p.intervals[0.8][0] <= T <= p.intervals[0.8][1]
            res[f"{name}_95"] = p.intervals[0.95][0] <= T <= p.intervals[0.95][1]
            res["size"] = sum(r["pt"]) / p.n_years
        else:
            out.append(res)
    df = pd.DataFrame(out)
    df["size"] = pd.cut(df["size"], [0, 50, 200, 1e12], labels=["<50 a year", "50-200", ">200"])
    return df


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    args = ap.parse_args(argv)
    import pandas as pd

    pd.set_option("display.width", 200)
    print("command:", command())
    print("machine:", describe())
    rows = development_rows(args.store, args.data)
    cols = ["shipped_80", "shipped_95", "pooled_80", "pooled_95"]
    for last in (3, 4, 5, 0):
        df = evaluate(rows, last)
        print(f"\n=== prior years: {'the last ' + str(last) if last else 'all earlier (at most 10)'}; "
              f"{len(df)} paces")
        print(df.groupby("group")[cols].mean().to_string(float_format=lambda v: f"{v:.3f}"))
        print(df.groupby("size", observed=True)[cols].mean().to_string(float_format=lambda v: f"{v:.3f}"))
        print("all", {c: round(float(df[c].mean()), 3) for c in cols})


if __name__ == "__main__":
    main()
