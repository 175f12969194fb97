"""NOT SHIPPED: the seasonal share's year-to-year variance pooled across the series of a store.

A revision of the pace intervals (issue 13) developed on NYC shootings and Chicago homicide
before 2012 (``benchmarks/bench_pace_dev.py``) and scored once on the bars' data
(``benchmarks/bench_pace.py --method pooled``): the categories' 80% coverage went from 86.0%
to 87.3%, so it was not shipped and ``crimescope.stats.pace`` keeps each series' own variance
(docs/benchmarks/significance.md, "A second revision tried and not shipped"). It is kept here,
outside the package, so that those figures can be reproduced. It was scored as
``src/crimescope/stats/pace_pool.py`` with a ``pooled=`` option of ``seasonal_pace`` (commit
"Pace: protocol for pooling..."); :func:`pooled_pace` is that option written out, and gives the
same numbers (checked on the development rows and 3,000 random inputs).

With 3-5 prior years a series' own estimate of how much its seasonal share varies from year to
year beyond binomial noise (``tau^2`` of :mod:`crimescope.stats.pace`) has 2-4 degrees of freedom,
so the pace's Student t quantile is wide. Other series of the same store at the same date (the
other categories, or areas) say how large that variance usually is. This module pools it:

* per series ``c`` (``n_c`` prior years, shares ``s_cj`` by the date, totals ``T_cj``, pooled
  share ``s_c``) the relative extra-binomial variance ``k_c = (var_j(s_cj) - b_c s_c^2) / s_c^2``
  with ``b_c = mean_j(s_cj (1 - s_cj) / T_cj) / s_c^2`` (a moment estimate, unbiased, may be
  negative), whose sampling variance at a level ``K`` is ``v_c = 2 (b_c + K)^2 / (n_c - 1)``
  (normal theory for a sample variance);
* the pooled level ``K`` and the between-series variance ``A`` by DerSimonian and Laird's
  random-effects moment estimator (1986), iterated until ``K`` is a fixed point (its weights
  ``1 / (v_c + A)`` depend on ``K``);
* each series' estimate shrunk toward ``K`` (Morris 1983): ``kappa_c = max(0, K + B_c (k_c - K))``,
  ``B_c = A / (A + v_c)``, posterior variance ``V_c = B_c v_c + (1 - B_c)^2 Var(K)``,
  ``Var(K) = 1 / sum 1 / (v_c + A)``, and degrees of freedom ``2 kappa_c^2 / V_c`` (Satterthwaite).

Relative (divided by ``s_c^2``) so that series of different sizes and shares are comparable:
the pace's relative error is the share's relative error. Needs at least :data:`MIN_POOL` series;
with fewer, nothing is pooled and the pace is the series' own (``pooled=None``).

References: DerSimonian R., Laird N. (1986) Meta-analysis in clinical trials, Controlled
Clinical Trials 7:177-188; Morris C. N. (1983) Parametric empirical Bayes inference, JASA
78:47-55; Satterthwaite F. E. (1946) Biometrics Bulletin 2:110-114.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["PooledSeason", "SeriesShares", "series_shares", "pool_seasonal", "pooled_pace", "MIN_POOL"]

#: fewest series (each with >= 3 prior years) a pool is fitted from
MIN_POOL = 5


@dataclass(frozen=True)
class SeriesShares:
    """One series' prior years reduced to what the pool needs."""

    n: int          # prior years with records
    share: float    # pooled share sum y_j / sum T_j
    k: float        # relative extra-binomial variance (moment estimate; may be < 0)
    b: float        # relative binomial variance, mean_j s_j (1 - s_j) / T_j / s^2


@dataclass(frozen=True)
class PooledSeason:
    """A series' pooled relative seasonal variance and what it was pooled from.

    ``kappa`` replaces ``tau^2 / s^2`` of the series' own estimate; ``df`` is its degrees of
    freedom; ``level`` (``K``), ``between`` (``A``) and ``n_series`` describe the pool.
    """

    kappa: float
    df: float
    own: float
    level: float
    between: float
    n_series: int


def series_shares(prior_ytd, prior_totals) -> SeriesShares | None:
    """The series' :class:`SeriesShares` (years with no record dropped), or None when it cannot
    enter a pool (fewer than 3 years, a share of 0 or 1 by the date, no binomial variance)."""
    pairs = [(int(a), int(t)) for a, t in zip(prior_ytd, prior_totals) if int(t) > 0]
    n = len(pairs)
    if n < 3:
        return None
    s = sum(a for a, _ in pairs) / sum(t for _, t in pairs)
    if not 0 < s < 1:
        return None
    shares = [a / t for a, t in pairs]
    mean = sum(shares) / n
    var = sum((v - mean) ** 2 for v in shares) / (n - 1)
    binom = sum(v * (1 - v) / t for v, (_, t) in zip(shares, pairs)) / n
    if binom <= 0:
        return None
    return SeriesShares(n, s, (var - binom) / s ** 2, binom / s ** 2)


def pool_seasonal(series: list, max_iter: int = 100) -> list:
    """Pool the relative seasonal variances of ``series`` (a list of :class:`SeriesShares` or
    None): one :class:`PooledSeason` per entry, None where the entry is None or when fewer than
    :data:`MIN_POOL` series can be pooled (module docstring for the estimator)."""
    idx = [i for i, x in enumerate(series) if x is not None]
    out: list = [None] * len(series)
    if len(idx) < MIN_POOL:
        return out
    ks = [series[i].k for i in idx]
    bs = [series[i].b for i in idx]
    ds = [series[i].n - 1 for i in idx]
    K = max(0.0, sum(ks) / len(ks))
    A = 0.0
    for _ in range(max_iter):
        v = [2 * (b + K) ** 2 / d for b, d in zip(bs, ds)]
        w = [1 / x for x in v]
        sw = sum(w)
        k_fixed = sum(wi * ki for wi, ki in zip(w, ks)) / sw
        q = sum(wi * (ki - k_fixed) ** 2 for wi, ki in zip(w, ks))
        c = sw - sum(wi * wi for wi in w) / sw
        A = max(0.0, (q - (len(ks) - 1)) / c) if c > 0 else 0.0
        wr = [1 / (x + A) for x in v]
        k_new = max(0.0, sum(wi * ki for wi, ki in zip(wr, ks)) / sum(wr))
        done = abs(k_new - K) <= 1e-12 + 1e-9 * K
        K = k_new
        if done:
            break
    v = [2 * (b + K) ** 2 / d for b, d in zip(bs, ds)]
    var_level = 1 / sum(1 / (x + A) for x in v)
    for j, i in enumerate(idx):
        B = A / (A + v[j])
        kappa = max(0.0, K + B * (ks[j] - K))
        post = B * v[j] + (1 - B) ** 2 * var_level
        df = 2 * kappa ** 2 / post if kappa > 0 and post > 0 else math.inf
        out[i] = PooledSeason(kappa, df, ks[j], K, A, len(idx))
    return out


def pooled_pace(ytd, prior_ytd, prior_totals, dispersion=1.0, pooled=None, levels=(0.80, 0.95),
                days_elapsed=None, days_in_year=None):
    """The pace of :func:`crimescope.stats.pace.seasonal_pace` with the series' own extra-binomial
    variance of the share replaced by the pooled one, ``tau^2 = kappa s^2``, and the t quantile's
    degrees of freedom by Welch-Satterthwaite's ``(V_count + V_season)^2 / (V_tau^2 / df_kappa)``
    (the counting noise is known; only the ``tau^2`` part is estimated), normal above 10,000 and
    never below 1. ``pooled=None``: exactly ``seasonal_pace``."""
    import dataclasses

    from crimescope.stats.pace import _z, seasonal_pace

    own = seasonal_pace(ytd, prior_ytd, prior_totals, dispersion, levels, days_elapsed, days_in_year)
    y, n, s = own.ytd, own.n_years, own.share
    if s >= 1.0:  # the year is complete
        return _Paced(own, None)
    if pooled is None:
        return _Paced(own, n - 1)
    sum_t = sum(int(t) for t in prior_totals if int(t) > 0)
    tau2 = pooled.kappa * s * s
    est = own.estimate
    var_count = own.sd_counting ** 2
    var_season = (y / s ** 2) ** 2 * (tau2 * (1 + 1 / n) + s * (1 - s) / sum_t)
    sd = math.sqrt(var_count + var_season)
    var_tau = (y / s ** 2) ** 2 * tau2 * (1 + 1 / n)
    df = (var_count + var_season) ** 2 / (var_tau ** 2 / pooled.df) \
        if var_tau > 0 and not math.isinf(pooled.df) else math.inf
    df = None if df > 1e4 else max(1.0, df)
    ivs = {}
    for lv in levels:
        z = _z(lv, df)
        lo, hi = (est * math.exp(-z * sd / est), est * math.exp(z * sd / est)) if est > 0 else (0.0, 0.0)
        ivs[lv] = (max(float(y), lo), max(float(y), hi))
    return _Paced(dataclasses.replace(own, sd=sd, sd_seasonal=math.sqrt(var_season), tau2=tau2, intervals=ivs), df)


class _Paced:
    """A :class:`~crimescope.stats.pace.Pace` with the degrees of freedom of its quantile."""

    def __init__(self, pace, df):
        self._pace, self.df = pace, df

    def __getattr__(self, name):
        return getattr(self._pace, name)
