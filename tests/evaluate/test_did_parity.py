"""DiD: a hand-computed 2x2 exactly; Callaway-Sant'Anna equal to csdid to 1e-6 on real panels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crimescope.evaluate.did import aggregate, analytic_se, att_gt, bootstrap_se, twfe

csdid = pytest.importorskip("csdid.att_gt", reason="csdid (the `test` extra) is the reference")

#: the staggered cohorts planted on the real panel: 0-based first treated period per area position
COHORTS = {0: 30, 3: 30, 6: 38, 9: 38, 12: 45, 15: 45, 18: 0}  # position 18: treated in the first period


def test_twfe_2x2_equals_the_difference_of_means_exactly():
    # two areas, two periods: b = (y11 - y10) - (y01 - y00)
    y = np.array([[3.0, 10.0], [4.0, 6.0]])
    d = np.array([[0.0, 1.0], [0.0, 0.0]])
    assert twfe(y, d)["coef"] == (10 - 3) - (6 - 4)
    # four areas: treated mean change minus control mean change
    y = np.array([[1.0, 5.0], [3.0, 9.0], [2.0, 2.0], [4.0, 7.0]])
    d = np.array([[0, 1], [0, 1], [0, 0], [0, 0]], float)
    assert twfe(y, d)["coef"] == pytest.approx(((5 - 1) + (9 - 3)) / 2 - ((2 - 2) + (7 - 4)) / 2, abs=1e-12)


def test_twfe_matches_dummy_ols_and_its_cluster_meat(district_months):
    sm = pytest.importorskip("statsmodels.api")
    y = district_months.counts
    G, T = y.shape
    d = np.zeros_like(y)
    d[[0, 4, 8], 40:] = 1.0
    r = twfe(y, d)
    unit = np.repeat(np.arange(G), T)
    time = np.tile(np.arange(T), G)
    X = np.column_stack([d.ravel(), pd.get_dummies(unit, drop_first=True).to_numpy(float),
                         pd.get_dummies(time, drop_first=True).to_numpy(float), np.ones(G * T)])
    fit = sm.OLS(y.ravel(), X).fit(cov_type="cluster", cov_kwds={"groups": unit, "use_correction": False})
    assert r["coef"] == pytest.approx(fit.params[0], abs=1e-9)
    N, K = G * T, T  # our correction: G/(G-1) (N-1)/(N-K), K = coefficient + period effects
    assert r["se"] == pytest.approx(fit.bse[0] * np.sqrt(G / (G - 1) * (N - 1) / (N - K)), rel=1e-9)


def _reference(panel_counts, g, control_group, bstrap=False, seed=None):
    n, T = panel_counts.shape
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                       "y": panel_counts.ravel(), "g": np.repeat(np.where(g >= 0, g + 1, 0), T)})
    if seed is not None:
        np.random.seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return csdid.ATTgt(yname="y", tname="t", idname="id", gname="g", data=df, control_group=control_group,
                           biters=999).fit(est_method="dr", bstrap=bstrap)


@pytest.fixture(scope="module")
def real(district_months):
    g = np.full(district_months.n_units, -1)
    for i, s in COHORTS.items():
        g[i] = s
    return district_months.counts, g


@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_group_time_effects_and_aggregations_equal_csdid(real, control_group):
    y, g = real
    ref = _reference(y, g, control_group)
    gt = att_gt(y, g, control_group)
    res = ref.results
    assert list(np.asarray(res["group"])) == list(gt.group) and list(np.asarray(res["year"])) == list(gt.time)
    np.testing.assert_allclose(gt.att, np.asarray(res["att"], float), atol=1e-6, rtol=0)
    np.testing.assert_allclose(analytic_se(gt.inf), np.asarray(res["se"], float), atol=1e-6, rtol=0)
    for kind in ("simple", "dynamic", "group"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref.aggte(typec=kind, bstrap=False)
        a, mine = ref.atte, aggregate(gt, kind)
        assert mine["att"] == pytest.approx(a["overall_att"], abs=1e-6)
        assert analytic_se(mine["inf"])[0] == pytest.approx(a["overall_se"], abs=1e-6)
        if kind != "simple":
            np.testing.assert_allclose(mine["att_e"], np.asarray(a["att_egt"], float), atol=1e-6, rtol=0)
            np.testing.assert_allclose(analytic_se(mine["inf_e"]), np.asarray(a["se_egt"], float), atol=1e-6)
    assert int((~gt.keep).sum()) == 1  # the area treated in the first period is dropped, as csdid does


def test_bootstrap_equals_csdid_with_the_same_seed(real):
    y, g = real
    ref = _reference(y, g, "nevertreated", bstrap=True, seed=11)
    gt = att_gt(y, g, "nevertreated")
    se, _ = bootstrap_se(gt.inf, 999, np.random.RandomState(11))
    np.testing.assert_allclose(se, np.asarray(ref.results["se"], float), atol=1e-6, rtol=0)
