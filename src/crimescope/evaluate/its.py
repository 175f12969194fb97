"""Interrupted time series: the treated areas' own series, before and after, with seasonality.

The simplest reading: the treated areas' counts summed per period, ``y_t``, fitted by
a Poisson log-linear model (statsmodels GLM)::

    log E[y_t] = a + b t + season(t) + c log(C_t) + d x_t

``season`` is month-of-year indicators (monthly panels) or three annual Fourier
pairs (weekly panels); ``x_t`` the share of the treated areas whose start has
passed (1 after a single start; steps for a staggered rollout) and ``C_t`` the comparison
areas' sum (the rest of the city; ``comparison="covariate"``, the default: a comparative ITS, so that
a citywide rise or fall is not read as the effect; ``comparison="none"`` drops it). ``exp(d) - 1`` is
the proportional change. Standard errors are Newey-West (HAC, ``maxlags`` periods),
robust to overdispersion and to autocorrelation; ``family="negbin"`` fits a negative
binomial instead (dispersion estimated, no HAC).

With ``comparison="none"`` anything else that changed at the start (a citywide rise or
fall) is read as the effect; the same model is then fitted to the comparison areas' sum
as a check, and a warning says when they changed significantly too. Even comparative, a
single series with HAC errors misses the slow drift of an area's share of the city: the
planted-effect benchmark finds it over-rejects (docs/benchmarks/evaluate.md).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import ParameterError
from .base import EffectResult, Method, check_level

__all__ = ["InterruptedTimeSeries", "its_fit"]


def _design(panel, x: np.ndarray, comparison: np.ndarray | None = None) -> np.ndarray:
    T = panel.n_periods
    t = np.arange(T, dtype=float)
    cols = [np.ones(T), (t - t.mean()) / max(T, 1)]
    if comparison is not None:
        lc = np.log(np.maximum(comparison, 0.5))
        cols.append(lc - lc.mean())
    if panel.step == "month":
        months = np.array([p.month for p in panel.periods])
        for m in range(2, 13):
            if np.any(months == m):
                cols.append((months == m).astype(float))
    else:
        doy = np.array([p.timetuple().tm_yday for p in panel.periods], dtype=float)
        for k in range(1, 4):
            cols.append(np.sin(2 * np.pi * k * doy / 365.25))
            cols.append(np.cos(2 * np.pi * k * doy / 365.25))
    cols.append(x)
    return np.column_stack(cols)


def its_fit(y: np.ndarray, X: np.ndarray, family: str = "poisson", maxlags: int = 3) -> tuple[float, float, object]:
    """``(d, se(d), results)`` for the last column of ``X``."""
    import statsmodels.api as sm

    if family == "poisson":
        res = sm.GLM(y, X, family=sm.families.Poisson()).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags})
    else:
        res = sm.NegativeBinomial(y, X).fit(disp=False, maxiter=200)
    return float(res.params[X.shape[1] - 1]), float(res.bse[X.shape[1] - 1]), res


class InterruptedTimeSeries(Method):
    """Poisson (HAC) or negative binomial segmented regression on the treated areas' series."""

    name = "its"
    label = "Interrupted time series"
    summary = "Interrupted time series (Poisson GLM with trend, seasonality and the rest of the city, HAC errors)"
    assumptions = (
        "the pre-period trend and seasonal pattern would have continued without the intervention",
        "the rest of the city's log count (a covariate) carries the citywide changes; a change of the treated "
        "areas' own at the start is read as the effect (with comparison='none', a citywide change too)",
        "a level change at the start, the same proportional size in every post period",
    )

    def __init__(self, family: str = "poisson", maxlags: int | None = None, level: float = 0.95,
                 comparison: str = "covariate"):
        self.comparison = comparison
        self.family = family
        self.maxlags = maxlags
        self.level = level

    def _validate(self) -> None:
        check_level(self.level)
        if self.comparison not in ("covariate", "none"):
            raise ParameterError(f"invalid comparison={self.comparison!r}: expected covariate or none")
        if self.family not in ("poisson", "negbin"):
            raise ParameterError(f"invalid family={self.family!r}: expected poisson or negbin")
        if self.maxlags is not None and (isinstance(self.maxlags, bool) or not isinstance(self.maxlags, int)
                                         or self.maxlags < 0):
            raise ParameterError(f"invalid maxlags={self.maxlags!r}: expected an integer >= 0 or None")

    def _fit(self, panel, g) -> EffectResult:
        import pandas as pd

        tr = np.flatnonzero(g >= 0)
        ctl = np.flatnonzero(g < 0)
        T = panel.n_periods
        x = np.zeros(T)
        for i in tr:
            x[g[i]:] += 1.0 / tr.size
        lags = int(self.maxlags if self.maxlags is not None else (8 if panel.step == "week" else 3))
        comp = None
        if self.comparison == "covariate" and ctl.size:
            comp = panel.counts[ctl].sum(axis=0)
            if comp.sum() == 0:
                comp = None
        X = _design(panel, x, comp)
        if int(g[tr].min()) < X.shape[1]:
            raise ParameterError(f"ITS needs more pre-periods than the {X.shape[1]} model terms")
        y = panel.counts[tr].sum(axis=0)
        if y.sum() == 0:
            raise ParameterError("ITS: the treated areas have no record in the panel")
        d, se, res = its_fit(y, X, self.family, lags)
        z = stats.norm.ppf(0.5 + self.level / 2)
        p = float(2 * stats.norm.sf(abs(d / se))) if se > 0 else np.nan
        rel, lo, hi = np.expm1(d), np.expm1(d - z * se), np.expm1(d + z * se)
        mu = np.asarray(res.predict(X))
        X0 = X.copy()
        X0[:, -1] = 0
        cf = np.asarray(res.predict(X0))
        series = pd.DataFrame({"period": [str(p_) for p_ in panel.periods], "observed": y, "fitted": mu,
                               "counterfactual": cf, "exposure": x})
        warns = []
        check = pd.DataFrame()
        if ctl.size:
            yc = panel.counts[ctl].sum(axis=0)
            if yc.sum() > 0:
                dc, sec, _ = its_fit(yc, _design(panel, x), self.family, lags)
                pc = float(2 * stats.norm.sf(abs(dc / sec))) if sec > 0 else np.nan
                check = pd.DataFrame([{"series": "comparison areas (sum)", "relative": float(np.expm1(dc)),
                                       "p_value": pc}])
                if pc < 0.05 and comp is None:
                    warns.append(f"the comparison areas changed too ({100 * np.expm1(dc):+.0f}%, p = {pc:.3g}) "
                                 "at the same start: ITS cannot tell the intervention from a citywide change; "
                                 "read did/cs/synth instead")
        post = x > 0
        est = float((y[post] - cf[post]).mean())
        table = pd.DataFrame([{"term": "level change (log rate ratio)", "coef": d, "se": se, "p_value": p,
                               "rate_ratio": float(np.exp(d)), "relative": rel, "relative_low": lo,
                               "relative_high": hi}])
        return EffectResult(
            method=self.name, estimate=est, ci_low=float((y[post] - cf[post] * np.exp(z * se)).mean()),
            ci_high=float((y[post] - cf[post] * np.exp(-z * se)).mean()), p_value=p,
            relative=float(rel), relative_low=float(lo), relative_high=float(hi),
            scale=f"records per {panel.step} in the treated areas together (observed minus modelled "
                  "counterfactual, post-period mean)",
            level=self.level, table=table, tables={"series": series, "comparison_check": check},
            warnings=warns,
            meta={"model": ("Poisson GLM, Newey-West HAC errors with " f"{lags} lags" if self.family == "poisson"
                            else "negative binomial (NB2)") + ("; log of the comparison areas' sum as a covariate"
                                                               if comp is not None else "; no comparison series"),
                  "seasonality": ("month-of-year indicators" if panel.step == "month"
                                  else "3 annual Fourier pairs"),
                  "inference": "normal approximation on the log rate ratio"})
