"""Coverage: what the store holds per source, offense scope and dates; every figure for a span it
does not hold is refused or flagged, never a 0, and every figure for a held span equals direct SQL.

Expectations are written by hand from the shared data's README: the six yearly files hold every
offense type of 2012-2017, the homicide extract HOMICIDE rows of 2001-2017, the NYPD year-to-date
file shootings of 2021-01-01..2021-06-30.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _shared import SHARED, requires_shared
from crimescope.categories import get_category
from crimescope.errors import CategoryError, CoverageError
from crimescope.store import Store
from crimescope.store import coverage as cov

D = dt.date
HOMICIDE_ONLY = ("homicide", "murder")
ALL_TYPES = ("shooting", "robbery", "violent_index", "gun_violence", "armed_robbery", "battery", "theft",
             "narcotics", "property_index", "gun_possession")


# -- span arithmetic ----------------------------------------------------------------------
days = st.dates(min_value=D(2000, 1, 1), max_value=D(2002, 12, 31))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(days, st.integers(0, 90)), max_size=6), days, st.integers(0, 400))
def test_covered_and_missing_partition_the_period(raw, start, length):
    spans = [(a, a + dt.timedelta(days=n)) for a, n in raw]
    end = start + dt.timedelta(days=length)
    held = cov.merge_spans(spans)
    inside = cov._intersect([(start, end)], held)
    missing = cov._subtract((start, end), inside)

    def expand(ss):
        return {a + dt.timedelta(days=i) for a, b in ss for i in range((b - a).days + 1)}

    period = expand([(start, end)])
    assert expand(inside) | expand(missing) == period
    assert not expand(inside) & expand(missing)
    assert expand(inside) == period & expand(spans)
    # merged spans are sorted and never touch
    assert all(b1 + dt.timedelta(days=1) < a2 for (_, b1), (a2, _) in zip(held, held[1:]))


# -- the quick-start store ----------------------------------------------------------------------
@requires_shared
def test_quickstart_store_holds_all_types_2012_2017_and_homicides_2001_2017(chicago_full_store):
    s = chicago_full_store
    assert cov.describe(s, "chicago") == "all types 2012-01-01..2017-12-31; HOMICIDE 2001-01-01..2017-12-31"
    for name in HOMICIDE_ONLY:
        assert cov.category_spans(s, "chicago", get_category(name)) == [(D(2001, 1, 1), D(2017, 12, 31))], name
    for name in ALL_TYPES:
        assert cov.category_spans(s, "chicago", get_category(name)) == [(D(2012, 1, 1), D(2017, 12, 31))], name
    # the coverage table was written at ingest, one set of rows per batch
    n = s.con.execute("SELECT count(DISTINCT batch_id) FROM coverage WHERE how = 'derived'").fetchone()[0]
    assert n == 7


@requires_shared
def test_info_shows_coverage(chicago_full_store_path):
    from typer.testing import CliRunner

    from crimescope.cli.main import app

    r = CliRunner().invoke(app, ["--store", str(chicago_full_store_path), "info"])
    assert r.exit_code == 0, r.output
    assert "holds: all types 2012-01-01..2017-12-31; HOMICIDE 2001-01-01..2017-12-31" in r.output
    r = CliRunner().invoke(app, ["--store", str(chicago_full_store_path), "info", "--format", "json"])
    assert '"coverage": "all types 2012-01-01..2017-12-31; HOMICIDE 2001-01-01..2017-12-31"' in r.output


def _sql_count(store, cat, spans) -> int:
    conds, params = [], ["chicago"]
    if cat.iucr:
        conds.append(f"iucr IN ({', '.join('?' * len(cat.iucr))})")
        params += sorted(cat.iucr)
    if cat.fbi:
        conds.append(f"fbi_code IN ({', '.join('?' * len(cat.fbi))})")
        params += sorted(cat.fbi)
    dates = " OR ".join("(occurred_local >= ? AND occurred_local < ?)" for _ in spans) or "false"
    for a, b in spans:
        params += [dt.datetime(a.year, a.month, a.day), dt.datetime(b.year, b.month, b.day) + dt.timedelta(days=1)]
    q = f"SELECT count(*) FROM incidents WHERE source = ? AND ({' OR '.join(conds)}) AND ({dates})"
    return store.con.execute(q, params).fetchone()[0]


def _expected_spans(name: str, s: D, e: D):
    held = (D(2001, 1, 1), D(2017, 12, 31)) if name in HOMICIDE_ONLY else (D(2012, 1, 1), D(2017, 12, 31))
    lo, hi = max(s, held[0]), min(e, held[1])
    return [(lo, hi)] if lo <= hi else []


@requires_shared
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.sampled_from(HOMICIDE_ONLY + ALL_TYPES),
       st.dates(min_value=D(1998, 1, 1), max_value=D(2019, 6, 30)), st.integers(0, 900))
def test_every_figure_is_exact_flagged_or_refused(chicago_full_store, name, start, length):
    """Random (category, period) on the quick-start store: full -> the count equals direct SQL;
    partial -> flagged with the covered span and equal to SQL over it; none -> CoverageError."""
    from crimescope.stats import count

    store = chicago_full_store
    cat = get_category(name)
    end = start + dt.timedelta(days=length)
    expect = _expected_spans(name, start, end)
    if not expect:
        with pytest.raises(CoverageError, match=f"no data for {name} from {start} to {end}"):
            count(store, name, start, end)
        return
    r = count(store, name, start, end)
    assert r.meta["total"] == _sql_count(store, cat, expect)
    c = r.meta["coverage"]
    assert c["covered"] == [[a.isoformat(), b.isoformat()] for a, b in expect]
    if expect == [(start, end)]:
        assert c["status"] == "full"
    else:
        assert c["status"] == "partial"
        assert any("partial coverage: only" in n for n in r.meta["notes"])
        assert "partial coverage: only" in r.to_csv()


@requires_shared
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["homicide", "shooting", "gun_violence", "robbery"]),
       st.dates(min_value=D(2012, 1, 1), max_value=D(2017, 12, 31)), st.integers(0, 12))
def test_ytd_never_shows_a_zero_for_an_uncovered_year(chicago_full_store, name, as_of, years):
    from crimescope.stats import ytd

    r = ytd(chicago_full_store, name, as_of, years)
    t = r.table
    for row in t.itertuples(index=False):
        s, e = D(row.year, 1, 1), row.end
        expect = _expected_spans(name, s, e)
        if not expect:
            assert row.coverage == "none" and row.count is None or str(row.count) == "<NA>"
        else:
            assert row.coverage == "full"
            assert int(row.count) == _sql_count(chicago_full_store, get_category(name), expect)
    comp = r.meta["comparison"][0]
    full_prev = [y for y in range(as_of.year - years, as_of.year) if _expected_spans(name, D(y, 1, 1), D(y, 12, 31))]
    assert comp["avg_years"] == full_prev
    if years and full_prev:
        vals = t.set_index("year").loc[full_prev, "count"].astype(int)
        assert comp["avg_previous_years"] == round(float(vals.mean()), 2)


# -- per source: NYC -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nyc_store(tmp_path_factory):
    if SHARED is None:
        pytest.skip("../shared/data not present")
    from crimescope.sources.nyc_shootings import ingest_file

    path = tmp_path_factory.mktemp("nyc") / "nyc.duckdb"
    store = Store(path)
    ingest_file(store, SHARED / "nyc" / "NYPD_Shooting_Incident_Data__Year_To_Date_.csv")
    yield store
    store.close()


def test_nyc_coverage_refuses_2020_and_counts_2021_exactly(nyc_store):
    from crimescope.stats import count

    s = nyc_store
    assert cov.describe(s, "nyc_shootings") == "SHOOTING 2021-01-01..2021-06-30"
    # every NYC row is a shooting victim (the NYC profile's taxonomy: shooting_victims counts them all)
    with pytest.raises(CoverageError, match="no data for shooting_victims from 2020-01-01 to 2020-12-31"):
        count(s, "shooting_victims", "2020-01-01", "2020-12-31", source="nyc_shootings")
    r = count(s, "shooting_victims", "2021-01-01", "2021-06-30", source="nyc_shootings")
    (n,) = s.con.execute("SELECT count(*) FROM incidents WHERE source = 'nyc_shootings' "
                         "AND occurred_local >= '2021-01-01' AND occurred_local < '2021-07-01'").fetchone()
    assert r.meta["total"] == n and n > 800 and r.meta["coverage"]["status"] == "full"
    # the whole of 2021: partial, flagged with the covered span
    r = count(s, "shooting_victims", "2021-01-01", "2021-12-31", source="nyc_shootings")
    assert r.meta["coverage"]["status"] == "partial" and r.meta["total"] == n
    assert r.meta["coverage"]["covered"] == [["2021-01-01", "2021-06-30"]]
    # a shootings-only source has no robbery category at all: refused, not 0
    with pytest.raises(CategoryError, match="unknown category 'robbery'"):
        count(s, "robbery", "2021-01-01", "2021-03-31", source="nyc_shootings")


# -- older stores, declared scopes ------------------------------------------------------------------
@requires_shared
def test_store_without_coverage_is_derived_read_only_and_backfilled_on_write(chicago_full_store_path, tmp_path):
    p = tmp_path / "old.duckdb"
    shutil.copyfile(chicago_full_store_path, p)
    with Store(p) as s:
        s.con.execute("DROP TABLE coverage")  # a store written before coverage was recorded
    with Store(p, read_only=True) as s:  # derived in memory from the rows
        assert cov.describe(s, "chicago") == "all types 2012-01-01..2017-12-31; HOMICIDE 2001-01-01..2017-12-31"
    with Store(p) as s:  # first open for writing: stored
        (n,) = s.con.execute("SELECT count(DISTINCT batch_id) FROM coverage").fetchone()
        assert n == 7
        assert cov.describe(s, "chicago") == "all types 2012-01-01..2017-12-31; HOMICIDE 2001-01-01..2017-12-31"


def test_declared_scope_replaces_derived():
    s = Store(":memory:")
    s.con.execute("INSERT INTO batches (batch_id, source, kind, origin, started_at, finished_at, status) "
                  "VALUES (1, 'chicago', 'file', 'x.csv', now(), now(), 'done')")
    s.con.execute("INSERT INTO incidents (source, id, occurred_local, iucr, fbi_code, primary_type, batch_id) "
                  "VALUES ('chicago', '1', '2016-05-01 10:00', '0110', '01A', 'HOMICIDE', 1)")
    cov.declare_batch(s, "chicago", 1, "2016-01-01", "2016-12-31")
    assert cov.describe(s, "chicago") == "all types 2016-01-01..2016-12-31"
    cov.declare(s, "chicago", {"HOMICIDE": [(D(2010, 1, 1), D(2016, 12, 31))]})
    assert cov.describe(s, "chicago") == "HOMICIDE 2010-01-01..2016-12-31"
    assert cov.check(s, "chicago", "robbery", "2016-01-01", "2016-01-31").status == "none"
    assert cov.check(s, "chicago", "murder", "2010-01-01", "2016-01-31").status == "full"


def test_a_partial_ingest_covers_only_its_months_and_types(tmp_path):
    """A file of HOMICIDE rows of two separate months covers HOMICIDE in those months only."""
    from crimescope.sources.chicago import ingest_file

    head = ("ID,Case Number,Date,Block,IUCR,Primary Type,Description,Location Description,Arrest,Domestic,"
            "Beat,District,Ward,Community Area,FBI Code,X Coordinate,Y Coordinate,Updated On,Latitude,Longitude\n")
    rows = [
        "1,HA1,01/05/2015 10:00:00 PM,001XX W A ST,0110,HOMICIDE,FIRST DEGREE MURDER,STREET,false,false,111,001,1,1,01A,"
        "1176000,1900000,03/01/2015 01:00:00 AM,41.8,-87.6",
        "2,HA2,03/20/2015 10:00:00 PM,001XX W A ST,0110,HOMICIDE,FIRST DEGREE MURDER,STREET,false,false,111,001,1,1,01A,"
        "1176000,1900000,03/25/2015 01:00:00 AM,41.8,-87.6",
    ]
    f = tmp_path / "h.csv"
    f.write_text(head + "\n".join(rows) + "\n")
    with Store(tmp_path / "s.duckdb") as s:
        ingest_file(s, f)
        # January whole; March up to the day before the latest update (March 25 -> March 24)
        assert cov.describe(s, "chicago") == "HOMICIDE 2015-01-01..2015-01-31, 2015-03-01..2015-03-24"
        c = cov.check(s, "chicago", "homicide", "2015-01-01", "2015-03-31")
        assert c.status == "partial"
        assert c.missing == [(D(2015, 2, 1), D(2015, 2, 28)), (D(2015, 3, 25), D(2015, 3, 31))]
        with pytest.raises(CoverageError):
            cov.require(s, "chicago", "robbery", "2015-01-01", "2015-01-31")


# -- vintages -----------------------------------------------------------------------------------------
@requires_shared
def test_vintage_older_than_the_store_is_refused_with_what_it_can_reproduce(chicago_full_store):
    from crimescope.stats import count

    with pytest.raises(CoverageError) as exc:
        count(chicago_full_store, "homicide", "2017-01-01", "2017-03-08", vintage="2017-03-08")
    msg = str(exc.value)
    (t2017,) = chicago_full_store.con.execute(
        "SELECT max(updated_at) FROM (SELECT updated_at, batch_id FROM incidents UNION ALL "
        "SELECT updated_at, batch_id FROM incident_history) WHERE batch_id = "
        "(SELECT batch_id FROM batches WHERE origin LIKE '%/2017.csv.gz')").fetchone()
    assert f"it can reproduce vintages from {t2017} on for this period" in msg
    # at that vintage or later the figure is answered
    r = count(chicago_full_store, "homicide", "2017-01-01", "2017-03-08", vintage=str(t2017))
    assert r.meta["coverage"]["status"] == "full"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["shooting_victims", "robbery", "homicide", "shooting"]),
       st.dates(min_value=D(2019, 6, 1), max_value=D(2022, 6, 30)), st.integers(0, 500))
def test_nyc_random_periods_exact_flagged_or_refused(nyc_store, name, start, length):
    """Per source: NYPD rows (fbi 01A/04A, SHOOTING) hold the NYC profile's shooting_victims for
    2021-01-01..2021-06-30; Chicago's categories are not NYC's (refused as unknown, never 0)."""
    from crimescope.stats import count

    end = start + dt.timedelta(days=length)
    lo, hi = max(start, D(2021, 1, 1)), min(end, D(2021, 6, 30))
    if name != "shooting_victims":
        with pytest.raises(CategoryError):
            count(nyc_store, name, start, end, source="nyc_shootings")
        return
    if lo > hi:
        with pytest.raises(CoverageError):
            count(nyc_store, name, start, end, source="nyc_shootings")
        return
    r = count(nyc_store, name, start, end, source="nyc_shootings")
    (n,) = nyc_store.con.execute(
        "SELECT count(*) FROM incidents WHERE source = 'nyc_shootings' AND fbi_code IN ('01A', '04A') "
        "AND occurred_local >= ? AND occurred_local < ?",
        [dt.datetime(lo.year, lo.month, lo.day), dt.datetime(hi.year, hi.month, hi.day) + dt.timedelta(days=1)]
    ).fetchone()
    assert r.meta["total"] == n
    assert r.meta["coverage"]["status"] == ("full" if (lo, hi) == (start, end) else "partial")
