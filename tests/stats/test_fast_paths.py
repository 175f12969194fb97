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
    want = _reference_ytd_tests(base.copy(), by, as_of.year, covered)
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
