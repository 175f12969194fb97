"""Synthetic control weights and gaps equal pysyncon's to 1e-4; the weights are the exact optimum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crimescope.evaluate.synth import _scale_rows, predictors, sc_weights

pysyncon = pytest.importorskip("pysyncon", reason="pysyncon (the `test` extra) is the reference")


def _setup(district_months, treated, pre, block):
    y = district_months.counts
    s = y / y[:, :pre].mean(axis=1, keepdims=True)
    i = district_months.index_of(treated)
    donors = np.array([j for j in range(district_months.n_units) if j != i])
    X = predictors(s[np.r_[donors, i]], pre, block)
    Xs = _scale_rows(X)
    return s, i, donors, X, Xs, sc_weights(Xs[:, :-1], Xs[:, -1])


@pytest.mark.parametrize("treated, pre, block", [("7", 48, 1), ("11", 36, 3)])
def test_weights_and_gaps_equal_pysyncon(district_months, treated, pre, block):
    """pysyncon's ``Synth.fit`` with the same predictors, ``custom_V`` = 1 (its default solver settings)."""
    s, i, donors, X, Xs, w = _setup(district_months, treated, pre, block)
    cols = [str(d) for d in donors]
    ref = pysyncon.Synth()
    ref.fit(X0=pd.DataFrame(X[:, :-1], columns=cols), X1=pd.Series(X[:, -1], name="t"),
            Z0=pd.DataFrame(s[donors, :pre].T, columns=cols), Z1=pd.Series(s[i, :pre], name="t"),
            custom_V=np.ones(X.shape[0]))
    np.testing.assert_allclose(w, ref.W, atol=1e-4, rtol=0)
    gaps_ref = ref._gaps(pd.DataFrame(s[donors].T, columns=cols), pd.Series(s[i], name="t")).to_numpy()
    np.testing.assert_allclose(s[i] - w @ s[donors], gaps_ref, atol=1e-4, rtol=0)
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("treated, pre, block", [("7", 48, 1), ("11", 36, 3), ("25", 54, 1), ("3", 60, 2)])
def test_weights_equal_pysyncons_solver_run_to_convergence(district_months, treated, pre, block):
    """pysyncon's own QP (``w_optimize``, SLSQP) with ftol 1e-14: its default ftol of 1e-6 stops early
    on some panels (district 25: 1.4e-4 off), the converged run agrees with ours."""
    s, i, donors, X, Xs, w = _setup(district_months, treated, pre, block)
    Wref, _ = pysyncon.Synth.w_optimize(np.eye(X.shape[0]), Xs[:, :-1], Xs[:, -1],
                                        qp_options={"maxiter": 5000, "ftol": 1e-14})
    np.testing.assert_allclose(w, Wref, atol=1e-5, rtol=0)
    assert _loss(Xs[:, :-1], Xs[:, -1], w) <= _loss(Xs[:, :-1], Xs[:, -1], Wref) + 1e-12


def _loss(X0, X1, w):
    r = X1 - X0 @ w
    return float(r @ r)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12), st.integers(3, 20), st.integers(0, 10_000))
def test_weights_are_never_beaten_by_a_general_optimiser(J, k, seed):
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    X0 = rng.normal(size=(k, J))
    X1 = X0 @ rng.dirichlet(np.ones(J)) + rng.normal(0, 0.5, k)
    w = sc_weights(X0, X1)
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0, abs=1e-12)
    ref = minimize(lambda v: _loss(X0, X1, v), np.full(J, 1 / J), method="SLSQP", bounds=[(0, 1)] * J,
                   constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1}], options={"ftol": 1e-12})
    assert _loss(X0, X1, w) <= _loss(X0, X1, np.clip(ref.x, 0, None) / np.clip(ref.x, 0, None).sum()) + 1e-9


def test_a_treated_area_inside_the_hull_is_reproduced_exactly():
    rng = np.random.default_rng(3)
    X0 = rng.normal(size=(30, 6))
    true = np.array([0.5, 0.0, 0.3, 0.0, 0.2, 0.0])
    np.testing.assert_allclose(sc_weights(X0, X0 @ true), true, atol=1e-8)
