"""Every registered evaluation method obeys the one contract (the evaluation estimator checks)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crimescope.errors import NotFittedError, ParameterError
from crimescope.evaluate.base import EffectResult, Method, labels, make_method, registry

from evaluate_fixtures import synthetic_panel

NAMES = sorted(registry())
TREATED = (0, 3, 6, 9, 12, 15)


def fast(name):
    return make_method(name, **{"cs": {"biters": 199}, "synth": {"n_pool_draws": 50},
                                "did": {"n_permutations": 199}}.get(name, {}))


@pytest.fixture(scope="module")
def null_panel():
    return synthetic_panel(seed=1, treated=TREATED, effect=1.0)


@pytest.fixture(scope="module")
def planted_panel():
    return synthetic_panel(seed=2, treated=TREATED, effect=0.5)


def cohorts(panel, start=40):
    return {panel.unit_ids[i]: panel.periods[start] for i in TREATED}


def test_registry_has_every_method():
    assert {"did", "cs", "synth", "wdd", "its"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_method_has_a_plain_name_besides_its_code(name):
    """A page shows a method's label, not its code: a few words with a capital, not the code again."""
    label = labels()[name]
    assert label == registry()[name].label and label != name and label[0].isupper() and len(label) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_builds_with_defaults_and_clones(name):
    m = make_method(name)
    assert isinstance(m, Method)
    c = m.clone()
    assert c.get_params() == m.get_params() and c is not m
    assert not [k for k in vars(m) if k.endswith("_")]
    with pytest.raises(ParameterError):
        m.set_params(no_such_setting=1)


@pytest.mark.parametrize("name", NAMES)
def test_result_before_fit_raises(name):
    with pytest.raises(NotFittedError):
        make_method(name).result


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_and_result_is_complete(name, null_panel):
    m = fast(name)
    assert m.fit(null_panel, cohorts(null_panel)) is m
    r = m.result
    assert isinstance(r, EffectResult) and r.method == name
    assert math.isfinite(r.estimate) and 0 <= r.p_value <= 1
    assert r.ci_low <= r.estimate <= r.ci_high or (math.isnan(r.ci_low) and math.isnan(r.ci_high))
    assert r.relative_low <= r.relative <= r.relative_high
    assert r.assumptions and all(isinstance(a, str) and a for a in r.assumptions)
    for key in ("unit", "rule", "source", "vintage", "method", "settings", "treated", "inference"):
        assert key in r.meta, key
    d = r.to_dict()
    assert d["meta"]["method"] == name and "effect" in d and d["assumptions"]
    csv = r.stat_result().to_csv()
    assert csv.startswith("# ") and "assumes:" in csv


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_answer(name, null_panel):
    a = fast(name).fit(null_panel, cohorts(null_panel)).result
    b = fast(name).fit(null_panel, cohorts(null_panel)).result
    assert (a.estimate, a.p_value, a.relative_low, a.relative_high) == (b.estimate, b.p_value, b.relative_low,
                                                                       b.relative_high)


@pytest.mark.parametrize("name", NAMES)
def test_a_halving_is_found(name, planted_panel):
    r = fast(name).fit(planted_panel, cohorts(planted_panel)).result
    assert r.relative == pytest.approx(-0.5, abs=0.12)
    assert r.p_value < 0.05
    assert r.relative_low <= -0.5 + 0.12 and r.relative_high < 0


@pytest.mark.parametrize("name", NAMES)
def test_invalid_settings_are_parameter_errors(name, null_panel):
    bad = {"level": 1.5}
    with pytest.raises(ParameterError, match="level"):
        make_method(name, **bad).fit(null_panel, cohorts(null_panel))


@pytest.mark.parametrize("name", NAMES)
def test_no_treated_area_is_refused(name, null_panel):
    with pytest.raises(ParameterError, match="no area of the panel is treated"):
        fast(name).fit(null_panel, {"1": "2030-01-01"})
