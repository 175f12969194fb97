"""The panel: full periods, every record in one cell or counted as unassigned, coverage refused outside."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from crimescope.errors import CoverageError, ParameterError
from crimescope.evaluate.panel import build_panel, covered_span, period_end, period_starts


def test_period_starts_are_full_weeks_and_months():
    # 2017-01-01 is a Sunday: the first full week starts Monday 2017-01-02; the last ends Sunday 2017-01-29
    w = period_starts(dt.date(2017, 1, 1), dt.date(2017, 1, 31), "week")
    assert w == [dt.date(2017, 1, 2), dt.date(2017, 1, 9), dt.date(2017, 1, 16), dt.date(2017, 1, 23)]
    assert period_end(w[-1], "week") == dt.date(2017, 1, 29)
    m = period_starts(dt.date(2016, 1, 15), dt.date(2016, 4, 29), "month")
    assert m == [dt.date(2016, 2, 1), dt.date(2016, 3, 1)]  # January and April are partial
    assert period_end(dt.date(2016, 2, 1), "month") == dt.date(2016, 2, 29)
    with pytest.raises(ParameterError, match="step"):
        period_starts(dt.date(2016, 1, 1), dt.date(2016, 2, 1), "day")


def test_panel_counts_every_record_once(chicago_store, district_months):
    from crimescope.stats.counts import count

    p = district_months
    assert p.n_units == 22 and p.n_periods == 60 and p.span == (dt.date(2012, 1, 1), dt.date(2016, 12, 31))
    total = int(count(chicago_store, "shooting", "2012-01-01", "2016-12-31").table["count"].sum())
    assert p.meta["n_records"] == total
    assert p.counts.sum() + p.meta["n_unassigned"] + p.meta["n_excluded"] == total
    # one cell by hand: district 7, March 2015
    import duckdb  # noqa: F401

    n = chicago_store.con.execute(
        "SELECT count(*) FROM incidents WHERE source='chicago' AND iucr IN "
        "('041A','041B','0450','0451','0480','0481','0488','0489') AND occurred_local >= '2015-03-01' "
        "AND occurred_local < '2015-04-01' AND try_cast(district AS INTEGER) = 7").fetchone()[0]
    assert p.counts[p.index_of("7"), p.period_of("2015-03-10")] == n
    assert "district 31" in " ".join(p.meta["notes"])
    assert p.meta["coverage"]["panel_first"] == dt.date(2012, 1, 1)


def test_span_outside_the_store_is_refused(chicago_store):
    cov = covered_span(chicago_store, "gun_violence")
    # the six 2012-2017 files: the store's coverage record holds every offense type 2012-2017
    assert cov["spans"] == [[dt.date(2012, 1, 1), dt.date(2017, 12, 31)]]
    assert (cov["first"], cov["last"]) == (dt.date(2012, 1, 1), dt.date(2017, 12, 31)) and cov["grace_days"] == 0
    assert build_panel(chicago_store, "gun_violence", "district", "2012-01-01", "2012-12-31", "month").n_periods == 12
    with pytest.raises(CoverageError, match="not covered.*2012-01-01"):
        build_panel(chicago_store, "shooting", "district", "2011-01-01", "2016-12-31", "month")
    with pytest.raises(CoverageError, match="not covered"):
        build_panel(chicago_store, "homicide", "district", "2012-01-01", "2018-03-31", "month")
    with pytest.raises(ParameterError, match="unit_kind"):
        build_panel(chicago_store, "shooting", "precinct", "2012-01-01", "2016-12-31", "month")
    with pytest.raises(ParameterError, match="at least 4"):
        build_panel(chicago_store, "shooting", "district", "2016-01-01", "2016-02-15", "month")


def test_subset_and_with_counts_keep_shape(district_months):
    p = district_months.subset(["7", "11", "3"], "2014-01-01", "2014-12-31")
    assert p.n_units == 3 and p.n_periods == 12 and list(p.unit_ids) == ["7", "11", "3"]
    q = p.with_counts(np.zeros_like(p.counts), "zeroed")
    assert q.counts.sum() == 0 and q.meta["notes"][-1] == "zeroed"
    with pytest.raises(ParameterError, match="not in the panel"):
        p.index_of("99")
    with pytest.raises(ParameterError, match="outside"):
        p.period_of("2015-06-01")
