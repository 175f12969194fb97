"""Hit rate, PAI, PEI* and the Poisson log-likelihood on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crimescope.errors import ParameterError
from crimescope.forecast.metrics import (SQFT_PER_SQMI, flag_fraction, parse_coverage, poisson_loglik,
                                         score_coverage)

AREA4 = np.ones(4)


def test_quarter_coverage_by_hand():
    # expected ranks cells 0 > 1 > 2 > 3; events fell 1 in cell 0, 3 in cell 2
    s = score_coverage([4, 3, 2, 1], [1, 0, 3, 0], AREA4, "25%")
    assert s.flagged_area == 1 and s.n_events == 4 and s.hits == 1
    assert s.hit_rate == 0.25
    assert s.pai == pytest.approx(1.0)          # 25% of events on 25% of area
    assert s.best_hits == 3                      # cell 2 alone
    assert s.pei_star == pytest.approx(1 / 3)


def test_half_coverage_by_hand():
    s = score_coverage([4, 3, 2, 1], [1, 0, 3, 0], AREA4, 0.5)
    assert s.hits == 1 and s.pai == pytest.approx(0.5)
    assert s.best_hits == 4 and s.pei_star == pytest.approx(0.25)


def test_ties_at_the_limit_are_shared():
    # cells 0 and 1 tie; a quarter of the area takes half of each
    s = score_coverage([2, 2, 1, 1], [1, 0, 3, 0], AREA4, "25%")
    assert s.hits == pytest.approx(0.5)
    assert s.flagged_area == pytest.approx(1.0)
    assert s.pai == pytest.approx(0.5)
    np.testing.assert_allclose(flag_fraction(np.array([2, 2, 1, 1.0]), AREA4, 1.0), [0.5, 0.5, 0, 0])
    # an all-zero forecast spreads the area evenly: PAI 1 in expectation
    s0 = score_coverage([0, 0, 0, 0], [1, 0, 3, 0], AREA4, "50%")
    assert s0.hits == pytest.approx(2.0) and s0.pai == pytest.approx(1.0)


def test_unequal_areas_rank_by_density():
    area = np.array([1.0, 3.0])
    # densities 1 and 2/3: cell 0 first, then a third of cell 1
    s = score_coverage([1, 2], [0, 3], area, "50%")
    assert s.flagged_area == pytest.approx(2.0)
    assert s.hits == pytest.approx(1.0)
    assert s.best_hits == pytest.approx(2.0)     # two thirds of cell 1
    assert s.pei_star == pytest.approx(0.5)


def test_pei_star_undefined_without_events():
    s = score_coverage([1, 2, 3, 4], [0, 0, 0, 0], AREA4, "25%")
    assert math.isnan(s.pei_star) and math.isnan(s.hit_rate) and math.isnan(s.pai)


def test_coverage_specs():
    assert parse_coverage("1%").fraction == pytest.approx(0.01)
    assert parse_coverage(0.05).label == "5%"
    c = parse_coverage("0.5sqmi")
    assert c.area == pytest.approx(0.5 * 27_878_400) and c.area == pytest.approx(0.5 * SQFT_PER_SQMI)
    assert parse_coverage("250000 sqft").area == 250_000
    for bad in ("0%", "150%", 0, 2.0, "lots", "-1sqmi"):
        with pytest.raises(ParameterError, match="^invalid coverage="):
            parse_coverage(bad)
    # an absolute area larger than the city is capped at the city
    assert score_coverage([1, 2], [1, 1], np.ones(2), "1sqmi").flagged_area == 2


def test_poisson_loglik_by_hand():
    ll = poisson_loglik([1.0, 2.0], [0, 3])
    assert ll == pytest.approx(-1.0 + 3 * math.log(2) - 2 - math.log(6))
    # a zero forecast where an event happened is finite thanks to the documented floor
    assert math.isfinite(poisson_loglik([0.0], [1]))
    assert poisson_loglik([0.0], [1], floor=1e-3) == pytest.approx(math.log(1e-3) - 1e-3)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4), st.floats(0.2, 2.0)), min_size=1, max_size=30),
       st.floats(0.01, 1.0))
def test_properties(cells, frac):
    exp = np.array([c[0] for c in cells], float)
    obs = np.array([c[1] for c in cells], float)
    area = np.array([c[2] for c in cells], float)
    s = score_coverage(exp, obs, area, frac)
    assert s.flagged_area == pytest.approx(frac * area.sum())
    assert -1e-9 <= s.hits <= s.best_hits + 1e-9 <= obs.sum() + 2e-9
    if obs.sum() > 0:
        assert 0 <= s.pei_star <= 1 + 1e-9
    # the oracle's own forecast is perfect
    o = score_coverage(obs, obs, area, frac)
    assert o.hits == pytest.approx(o.best_hits)
