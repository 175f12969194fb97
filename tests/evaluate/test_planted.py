"""A fast seeded subset of the planted-effect benchmark, on the real 2012-2016 district panel.

benchmarks/bench_evaluate.py runs 200 draws per method and writes the rates to
docs/benchmarks/evaluate.md; here 12 seeded draws check that did, cs and synth recover a
planted -40% (thinning of the chosen districts' counts) and reject rarely without it (cs and
wdd by randomization inference, see tests/evaluate/test_inference.py for wdd). ITS fails the
benchmark (one series, HAC errors); here it is checked that every method the calibration
file marks as failing carries that warning.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from crimescope.evaluate import make_method

FACTOR = 0.6
DRAWS = 12
FAST = {"cs": {"biters": 199}, "synth": {"n_pool_draws": 50}, "did": {"n_permutations": 199}}


def _draws(panel):
    out = []
    for d in range(DRAWS):
        r = np.random.default_rng([14, d])
        areas = list(r.choice(panel.unit_ids, 6, replace=False))
        m = int(r.integers(19))
        out.append((areas, dt.date(2014 + (6 + m) // 12, (6 + m) % 12 + 1, 1), r))
    return out


@pytest.fixture(scope="module")
def draws(district_months):
    out = []
    for areas, start, r in _draws(district_months):
        y = district_months.counts.copy()
        s = district_months.period_of(start)
        for a in areas:
            i = district_months.index_of(a)
            y[i, s:] = r.binomial(y[i, s:].astype(np.int64), FACTOR)
        out.append(({a: start for a in areas}, district_months.with_counts(y, "planted")))
    return out


@pytest.mark.parametrize("name", ["did", "cs", "synth"])
def test_planted_effect_is_covered_and_placebos_rarely_reject(name, draws, district_months):
    covered = rejected = found = 0
    for coh, planted in draws:
        a = make_method(name, **FAST.get(name, {})).fit(planted, coh).result
        b = make_method(name, **FAST.get(name, {})).fit(district_months, coh).result
        covered += a.covers(FACTOR - 1)
        found += a.p_value < 0.05 and a.relative < 0
        rejected += b.p_value < 0.05
    assert covered >= DRAWS - 2      # >= 83% of 12 (the benchmark's 200 draws ask 90%)
    assert rejected <= 2             # <= 17% of 12 (the benchmark asks <= 7% of 200)
    assert found >= DRAWS // 2       # a -40% change in 6 of 22 districts is usually detected


def test_failing_methods_say_so(district_months):
    from crimescope.evaluate.base import calibration

    cal = calibration()
    coh = {"7": "2015-06-01", "11": "2015-06-01"}
    for name in ("its", "wdd", "cs"):
        if name in cal and not cal[name]["passes"]:
            r = make_method(name).fit(district_months, coh).result
            assert any("fails the planted-effect checks" in w for w in r.warnings)
