"""Counts from the per-snapshot aggregate equal the store's own answers (``stats._aggregate``).

Two read-only connections to the same real store (the six shared 2012-2017 files plus the
homicide extract 2001-2017, so some spans are only partly held): one plain, one carrying an
:class:`Aggregates`. Every function that can answer from the aggregate must give the same
table (``assert_frame_equal``: values, dtypes, order) and the same ``meta`` for random
categories, spans, groupings, areas and as-of dates (hypothesis). Requests the aggregate
cannot express (a vintage) must still be answered by the store.
"""

from __future__ import annotations

import datetime as dt
import threading

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _shared import requires_shared
from stats_fixtures import same_answer as same

pytestmark = requires_shared

CATEGORIES = ["homicide", "shooting", "robbery", "battery", "assault", "burglary", "theft",
              "motor_vehicle_theft", "violent_index", "gun_violence"]
BYS = [(), ("week",), ("month",), ("year",), ("date",), ("district",), ("beat",), ("ward",),
       ("community_area",), ("year", "district"), ("month", "community_area"), ("week", "beat"),
       ("date", "ward", "district")]
DAYS = st.dates(dt.date(2000, 6, 1), dt.date(2018, 3, 31))
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(cat=st.sampled_from(CATEGORIES), a=DAYS, b=DAYS, by=st.sampled_from(BYS))
def test_count_equals_the_store(pair, cat, a, b, by):
    from crimescope.stats import count

    s, e = min(a, b), max(a, b)
    same(count, *pair, cat, s, e, by=list(by))


@FAST
@given(cat=st.sampled_from(CATEGORIES), a=DAYS, span=st.integers(0, 400),
       kind=st.sampled_from(["district", "beat", "ward", "community_area"]), area=st.integers(1, 2535))
def test_one_area_as_a_map_and_a_trend_read_it(pair, cat, a, span, kind, area):
    """The map's grouping by one area kind, and a weekly trend per area kind (each area's row equal)."""
    from crimescope.stats import count

    r = same(count, *pair, cat, a, a + dt.timedelta(days=span), by=["week", kind])
    if r is not None and len(r.table):
        rows = r.table[pd.to_numeric(r.table[kind]) == area]
        assert int(rows["count"].sum()) <= int(r.meta["total"])


@FAST
@given(cat=st.sampled_from(CATEGORIES), a=DAYS, years=st.integers(0, 6),
       by=st.sampled_from([(), ("district",), ("community_area",)]))
def test_ytd_equals_the_store(pair, cat, a, years, by):
    from crimescope.stats import ytd

    same(ytd, *pair, cat, a, years=years, by=list(by))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.dates(dt.date(2002, 1, 1), dt.date(2018, 1, 31)),
       cats=st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=4, unique=True))
def test_compstat_equals_the_store(pair, a, cats):
    from crimescope.stats import compstat

    same(compstat, *pair, a, cats)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cat=st.sampled_from(CATEGORIES), a=st.dates(dt.date(2015, 1, 1), dt.date(2017, 12, 31)),
       district=st.one_of(st.none(), st.integers(1, 25)))
def test_pace_equals_the_store(pair, cat, a, district):
    from crimescope.stats.pace import pace

    same(pace, *pair, cat, a, district=district)


def test_hand_checked_day(pair):
    """One day by hand: shootings on 2016-07-04 citywide, by a plain SQL count of the codes."""
    from crimescope.categories import get_category
    from crimescope.stats import count

    plain, fast = pair
    cat = get_category("shooting")
    conds, params = [], []
    if cat.iucr:
        conds.append(f"iucr IN ({','.join('?' * len(cat.iucr))})")
        params += sorted(cat.iucr)
    if cat.fbi:
        conds.append(f"fbi_code IN ({','.join('?' * len(cat.fbi))})")
        params += sorted(cat.fbi)
    (n,) = plain.con.execute(
        f"SELECT count(*) FROM incidents WHERE source = 'chicago' AND ({' OR '.join(conds)}) "
        "AND occurred_local >= TIMESTAMP '2016-07-04' AND occurred_local < TIMESTAMP '2016-07-05'",
        params).fetchone()
    assert n > 0
    assert count(fast, "shooting", "2016-07-04", "2016-07-04").meta["total"] == n


def test_vintage_is_answered_by_the_store(pair):
    """A vintage is not expressible from the aggregate: the store answers, equal on both."""
    from crimescope.stats import count

    plain, fast = pair
    builds = fast.aggregates.builds
    r = same(count, plain, fast, "homicide", "2016-01-01", "2016-12-31", by=["month"], vintage="2018-01-01")
    assert r is None or fast.aggregates.builds == builds


def test_one_build_per_category_under_concurrency(chicago_store_path):
    """32 threads asking at once for the same category's counts build its table once."""
    from crimescope.stats import count
    from crimescope.stats._aggregate import Aggregates
    from crimescope.store import Store

    store = Store(chicago_store_path, read_only=True)
    agg = Aggregates(store)
    try:
        results: list[int] = []
        errors: list[Exception] = []
        barrier = threading.Barrier(32)

        def ask(i):
            view = _View(store, agg)
            try:
                barrier.wait()
                results.append(count(view, "robbery", dt.date(2016, 1, 1) + dt.timedelta(days=i), "2016-12-31")
                               .meta["total"])
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                view.con.close()

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors and len(results) == 32
        assert agg.builds == 1
        want = sorted((count(store, "robbery", dt.date(2016, 1, 1) + dt.timedelta(days=i), "2016-12-31")
                       .meta["total"] for i in range(32)), reverse=True)
        assert sorted(results, reverse=True) == want and want[0] > want[-1] > 0
    finally:
        store.close()


class _View:
    """What the web gives a thread: a cursor of one connection, with the shared aggregate."""

    def __init__(self, store, agg):
        self.path = store.path
        self.read_only = True
        self.con = store.cursor()
        self.aggregates = agg
        self._ibis = None

    def ibis(self):
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis


@pytest.mark.parametrize("text", ["762 murders in 2016", "3000 shootings in 2015", "500 homicides in 2013",
                                  "40 murders in 2016 in district 7", "9000 robberies in 2017"])
def test_claim_check_equals_the_store(pair, text):
    """A claim check reads its total from the aggregate: the verdict, every reading, the vintages
    and the listed changes are those of the store path."""
    from crimescope.stats.claims import check_claims, parse_claim

    plain, fast = pair
    want = check_claims(plain, [parse_claim(text)]).to_dict()
    got = check_claims(fast, [parse_claim(text)]).to_dict()
    assert got == want
    from crimescope.stats.claims import VERDICTS

    assert got["checks"][0]["verdict"] in VERDICTS and got["checks"][0]["computed"] > 0


@pytest.mark.parametrize("case", ["plain", "empty code", "empty table", "only the empty code", "int64 codes"])
def test_group_by_one_area_is_the_arrow_group_by(case):
    """``_group`` by one area column (NumPy sums) gives the frame of the Arrow group-by: codes
    ascending, the empty code last (float64 with NaN then), counts int64."""
    import pandas as pd
    import pyarrow as pa

    from crimescope.stats._aggregate import _group
    from crimescope.stats.query import to_pandas_arrow

    col = {"plain": pa.array([3, 1, 3, 2], pa.int32()), "empty code": pa.array([3, None, 1, None], pa.int32()),
           "empty table": pa.array([], pa.int32()), "only the empty code": pa.array([None, None], pa.int32()),
           "int64 codes": pa.array([10, 7, 10], pa.int64())}[case]
    t = pa.table({"date": pa.array(range(len(col)), pa.int32()).cast(pa.date32()), "beat": col,
                  "count": pa.array([5, 1, 2, 7][:len(col)], pa.int64())})
    g = t.group_by(["beat"], use_threads=False).aggregate([("count", "sum")]).rename_columns(["beat", "count"])
    want = to_pandas_arrow(g.sort_by([("beat", "ascending", "at_end")]))
    pd.testing.assert_frame_equal(_group(t, ["beat"]), want, check_exact=True)
