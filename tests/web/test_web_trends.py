"""Trends answered from per-category daily counts (``crimescope.web._daily``).

The dashboard sums a category's counts per day and area unit instead of counting the
store for every trend. These tests pin that path to the library: hand-counted sums on
a tiny store of hand-written rows (day, week and month edges, a leap day, a record
without area codes, another category), then the ``/api/trends`` answers against
``stats.count`` by ``[interval, area kind]`` on ``web_store_path`` (conftest: every
8th row of the 2016-2017 shared exports) for every area kind and the edge cases
(partial periods, one day, spans past either end of the store, an area without a
record).
"""

from __future__ import annotations

import datetime as dt

import pytest

from _webtests import AS_OF

D = dt.date


# ------------------------------------------------------------- tiny store, by hand
#: (id, local time, IUCR, district, beat, ward, community_area); 041A/0486 are battery, 031A robbery
TINY = [
    (1, "2016-02-29 12:00", "041A", 1, 111, 1, 1),          # leap day, a Monday
    (2, "2016-12-31 23:59", "041A", 2, 222, 2, 2),          # Saturday: week of Monday 2016-12-26
    (3, "2017-01-01 23:59", "0486", 1, 111, 1, 1),          # Sunday: same week, next month and year
    (4, "2017-01-02 00:00", "041A", 1, 111, 2, 1),          # Monday: a new week
    (5, "2017-01-31 23:59", "041A", 2, 222, 2, 2),          # last minute of January (week of 2017-01-30)
    (6, "2017-02-01 00:00", "041A", None, None, None, None),  # no area codes: citywide only
    (7, "2017-01-02 08:00", "031A", 1, 111, 1, 1),          # robbery: not battery
]


@pytest.fixture(scope="module")
def tiny():
    from crimescope.store import Store
    from crimescope.store.schema import INCIDENT_COLUMN_NAMES

    store = Store(":memory:")
    store.con.execute("INSERT INTO batches (batch_id, source, kind, origin, started_at, finished_at, status) "
                      "VALUES (1, 'chicago', 'file', 'tiny.csv', '2018-01-10 12:00:00+00', "
                      "'2018-01-10 12:00:00+00', 'done')")
    from crimescope.store.coverage import declare_batch  # hand-made rows declare their coverage

    declare_batch(store, "chicago", 1, "2000-01-01", "2018-01-09", extracted_at=dt.datetime(2018, 1, 10, 12))
    cols = list(INCIDENT_COLUMN_NAMES)
    for i, when, iucr, district, beat, ward, area in TINY:
        row = dict.fromkeys(cols)
        row.update(source="chicago", id=str(i), occurred_local=dt.datetime.fromisoformat(when), iucr=iucr,
                   fbi_code="08B" if iucr != "031A" else "03", district=district, beat=beat, ward=ward,
                   community_area=area, updated_at=dt.datetime(2018, 1, 10, 12), batch_id=1)
        store.con.execute(f"INSERT INTO incidents ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                          [row[c] for c in cols])
    yield store
    store.close()


@pytest.fixture(scope="module")
def tiny_battery(tiny):
    from crimescope.web._daily import DailyCounts

    return DailyCounts.from_store(tiny, "battery")


@pytest.mark.parametrize("kind,area,start,end,interval,expected", [
    ("citywide", None, D(2016, 1, 1), D(2017, 12, 31), "month",
     {"2016-02": 1, "2016-12": 1, "2017-01": 3, "2017-02": 1}),
    ("citywide", None, D(2016, 12, 26), D(2017, 2, 5), "week",
     {D(2016, 12, 26): 2, D(2017, 1, 2): 1, D(2017, 1, 30): 2}),
    # inclusive ends: the first minute of the start day and the last minute of the end day count
    ("citywide", None, D(2017, 1, 2), D(2017, 1, 31), "week", {D(2017, 1, 2): 1, D(2017, 1, 30): 1}),
    # a partial first week is keyed by its Monday, which lies before the start
    ("district", 1, D(2017, 1, 1), D(2017, 1, 31), "week", {D(2016, 12, 26): 1, D(2017, 1, 2): 1}),
    ("district", 2, D(2016, 1, 1), D(2017, 12, 31), "month", {"2016-12": 1, "2017-01": 1}),
    ("beat", 111, D(2016, 1, 1), D(2017, 12, 31), "month", {"2016-02": 1, "2017-01": 2}),
    ("ward", 2, D(2017, 1, 1), D(2017, 12, 31), "month", {"2017-01": 2}),
    ("community_area", 1, D(2016, 2, 29), D(2016, 2, 29), "month", {"2016-02": 1}),     # one day
    ("citywide", None, D(2017, 2, 1), D(2017, 2, 1), "week", {D(2017, 1, 30): 1}),
    ("citywide", None, D(2017, 3, 1), D(2017, 3, 31), "month", {}),                     # no record
    ("citywide", None, D(2015, 1, 1), D(2015, 12, 31), "week", {}),                     # before the store
    ("beat", 999, D(2016, 1, 1), D(2017, 12, 31), "week", {}),                          # unit never seen
    ("district", 1, D(2017, 2, 1), D(2017, 2, 28), "month", {}),  # the record without codes is citywide only
    ("community_area", 0, D(2017, 2, 1), D(2017, 2, 28), "month", {}),  # ... and in no unit, not in unit 0
])
def test_daily_counts_by_hand(tiny_battery, kind, area, start, end, interval, expected):
    assert tiny_battery.period_counts(kind, area, start, end, interval) == expected


def test_daily_counts_of_a_category_without_records(tiny):
    from crimescope.web._daily import AREA_KINDS, DailyCounts

    arson = DailyCounts.from_store(tiny, "arson")
    for kind in ("citywide", *AREA_KINDS):
        assert arson.period_counts(kind, 1, D(2001, 1, 1), D(2100, 12, 31), "month") == {}
    assert arson.meta["unit"].startswith("incidents") and arson.meta["vintage"]["max_updated_at"]


def test_daily_counts_meta_is_what_the_library_count_states(tiny, tiny_battery):
    from crimescope.stats import count

    lib = count(tiny, "battery", "2016-01-01", "2017-12-31").meta
    for key, value in tiny_battery.meta.items():
        assert lib[key] == value, key


def test_daily_counts_refuse_an_unknown_interval(tiny_battery):
    from crimescope.errors import ParameterError

    with pytest.raises(ParameterError, match="interval"):
        tiny_battery.period_counts("citywide", None, D(2017, 1, 1), D(2017, 1, 31), "day")


# --------------------------------------------------------- web store: API == library
def _library(store, category, kind, area, start, end, interval) -> dict:
    """{period: count} of ``stats.count`` by [interval, kind] in one area (periods with 0 left out)."""
    from crimescope.stats import count

    from crimescope.errors import CoverageError

    by = [interval] + ([kind] if kind != "citywide" else [])
    try:
        t = count(store, category, start, end, by=by).table
    except CoverageError:  # a span wholly outside the store: the library refuses it (no counts)
        return {}
    if kind != "citywide":
        t = t[t[kind] == area]
    return {str(k): int(v) for k, v in t.groupby(interval)["count"].sum().items() if v}


def _first_day(period: str, interval: str) -> dt.date:
    return D.fromisoformat(period) if interval == "week" else D.fromisoformat(period + "-01")


def _last_day(period: str, interval: str) -> dt.date:
    if interval == "week":
        return D.fromisoformat(period) + dt.timedelta(days=6)
    y, m = int(period[:4]), int(period[5:7])
    return D(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)


CASES = [
    # category, area kind, area, start, end, interval
    ("shooting", "citywide", None, "2017-01-01", AS_OF, "week"),
    ("battery", "district", 11, "2016-03-15", AS_OF, "month"),               # partial first month
    ("battery", "beat", 1113, "2016-12-28", "2017-02-15", "week"),         # mid-week start, across a new year
    ("homicide", "community_area", 25, "2016-01-01", AS_OF, "month"),      # the year before starts before the store
    ("robbery", "ward", 28, "2016-02-29", "2016-03-31", "week"),           # leap day; prior year before the store
    ("theft", "citywide", None, AS_OF, AS_OF, "week"),                      # one day
    ("narcotics", "district", 1, "2017-11-01", "2018-02-28", "month"),     # runs past the last record
    ("assault", "community_area", 43, "2015-01-01", "2015-12-31", "month"),  # wholly before the store
    ("violent_index", "beat", 2533, "2016-01-01", "2017-12-31", "week"),   # two years of weeks
]


@pytest.mark.shared
@pytest.mark.parametrize("category,kind,area,start,end,interval", CASES)
def test_api_trends_equal_library_count(client, web_store, category, kind, area, start, end, interval):
    from crimescope.stats import count
    from crimescope.stats.provenance import jsonable
    from crimescope.stats.query import same_day_year_ago

    q = f"category={category}&area_kind={kind}&start={start}&end={end}&interval={interval}"
    r = client.get("/api/trends.json?" + q + (f"&area={area}" if area is not None else ""))
    assert r.status_code == 200, r.text[:300]
    doc = r.json()
    s, e = D.fromisoformat(start), D.fromisoformat(end)
    cur = _library(web_store, category, kind, area, s, e, interval)
    prev = _library(web_store, category, kind, area, same_day_year_ago(s), same_day_year_ago(e), interval)
    (first,) = web_store.con.execute("SELECT min(occurred_local)::DATE FROM incidents").fetchone()
    (last,) = web_store.con.execute("SELECT max(occurred_local)::DATE FROM incidents").fetchone()
    rows = doc["rows"]
    assert set(cur) <= {r["period"] for r in rows}  # every counted period is shown
    for row in rows:
        for key, lib in (("period", cur), ("prior_period", prev)):
            n = row[key.replace("period", "count")]
            if _last_day(row[key], interval) < first or _first_day(row[key], interval) > last:
                assert n is None, row  # before or after what the store holds: no data, not zero
            else:
                assert n == lib.get(row[key], 0), row
    held = [r["count"] for r in rows if r["count"] is not None]
    prior_held = [r["prior_count"] for r in rows if r["prior_count"] is not None]
    assert doc["meta"]["total"] == (sum(cur.values()) if held else None)  # none held: no data, not 0
    assert doc["meta"]["prior_total"] == (sum(prior_held) if prior_held else None)
    from crimescope.errors import CoverageError

    try:
        lib_meta = count(web_store, category, s, e).meta
    except CoverageError as exc:  # wholly outside the store: the page says so instead of zeros
        assert any(str(exc)[:40] in n or "no data for" in n for n in doc["meta"]["notes"])
        assert all(r["count"] is None for r in rows)
        return
    for key in ("category", "label", "unit", "rule", "definition", "category_source", "source", "vintage", "dates"):
        assert doc["meta"][key] == jsonable(lib_meta[key]), key
    assert (doc["meta"]["start"], doc["meta"]["end"], doc["meta"]["interval"]) == (start, end, interval)


@pytest.mark.shared
def test_api_trends_of_an_area_without_records_are_zeros(client, web_store):
    from crimescope.spatial.units import AreaUnits
    from crimescope.stats import count

    t = count(web_store, "homicide", "2017-01-01", AS_OF, by=["beat"]).table
    seen = {int(b) for b in t["beat"].dropna()}
    beat = next(int(b) for b in AreaUnits.load("beat").unit_ids if int(b) not in seen)
    doc = client.get(f"/api/trends.json?category=homicide&area_kind=beat&area={beat}"
                     f"&start=2017-01-01&end={AS_OF}").json()
    assert [r["count"] for r in doc["rows"]] == [0] * len(doc["rows"]) and doc["meta"]["total"] == 0


@pytest.mark.shared
@pytest.mark.parametrize("kind", ["district", "beat", "ward", "community_area"])
def test_every_unit_sums_to_the_library_count(web_app, web_store, kind):
    """For every unit of a kind at once (and the records without a code), the day tables give the
    library's monthly counts; units and uncoded records add up to the citywide figures."""
    from crimescope.stats import count
    from crimescope.web import views

    daily = views.daily_counts(web_app.state.ctx, "battery")
    s, e = D(2016, 1, 1), D(2017, 12, 31)
    t = count(web_store, "battery", s, e, by=["month", kind]).table
    units = sorted({int(u) for u in t[kind].dropna()})
    summed: dict = {}
    for u in units:
        got = daily.period_counts(kind, u, s, e, "month")
        lib = t[t[kind] == u].groupby("month")["count"].sum()
        assert got == {m: int(n) for m, n in lib.items() if n}, u
        for m, n in got.items():
            summed[m] = summed.get(m, 0) + n
    uncoded = t[t[kind].isna()].groupby("month")["count"].sum()
    city = daily.period_counts("citywide", None, s, e, "month")
    assert {m: summed.get(m, 0) + int(uncoded.get(m, 0)) for m in city} == city
    assert sum(city.values()) == count(web_store, "battery", s, e).meta["total"]
