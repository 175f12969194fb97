"""Difference-in-differences: two-way fixed effects, and Callaway & Sant'Anna group-time effects.

**Two-way fixed effects** (``did``). Inference by default is randomization: the observed
starts are given to random sets of areas and the coefficient ranked among theirs (the
interval inverts that test); cluster-robust errors (below) are in the table and are
``inference="cluster"``, but with a handful of treated areas they reject far too often. ``y_it = a_i + l_t + b D_it + e_it`` with
``D_it = 1`` from an area's first treated period on, estimated on the two-way
demeaned panel (exact for a balanced panel), errors clustered by area:
``V = G/(G-1) * (N-1)/(N-K) * (X'X)^-1 (sum_g X_g'u_g u_g'X_g) (X'X)^-1`` with the
fixed effects absorbed, t with
G - 1 degrees of freedom, K = 1 + (T - 1): the coefficient and the period effects
(the area effects are nested in the clusters and not counted, as fixest does). On a 2x2 panel ``b`` is the difference of the four means.
With staggered starts TWFE compares later-treated with earlier-treated areas too
(the "forbidden comparisons" of Goodman-Bacon 2021), which Callaway-Sant'Anna avoids.

**Callaway & Sant'Anna (2021)** (``cs``). For each cohort ``g`` (areas first treated
in period g) and period ``t``, with base period ``b = g - 1`` for ``t >= g`` and
``b = t - 1`` before (the "varying" base period of R ``did`` and csdid)::

    ATT(g,t) = mean_{G=g}(y_t - y_b) - mean_{C}(y_t - y_b)

where ``C`` are never-treated areas, or areas not yet treated at ``t`` (``G > t``).
Without covariates the doubly robust estimator of csdid reduces to this, with the
per-area influence function ``n [1{G=g}(dy - m_g)/n_g - 1{C}(dy - m_C)/n_C]``.
Aggregations (simple, dynamic/event study, group) weight by cohort size and carry
the influence of the estimated weights, as in R ``did::aggte``; standard errors
are ``sqrt(sum IF^2)/n`` or from a multiplier bootstrap with Rademacher weights
(interquartile range / 1.349). The headline p-value and interval of the simple ATT are
randomization ones by default (``inference="randomization"``): the vector of first treated
periods is permuted among the areas (cohort sizes and start dates kept), the simple ATT
(:func:`simple_att`, linear in the counts) ranked among the permuted ones, and the interval
inverts that test under a constant additive effect (:func:`ri_interval`, as for TWFE); with a
few treated areas among some twenty the bootstrap over-rejects (10% of no-effect placebos on
districts against 6.5%, docs/benchmarks/evaluate.md). Areas treated in the first period have no
pre-period and are dropped; areas treated after the last period are never-treated.
Parity with csdid to 1e-6: ``tests/evaluate/test_did_parity.py``.

Both report the effect in records per area per period (ATT) and as a proportion of
the treated areas' counterfactual: ``ATT / (mean treated post count - ATT)``, the
interval divided by the same counterfactual (taken as known).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import ParameterError
from .base import EffectResult, Method, check_level

__all__ = ["TwoWayFE", "CallawaySantAnna", "att_gt", "aggregate", "simple_att", "twfe", "ri_interval"]


# ----------------------------------------------------------------- TWFE core
def twfe(y: np.ndarray, d: np.ndarray) -> dict:
    """TWFE coefficient of ``d`` on ``y`` (both units x periods), SE clustered by unit.

    Returns ``{"coef", "se", "df", "n_clusters"}``.
    """
    y = np.asarray(y, float)
    d = np.asarray(d, float)

    def dm(a):
        return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()

    yt, dt_ = dm(y), dm(d)
    sxx = float((dt_ * dt_).sum())
    if sxx <= 0:
        raise ParameterError("the treatment does not vary once area and period effects are removed")
    b = float((dt_ * yt).sum() / sxx)
    u = yt - b * dt_
    G, T = y.shape
    N = G * T
    scores = (dt_ * u).sum(axis=1)
    meat = float((scores ** 2).sum())
    K = 1 + (T - 1)  # the coefficient and the period effects; area effects are nested in the clusters
    corr = G / (G - 1) * (N - 1) / (N - K) if G > 1 else np.nan
    se = float(np.sqrt(corr * meat) / sxx)
    return {"coef": b, "se": se, "df": G - 1, "n_clusters": G}


# -------------------------------------------------------------------- CS core
@dataclass
class GroupTime:
    """Group-time effects: one row per (cohort g, period t), with per-area influence functions.

    ``group``/``time`` are 1-based period numbers (csdid's convention: ``time`` is
    the period ``t``, ``group`` the first treated period); ``inf`` is ``n x cells``;
    ``pg`` the cohort share of each cell's cohort; ``G`` each kept area's cohort (0 never).
    """

    group: np.ndarray
    time: np.ndarray
    att: np.ndarray
    inf: np.ndarray
    G: np.ndarray
    glist: np.ndarray
    keep: np.ndarray
    control_group: str

    @property
    def n(self) -> int:
        return int(self.G.size)

    @property
    def post(self) -> np.ndarray:
        return self.group <= self.time

    def pg_cells(self) -> np.ndarray:
        share = {g: float(np.mean(self.G == g)) for g in self.glist}
        return np.array([share[g] for g in self.group])

    def pg_groups(self) -> np.ndarray:
        return np.array([float(np.mean(self.G == g)) for g in self.glist])


def att_gt(y: np.ndarray, g_index: np.ndarray, control_group: str = "nevertreated",
           anticipation: int = 0) -> GroupTime:
    """Callaway-Sant'Anna ATT(g,t) with the varying base period (no covariates).

    ``y`` is units x periods; ``g_index`` the 0-based first treated period (-1 never).
    """
    if control_group not in ("nevertreated", "notyettreated"):
        raise ParameterError(f"invalid control_group={control_group!r}: expected nevertreated or notyettreated")
    y = np.asarray(y, float)
    n_all, T = y.shape
    G_all = np.where(np.asarray(g_index) >= 0, np.asarray(g_index) + 1, 0)  # 1-based, 0 = never
    G_all = np.where(G_all > T, 0, G_all)
    keep = G_all != 1  # treated in the first period: no pre-period (dropped, as csdid does)
    y, G = y[keep], G_all[keep]
    n = G.size
    glist = np.array(sorted(set(G[G > 0].tolist())), dtype=int)
    if glist.size == 0:
        raise ParameterError("no cohort with a pre-period is left")
    if control_group == "nevertreated" and not np.any(G == 0):
        raise ParameterError("no never-treated area: use control_group='notyettreated'")
    groups, times, atts, infs = [], [], [], []
    for g in glist:
        base_g = g - 1 - anticipation  # 1-based period of the last pre-treatment period
        if base_g < 1:
            continue
        for tn in range(2, T + 1):
            if g - anticipation <= tn:
                base = base_g
            else:
                base = tn - 1
            Gm = G == g
            if control_group == "nevertreated":
                Cm = G == 0
            else:
                thresh = max(tn - 1, base) + 1 + anticipation  # csdid: tlist[max(t_i, pret) + 1] + anticipation
                Cm = (G == 0) | ((G > thresh) & (G != g))
            inf = np.zeros(n)
            if not Cm.any():
                groups.append(g), times.append(tn), atts.append(np.nan), infs.append(np.full(n, np.nan))
                continue
            dy = y[:, tn - 1] - y[:, base - 1]
            mg, mc = dy[Gm].mean(), dy[Cm].mean()
            ng, nc = Gm.sum(), Cm.sum()
            inf[Gm] = n * (dy[Gm] - mg) / ng
            inf[Cm] = -n * (dy[Cm] - mc) / nc
            groups.append(g), times.append(tn), atts.append(mg - mc), infs.append(inf)
    return GroupTime(np.array(groups), np.array(times), np.array(atts), np.column_stack(infs), G, glist, keep,
                     control_group)


def simple_att(y: np.ndarray, g_index: np.ndarray, control_group: str = "nevertreated",
               anticipation: int = 0) -> float:
    """The simple aggregation of :func:`att_gt` (= ``aggregate(att_gt(...), "simple")["att"]``), fast.

    Only the post cells enter the simple aggregation, each weighted by its cohort's share; with the
    base period ``g - 1 - anticipation`` they are differences of cohort and comparison means, computed
    here per cohort in one array operation. Linear in ``y``, so randomization inference can evaluate
    ``y`` and the treatment indicator under each permuted assignment (:class:`CallawaySantAnna`).
    """
    y = np.asarray(y, float)
    T = y.shape[1]
    G = np.where(np.asarray(g_index) >= 0, np.asarray(g_index) + 1, 0)
    G = np.where(G > T, 0, G)
    keep = G != 1
    y, G = y[keep], G[keep]
    total = wsum = 0.0
    for g in np.unique(G[G > 0]):
        base = g - 1 - anticipation
        if base < 1:
            continue
        ts = np.arange(g, T + 1)
        dy = y[:, ts - 1] - y[:, [base - 1]]
        Gm = G == g
        mg = dy[Gm].mean(axis=0)
        if control_group == "nevertreated":
            Cm = G == 0
            mc = dy[Cm].mean(axis=0) if Cm.any() else np.full(ts.size, np.nan)
        else:
            C = (G[:, None] == 0) | ((G[:, None] > ts[None, :] + anticipation) & (G[:, None] != g))
            with np.errstate(invalid="ignore", divide="ignore"):
                mc = (dy * C).sum(axis=0) / C.sum(axis=0)
        pg = float(Gm.mean())
        total += pg * float((mg - mc).sum())
        wsum += pg * ts.size
    return total / wsum if wsum > 0 else np.nan


def _wif(keepers: np.ndarray, pg: np.ndarray, G: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Influence of the estimated cohort weights (R did ``wif``), n x len(keepers)."""
    pk = pg[keepers]
    num = (G[:, None] == group[keepers][None, :]).astype(float) - pk[None, :]
    if1 = num / pk.sum()
    if2 = np.outer(num.sum(axis=1), pk / pk.sum() ** 2)
    return if1 - if2


def _agg(att, inf, which, w, wif=None):
    f = inf[:, which] @ w
    if wif is not None:
        f = f + wif @ att[which]
    return float(np.sum(att[which] * w)), f


def aggregate(gt: GroupTime, kind: str = "simple") -> dict:
    """Aggregate group-time effects like R ``did::aggte`` (``simple``, ``dynamic``, ``group``).

    Returns ``{"att", "inf"}`` for the overall effect and, for dynamic/group,
    ``"labels"``, ``"att_e"``, ``"inf_e"`` (n x labels) for each event time or cohort.
    """
    att, inf, G = gt.att, gt.inf, gt.G
    pg = gt.pg_cells()
    if kind == "simple":
        keep = np.flatnonzero(gt.post)
        w = pg[keep] / pg[keep].sum()
        a, f = _agg(att, inf, keep, w, _wif(keep, pg, G, gt.group))
        return {"att": a, "inf": f}
    if kind == "dynamic":
        e = gt.time - gt.group
        eseq = np.unique(e)
        att_e, inf_e = [], []
        for ev in eseq:
            which = np.flatnonzero(e == ev)
            w = pg[which] / pg[which].sum()
            a, f = _agg(att, inf, which, w, _wif(which, pg, G, gt.group))
            att_e.append(a), inf_e.append(f)
        att_e, inf_e = np.array(att_e), np.column_stack(inf_e)
        pos = np.flatnonzero(eseq >= 0)
        a, f = _agg(att_e, inf_e, pos, np.full(pos.size, 1 / pos.size))
        return {"att": a, "inf": f, "labels": eseq, "att_e": att_e, "inf_e": inf_e}
    if kind == "group":
        att_g, inf_g = [], []
        for g in gt.glist:
            which = np.flatnonzero((gt.group == g) & gt.post)
            w = pg[which] / pg[which].sum()
            a, f = _agg(att, inf, which, w)
            att_g.append(a), inf_g.append(f)
        att_g, inf_g = np.array(att_g), np.column_stack(inf_g)
        pgg = gt.pg_groups()
        idx = np.arange(gt.glist.size)
        a, f = _agg(att_g, inf_g, idx, pgg / pgg.sum(), _wif(idx, pgg, G, gt.glist))
        return {"att": a, "inf": f, "labels": gt.glist, "att_e": att_g, "inf_e": inf_g}
    raise ParameterError(f"invalid aggregation={kind!r}: expected simple, dynamic or group")


def analytic_se(inf: np.ndarray) -> np.ndarray:
    """``sqrt(mean(IF^2) / n)`` per column (R did, bstrap = FALSE)."""
    inf = np.atleast_2d(np.asarray(inf, float).T).T if np.ndim(inf) == 1 else np.asarray(inf, float)
    n = inf.shape[0]
    return np.sqrt(np.mean(inf ** 2, axis=0) / n)


def bootstrap_se(inf: np.ndarray, biters: int, rng: np.random.RandomState, level: float = 0.95):
    """Multiplier bootstrap (Rademacher) SEs and the simultaneous critical value (R did ``mboot``).

    ``rng.randint(0, 2, (biters, n))`` draws the weights, as csdid's serial path does
    with the global state, so the same seed reproduces csdid's bootstrap exactly.
    """
    inf = np.asarray(inf, float)
    if inf.ndim == 1:
        inf = inf[:, None]
    n = inf.shape[0]
    U = rng.randint(0, 2, size=(biters, n)) * -2 + 1
    bres = np.sqrt(n) * (U @ inf / n)
    q75 = np.quantile(bres, 0.75, axis=0, method="inverted_cdf")
    q25 = np.quantile(bres, 0.25, axis=0, method="inverted_cdf")
    sig = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    sig = np.where(np.isfinite(sig) & (sig > 0), sig, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        bt = np.nanmax(np.abs(bres / sig), axis=1)
    crit = float(np.quantile(bt[np.isfinite(bt)], level, method="inverted_cdf")) if np.isfinite(bt).any() else np.nan
    return sig * np.sqrt(n) / n, crit


# -------------------------------------------------------------- helpers
def ri_interval(coef: float, bd_obs: float, by: np.ndarray, bd: np.ndarray, level: float):
    """Randomization p-value of no effect and the interval inverting the test (constant additive effect).

    ``by``/``bd``: the estimator on the counts and on the treatment indicator under each permuted
    assignment (the estimator is linear in the counts). Under a hypothesised effect ``tau`` the untreated
    counts are ``y - tau D``: the observed statistic ``|coef - tau bd_obs|`` is ranked among
    ``|by - tau bd|``; the interval is the set of ``tau`` not rejected at ``1 - level`` (grid of 1,601
    values over +-8 spreads; an end at the grid's edge is unbounded).
    """
    by, bd = np.asarray(by, float), np.asarray(bd, float)
    alpha = 1 - level
    p = float((1 + np.sum(np.abs(by) >= abs(coef) - 1e-12)) / (1 + by.size))
    spread = max(float(np.std(by)), abs(coef), 1e-9)
    taus = coef + np.linspace(-8, 8, 1601) * spread
    stat_obs = np.abs(coef - taus * bd_obs)
    stat_p = np.abs(by[None, :] - taus[:, None] * bd[None, :])
    p_tau = (1 + (stat_p >= stat_obs[:, None] - 1e-12).sum(axis=1)) / (1 + by.size)
    ok = np.flatnonzero(p_tau > alpha)
    if ok.size == 0:
        return np.nan, np.nan, p
    lo = -np.inf if ok[0] == 0 else float(taus[ok[0]])
    hi = np.inf if ok[-1] == taus.size - 1 else float(taus[ok[-1]])
    return lo, hi, p


def _relative(panel_counts, g, att, lo, hi, post_mask):
    """ATT as a proportion of the treated areas' counterfactual mean in their post periods."""
    treated_post = panel_counts[post_mask]
    obs = float(treated_post.mean()) if treated_post.size else np.nan
    cf = obs - att
    if not np.isfinite(cf) or cf <= 0:
        return np.nan, np.nan, np.nan, obs, cf
    return att / cf, lo / cf, hi / cf, obs, cf


def _post_mask(panel, g):
    return _post_mask_from(g, panel.n_periods)


def _post_mask_from(g, T):
    m = np.zeros((len(g), T), bool)
    for i in np.flatnonzero(g >= 0):
        m[i, g[i]:] = True
    return m


def _pretrend_warning(p: float, what: str) -> list[str]:
    if np.isfinite(p) and p < 0.05:
        return [f"pre-trend test fails (p = {p:.3g} < 0.05): {what} differed before the start, so the "
                "parallel-trends assumption is doubtful and the estimate may be biased"]
    return []


# ---------------------------------------------------------------- methods
class TwoWayFE(Method):
    """Difference-in-differences with area and period fixed effects, errors clustered by area."""

    name = "did"
    label = "Difference in differences"
    scale_dependent = True
    summary = "Difference-in-differences (two-way fixed effects, area-clustered errors)"
    assumptions = (
        "parallel trends: without the intervention, treated and comparison areas would have changed by the "
        "same number of records per period",
        "no spillover: comparison areas are not affected (crime moving next door violates this)",
        "a constant effect across areas and over time (with staggered starts, earlier-treated areas serve as "
        "controls for later ones; see cs for a robust estimator)",
        "randomization inference: which areas were treated is as if drawn at random (for a strategy aimed "
        "at the highest-crime areas, a strong assumption); the cluster-robust alternative over-rejects with "
        "few treated areas (see docs/benchmarks/evaluate.md)",
    )

    def __init__(self, level: float = 0.95, leads: int = 6, inference: str = "randomization",
                 n_permutations: int = 999, random_state: int = 0):
        self.level = level
        self.leads = leads
        self.inference = inference
        self.n_permutations = n_permutations
        self.random_state = random_state

    def _validate(self) -> None:
        check_level(self.level)
        if self.inference not in ("randomization", "cluster"):
            raise ParameterError(f"invalid inference={self.inference!r}: expected randomization or cluster")
        if isinstance(self.n_permutations, bool) or not isinstance(self.n_permutations, int) or \
                self.n_permutations < 99:
            raise ParameterError(f"invalid n_permutations={self.n_permutations!r}: expected an integer >= 99")
        if isinstance(self.leads, bool) or not isinstance(self.leads, int) or self.leads < 0:
            raise ParameterError(f"invalid leads={self.leads!r}: expected an integer >= 0")

    def _fit(self, panel, g) -> EffectResult:
        import pandas as pd

        y = panel.counts
        post = _post_mask(panel, g)
        r = twfe(y, post.astype(float))
        tcrit = stats.t.ppf(0.5 + self.level / 2, r["df"])
        lo_c, hi_c = r["coef"] - tcrit * r["se"], r["coef"] + tcrit * r["se"]
        p_c = float(2 * stats.t.sf(abs(r["coef"] / r["se"]), r["df"])) if r["se"] > 0 else np.nan
        if self.inference == "cluster":
            lo, hi, p = lo_c, hi_c, p_c
        else:
            lo, hi, p = self._randomization(y, g, r["coef"])
        rel, rlo, rhi, obs, cf = _relative(y, g, r["coef"], lo, hi, post)
        if not np.isfinite(rel):
            warns_rel = ["no relative effect: the estimated counterfactual (treated post mean minus ATT) is not "
                         "positive, the counts are too small for a proportional reading"]
        else:
            warns_rel = []
        # pre-trend test: leads of treatment (k periods before the start), jointly zero (Wald, clustered)
        lead_p, lead_tab = self._lead_test(y, g, post)
        warns = _pretrend_warning(lead_p, "treated areas' counts") + warns_rel
        n_treated = int((g >= 0).sum())
        if n_treated < 5 and self.inference == "cluster":
            warns.append(f"only {n_treated} treated areas: cluster-robust errors with few treated clusters "
                         "understate the uncertainty (see the planted-effect rates in docs/benchmarks/evaluate.md)")
        if len(set(g[g >= 0].tolist())) > 1:
            warns.append("staggered starts: two-way fixed effects also compares later- with earlier-treated areas; "
                         "read Callaway-Sant'Anna (cs)")
        table = pd.DataFrame([{"term": "treated x post", "coef": r["coef"], "ci_low": lo, "ci_high": hi,
                               "p_value": p, "cluster_se": r["se"], "cluster_ci_low": lo_c, "cluster_ci_high": hi_c,
                               "cluster_p_value": p_c, "df": r["df"], "clusters": r["n_clusters"],
                               "treated_post_mean": obs, "counterfactual_mean": cf}])
        return EffectResult(
            method=self.name, estimate=r["coef"], ci_low=lo, ci_high=hi, p_value=p,
            relative=rel, relative_low=rlo, relative_high=rhi,
            scale=f"records per area per {panel.step} (ATT)", level=self.level, table=table,
            tables={"pre_trend": lead_tab}, warnings=warns,
            meta={"inference": (f"cluster-robust by area, t with {r['df']} df" if self.inference == "cluster" else
                                f"randomization: the same starts given to {self.n_permutations} random sets of "
                                f"areas (seed {self.random_state}); interval by test inversion; cluster-robust "
                                "figures in the table"),
                  "pre_trend_p": lead_p,
                  "pre_trend_rule": f"t test that the mean of {len(lead_tab)} lead coefficients is 0", "relative_rule": "ATT / (treated post mean - ATT)"})

    def _randomization(self, y, g, coef):
        """Permutation p-value and inverted interval of the TWFE coefficient.

        The observed starts are given to random sets of areas (``n_permutations``, seeded);
        under a hypothesised effect ``tau`` the untreated counts are ``y - tau D``, the observed
        statistic ``|b_D(y) - tau|`` is ranked among ``|b_P(y) - tau b_P(D)|``; ``b_P`` is linear
        in y, so every ``tau`` is checked from two numbers per permutation.
        """
        rng = np.random.default_rng(self.random_state)
        G, T = y.shape
        D = _post_mask_from(g, T).astype(float)

        def dm(a):
            return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()

        yd = dm(y)
        Dd = dm(D)
        by, bd = np.empty(self.n_permutations), np.empty(self.n_permutations)
        for b in range(self.n_permutations):
            gp = g[rng.permutation(G)]
            Pd = dm(_post_mask_from(gp, T).astype(float))
            sxx = float((Pd * Pd).sum())
            by[b] = float((Pd * yd).sum()) / sxx
            bd[b] = float((Pd * Dd).sum()) / sxx
        return ri_interval(coef, 1.0, by, bd, self.level)  # b_D(D) = 1: the observed statistic is |coef - tau|

    def _lead_test(self, y, g, post):
        """t test (G - 1 df, clustered by area) that the mean of ``leads`` pre-start indicators is zero.

        One degree of freedom: a joint Wald test of several leads with few treated clusters rejects
        far too often.
        """
        import pandas as pd

        G, T = y.shape
        k = min(self.leads, int(g[g >= 0].min()) - 1) if np.any(g >= 0) else 0
        if k < 1:
            return np.nan, pd.DataFrame(columns=["lead", "coef", "se"])
        cols = [post.astype(float)]
        for j in range(1, k + 1):
            m = np.zeros_like(y)
            for i in np.flatnonzero(g >= 0):
                if g[i] - j >= 0:
                    m[i, g[i] - j] = 1.0
            cols.append(m)

        def dm(a):
            return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()

        X = np.stack([dm(c).ravel() for c in cols], axis=1)
        yv = dm(y).ravel()
        XtX_inv = np.linalg.pinv(X.T @ X)
        beta = XtX_inv @ X.T @ yv
        u = (yv - X @ beta).reshape(G, T)
        Xg = X.reshape(G, T, -1)
        S = np.einsum("gtk,gt->gk", Xg, u)
        N, K = G * T, X.shape[1] + T - 1
        V = G / (G - 1) * (N - 1) / (N - K) * XtX_inv @ (S.T @ S) @ XtX_inv
        b = beta[1:]
        Vl = V[1:, 1:]
        avg = np.full(k, 1.0 / k)
        se_avg = float(np.sqrt(max(avg @ Vl @ avg, 0.0)))
        p = float(2 * stats.t.sf(abs(avg @ b) / se_avg, G - 1)) if se_avg > 0 else np.nan
        tab = pd.DataFrame({"lead": np.arange(1, k + 1), "coef": b, "se": np.sqrt(np.clip(np.diag(Vl), 0, None))})
        return p, tab


class CallawaySantAnna(Method):
    """Callaway & Sant'Anna group-time ATT with simple, dynamic and group aggregations."""

    name = "cs"
    label = "Callaway-Sant'Anna"
    scale_dependent = True
    summary = "Callaway-Sant'Anna group-time ATT (staggered difference-in-differences)"
    assumptions = (
        "parallel trends for each cohort against its comparison areas (never-treated or not-yet-treated), "
        "in records per period",
        "no anticipation before the start (or the stated number of anticipation periods)",
        "no spillover into comparison areas; areas are independent (inference by area)",
    )

    def __init__(self, control_group: str = "nevertreated", anticipation: int = 0, bootstrap: bool = True,
                 biters: int = 999, level: float = 0.95, inference: str = "randomization",
                 n_permutations: int = 999, random_state: int = 0):
        self.control_group = control_group
        self.anticipation = anticipation
        self.bootstrap = bootstrap
        self.biters = biters
        self.level = level
        self.inference = inference
        self.n_permutations = n_permutations
        self.random_state = random_state

    def _validate(self) -> None:
        check_level(self.level)
        if self.inference not in ("randomization", "normal"):
            raise ParameterError(f"invalid inference={self.inference!r}: expected randomization or normal")
        if isinstance(self.n_permutations, bool) or not isinstance(self.n_permutations, (int, np.integer)) or \
                self.n_permutations < 99:
            raise ParameterError(f"invalid n_permutations={self.n_permutations!r}: expected an integer >= 99")
        if self.control_group not in ("nevertreated", "notyettreated"):
            raise ParameterError(f"invalid control_group={self.control_group!r}: expected nevertreated or "
                                 "notyettreated")
        for k, lo in (("anticipation", 0), ("biters", 1)):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise ParameterError(f"invalid {k}={v!r}: expected an integer >= {lo}")

    def _fit(self, panel, g) -> EffectResult:
        import pandas as pd

        gt = att_gt(panel.counts, g, self.control_group, int(self.anticipation))
        aggs = {k: aggregate(gt, k) for k in ("simple", "dynamic", "group")}
        rng = np.random.RandomState(self.random_state)
        z = stats.norm.ppf(0.5 + self.level / 2)

        def se_of(inf):
            if self.bootstrap:
                return bootstrap_se(inf, int(self.biters), rng, self.level)[0]
            return analytic_se(inf)

        ok = np.isfinite(gt.att)
        cell_se = np.full(gt.att.size, np.nan)
        cell_se[ok] = se_of(gt.inf[:, ok])
        ptimes = panel.periods
        cells = pd.DataFrame({
            "cohort": [str(ptimes[k - 1]) for k in gt.group], "period": [str(ptimes[k - 1]) for k in gt.time],
            "group": gt.group, "time": gt.time, "event_time": gt.time - gt.group, "att": gt.att, "se": cell_se,
            "ci_low": gt.att - z * cell_se, "ci_high": gt.att + z * cell_se, "post": gt.post})
        simple = aggs["simple"]
        s_se = float(se_of(simple["inf"])[0])
        est = simple["att"]
        lo_n, hi_n = est - z * s_se, est + z * s_se
        p_n = float(2 * stats.norm.sf(abs(est / s_se))) if s_se > 0 else np.nan
        normal_how = (f"multiplier bootstrap, {self.biters} Rademacher draws, seed {self.random_state}"
                      if self.bootstrap else "analytic influence-function standard errors")
        if self.inference == "randomization":
            lo, hi, p = self._randomization(panel.counts, g)
        else:
            lo, hi, p = lo_n, hi_n, p_n
        dyn = aggs["dynamic"]
        d_se = se_of(dyn["inf_e"])
        event = pd.DataFrame({"event_time": dyn["labels"], "att": dyn["att_e"], "se": d_se,
                              "ci_low": dyn["att_e"] - z * d_se, "ci_high": dyn["att_e"] + z * d_se})
        grp = aggs["group"]
        g_se = se_of(grp["inf_e"])
        groups = pd.DataFrame({"cohort": [str(ptimes[k - 1]) for k in grp["labels"]], "group": grp["labels"],
                               "att": grp["att_e"], "se": g_se, "ci_low": grp["att_e"] - z * g_se,
                               "ci_high": grp["att_e"] + z * g_se})
        overall = pd.DataFrame([
            {"aggregation": k, "att": aggs[k]["att"], "se": float(se_of(aggs[k]["inf"])[0])} for k in aggs])
        overall["ci_low"] = overall["att"] - z * overall["se"]
        overall["ci_high"] = overall["att"] + z * overall["se"]
        # pre-trend: the mean event-study effect just before the start (see _pre_trend)
        pre_p, pre_k = self._pre_trend(dyn, gt.n, panel.step)
        warns = _pretrend_warning(pre_p, "cohorts and comparison areas")
        nt = int((g >= 0).sum())
        if nt < 5 and self.inference == "normal":
            warns.append(f"only {nt} treated areas: the bootstrap/normal interval is not reliable with so few "
                         "treated units (see the planted-effect rates in docs/benchmarks/evaluate.md)")
        inference_tab = pd.DataFrame([
            {"inference": "randomization (test inversion)" + (" *" if self.inference == "randomization" else ""),
             "ci_low": lo if self.inference == "randomization" else np.nan,
             "ci_high": hi if self.inference == "randomization" else np.nan,
             "p_value": p if self.inference == "randomization" else np.nan},
            {"inference": normal_how + (" *" if self.inference == "normal" else ""), "ci_low": lo_n,
             "ci_high": hi_n, "p_value": p_n}])
        dropped = int((~gt.keep).sum())
        if dropped:
            warns.append(f"{dropped} area(s) treated in the first period have no pre-period and were dropped")
        post = _post_mask(panel, np.where(gt.keep, g, -1)) if dropped else _post_mask(panel, g)
        # the counterfactual for the simple ATT: the cohort-size weighted treated post mean
        rel, rlo, rhi, obs, cf = _relative(panel.counts, g, est, lo, hi, post)
        if not np.isfinite(rel):
            warns.append("no relative effect: the estimated counterfactual (treated post mean minus ATT) is not "
                         "positive, the counts are too small for a proportional reading")
        return EffectResult(
            method=self.name, estimate=est, ci_low=lo, ci_high=hi, p_value=p,
            relative=rel, relative_low=rlo, relative_high=rhi,
            scale=f"records per area per {panel.step} (ATT, simple aggregation)", level=self.level,
            table=cells, tables={"event_study": event, "groups": groups, "aggregations": overall,
                                 "inference": inference_tab},
            warnings=warns,
            meta={"inference": (f"randomization: the observed starts (cohort sizes and dates kept) given to "
                                f"{self.n_permutations} random sets of areas (seed {self.random_state}); interval "
                                f"by test inversion under a constant additive effect; {normal_how} beside it "
                                "(tables 'inference', 'aggregations'; event-study and group intervals are normal)"
                                if self.inference == "randomization" else normal_how),
                  "normal_ci": [lo_n, hi_n], "normal_p_value": p_n,
                  "control_group": self.control_group, "base_period": "varying",
                  "pre_trend_p": pre_p, "relative_rule": "ATT / (treated post mean - ATT)"})

    def _randomization(self, y, g):
        """Randomization p-value and test-inversion interval of the simple ATT.

        The vector of first treated periods is permuted among the areas (``n_permutations`` times,
        seeded): each permutation keeps the cohorts' sizes and start dates. The simple ATT is linear in
        the counts, so each permutation gives two numbers (on ``y`` and on the treatment indicator ``D``)
        that check every hypothesised effect (:func:`ri_interval`).
        """
        rng = np.random.default_rng(self.random_state)
        n, T = y.shape
        D = _post_mask_from(g, T).astype(float)
        cg, ant = self.control_group, int(self.anticipation)
        coef = simple_att(y, g, cg, ant)
        bd_obs = simple_att(D, g, cg, ant)
        by = np.empty(self.n_permutations)
        bd = np.empty(self.n_permutations)
        for b in range(self.n_permutations):
            gp = g[rng.permutation(n)]
            by[b] = simple_att(y, gp, cg, ant)
            bd[b] = simple_att(D, gp, cg, ant)
        ok = np.isfinite(by) & np.isfinite(bd)
        return ri_interval(coef, bd_obs, by[ok], bd[ok], self.level)

    @staticmethod
    def _pre_trend(dyn: dict, n: int, step: str) -> tuple[float, int]:
        """p-value of the test that the mean event-study effect over the last k pre-start periods is zero.

        With the varying base period each pre-start effect is a one-period change, so their mean over
        event times -k..-1 is the treated areas' extra change over the k periods before the start.
        One degree of freedom: a joint Wald test over many event times with as few areas as a city
        has districts has a near-singular covariance and rejects far too often.
        """
        e = np.asarray(dyn["labels"])
        k = 12 if step == "week" else 6
        pre = np.flatnonzero((e < 0) & (e >= -k))
        if not pre.size:
            return np.nan, 0
        a = float(dyn["att_e"][pre].mean())
        f = dyn["inf_e"][:, pre].mean(axis=1)
        se = float(np.sqrt(np.mean(f ** 2) / n))
        if not se > 0:
            return np.nan, int(pre.size)
        return float(2 * stats.norm.sf(abs(a) / se)), int(pre.size)
