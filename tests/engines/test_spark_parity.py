"""Parity: the counting layer on PySpark (local mode) gives exactly what it gives on DuckDB.

On the shared 2016-2017 Chicago files: ingest into a temporary store, export to
Parquet, then run count (several categories and groupings), ytd, compstat and the
per-cell counts on both engines and compare the result tables cell by cell (after
sorting) and the metadata (unit, rule, source, data vintage). Skipped when pyspark
or Java is missing; one SparkSession serves the whole test session.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from _shared import requires_shared
from crimescope.engines import SparkSource, cell_counts, export_parquet
from crimescope.stats import compstat, count, ytd
from crimescope.stats.counts import last_complete_day
from crimescope.store import Store
from engine_fixtures import add_batch, insert_rows, make_row


def same(a, b, keys=None):
    """Assert two StatResults are identical: table (sorted by ``keys``) and meta (but the engine)."""
    ta, tb = a.table, b.table
    if keys:
        ta = ta.sort_values(keys, na_position="last").reset_index(drop=True)
        tb = tb.sort_values(keys, na_position="last").reset_index(drop=True)
    pd.testing.assert_frame_equal(ta, tb, check_exact=True)
    ma = {k: v for k, v in a.meta.items() if k != "engine"}
    mb = {k: v for k, v in b.meta.items() if k != "engine"}
    assert ma == mb


@pytest.fixture(scope="module")
def engines(store_1617, export_1617, spark):
    store = Store(store_1617, read_only=True)
    src = SparkSource(export_1617, session=spark)
    yield store, src
    src.close()
    store.close()



COUNT_CASES = [
    ("homicide", "2016-01-01", "2017-12-31", ["district"]),
    ("shooting", "2016-03-01", "2017-08-31", ["week", "dow"]),
    ("robbery", "2016-01-01", "2016-12-31", ["month", "hour"]),
    ("violent_index", "2016-01-01", "2017-12-31", ["district", "year"]),  # includes NULL districts
    ("gun_violence", "2016-06-01", "2017-05-31", ["community_area", "primary_type"]),
    ("armed_robbery", "2017-01-01", "2017-12-31", ["beat", "date"]),
    ("murder", "2016-01-01", "2017-12-31", []),
]


@requires_shared
@pytest.mark.shared
@pytest.mark.parametrize("category, start, end, by", COUNT_CASES, ids=lambda v: str(v))
def test_count(engines, category, start, end, by):
    store, src = engines
    a, b = count(store, category, start, end, by), count(src, category, start, end, by)
    assert a.meta["total"] > 0
    same(a, b, by or None)


@requires_shared
@pytest.mark.shared
def test_count_at_a_vintage(engines):
    """--vintage unions current and (here empty) superseded versions and ranks them per id.

    The shared files were extracted in late 2018: an earlier vintage is refused by both engines
    (the store holds no version that old), a later one is answered by both."""
    from crimescope.errors import CoverageError

    store, src = engines
    args = ("homicide", "2017-01-01", "2017-12-31", ["district"])
    for eng in (store, src):
        with pytest.raises(CoverageError, match="reproduce vintages from 2018-"):
            count(eng, *args, vintage="2018-03-01")
    a, b = count(store, *args, vintage="2019-01-01"), count(src, *args, vintage="2019-01-01")
    assert 0 < a.meta["total"] <= count(store, *args).meta["total"]
    same(a, b, ["district"])


@requires_shared
@pytest.mark.shared
@pytest.mark.parametrize("category, as_of, years, by", [
    ("homicide", "2017-03-08", 1, ["district"]),
    ("shooting", "2016-02-29", 0, []),        # leap day
    ("robbery", "2017-02-28", 1, ["month"]),
])
def test_ytd(engines, category, as_of, years, by):
    store, src = engines
    a, b = ytd(store, category, as_of, years, by), ytd(src, category, as_of, years, by)
    assert a.table["count"].sum() > 0
    same(a, b, ["year", *by])


@requires_shared
@pytest.mark.shared
def test_compstat(engines):
    store, src = engines
    a, b = compstat(store, "2017-07-04"), compstat(src, "2017-07-04")
    assert len(a.table) > 100 and a.table["count"].sum() > 0
    same(a, b, ["category", "area", "district", "period"])


@requires_shared
@pytest.mark.shared
def test_compstat_default_as_of(engines):
    """Without --as-of both engines find the same last complete day (metadata via the driver)."""
    store, src = engines
    a = compstat(store, None, ["homicide", "shooting"], by_district=False)
    b = compstat(src, None, ["homicide", "shooting"], by_district=False)
    assert a.meta["as_of"] == last_complete_day(store)
    assert dt.date(2017, 12, 1) <= a.meta["as_of"] <= dt.date(2017, 12, 31)
    same(a, b)


@requires_shared
@pytest.mark.shared
@pytest.mark.parametrize("category, kw", [
    ("shooting", dict(cell_size=500)),
    ("violent_index", dict(cell_size=1320, x0=1_091_130.5, y0=1_813_891.25, period="month")),
])
def test_cell_counts(engines, category, kw):
    store, src = engines
    a = cell_counts(store, category, "2016-01-01", "2017-12-31", **kw)
    b = cell_counts(src, category, "2016-01-01", "2017-12-31", **kw)
    assert len(a.table) > 1000
    assert b.meta["engine"] == "spark"
    same(a, b, [kw.get("period", "week"), "row", "col"])


def test_vintage_on_spark(spark, tmp_path):
    """Counting as of a vintage (a window over current + superseded versions) runs on Spark too.

    Record 1 moved from 2016 (version of batch 1) to 2017 (batch 2); record 2 is new in
    batch 2. As of 2018-01-15: 2016 has records 1 and 3; now: 2016 has 3, 2017 has 1 and 2.
    """
    s = Store(tmp_path / "v.duckdb")
    add_batch(s, 1, "2018-01-10 12:00:00+00")
    add_batch(s, 2, "2018-02-10 12:00:00+00")
    new = dt.datetime(2018, 2, 1)
    insert_rows(s, [make_row(1, "2017-01-02 10:00", batch_id=2, updated_at=new),
                    make_row(2, "2017-05-02 10:00", batch_id=2, updated_at=new),
                    make_row(3, "2016-05-02 10:00")])
    insert_rows(s, [dict(make_row(1, "2016-12-30 10:00"), superseded_at=dt.datetime(2018, 2, 10),
                         superseded_by_batch=2)], table="incident_history")
    export_parquet(s, tmp_path / "pq")
    with SparkSource(tmp_path / "pq", session=spark) as src:
        for vintage, expected in [(None, {2016: 1, 2017: 2}), ("2018-01-15", {2016: 2})]:
            a = count(s, "homicide", "2016-01-01", "2017-12-31", ["year"], vintage=vintage)
            b = count(src, "homicide", "2016-01-01", "2017-12-31", ["year"], vintage=vintage)
            assert dict(zip(a.table["year"], a.table["count"])) == expected
            same(a, b)
        a = count(s, "homicide", "2016-01-01", "2017-12-31", ["year"], batch=1)
        b = count(src, "homicide", "2016-01-01", "2017-12-31", ["year"], batch=1)
        assert dict(zip(b.table["year"], b.table["count"])) == {2016: 2}
        same(a, b)
    s.close()


def test_sources_share_one_context(spark, tmp_path):
    """Two exports open at once keep their own `incidents` views (child sessions)."""
    views = []
    for n in (1, 2):
        s = Store(tmp_path / f"{n}.duckdb")
        add_batch(s, 1, "2018-01-10 12:00:00+00")
        insert_rows(s, [make_row(i, "2016-03-01 10:00") for i in range(n)])
        export_parquet(s, tmp_path / f"pq{n}")
        s.close()
        views.append(SparkSource(tmp_path / f"pq{n}", session=spark))
    try:
        assert [count(v, "homicide", "2016-01-01", "2016-12-31").table["count"].iloc[0] for v in views] == [1, 2]
    finally:
        for v in views:
            v.close()
