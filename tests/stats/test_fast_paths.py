"""The batched ytd tests and the pace's span counter give what the per-row / pandas paths give.

``significance.ytd_tests`` runs the table's two-count tests in one vectorised ``rate_tests``
pass (each distinct test once); here it is compared, value for value, with the per-row
``rate_test`` / ``average_test`` loop it replaced (kept below as the reference) on random
ytd-shaped tables (hypothesis). ``_aggregate._SpanCounter`` (two lookups per span) is
compared with summing the count table's rows of random spans on the real store.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stats_fixtures import same_answer as _same


def _reference_ytd_tests(df, by, as_of_year, covered_years, alpha=0.05):
    """The per-row loop ``ytd_tests`` used before the batched pass (columns only)."""
    from crimescope.stats import significance as sig

    covered = set(covered_years)
    n = len(df)
    out = {c: [None] * n for c in sig.TEST_COLUMNS}
    avg = {c: [None] * n for c in ("avg_rate_ratio", "avg_ci_low", "avg_ci_high", "avg_p_value",
                                   "avg_label", "avg_dispersion")}
    groups = df.groupby(by, dropna=False, sort=False) if by else [((), df)]
    for _, g in groups:
        rows = list(g.sort_values("year").itertuples())
        for i, r in enumerate(rows[1:], 1):
            p = rows[i - 1]
            missing = {y for y in (r.year, p.year) if y not in covered}
            if missing:
                out["label"][r.Index] = sig._not_covered(missing)
                continue
            t = sig.rate_test(r.count, sig._span_days(r.start, r.end), p.count, sig._span_days(p.start, p.end), alpha)
            for c, v in t.as_dict().items():
                out[c][r.Index] = v
        cur = rows[-1]
        if cur.year != as_of_year or len(rows) < 2:
            continue
        refs = rows[:-1]
        missing = {y for y in [cur.year, *(x.year for x in refs)] if y not in covered}
        if missing:
            avg["avg_label"][cur.Index] = sig._not_covered(missing)
            continue
        t = sig.average_test(cur.count, sig._span_days(cur.start, cur.end), [x.count for x in refs],
                             [sig._span_days(x.start, x.end) for x in refs], alpha)
        for c, v in t.as_dict().items():
            avg["avg_" + c][cur.Index] = v
        avg["avg_dispersion"][cur.Index] = t.dispersion
    return {c: [sig._round(c, x) for x in v] for c, v in {**out, **avg}.items()}


@settings(max_examples=200, deadline=None)
@given(years=st.integers(1, 6), groups=st.integers(1, 4), data=st.data(),
       as_of=st.dates(dt.date(2013, 1, 1), dt.date(2017, 12, 31)))
def test_batched_ytd_tests_equal_the_per_row_tests(years, groups, data, as_of):
    from crimescope.stats.query import same_day_year_ago
    from crimescope.stats.significance import ytd_tests

    all_years = list(range(as_of.year - years, as_of.year + 1))
    # counts small and large, repeated so that equal tests occur (the batch computes each once)
    count = st.one_of(st.integers(0, 5), st.integers(0, 3000), st.sampled_from([0, 7, 7, 120]))
    rows = [{"year": y, "district": g, "start": dt.date(y, 1, 1), "end": same_day_year_ago(as_of, as_of.year - y),
             "count": data.draw(count)} for g in range(groups) for y in all_years]
    df = pd.DataFrame(rows).sort_values(["year", "district"]).reset_index(drop=True)
    covered = data.draw(st.lists(st.sampled_from(all_years), unique=True, max_size=len(all_years)))
    if data.draw(st.booleans()):
        covered = all_years
    by = ["district"] if groups > 1 else []
    base = df if by else df[df["district"] == 0].reset_index(drop=True)
    try:
        want = _reference_ytd_tests(base.copy(), by, as_of.year, covered)
    except (OverflowError, ValueError) as exc:  # extreme counts (e.g. 0 after 1560 and 0): the same failure
        with pytest.raises(type(exc)):
            ytd_tests(base.copy(), by, as_of.year, covered)
        return
    got = ytd_tests(base.copy(), by, as_of.year, covered)
    for c, v in want.items():
        assert got[c].tolist() == v, c  # exact: same floats, same labels


@pytest.fixture(scope="module")
def fast_store(chicago_full_store_path):
    from crimescope.stats._aggregate import Aggregates
    from crimescope.store import Store

    store = Store(chicago_full_store_path, read_only=True)
    store.aggregates = Aggregates(store)
    yield store
    store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cat=st.sampled_from(["homicide", "shooting", "battery", "theft", "gun_violence"]),
       a=st.dates(dt.date(2000, 6, 1), dt.date(2018, 3, 31)), span=st.integers(0, 900),
       district=st.one_of(st.none(), st.integers(1, 31)))
def test_span_counter_equals_summing_the_table(fast_store, cat, a, span, district):
    from crimescope.categories import get_category
    from crimescope.stats._aggregate import span_counter

    c = get_category(cat)
    b = a + dt.timedelta(days=span)
    t = fast_store.aggregates.table("chicago", c).cut(a, b).to_pandas()
    if district is not None:
        t = t[pd.to_numeric(t["district"]) == district]
    want = int(t["count"].sum())
    assert span_counter(fast_store, "chicago", c, district).count(a, b) == want


EVENT_CATS = ["homicide", "shooting", "robbery", "battery", "gun_violence", "violent_index"]
SPAN_DAYS = st.dates(dt.date(2000, 6, 1), dt.date(2018, 3, 31))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cat=st.sampled_from(EVENT_CATS), e=SPAN_DAYS, span=st.one_of(st.none(), st.integers(0, 500)))
def test_events_from_the_snapshot_equal_the_store(pair, cat, e, span):
    """Spans partly held (homicide before 2012) and open starts included; dtypes compared too."""
    from crimescope.stats.events import load_events

    _same(load_events, *pair, cat, None if span is None else e - dt.timedelta(days=span), e)


@pytest.fixture(scope="module")
def grids(pair):
    from crimescope.app import dashboard
    from crimescope.datasets import as_dataset

    return {c: dashboard.grid(as_dataset(pair[0], None), c) for c in (1000, 2000)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cat=st.sampled_from(EVENT_CATS), e=SPAN_DAYS, span=st.integers(0, 400), cell=st.sampled_from([1000, 2000]))
def test_hot_spots_from_cell_days_equal_the_store(pair, grids, cat, e, span, cell):
    from crimescope.app import dashboard
    from crimescope.datasets import as_dataset

    plain, fast = (as_dataset(s, None) for s in pair)
    f = lambda ds: dashboard.hotspots(ds, category=cat, start=e - dt.timedelta(days=span), end=e,  # noqa: E731
                                      cell=cell, grid_=grids[cell])
    _same(f, plain, fast)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cat=st.sampled_from(["shooting", "battery", "homicide"]),
       day=st.dates(dt.date(2014, 1, 1), dt.date(2018, 1, 1)))
def test_forecast_from_the_snapshot_equals_the_store(pair, grids, cat, day):
    from crimescope.app import dashboard
    from crimescope.datasets import as_dataset

    plain, fast = (as_dataset(s, None) for s in pair)
    _same(lambda ds: dashboard.forecast(ds, category=cat, as_of=day, grid_=grids[1000]), plain, fast)


def test_hand_checked_hot_spot_counts(pair, grids):
    """The cell counts of one week equal a bincount of the store's own records of that week."""
    import numpy as np

    from crimescope.categories import get_category
    from crimescope.spatial.cell_days import cell_days

    plain, fast = pair
    g = grids[1000]
    a, b = dt.date(2016, 7, 1), dt.date(2016, 7, 7)
    rows = plain.con.execute(
        "SELECT x, y FROM incidents WHERE source = 'chicago' AND occurred_local >= ? AND occurred_local < ? "
        "AND primary_type = 'ROBBERY' AND has_location", [a, b + dt.timedelta(days=1)]).fetchall()
    idx = g.locate(np.array([r[0] for r in rows], float), np.array([r[1] for r in rows], float))
    want = np.bincount(idx[idx >= 0], minlength=g.n_units)
    counts, n, no_loc, outside = cell_days(fast, "chicago", get_category("robbery"), g).span(a, b)
    assert counts.sum() > 0 and (counts == want).all()
    assert outside == int((idx < 0).sum())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cat=st.sampled_from(EVENT_CATS + ["assault"]), last=st.integers(2002, 2018), n=st.integers(1, 10),
       district=st.one_of(st.none(), st.integers(1, 31)))
def test_dispersion_from_case_counts_equals_the_store(pair, cat, last, n, district):
    """A pace's dispersion (records per case, squared-weighted) from the snapshot's per-case counts."""
    from crimescope.categories import get_category
    from crimescope.stats.pace import _dispersion

    years = list(range(max(2001, last - n), last))
    c = get_category(cat)
    assert _dispersion(pair[1], c, "chicago", years, district) == _dispersion(pair[0], c, "chicago", years, district)


OVERVIEW_CATS = ["murder", "homicide", "shooting", "gun_violence", "robbery", "armed_robbery", "violent_index",
                 "battery", "theft", "assault"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.one_of(st.dates(dt.date(2000, 6, 1), dt.date(2018, 3, 31)),
                   st.sampled_from([dt.date(2012, 1, 1), dt.date(2012, 2, 29), dt.date(2013, 2, 28),
                                    dt.date(2016, 2, 29), dt.date(2017, 2, 28), dt.date(2017, 12, 31)])),
       cats=st.one_of(st.just([]), st.lists(st.sampled_from(OVERVIEW_CATS), min_size=1, max_size=5, unique=True)))
def test_overview_from_the_snapshot_equals_the_store(pair, a, cats):
    """The Overview's boxes from the cumulative daily counts (``stats.ytd_summary``) equal those read
    from ``stats.ytd`` on the store: counts, spans, the tests, coverage notes, provenance, refusals.
    The dates include years the store holds for homicides only (2001-2011, so gun violence's
    last year is partly held) and the leap-day spans."""
    from crimescope.app import dashboard
    from crimescope.datasets import as_dataset

    plain, fast = (as_dataset(s, None) for s in pair)
    _same(lambda ds: dashboard.overview(ds, as_of=a, categories=cats), plain, fast)


def test_overview_summary_hand_checked(pair):
    """One box checked against a store query written here: robberies, year to date as of
    2016-02-29 vs Jan 1-Feb 28, 2015, and the exact test of the two counts."""
    from crimescope.datasets import as_dataset
    from crimescope.stats.significance import rate_test
    from crimescope.stats.ytd_summary import ytd_vs_last_year

    from crimescope.categories import get_category

    plain, fast = pair
    (got,) = ytd_vs_last_year(as_dataset(fast, None), ["robbery"], dt.date(2016, 2, 29))
    codes = sorted(get_category("robbery").iucr)

    def n(lo, hi):
        (k,) = plain.con.execute(
            f"SELECT count(*) FROM incidents WHERE source = 'chicago' AND iucr IN ({', '.join('?' * len(codes))}) "
            "AND occurred_local >= ? AND occurred_local < ?", [*codes, lo, hi]).fetchone()
        return k

    cur, last = n(dt.date(2016, 1, 1), dt.date(2016, 3, 1)), n(dt.date(2015, 1, 1), dt.date(2015, 3, 1))
    assert cur > 1000 and last > 1000
    assert (got["count"], got["last_year"], got["change"]) == (cur, last, cur - last)
    assert (got["start"], got["end"], got["prev_end"]) == (dt.date(2016, 1, 1), dt.date(2016, 2, 29),
                                                            dt.date(2015, 2, 28))
    t = rate_test(cur, 60, last, 59)
    assert got["test"]["label"] == t.label and got["test"]["p_value"] == float(f"{t.p_value:.4g}")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.dates(dt.date(2001, 2, 1), dt.date(2018, 3, 31)),
       cats=st.lists(st.sampled_from(OVERVIEW_CATS), min_size=1, max_size=4, unique=True),
       restrict=st.booleans())
def test_compstat_window_sums_equal_the_daily_rows(pair, a, cats, restrict):
    """CompStat's per-district window sums with NumPy (``district_window_sums``) equal
    ``window_sums`` over the per-day rows (``daily_frame``, masked the way compstat masks a
    category on the days the store does not wholly hold it), row for row once sorted."""
    import pandas as pd

    from crimescope.categories import get_category
    from crimescope.stats._aggregate import daily_frame, district_window_sums
    from crimescope.stats.periods import compstat_windows
    from crimescope.stats.query import window_sums

    fast = pair[1]
    cs = [get_category(c) for c in cats]
    wins = compstat_windows(a)
    flat = {f"{p}:{k}": w[j] for p, w in wins.items() for j, k in enumerate(("cur", "prev"))}
    ranges = [(min(w[k][0] for w in wins.values()), max(w[k][1] for w in wins.values())) for k in (0, 1)]
    held = {0: [(dt.date(2012, 1, 1), dt.date(2017, 12, 31))]} if restrict else {}
    daily = daily_frame(fast, "chicago", cs, ranges, ["district"])
    for i, spans in held.items():
        days = pd.to_datetime(daily["date"]).dt.date
        keep = pd.Series(False, index=daily.index)
        for lo, hi in spans:
            keep |= (days >= lo) & (days <= hi)
        daily.loc[~keep, "mask"] = daily.loc[~keep, "mask"] & ~(1 << i)
    want = window_sums(daily, cs, flat, ["district"])
    got = district_window_sums(fast, "chicago", cs, flat, ranges, held)

    def norm(df):
        df = df.copy()
        df["district"] = pd.to_numeric(df["district"]).astype("Int64")
        return df.sort_values("district", na_position="last").reset_index(drop=True)

    pd.testing.assert_frame_equal(norm(got), norm(want), check_dtype=len(want) > 0)


def _reference_compstat_tests(df, covered_years, level=0.05, alpha=0.05):
    """``significance.compstat_tests`` before it read the cells as column lists (``itertuples``,
    one ``rate_test`` per cell, the full-scan p-values): the reference the current one equals."""
    from crimescope.stats import significance as sig

    res = []
    for r in df.itertuples(index=False):
        covered = covered_years.get(r.category, ())
        missing = {d.year for d in (r.start, r.end, r.prev_start, r.prev_end)} - set(covered)
        if missing:
            res.append({"rate_ratio": None, "ci_low": None, "ci_high": None, "p_value": None,
                        "label": sig._not_covered(missing)})
            continue
        res.append(sig.rate_test(r.count, sig._span_days(r.start, r.end), r.prev_count,
                                 sig._span_days(r.prev_start, r.prev_end), alpha).as_dict())
    q = sig.bh_qvalues([x["p_value"] for x in res])
    out = {c: [sig._round(c, x[c]) for x in res] for c in sig.TEST_COLUMNS}
    out["q_value"] = [sig._round("q_value", v) for v in q]
    out["flagged"] = [v is not None and v <= level for v in q]
    out["label"] = [lab if p is None else sig.change_label(rr, None, flagged=f)
                    for lab, p, rr, f in zip(out["label"], out["p_value"], out["rate_ratio"], out["flagged"])]
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.dates(dt.date(2001, 2, 1), dt.date(2018, 3, 31)),
       cats=st.lists(st.sampled_from(OVERVIEW_CATS), min_size=1, max_size=7, unique=True))
def test_compstat_tests_equal_the_per_cell_tests(pair, a, cats):
    """CompStat's tests, read column-wise with the binary-search p-values, equal the per-cell loop
    it replaced, value for value, on real CompStat tables (years the store does not hold included:
    homicide-only years before 2012, partly held spans, after the end of the data)."""
    from crimescope.categories import get_category
    from crimescope.errors import CoverageError
    from crimescope.stats import periods
    from crimescope.stats import significance as sig

    fast = pair[1]
    try:
        res = periods.compstat(fast, as_of=a, categories=cats, source="chicago")
    except CoverageError:
        return
    base = res.table.drop(columns=[*sig.TEST_COLUMNS, "q_value", "flagged"])
    years = sorted({d.year for col in ("start", "end", "prev_start", "prev_end") for d in base[col]})
    covered = {c: sig._covered_years(fast, "chicago", get_category(c), years) for c in set(base["category"])}
    want = _reference_compstat_tests(base.copy(), covered)
    got, summary = sig.compstat_tests(base.copy(), covered)
    for col, values in want.items():
        assert got[col].tolist() == values, col
    assert summary["tested"] == sum(p is not None for p in want["p_value"])
    assert summary["flagged"] == sum(want["flagged"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.dates(dt.date(2001, 2, 1), dt.date(2018, 3, 31)), cat=st.sampled_from(OVERVIEW_CATS))
def test_pace_columns_equal_the_pace_table(pair, a, cat):
    """The Overview's pace columns (``pace_columns``: the figures without pace's one-row table and
    provenance) equal ``pace``'s table row and sentence, on both stores; refusals give the same reason."""
    from crimescope.errors import CoverageError, ParameterError
    from crimescope.stats.pace import pace, pace_columns

    for store in pair:
        cols, why = pace_columns(store, cat, a, source="chicago")
        try:
            r = pace(store, cat, a, source="chicago")
        except (CoverageError, ParameterError) as exc:
            assert why == f"{cat}: no pace ({exc})" and set(cols.values()) == {None}
            continue
        t = r.table.iloc[0]
        assert why is None
        assert cols == {"pace": t["pace"], "pace_low_80": t["low_80"], "pace_high_80": t["high_80"],
                        "pace_low_95": t["low_95"], "pace_high_95": t["high_95"], "pace_sentence": r.meta["sentence"]}
        assert all(type(v) in (float, str) for v in cols.values())
