"""False-alarm check of the CompStat flags on real data with no real change.

For each as-of date June 30, 2013-2017, the records of the year to date and of the same
span a year earlier are pooled day by day: each calendar day of this year's span is
swapped with the same month/day a year earlier with probability 1/2 (one coin per day, for
every district and category at once, so the days' clustering and the cells' correlation
are kept; Feb 29 has no partner and stays). The year labels are then exchangeable, there
is no real change, and every flag is a false alarm. The Benjamini-Hochberg flags of the
CompStat table (all default categories, citywide + districts, week / 28 days / YTD) must
stay at or under the stated 5% level: the mean flagged share of cells, and (since under
a global null the false discovery rate is the chance of any flag) the share of shuffled
tables with any flag, up to binomial noise over 20 tables.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from _shared import requires_shared
from crimescope.categories import load_taxonomy
from crimescope.stats import significance as sg
from crimescope.stats.periods import DEFAULT_COMPSTAT_CATEGORIES, compstat_windows
from crimescope.stats.query import daily_expr, incidents_table, same_day_year_ago

pytestmark = [requires_shared, pytest.mark.slow]


def _cells(daily, cats, as_of, swap_days):
    """CompStat cells (category, district/citywide, period) from daily counts after swapping."""
    wins = compstat_windows(as_of)
    d = daily.copy()
    prev_of = {day: same_day_year_ago(day) for day in swap_days}
    back = {v: k for k, v in prev_of.items()}
    d["date"] = [back.get(x, prev_of.get(x, x)) for x in d["date"]]
    rows = []
    for i, c in enumerate(cats):
        sel = d[(d["mask"] & (1 << i)) > 0]
        for period, ((s, e), (ps, pe)) in wins.items():
            cur = sel[(sel["date"] >= s) & (sel["date"] <= e)].groupby("district", dropna=False)["n"].sum()
            prev = sel[(sel["date"] >= ps) & (sel["date"] <= pe)].groupby("district", dropna=False)["n"].sum()
            both = pd.concat([cur.rename("count"), prev.rename("prev_count")], axis=1).fillna(0)
            areas = [("citywide", both["count"].sum(), both["prev_count"].sum())]
            areas += [(f"district {k}", r["count"], r["prev_count"]) for k, r in both.iterrows()]
            for area, n1, n0 in areas:
                rows.append(dict(category=c.name, area=area, period=period, start=s, end=e, prev_start=ps,
                                 prev_end=pe, count=int(n1), prev_count=int(n0)))
    return pd.DataFrame(rows)


def year_to_june(store, cats, year):
    """(as_of, daily counts of this YTD span and last year's, the days that may be swapped)."""
    a = dt.date(year, 6, 30)
    t = incidents_table(store.ibis(), source="chicago")
    ranges = [(dt.date(year, 1, 1), a), (dt.date(year - 1, 1, 1), same_day_year_ago(a))]
    daily = daily_expr(t, cats, ranges, ["district"]).to_pandas()
    daily["date"] = pd.to_datetime(daily["date"]).dt.date
    days = [dt.date(year, 1, 1) + dt.timedelta(days=k) for k in range((a - dt.date(year, 1, 1)).days + 1)]
    return a, daily, [x for x in days if not (x.month == 2 and x.day == 29)]


def test_shuffled_years_flag_at_most_the_stated_share(chicago_store):
    tax = load_taxonomy()
    cats = [tax[c] for c in DEFAULT_COMPSTAT_CATEGORIES]
    rng = np.random.default_rng(20120101)
    shares, any_flag, tables = [], 0, 0
    for year in range(2013, 2018):
        a, daily, days = year_to_june(chicago_store, cats, year)
        unshuffled = sg.compstat_tests(_cells(daily, cats, a, []), range(2012, 2018))[1]
        for _ in range(4):
            swap = [x for x in days if rng.random() < 0.5]
            df, summary = sg.compstat_tests(_cells(daily, cats, a, swap), range(2012, 2018))
            tables += 1
            shares.append(summary["flagged"] / summary["tested"])
            any_flag += summary["flagged"] > 0
        assert unshuffled["tested"] > 300
    mean_share = float(np.mean(shares))
    # stated level 5%: the flagged share of cells, and tables with any flag (binomial(20, 0.05): P(>= 4) < 2%)
    assert mean_share <= sg.FDR_LEVEL, shares
    assert any_flag <= 3, (any_flag, tables, shares)


def test_real_change_is_flagged(chicago_store):
    """The placebo's positive control: unshuffled, 2016 vs 2015 (Chicago's surge in gun
    violence) is flagged in many cells."""
    from crimescope.stats import compstat

    r = compstat(chicago_store, "2016-12-31", ["shooting", "gun_violence"])
    assert r.meta["tests"]["flagged"] >= 10
    assert set(r.table.loc[r.table["flagged"], "label"]) <= {sg.LABEL_UP, sg.LABEL_DOWN}
