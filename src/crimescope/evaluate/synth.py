"""Synthetic control (Abadie, Diamond & Hainmueller 2010) with permutation inference.

For a treated area, the synthetic control is a weighted average of donor areas
(never treated within the panel), weights ``w >= 0`` summing to 1, chosen to
reproduce the treated area's pre-period::

    w = argmin (X1 - X0 w)' V (X1 - X0 w)

``X`` are the predictors: the pre-period outcomes averaged in blocks of ``block``
periods, each predictor row divided by its standard deviation across areas (as
pysyncon does), ``V`` = identity. Parity with pysyncon's ``Synth`` given the same
``X`` and ``custom_V``: ``tests/evaluate/test_synth_parity.py``.

**Count-appropriate variant.** Areas differ in size (district 7 has many times the
shootings of district 16) and a convex combination cannot exceed its largest donor;
so by default (``transform="index"``) each area's counts are divided by its own
pre-period mean: the synthetic control matches the *shape* of the treated area's
series, and ``mean post treated / mean post synthetic - 1`` is the proportional
effect. ``transform="none"`` fits raw counts.

**Inference.** Placebo-in-space: each donor in turn is treated as if it had been
treated (its synthetic control from the other donors), and the treated area's
statistic ``|mean post gap| / pre-period RMSPE`` (a level shift scaled by the fit,
as in Firpo & Possebom 2018) is ranked among the placebos': ``p = (1 + #{placebo
>= treated}) / (1 + J)``. ADH's post/pre RMSPE ratio p-value is given per area too
(it reacts to any post-period misfit, not only to a shift, and its inverted set is
often empty); with J donors the smallest possible p is 1/(J+1), so
fewer than 19 donors can never reject at 5% (a warning says so). The interval of
the proportional effect inverts that test: the set of effects ``r`` for which the
treated area's post series divided by ``1 + r`` is not rejected. Several treated
areas: one synthetic control each (``tables["areas"]``) and pooled (the mean of
their signed statistics, ranked among the same mean for ``n_pool_draws`` random sets
of as many donors, each fitted from the donors outside its set as the treated are).
Placebo-in-time: the start moved ``placebo_periods`` earlier, using only periods
before the real start; a "significant" fake effect warns that the fit is unreliable.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .base import EffectResult, Method, check_level

__all__ = ["SyntheticControl", "sc_weights", "predictors"]


def sc_weights(X0: np.ndarray, X1: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
    """Weights ``w >= 0``, ``sum w = 1`` minimising ``(X1 - X0 w)' diag(v) (X1 - X0 w)``.

    ``X0`` is predictors x donors, ``X1`` predictors. The support is found by
    non-negative least squares with the sum constraint as a heavily weighted extra
    row, then the weights on that support solve the equality-constrained problem
    exactly (its KKT system); support changes are iterated until the KKT conditions
    hold (at most ``J`` rounds), so the answer is the exact optimum, not an
    optimiser's approximation.
    """
    from scipy.optimize import nnls

    X0 = np.asarray(X0, float)
    X1 = np.asarray(X1, float)
    k, J = X0.shape
    if J == 1:
        return np.ones(1)
    v = np.ones(k) if v is None else np.asarray(v, float)
    sv = np.sqrt(v)
    A, b = X0 * sv[:, None], X1 * sv
    P, q = A.T @ A, A.T @ b
    lam = 1e3 * max(1.0, float(np.sqrt(np.trace(P) / J)))
    w, _ = nnls(np.vstack([A, np.full((1, J), lam)]), np.r_[b, lam], maxiter=50 * J)
    S = set(np.flatnonzero(w > 0).tolist()) or {int(np.argmax(q))}
    for _ in range(3 * J):
        idx = np.array(sorted(S))
        m = idx.size
        K = np.zeros((m + 1, m + 1))
        K[:m, :m] = P[np.ix_(idx, idx)]
        K[:m, m] = 1.0
        K[m, :m] = 1.0
        sol = np.linalg.lstsq(K, np.r_[q[idx], 1.0], rcond=None)[0]
        ws, mu = sol[:m], sol[m]
        if np.any(ws < -1e-12):  # drop the most negative weight, re-solve
            S.discard(int(idx[np.argmin(ws)]))
            continue
        w = np.zeros(J)
        w[idx] = np.clip(ws, 0.0, None)
        grad = P @ w - q + mu  # KKT: >= 0 off the support
        out = [j for j in range(J) if j not in S and grad[j] < -1e-10 * max(1.0, abs(mu))]
        if not out:
            return w / w.sum()
        S.add(int(min(out, key=lambda j: grad[j])))
    return w / w.sum()


def predictors(series: np.ndarray, pre: int, block: int) -> np.ndarray:
    """Pre-period outcomes (areas x periods, first ``pre`` columns) averaged in blocks of ``block``.

    Returns predictors x areas (the last block may be shorter).
    """
    cols = [series[:, s:min(s + block, pre)].mean(axis=1) for s in range(0, pre, block)]
    return np.array(cols)


def _scale_rows(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=1, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return X / sd[:, None]


class SyntheticControl(Method):
    """ADH synthetic control per treated area, pooled, with placebo-in-space and placebo-in-time."""

    name = "synth"
    label = "Synthetic control"
    summary = "Synthetic control (ADH weights over never-treated donors, permutation inference)"
    assumptions = (
        "a weighted average of donor areas that tracks the treated area before the start would have "
        "kept tracking it without the intervention",
        "donor areas are not affected by the intervention (no spillover) and had no comparable "
        "intervention of their own",
        "the pre-period fit is good (see pre-period RMSPE); a poor fit makes the estimate unreliable",
    )

    def __init__(self, transform: str = "index", block: int | None = None, level: float = 0.95,
                 placebo_periods: int | None = None, n_pool_draws: int = 200, random_state: int = 0):
        self.transform = transform
        self.block = block
        self.level = level
        self.placebo_periods = placebo_periods
        self.n_pool_draws = n_pool_draws
        self.random_state = random_state

    def _validate(self) -> None:
        check_level(self.level)
        if self.transform not in ("index", "none"):
            raise ParameterError(f"invalid transform={self.transform!r}: expected index or none")
        for k in ("block", "placebo_periods"):
            v = getattr(self, k)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
                raise ParameterError(f"invalid {k}={v!r}: expected an integer >= 1 or None")
        if isinstance(self.n_pool_draws, bool) or not isinstance(self.n_pool_draws, int) or self.n_pool_draws < 10:
            raise ParameterError(f"invalid n_pool_draws={self.n_pool_draws!r}: expected an integer >= 10")

    # -- one area ---------------------------------------------------------------
    def _series(self, y: np.ndarray, pre: int) -> tuple[np.ndarray, np.ndarray]:
        if self.transform == "none":
            return y, np.ones(y.shape[0])
        m = y[:, :pre].mean(axis=1)
        m = np.where(m > 0, m, np.nan)
        return y / m[:, None], m

    def _fit_one(self, s: np.ndarray, treated: int, donors: np.ndarray, pre: int, block: int):
        """Weights, synthetic series and RMSPE ratio of area ``treated`` from ``donors`` (transformed series)."""
        X = _scale_rows(predictors(s[np.r_[donors, treated]], pre, block))
        w = sc_weights(X[:, :-1], X[:, -1])
        synth = w @ s[donors]
        gap = s[treated] - synth
        pre_r = float(np.sqrt(np.mean(gap[:pre] ** 2)))
        post_r = float(np.sqrt(np.mean(gap[pre:] ** 2)))
        return w, synth, gap, pre_r, post_r

    def _block(self, panel) -> int:
        return int(self.block or (4 if panel.step == "week" else 1))

    def _placebos(self, s, donors, pre, block, cache):
        """Post/pre RMSPE ratio of every donor as a placebo treated at period ``pre`` (cached per pre)."""
        if pre in cache:
            return cache[pre]
        out = {}
        for d in donors:
            others = donors[donors != d]
            _, synth, gap, pre_r, post_r = self._fit_one(s, d, others, pre, block)
            sg = float(gap[pre:].mean()) / pre_r if pre_r > 0 else np.inf  # signed; tests use |.|
            out[int(d)] = (sg, gap, synth, post_r / pre_r if pre_r > 0 else np.inf)
        cache[pre] = out
        return out

    def _fit(self, panel, g) -> EffectResult:
        import pandas as pd

        y = panel.counts
        T = panel.n_periods
        treated = np.flatnonzero(g >= 0)
        donors_all = np.flatnonzero(g < 0)
        block = self._block(panel)
        alpha = 1 - self.level
        rows, warns, area_tabs, gaps_tab = [], [], [], []
        r_grid = np.linspace(-0.95, 3.0, 791)
        ratio_grids, placebo_sets = [], []
        post_obs_total, post_syn_total = 0.0, 0.0
        cache_by_pre: dict = {}
        weights_tab = []
        few_donors: list[str] = []
        for i in treated:
            pre = int(g[i])
            s, m = self._series(y, pre)
            donors = donors_all[np.isfinite(m[donors_all])]
            if donors.size < 2:
                raise ParameterError(f"area {panel.unit_ids[i]}: fewer than 2 donors with records before its start")
            if not np.isfinite(m[i]):
                raise ParameterError(f"area {panel.unit_ids[i]}: no record before its start; nothing to match")
            w, synth, gap, pre_r, post_r = self._fit_one(s, i, donors, pre, block)
            plc = self._placebos(s, donors, pre, block, cache_by_pre.setdefault(self.transform, {}))
            ratio = post_r / pre_r if pre_r > 0 else np.inf
            p_adh = float((1 + np.sum(np.array([v[3] for v in plc.values()]) >= ratio)) / (1 + len(plc)))
            signed = float(gap[pre:].mean()) / pre_r if pre_r > 0 else np.inf
            stat = abs(signed)
            pratios = np.abs(np.array([v[0] for v in plc.values()]))
            p = float((1 + np.sum(pratios >= stat)) / (1 + pratios.size))
            # inversion: treated post divided by (1 + r)
            s_post, syn_post = s[i, pre:], synth[pre:]
            adj = s_post[None, :] / (1 + r_grid[:, None]) - syn_post[None, :]
            signed_r = adj.mean(axis=1) / pre_r if pre_r > 0 else np.full(r_grid.size, np.inf)
            ratio_r = np.abs(signed_r)
            p_r = (1 + (pratios[None, :] >= ratio_r[:, None]).sum(axis=1)) / (1 + pratios.size)
            lo, hi = _interval(r_grid, p_r, alpha)
            obs_post = float(y[i, pre:].sum())
            syn_counts = synth[pre:] * (m[i] if self.transform == "index" else 1.0)
            rel = obs_post / float(syn_counts.sum()) - 1 if syn_counts.sum() > 0 else np.nan
            post_obs_total += obs_post
            post_syn_total += float(syn_counts.sum())
            ratio_grids.append(signed_r)
            placebo_sets.append((pre, plc))
            code = str(panel.unit_ids[i])
            rows.append({"area": code, "start": str(panel.periods[pre]), "pre_rmspe": pre_r, "post_rmspe": post_r,
                         "rmspe_ratio": ratio, "p_rmspe_ratio": p_adh, "stat": signed, "p_value": p, "relative": rel, "relative_low": lo, "relative_high": hi,
                         "mean_gap": float((y[i, pre:] - syn_counts).mean()), "donors": int(donors.size),
                         "top_donors": ", ".join(f"{panel.unit_ids[d]}:{wt:.2f}" for d, wt in
                                                 sorted(zip(donors, w), key=lambda t: -t[1])[:4] if wt > 0.005)})
            weights_tab.extend({"area": code, "donor": str(panel.unit_ids[d]), "weight": float(wt)}
                               for d, wt in zip(donors, w))
            scale = m[i] if self.transform == "index" else 1.0
            gaps_tab.extend({"area": code, "period": str(panel.periods[t]), "observed": float(y[i, t]),
                             "synthetic": float(synth[t] * scale), "gap": float((s[i, t] - synth[t]) * scale),
                             "post": bool(t >= pre)} for t in range(T))
            if donors.size + 1 < 1 / alpha:
                few_donors.append(f"{code} ({donors.size})")
            pre_sd = float(np.std(s[i, :pre]))
            if pre_sd > 0 and pre_r > 0.75 * pre_sd:
                warns.append(f"area {code}: poor pre-period fit (RMSPE {pre_r:.3g} vs the series' own sd "
                             f"{pre_sd:.3g}); the synthetic control barely improves on a flat line")
            area_tabs.append(self._placebo_in_time(panel, s, i, donors, pre, block))
        areas = pd.DataFrame(rows)
        if few_donors:
            n_min = min(int(x.split("(")[1].rstrip(")")) for x in few_donors)
            warns.insert(0, f"too few donors for a {self.level:.0%} permutation test of one area "
                            f"(area (donors): {', '.join(few_donors)}): with {n_min} donors no p-value can be "
                            f"below 1/{n_min + 1} = {1 / (n_min + 1):.3f}; per-area intervals cannot exclude any "
                            "effect (the pooled test can; smaller areas give more donors)")
        # pooled
        rng = np.random.default_rng(self.random_state)
        k = treated.size
        stat = abs(float(np.mean(areas["stat"])))
        if k == 1:
            p_pool = float(areas["p_value"].iloc[0])
            lo, hi = float(areas["relative_low"].iloc[0]), float(areas["relative_high"].iloc[0])
            draws = None
        else:
            if donors_all.size < 2 * k:
                raise ParameterError(f"pooled synthetic control: {donors_all.size} donors are too few for "
                                     f"placebo sets of {k} areas")
            draws = self._pool_draws(y, g, treated, donors_all, block, rng)
            p_pool = float((1 + np.sum(np.abs(draws) >= stat)) / (1 + draws.size))
            mean_ratio_r = np.abs(np.mean(np.array(ratio_grids), axis=0))
            draws = np.abs(draws)
            p_r = (1 + (draws[None, :] >= mean_ratio_r[:, None]).sum(axis=1)) / (1 + draws.size)
            lo, hi = _interval(r_grid, p_r, alpha)
        rel = post_obs_total / post_syn_total - 1 if post_syn_total > 0 else np.nan
        n_post = sum(T - int(g[i]) for i in treated)
        est = (post_obs_total - post_syn_total) / n_post
        cf_mean = post_syn_total / n_post
        if np.isnan(lo) and np.isnan(hi):
            warns.append("empty confidence set: no single proportional effect fits every treated area's "
                         "post-period gaps at once (they differ too much); read the per-area rows")
        elif not (np.isfinite(lo) and np.isfinite(hi)):
            warns.append(f"the {self.level:.0%} permutation interval is unbounded on the searched range "
                         f"({r_grid[0]:+.0%} to {r_grid[-1]:+.0%})")
        pit = pd.concat(area_tabs, ignore_index=True) if area_tabs else pd.DataFrame()
        for _, r in pit.iterrows():
            if np.isfinite(r["p_value"]) and r["p_value"] <= 0.1:
                warns.append(f"placebo-in-time fails for area {r['area']}: a fake start at {r['fake_start']} "
                             f"already shows {100 * r['relative']:+.0f}% (p = {r['p_value']:.2f})")
        lo_c = lo * cf_mean if np.isfinite(lo) else (np.nan if np.isnan(lo) else -np.inf)
        hi_c = hi * cf_mean if np.isfinite(hi) else (np.nan if np.isnan(hi) else np.inf)
        return EffectResult(
            method=self.name, estimate=est, ci_low=lo_c, ci_high=hi_c, p_value=p_pool,
            relative=rel, relative_low=lo, relative_high=hi,
            scale=f"records per area per {panel.step} (treated minus synthetic, post-period mean)",
            level=self.level, table=areas,
            tables={"gaps": pd.DataFrame(gaps_tab), "weights": pd.DataFrame(weights_tab), "placebo_in_time": pit},
            warnings=warns,
            meta={"inference": ("placebo-in-space permutation of |mean post gap| / pre-period RMSPE (ADH's "
                                "post/pre RMSPE ratio p-value per area in the table); pooled: the mean statistic "
                                f"against {self.n_pool_draws} seeded draws of placebo sets"),
                  "transform": ("counts / own pre-period mean (shape match; effect as a proportion)"
                                if self.transform == "index" else "raw counts"),
                  "predictors": f"pre-period outcomes in blocks of {block} {panel.step}s, rows scaled by their sd",
                  "interval_rule": "test inversion over proportional effects -95% to +300%",
                  "estimate_rule": "(sum treated post - sum synthetic post) / treated area-periods"})

    def _pool_draws(self, y, g, treated, donors_all, block, rng) -> np.ndarray:
        """Signed pooled statistics of random placebo sets, built like the real one.

        Each draw takes as many donors as there are treated areas, gives them the treated
        areas' starts, and fits each one's synthetic control from the donors *outside* the set,
        as the treated areas' own are: placebo sets then share donors the way the treated
        areas do (their gaps are correlated alike), so the pooled test keeps its size.
        """
        k = treated.size
        pres = [int(g[i]) for i in treated]
        series = {pre: self._series(y, pre)[0] for pre in set(pres)}
        out = np.empty(self.n_pool_draws)
        for b in range(self.n_pool_draws):
            pick = rng.choice(donors_all, size=k, replace=False)
            rest = np.setdiff1d(donors_all, pick)
            acc = 0.0
            for d, pre in zip(pick, pres):
                sr = series[pre]
                ok = rest[np.isfinite(sr[rest, 0])]
                if ok.size < 2 or not np.isfinite(sr[d, 0]):
                    acc += 0.0
                    continue
                _, _, gap, pre_r, _ = self._fit_one(sr, int(d), ok, pre, block)
                acc += float(gap[pre:].mean()) / pre_r if pre_r > 0 else 0.0
            out[b] = acc / k
        return out

    def _placebo_in_time(self, panel, s, i, donors, pre, block):
        import pandas as pd

        shift = self.placebo_periods or max(2, min(pre // 2, 52 if panel.step == "week" else 12))
        fake = pre - shift
        if fake < max(4, block * 2):
            return pd.DataFrame([{"area": str(panel.unit_ids[i]), "fake_start": None, "relative": np.nan,
                                  "p_value": np.nan, "note": "too short a pre-period for a placebo in time"}])
        st = s[:, :pre]
        _, synth, gap, pre_r, post_r = self._fit_one(st, i, donors, fake, block)
        rel = float(st[i, fake:].sum() / synth[fake:].sum() - 1) if synth[fake:].sum() > 0 else np.nan
        plc = {}
        for d in donors:
            _, _, gp, a, _ = self._fit_one(st, d, donors[donors != d], fake, block)
            plc[d] = abs(float(gp[fake:].mean())) / a if a > 0 else np.inf
        ratio = abs(float(gap[fake:].mean())) / pre_r if pre_r > 0 else np.inf
        pr = np.array(list(plc.values()))
        p = float((1 + np.sum(pr >= ratio)) / (1 + pr.size))
        return pd.DataFrame([{"area": str(panel.unit_ids[i]), "fake_start": str(panel.periods[fake]),
                              "relative": rel, "p_value": p,
                              "note": f"start moved {shift} {panel.step}s earlier, real post-period left out"}])


def _interval(r_grid: np.ndarray, p_r: np.ndarray, alpha: float) -> tuple[float, float]:
    """The range of effects not rejected at ``alpha`` (inf where it reaches the grid's edge)."""
    ok = np.flatnonzero(p_r > alpha)
    if ok.size == 0:
        return np.nan, np.nan
    lo = -np.inf if ok[0] == 0 else float(r_grid[ok[0]])
    hi = np.inf if ok[-1] == r_grid.size - 1 else float(r_grid[ok[-1]])
    return lo, hi
