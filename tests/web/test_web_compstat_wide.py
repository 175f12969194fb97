"""The Overview page's CompStat rows (``views.compstat_wide``) equal the pandas group-by they replaced.

The reference below is the former implementation (``groupby(["area", "district"])`` and
``itertuples``), kept here; both are run on CompStat tables of the test store, including as-of
dates whose year-earlier spans the store does not hold (empty previous counts) and rows
without a district.
"""

from __future__ import annotations

import datetime as dt

import pytest

from _shared import requires_shared

pytestmark = requires_shared


def _reference(res, category: str):
    t = res.table[res.table["category"] == category]
    out = []
    for (area, district), g in t.groupby(["area", "district"], dropna=False, sort=False):
        row = {"area": "citywide" if area == "citywide" else
               ("no district" if district is None or str(district) == "<NA>" else f"district {int(district)}"),
               "district": None if area == "citywide" or str(district) == "<NA>" else int(district)}
        for r in g.itertuples(index=False):
            row[f"{r.period}_count"] = int(r.count)
            row[f"{r.period}_prev"] = None if r.prev_count is None or str(r.prev_count) == "<NA>" else int(r.prev_count)
            row[f"{r.period}_pct"] = None if r.pct_change is None or r.pct_change != r.pct_change else float(r.pct_change)
            row[f"{r.period}_flagged"] = bool(r.flagged)
            row[f"{r.period}_label"] = r.label
        out.append(row)
    return out


@pytest.mark.parametrize("as_of", [dt.date(2016, 1, 20), dt.date(2016, 12, 31), dt.date(2017, 3, 1),
                                   dt.date(2017, 6, 30), dt.date(2017, 12, 31)])
def test_compstat_rows_equal_the_group_by(web_store, as_of):
    from crimescope.stats import compstat
    from crimescope.web.views import compstat_wide

    import pandas as pd

    res = compstat(web_store, as_of, ["homicide", "shooting", "robbery", "battery", "theft"])
    for cat in res.meta["categories"]:
        got, want = compstat_wide(res, cat), _reference(res, cat)
        assert got == want
        assert got[0]["area"] == "citywide" and len(got) > 20
        if as_of.year == 2016:  # 2015 is not in the test store: no previous count, no change
            assert all(r["ytd_prev"] is None and r["ytd_pct"] is None for r in got)
    # records without a district: their rows (district empty) become one "no district" row
    t = res.table.copy()
    t.loc[(t["area"] == "district") & (t["district"] == 31), "district"] = pd.NA
    t.loc[(t["area"] == "district") & (t["district"] == 1), "district"] = pd.NA
    res.table = t
    got = compstat_wide(res, "battery")
    assert got == _reference(res, "battery")
    assert [r["area"] for r in got].count("no district") == 1
