"""Seasonally adjusted trends: a planted unusual week is found, a placebo series flags about
5%, too short a history is refused, and the trend rows get expected vs observed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from crimescope.errors import ParameterError
from crimescope.stats.seasonal import SEASONAL_COLUMNS, expected_columns, stl_expected


def _series(n, seed, level=40.0, amp=15.0):
    rng = np.random.default_rng(seed)
    mu = level + amp * np.sin(np.arange(n) * 2 * np.pi / 52)
    return rng.poisson(mu), mu


def test_planted_spike_is_unusual_and_placebo_is_not():
    y, mu = _series(312, 1)
    y = y.copy()
    y[250] = int(mu[250] * 2)  # a doubled week
    exp, lo, hi, phi = stl_expected(y, "week")
    assert y[250] > hi[250]
    assert abs(exp[250] - mu[250]) < 0.25 * mu[250]  # the robust fit is not dragged to the spike
    flags = []
    for seed in range(2, 12):  # placebo: Poisson around a seasonal mean, nothing planted
        y0, _ = _series(312, seed)
        e, l, h, _ = stl_expected(y0, "week")
        flags.append(np.mean((y0 < l) | (y0 > h)))
    # a 95% interval: about 5% outside; the in-sample fit absorbs some noise, so at most ~8%
    assert 0.01 <= np.mean(flags) <= 0.08, flags


def test_too_short_history_is_refused():
    with pytest.raises(ParameterError, match="two seasonal cycles"):
        stl_expected([5] * 100, "week")
    with pytest.raises(ParameterError, match="week, month"):
        stl_expected([5] * 300, "day")


def test_expected_columns_align_with_trend_rows():
    """Weekly rows of a 5-week span at the end of a 3-year synthetic series; the first row is a
    partial week (the span starts on a Wednesday) and gets no expectation."""
    y, _ = _series(160, 5)
    first = dt.date(2015, 1, 5)  # a Monday
    weeks = [first + dt.timedelta(days=7 * i) for i in range(160)]
    counts = dict(zip(weeks, y.tolist()))

    def period_counts(a, b):
        return {k: v for k, v in counts.items() if k >= a - dt.timedelta(days=6) and k <= b}

    start, end = weeks[-5] + dt.timedelta(days=2), weeks[-1] + dt.timedelta(days=6)
    keys = [weeks[-5] + dt.timedelta(days=0)] + weeks[-4:]
    cols, note = expected_columns(period_counts, keys, "week", dt.date(2014, 12, 30),
                                  lambda k: k + dt.timedelta(days=6), start, end)
    assert set(cols) == set(SEASONAL_COLUMNS)
    assert cols["expected"][0] is None and all(v is not None for v in cols["expected"][1:])
    # the series starts at the week after the first record's week (that one may be partly covered)
    assert "from 2015-01-12" in note
    exp, lo, hi, _ = stl_expected([counts[w] for w in weeks[1:]], "week")
    assert cols["expected"][1:] == pytest.approx([round(v, 2) for v in exp[-4:]], abs=0.01)
    assert cols["unusual"][1:] == [bool(c < l or c > h) for c, l, h in zip(y[-4:], lo[-4:], hi[-4:])]
