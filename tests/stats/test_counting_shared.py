"""On the six shared Chicago crime files: count, ytd and compstat against direct SQL
written independently here; and the real revision case of the homicide extract."""

from __future__ import annotations

import csv
import datetime as dt
import gzip

import pandas as pd
import pytest

from _shared import CRIMES, HOMICIDES, requires_shared
from crimescope.stats import compstat, count, ytd
from crimescope.stats.claims import Claim, check_claim, parse_claim

pytestmark = [requires_shared, pytest.mark.shared]

CODES = {
    "homicide": "('0110','0130','0141','0142')",
    "shooting": "('041A','041B','0450','0451','0480','0481','0488','0489')",
    "robbery": "(SELECT DISTINCT iucr FROM incidents WHERE primary_type = 'ROBBERY')",
}


def sql_count(store, where: str, d0: str, d1: str, group: str | None = None):
    """Direct SQL: rows whose local calendar date lies in [d0, d1]."""
    g = f"{group}, " if group else ""
    q = (f"SELECT {g}count(*) FROM incidents WHERE source = 'chicago' AND ({where}) "
         f"AND CAST(occurred_local AS DATE) BETWEEN DATE '{d0}' AND DATE '{d1}'")
    if group:
        rows = store.con.execute(q + f" GROUP BY {group}").fetchall()
        return {tuple(r[:-1]) if len(r) > 2 else r[0]: r[-1] for r in rows}
    return store.con.execute(q).fetchone()[0]


def _key(k):
    if k is None or k is pd.NA or (isinstance(k, float) and k != k):
        return None
    return k if isinstance(k, str) else int(k)


def keyed(keys, counts) -> dict:
    """{group key: count} with NULL/NaN/NA keys as None and numeric keys as int; zero counts dropped."""
    return {_key(k): int(n) for k, n in zip(keys, counts) if n}


@pytest.mark.parametrize("category, where, d0, d1, by, group", [
    ("homicide", f"iucr IN {CODES['homicide']}", "2016-01-01", "2016-12-31", "district", "district"),
    ("shooting", f"iucr IN {CODES['shooting']}", "2015-06-01", "2015-08-31", "month", "strftime(occurred_local, '%Y-%m')"),
    ("violent_index", "fbi_code IN ('01A','02','03','04A','04B')", "2013-02-01", "2013-02-28", "community_area", "community_area"),
    ("robbery", f"iucr IN {CODES['robbery']}", "2017-03-01", "2017-03-31", "hour", "hour(occurred_local)"),
    ("murder", "iucr IN ('0110','0130')", "2012-01-01", "2017-12-31", "year", "year(occurred_local)"),
])
def test_count_matches_sql(chicago_store, category, where, d0, d1, by, group):
    r = count(chicago_store, category, d0, d1, by=by)
    expected = sql_count(chicago_store, where, d0, d1, group)
    assert keyed(r.table[by], r.table["count"]) == keyed(expected.keys(), expected.values())
    assert r.table["count"].sum() == sql_count(chicago_store, where, d0, d1)


@pytest.mark.parametrize("as_of, category, where", [
    ("2016-02-29", "shooting", f"iucr IN {CODES['shooting']}"),
    ("2017-03-08", "homicide", f"iucr IN {CODES['homicide']}"),
    ("2017-12-31", "robbery", f"iucr IN {CODES['robbery']}"),
])
def test_ytd_matches_sql(chicago_store, as_of, category, where):
    a = dt.date.fromisoformat(as_of)
    r = ytd(chicago_store, category, a, years=4)
    for y, n in zip(r.table["year"], r.table["count"]):
        end = dt.date(y, 2, 28) if (a.month, a.day) == (2, 29) and y % 4 else dt.date(y, a.month, a.day)
        assert n == sql_count(chicago_store, where, f"{y}-01-01", end.isoformat()), y
    if (a.month, a.day) == (12, 31):
        for y, n in zip(r.table["year"], r.table["count"]):
            assert n == count(chicago_store, category, f"{y}-01-01", f"{y}-12-31").table["count"].iloc[0]


def test_ytd_by_district_matches_sql(chicago_store):
    r = ytd(chicago_store, "shooting", "2016-07-04", years=2, by="district")
    t = r.table[r.table["year"] == 2015]
    exp = sql_count(chicago_store, f"iucr IN {CODES['shooting']}", "2015-01-01", "2015-07-04", "district")
    assert keyed(t["district"], t["count"]) == keyed(exp.keys(), exp.values())


@pytest.mark.parametrize("as_of", ["2017-03-08", "2016-02-29", "2013-01-10"])
def test_compstat_matches_sql(chicago_store, as_of):
    a = dt.date.fromisoformat(as_of)
    r = compstat(chicago_store, a, categories=["homicide", "shooting"])
    t = r.table
    p = dt.date(a.year - 1, a.month, 28 if (a.month, a.day) == (2, 29) else a.day)
    spans = {"week": (6, (a - dt.timedelta(6), a), (p - dt.timedelta(6), p)),
             "28d": (27, (a - dt.timedelta(27), a), (p - dt.timedelta(27), p)),
             "ytd": (None, (dt.date(a.year, 1, 1), a), (dt.date(p.year, 1, 1), p))}
    for cat in ("homicide", "shooting"):
        where = f"iucr IN {CODES[cat]}"
        for period, (_, (s, e), (ps, pe)) in spans.items():
            row = t[(t["area"] == "citywide") & (t["category"] == cat) & (t["period"] == period)].iloc[0]
            assert row["count"] == sql_count(chicago_store, where, s.isoformat(), e.isoformat())
            assert row["prev_count"] == sql_count(chicago_store, where, ps.isoformat(), pe.isoformat())
            by_d = sql_count(chicago_store, where, s.isoformat(), e.isoformat(), "district")
            d = t[(t["area"] == "district") & (t["category"] == cat) & (t["period"] == period)]
            assert keyed(d["district"], d["count"]) == keyed(by_d.keys(), by_d.values())
    dsum = t[t["area"] == "district"].groupby(["category", "period"])["count"].sum()
    city = t[t["area"] == "citywide"].set_index(["category", "period"])["count"]
    assert (dsum.reindex(city.index).fillna(0) == city).all()


# -- the real revision case ----------------------------------------------------------

@pytest.fixture(scope="module")
def homicide_extracts(tmp_path_factory):
    """HOMICIDE rows of crimes/2017.csv.gz (the 2018 extract), then the later homicide
    extract ingested on top (cut from the shared files at test time)."""
    from crimescope.sources.chicago import ingest_files
    from crimescope.store import Store

    d = tmp_path_factory.mktemp("homx")
    cut = d / "2017-homicides.csv.gz"
    with gzip.open(CRIMES / "2017.csv.gz", "rt", encoding="utf-8", newline="") as src, \
            gzip.open(cut, "wt", encoding="utf-8", newline="") as dst:
        rd, wr = csv.reader(src), csv.writer(dst)
        header = next(rd)
        wr.writerow(header)
        k = header.index("Primary Type")
        wr.writerows(r for r in rd if r[k] == "HOMICIDE")
    store = Store(d / "homx.duckdb")
    for p in (cut, HOMICIDES):
        (res,) = ingest_files(store, [p])
        assert hasattr(res, "batch_id"), res
    yield store
    store.close()


def test_real_case_113_vs_111(homicide_extracts):
    s = homicide_extracts
    c = check_claim(s, Claim("homicide", 111, start="2017-01-01", end="2017-03-08"))
    assert c.computed == 113 and c.verdict == "within a known definitional gap"
    alone = [r for r in c.reasons if "delivered by batch 2" in r["reading"]]
    assert alone and alone[0]["value"] == 111 and alone[0]["matches_claim"]
    assert [r for r in c.reasons if r["reason"] == "murder vs all homicides"][0]["value"] == 111
    absent = c.changes[c.changes["change"] == "absent from later extract"]
    assert sorted(absent["id"]) == ["10826397", "10836558"]
    assert absent["detail"].str.contains("IUCR 0142 reckless homicide").all()
    text = c.explain()
    assert "10826397" in text and "homicides-2001-2017.csv.gz" in text
    # the 2018 extract's figure matches
    assert check_claim(s, Claim("homicide", 113, start="2017-01-01", end="2017-03-08")).verdict == "matches"
    c = check_claim(s, parse_claim("111 murders so far this year", as_of="2017-03-08"))
    assert c.verdict == "matches"
