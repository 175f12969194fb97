"""Is the change real? Tests of two counts, of a count against an N-year average, and
false discovery control across a table.

Methods (docs/counting.md, "Is the change real?"):

* **Two counts with exposure** (this year's span vs last year's; one area vs another).
  Under "no change" the rates are equal, so given the total ``n = c1 + c2`` the first
  count is ``Binomial(n, e1 / (e1 + e2))`` (Przyborowski & Wilenski 1940; the exact
  conditional test that Krishnamoorthy & Thomson 2004 call the "C-test"). The two-sided
  p-value is statsmodels' ``test_poisson_2indep(method="exact-cond")`` (minimum-likelihood
  two-sided binomial p-value), vectorised here and pinned to it by a parity test. The 95% interval of the rate ratio
  ``(c1/e1) / (c2/e2)`` is the exact conditional (Clopper-Pearson) interval of the
  binomial proportion, ``p/(1-p) * e2/e1`` (statsmodels ``proportion_confint(method="beta")``).
  Both are exact for any count, 0 included. The label follows the p-value; at the 5%
  boundary the central interval and the minimum-likelihood p-value can disagree.
* **A count against an N-year average** (quasi-Poisson): the previous years' counts share
  one rate; their scatter beyond Poisson is the dispersion
  ``phi = max(1, Pearson chi2 / (N - 1))``; ``t = (y0 - mu0) / sqrt(phi * mu0 * (1 + e0 / sum e))``
  against Student's t with N-1 degrees of freedom (McCullagh & Nelder 1989, ch. 4).
* **Many cells** (a CompStat table): Benjamini & Hochberg (1995) step-up q-values over
  the cells with at least one record; a cell is flagged when ``q <= level``.

"Beyond normal variation" means the test rejects "no change" at the stated level; it
says nothing about why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ALPHA", "FDR_LEVEL", "LABEL_UP", "LABEL_DOWN", "LABEL_WITHIN", "TEST_COLUMNS",
           "RateTest", "rate_test", "rate_tests", "average_test", "change_label", "bh_qvalues", "add_rate_tests",
           "flag_table", "TWO_COUNT_METHOD", "AVERAGE_METHOD", "fdr_note"]

#: how a table shows what a RateTest holds as infinity
TABLE_NOTE = ("rate_ratio and ci_high are empty when the reference count is 0 (the ratio and the upper limit "
              "are unbounded); p_value and label are still given")
ALPHA = 0.05
FDR_LEVEL = 0.05
LABEL_UP = "up, beyond normal variation"
LABEL_DOWN = "down, beyond normal variation"
LABEL_WITHIN = "within normal variation"
#: the columns a table gains from :func:`add_rate_tests`, in order
TEST_COLUMNS = ("rate_ratio", "ci_low", "ci_high", "p_value", "label")

TWO_COUNT_METHOD = ("exact conditional test of two Poisson counts with exposure in days (binomial "
                    "given the total; statsmodels test_poisson_2indep method='exact-cond', two-sided); "
                    "rate ratio with its 95% exact (Clopper-Pearson) conditional interval")
AVERAGE_METHOD = ("quasi-Poisson test against the N-year average: dispersion from the previous years' "
                  "counts (Pearson chi2/(N-1), at least 1), Student's t with N-1 df; rate ratio with "
                  "a 95% log-scale interval")


@dataclass(frozen=True)
class RateTest:
    """A comparison of a count with a reference.

    Attributes
    ----------
    rate_ratio : float or None
        ``(count/exposure) / (reference/reference exposure)``; ``inf`` when the reference
        is 0 and the count is not; None when both are 0.
    ci_low, ci_high : float or None
        The 95% interval of the rate ratio (``ci_high`` may be ``inf``).
    p_value : float or None
        Two-sided p-value of "no change"; None when there is nothing to test.
    label : str
        :data:`LABEL_UP`, :data:`LABEL_DOWN` or :data:`LABEL_WITHIN` at ``alpha``.
    method : str
        Which test was run.
    dispersion : float or None
        The quasi-Poisson dispersion (average tests only).
    """

    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    label: str
    method: str
    dispersion: float | None = None

    def as_dict(self) -> dict:
        return {"rate_ratio": self.rate_ratio, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "p_value": self.p_value, "label": self.label}


def change_label(rate_ratio, p_value, alpha: float = ALPHA, flagged: bool | None = None) -> str:
    """The plain label: beyond normal variation (up or down) when ``p <= alpha`` (or ``flagged``)."""
    beyond = flagged if flagged is not None else (p_value is not None and p_value <= alpha)
    if not beyond or rate_ratio is None or rate_ratio == 1:
        return LABEL_WITHIN
    return LABEL_UP if rate_ratio > 1 else LABEL_DOWN


def _check(count, exposure, name):
    if count is None or exposure is None:
        raise _param(f"{name}: a count and an exposure are needed")
    c = float(count)
    if c < 0 or c != int(c):
        raise _param(f"{name}: a count is a whole number >= 0, not {count!r}")
    e = float(exposure)
    if not e > 0 or math.isinf(e):
        raise _param(f"{name}: the exposure must be > 0, not {exposure!r}")
    return int(c), e


def _param(msg):
    from ..errors import ParameterError

    return ParameterError(msg)


def rate_test(count, exposure, ref_count, ref_exposure, alpha: float = ALPHA) -> RateTest:
    """Exact conditional test of ``count`` over ``exposure`` vs ``ref_count`` over ``ref_exposure``.

    Exposures are in any common unit (days for two spans, residents for two areas).
    """
    c1, e1 = _check(count, exposure, "count")
    c2, e2 = _check(ref_count, ref_exposure, "reference")
    return rate_tests([c1], [e1], [c2], [e2], alpha)[0]


def rate_tests(counts, exposures, ref_counts, ref_exposures, alpha: float = ALPHA) -> list[RateTest]:
    """:func:`rate_test` over sequences at once (one pass of NumPy/SciPy calls).

    The p-value reproduces statsmodels' ``test_poisson_2indep(method="exact-cond")``, i.e.
    SciPy's ``binomtest`` two-sided (minimum likelihood, relative tolerance 1e-7), vectorised;
    the parity test in tests/stats/test_significance.py pins it to 1e-10.
    """
    checked = _checked_arrays(counts, exposures, ref_counts, ref_exposures)
    if checked is None:
        return []
    c1, _, c2, _ = checked
    ratio, lo, hi, pvals = _rate_arrays(*checked)
    out = []
    for n_i, c2_i, rr, p, lo_i, hi_i in zip((c1 + c2).tolist(), c2.tolist(), ratio.tolist(), pvals.tolist(),
                                            lo.tolist(), hi.tolist()):
        if n_i == 0:
            out.append(RateTest(None, None, None, None, LABEL_WITHIN, TWO_COUNT_METHOD))
            continue
        rr = math.inf if c2_i == 0 else rr
        out.append(RateTest(rr, lo_i, hi_i, p, change_label(rr, p, alpha), TWO_COUNT_METHOD))
    return out


def _rate_arrays(c1, e1, c2, e2):
    """``(rate ratio, ci_low, ci_high, p_value)`` arrays of the exact conditional tests of checked
    arrays (:func:`_checked_arrays`): what :func:`rate_tests` puts in its RateTests (a cell with no
    record in either span has NaN p; the ratio of a zero reference is inf or NaN there)."""
    import numpy as np

    n = c1 + c2
    p0 = e1 / (e1 + e2)
    pvals = _exact_cond_pvalues(c1, n, p0)
    # Clopper-Pearson interval of the binomial proportion c1/n, as rate ratios
    half = (1 - 0.95) / 2
    ok = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        lo_p = np.where((c1 == 0) | ~ok, 0.0, _beta_ppf(half, np.maximum(c1, 1), n - c1 + 1))
        hi_p = np.where((c1 == n) | ~ok, 1.0, _beta_ppf(1 - half, c1 + 1, np.maximum(n - c1, 1)))
        scale = e2 / e1
        lo = lo_p / (1 - lo_p) * scale
        hi = np.where(hi_p >= 1.0, np.inf, hi_p / (1 - hi_p) * scale)
        ratio = (c1 / e1) / (c2 / e2)
    return ratio, lo, hi, pvals


# The binomial and beta functions of scipy.stats' distribution objects, called as the ufuncs they
# wrap: ``binom.pmf`` / ``cdf`` / ``sf`` and ``beta.ppf`` check their arguments, reduce them and place
# the results per call (about 0.1 ms each, ~20 calls per table: a third of a CompStat's tests). The
# arguments here are always valid (whole n >= 0, 0 < p < 1, beta shapes >= 1, 0 < q < 1), so the
# values are the ufuncs' (clipped to [0, 1] as the objects clip them), the outcomes outside the
# support as the objects set them; tests/stats/test_significance.py pins them to scipy.stats,
# value for value. Without the ufuncs (another SciPy), the objects themselves.
try:
    from scipy.special import betaincinv as _betaincinv
    from scipy.special._ufuncs import _binom_cdf, _binom_pmf, _binom_sf
except ImportError:  # pragma: no cover - a SciPy without them
    _binom_pmf = None


def _beta_ppf(q, a, b):
    """``scipy.stats.beta.ppf(q, a, b)`` for 0 < q < 1 and shapes > 0."""
    if _binom_pmf is None:  # pragma: no cover
        from scipy.stats import beta

        return beta.ppf(q, a, b)
    return _betaincinv(a, b, q)


def _pmf(k, n, p):
    """``scipy.stats.binom.pmf(k, n, p)`` for whole ``0 <= k <= n`` (arrays of one shape)."""
    import numpy as np

    if _binom_pmf is None:  # pragma: no cover
        from scipy.stats import binom

        return binom.pmf(k, n, p)
    return np.clip(_binom_pmf(k, n, p), 0, 1)


def _cdf(k, n, p):
    """``scipy.stats.binom.cdf(k, n, p)`` for whole ``k`` (1 from ``k >= n``, 0 below 0)."""
    import numpy as np

    if _binom_pmf is None:  # pragma: no cover
        from scipy.stats import binom

        return binom.cdf(k, n, p)
    out = np.where(k >= n, 1.0, 0.0)
    inside = (k >= 0) & (k < n)
    if inside.any():
        out[inside] = np.clip(_binom_cdf(k[inside], n[inside], p[inside]), 0, 1)
    return out


def _sf(k, n, p):
    """``scipy.stats.binom.sf(k, n, p)`` for whole ``k`` (1 below 0, 0 from ``k >= n``)."""
    import numpy as np

    if _binom_pmf is None:  # pragma: no cover
        from scipy.stats import binom

        return binom.sf(k, n, p)
    out = np.where(k < 0, 1.0, 0.0)
    inside = (k >= 0) & (k < n)
    if inside.any():
        out[inside] = np.clip(_binom_sf(k[inside], n[inside], p[inside]), 0, 1)
    return out


def _checked_arrays(counts, exposures, ref_counts, ref_exposures):
    """``(c1, e1, c2, e2)`` as int64 / float64 arrays, each entry as :func:`_check` returns it
    (None when there are no entries). Whole arrays are checked at once; unless every entry passes,
    the entries are checked one by one (:func:`_check`: its error for the first bad one)."""
    import numpy as np

    cols = [list(x) for x in (counts, exposures, ref_counts, ref_exposures)]
    if cols[0] and len({len(x) for x in cols}) == 1:
        try:
            c1, e1, c2, e2 = (np.array(x, dtype="float64") for x in cols)
        except (TypeError, ValueError):
            c1 = None
        if c1 is not None and all(x.ndim == 1 for x in (c1, e1, c2, e2)):
            with np.errstate(invalid="ignore"):
                whole = all(bool(np.all(np.isfinite(c) & (c >= 0) & (c == np.floor(c)) & (c < 2.0 ** 53)))
                            for c in (c1, c2))
                positive = all(bool(np.all((e > 0) & ~np.isinf(e))) for e in (e1, e2))
            if whole and positive:
                return c1.astype("int64"), e1, c2.astype("int64"), e2
    checked = [(_check(c, e, "count"), _check(rc, re, "reference")) for c, e, rc, re in zip(*cols)]
    if not checked:
        return None
    return (np.array([x[0] for x, _ in checked], dtype="int64"), np.array([x[1] for x, _ in checked], dtype="float64"),
            np.array([y[0] for _, y in checked], dtype="int64"), np.array([y[1] for _, y in checked], dtype="float64"))


def _exact_cond_pvalues(k, n, p):
    """Two-sided minimum-likelihood binomial p-values, as ``scipy.stats.binomtest`` computes them.

    For each cell: ``d = pmf(k)``; the tail on the other side of the mode counts the ``y``
    outcomes with ``pmf <= d * (1 + 1e-7)``; ``p = cdf(k) + sf(n - y)`` (``k`` below the mean)
    or ``cdf(y - 1) + sf(k - 1)`` (above). ``n = 0``: NaN. The pmf is monotone on each side of
    the mode, so ``y`` is found, as SciPy finds it, by a binary search: here one search for all
    cells at once, a pmf call over the cells still searching per step (about log2(n) steps)
    instead of one over every outcome of the other side (the former code, kept in
    tests/stats/test_significance.py as the reference this one equals).
    """
    import numpy as np

    k, n, p = np.asarray(k, dtype="int64"), np.asarray(n, dtype="int64"), np.asarray(p, dtype="float64")
    rerr = 1 + 1e-7
    ok = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        d = _pmf(k, n, p)
    below = k < p * n
    cells = np.flatnonzero(ok & (k != p * n))
    b = below[cells]
    lo = np.where(b, np.ceil(p[cells] * n[cells]), 0).astype("int64")
    hi = np.where(b, n[cells], np.floor(p[cells] * n[cells])).astype("int64")
    nc, pc, thr = n[cells], p[cells], d[cells] * rerr
    # the first x of lo..hi+1 where "pmf(x) <= thr" (below: pmf falls) or "pmf(x) > thr" (above:
    # pmf rises) holds; every x before it fails the test and every one from it passes
    left, right = lo.copy(), hi + 1
    todo = np.flatnonzero(left < right)
    while len(todo):
        mid = (left[todo] + right[todo]) // 2
        with np.errstate(invalid="ignore", divide="ignore"):
            hit = _pmf(mid, nc[todo], pc[todo]) <= thr[todo]
        past = np.where(b[todo], hit, ~hit)
        right[todo[past]] = mid[past]
        left[todo[~past]] = mid[~past] + 1
        todo = todo[left[todo] < right[todo]]
    y = np.zeros(len(k), dtype="int64")
    y[cells] = np.where(b, hi - left + 1, left - lo)
    with np.errstate(invalid="ignore", divide="ignore"):
        low_side = _cdf(k, n, p) + _sf(n - y, n, p)
        high_side = _cdf(y - 1, n, p) + _sf(k - 1, n, p)
    out = np.minimum(1.0, np.where(below, low_side, high_side))
    out[k == p * n] = 1.0
    out[~ok] = np.nan
    return out


def average_test(count, exposure, ref_counts, ref_exposures, alpha: float = ALPHA) -> RateTest:
    """Quasi-Poisson test of ``count`` against the average rate of ``ref_counts`` (N >= 2 years).

    With one reference year this is :func:`rate_test`. ``ref_exposures``: one per count.
    """
    from scipy import stats as st

    ref_counts, ref_exposures = list(ref_counts), list(ref_exposures)
    if len(ref_counts) != len(ref_exposures) or not ref_counts:
        raise _param("average test: one exposure per reference count, at least one count")
    if len(ref_counts) == 1:
        return rate_test(count, exposure, ref_counts[0], ref_exposures[0], alpha)
    y0, e0 = _check(count, exposure, "count")
    ys, es = zip(*[_check(c, e, "reference") for c, e in zip(ref_counts, ref_exposures)])
    n = len(ys)
    sy, se = sum(ys), sum(es)
    if sy == 0:
        if y0 == 0:
            return RateTest(None, None, None, None, LABEL_WITHIN, AVERAGE_METHOD, None)
        # no record in any reference year: the exact test against their pooled zero
        t = rate_test(y0, e0, 0, se, alpha)
        return RateTest(t.rate_ratio, t.ci_low, t.ci_high, t.p_value, t.label,
                        AVERAGE_METHOD + " (all reference counts 0: exact conditional test instead)")
    lam = sy / se
    chi2 = sum((y - lam * e) ** 2 / (lam * e) for y, e in zip(ys, es))
    phi = max(1.0, chi2 / (n - 1))
    mu0 = lam * e0
    tstat = (y0 - mu0) / math.sqrt(phi * mu0 * (1 + e0 / se))
    p = float(min(1.0, 2 * st.t.sf(abs(tstat), n - 1)))
    rr = (y0 / e0) / lam
    q = float(st.t.ppf(0.975, n - 1))
    # log-scale interval; a zero count gets 0.5 in the standard error only
    sd = math.sqrt(phi / max(y0, 0.5) + phi / sy)
    lo = 0.0 if y0 == 0 else rr * math.exp(-q * sd)
    # an interval wider than a float (e.g. reference years of 0 and 1,560: phi ~ 1,500 on 1 df) is
    # unbounded above, not an OverflowError
    hi = (0.5 / e0 / lam if y0 == 0 else rr) * math.exp(q * sd) if q * sd < 700 else math.inf
    return RateTest(rr, lo, hi, p, change_label(rr, p, alpha), AVERAGE_METHOD, phi)


def bh_qvalues(pvalues):
    """Benjamini-Hochberg adjusted p-values (q-values); None entries stay None (not in the family)."""
    import numpy as np

    idx = [i for i, p in enumerate(pvalues) if p is not None and p == p]
    out = [None] * len(pvalues)
    if not idx:
        return out
    p = np.asarray([float(pvalues[i]) for i in idx])
    m = len(p)
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.minimum(q, 1.0)
    qs = np.empty(m)
    qs[order] = q
    for i, v in zip(idx, qs):
        out[i] = float(v)
    return out


def add_rate_tests(df, count="count", exposure="exposure_days", ref_count="prev_count",
                   ref_exposure="prev_exposure_days", alpha: float = ALPHA):
    """``df`` with :data:`TEST_COLUMNS` appended, one exact test per row."""
    tests = [t.as_dict() for t in rate_tests(df[count].tolist(), df[exposure].tolist(), df[ref_count].tolist(),
                                              df[ref_exposure].tolist(), alpha)]
    for col in TEST_COLUMNS:
        df[col] = [t[col] for t in tests]
    return df


def flag_table(df, level: float = FDR_LEVEL):
    """Benjamini-Hochberg across the table's rows: adds ``q_value`` and ``flagged`` and relabels.

    Rows with no p-value (no record in either span) are outside the family. Returns
    ``(df, summary)`` with ``summary = {"tested", "flagged", "level"}``.
    """
    q = bh_qvalues(df["p_value"].tolist())
    df["q_value"] = q
    df["flagged"] = [v is not None and v <= level for v in q]
    df["label"] = [change_label(r, None, flagged=f) for r, f in zip(df["rate_ratio"].tolist(), df["flagged"].tolist())]
    summary = {"tested": sum(v is not None for v in q), "flagged": int(sum(df["flagged"])), "level": level}
    return df, summary


def fdr_note(summary: dict, what: str = "cells") -> str:
    return (f"{summary['flagged']} of {summary['tested']} {what} are beyond normal variation "
            f"(Benjamini-Hochberg false discovery rate {summary['level']:.0%} across the table's tested "
            f"{what}; a {what[:-1]} with no record in either span is not tested); the label and the "
            "dashboard colour follow this flag, not the cell's own p-value")


def _covered_years(store, source: str, category, years) -> list[int]:
    """The years among ``years`` for which the store holds ``category`` from ``source``.

    The one coverage hook of the significance tests, answered by the coverage record
    (:mod:`crimescope.store.coverage`): a year counts as covered when the store holds the
    category on every day from January 1 to December 31, or to the last day it holds the
    category at all (the current year). A test whose span falls in a year not covered is
    refused, never run on a zero.
    """
    import datetime as _dt

    from ..categories import get_category
    from ..store import coverage as _cov

    years = sorted({int(y) for y in years})
    if not years:
        return []
    cat = get_category(category)
    if not _cov._supports(store):  # a compute engine without the store's metadata: as given
        return years
    spans = _cov.category_spans(store, source, cat)
    if not spans:
        return []
    last = max(b for _, b in spans)

    def held(lo, hi):
        return any(a <= lo and hi <= b for a, b in spans)

    return [y for y in years if _dt.date(y, 1, 1) <= last
            and held(_dt.date(y, 1, 1), min(_dt.date(y, 12, 31), last))]




# ------------------------------------------------------------------ table hooks
def _span_days(start, end) -> int:
    return (end - start).days + 1


def _not_covered(missing) -> str:
    return "not tested: " + ", ".join(str(y) for y in sorted(missing)) + " not covered by the store"


def ytd_tests(df, by, as_of_year: int, covered_years, comparison: list[dict] | None = None,
              alpha: float = ALPHA):
    """The tests of a :func:`~crimescope.stats.periods.ytd` table.

    Every row gains :data:`TEST_COLUMNS` (vs the previous year's same span, exposure = days
    in each span); the as-of year's rows also gain ``avg_rate_ratio``, ``avg_ci_low``,
    ``avg_ci_high``, ``avg_p_value``, ``avg_label`` and ``avg_dispersion`` (quasi-Poisson
    test against the average of the previous years, :func:`average_test`). A year not in
    ``covered_years`` is not tested (label says so; never a test on a zero). ``comparison``
    entries (``meta["comparison"]``, same order as the as-of year's rows) gain
    ``test_vs_last_year`` and ``test_vs_avg``.
    """
    import pandas as pd

    covered = set(int(y) for y in covered_years)
    by = list(by)
    n = len(df)
    out = {c: [None] * n for c in TEST_COLUMNS}
    avg = {c: [None] * n for c in ("avg_rate_ratio", "avg_ci_low", "avg_ci_high", "avg_p_value",
                                   "avg_label", "avg_dispersion")}
    groups = df.groupby(by, dropna=False, sort=False) if by else [((), df)]
    # the two-count tests of the whole table in one vectorised pass (rate_tests), each distinct
    # (count, days, reference, days) once: with one previous year the test against the average
    # is that same test (average_test -> rate_test)
    pending: dict[tuple, list] = {}
    for _, g in groups:
        g = g.sort_values("year")
        rows = list(g.itertuples())
        for i, r in enumerate(rows):
            if i == 0:
                continue
            p = rows[i - 1]
            missing = {y for y in (r.year, p.year) if y not in covered}
            if missing:
                out["label"][r.Index] = _not_covered(missing)
                continue
            key = (r.count, _span_days(r.start, r.end), p.count, _span_days(p.start, p.end))
            pending.setdefault(key, []).append((out, "", r.Index))
        cur = rows[-1]
        if cur.year != as_of_year or len(rows) < 2:
            continue
        refs = rows[:-1]
        missing = {y for y in [cur.year, *(x.year for x in refs)] if y not in covered}
        if missing:
            avg["avg_label"][cur.Index] = _not_covered(missing)
            continue
        if len(refs) == 1:
            key = (cur.count, _span_days(cur.start, cur.end), refs[0].count, _span_days(refs[0].start, refs[0].end))
            pending.setdefault(key, []).append((avg, "avg_", cur.Index))
            continue
        t = average_test(cur.count, _span_days(cur.start, cur.end), [x.count for x in refs],
                         [_span_days(x.start, x.end) for x in refs], alpha)
        for c, v in t.as_dict().items():
            avg["avg_" + c][cur.Index] = v
        avg["avg_dispersion"][cur.Index] = t.dispersion
    keys = list(pending)
    for key, t in zip(keys, rate_tests(*zip(*keys), alpha=alpha) if keys else []):
        for into, prefix, idx in pending[key]:
            for c, v in t.as_dict().items():
                into[prefix + c][idx] = v
            if prefix:
                into["avg_dispersion"][idx] = t.dispersion
    for c, v in {**out, **avg}.items():
        df[c] = pd.Series([_round(c, x) for x in v], index=df.index, dtype="object")
    if comparison is not None:
        cur_rows = df.index[df["year"] == as_of_year]
        for entry, i in zip(comparison, cur_rows):
            entry["test_vs_last_year"] = {c: df.at[i, c] for c in TEST_COLUMNS}
            entry["test_vs_avg"] = {c: df.at[i, "avg_" + c] for c in (*TEST_COLUMNS, "dispersion")}
    return df


def ytd_meta(years: int) -> dict:
    """What the ytd test columns are (``meta["tests"]``) and the caption note."""
    return {
        "vs_prev_year": TWO_COUNT_METHOD + f"; level {ALPHA:.0%}",
        "vs_avg": (AVERAGE_METHOD + f" ({years} previous years)" if years >= 2 else
                   "with one previous year the average is that year: the exact conditional test"),
        "labels": [LABEL_UP, LABEL_WITHIN, LABEL_DOWN],
    }


def ytd_note(years: int) -> str:
    return ("rate_ratio/ci_low/ci_high/p_value/label: each year vs the year before, " + TWO_COUNT_METHOD
            + "; " + TABLE_NOTE
            + "; avg_*: the as-of year vs the average of the previous years, "
            + (AVERAGE_METHOD if years >= 2 else "the exact conditional test (one year)"))


def _round(col: str, v):
    """Table precision: ratios and intervals to 4 decimals, p- and q-values to 4 significant digits.

    An infinite ratio or upper limit (no record in the reference span) is empty in a table
    (JSON has no infinity); :data:`TABLE_NOTE` says so.
    """
    if isinstance(v, float) and math.isinf(v):
        return None
    if v is None or isinstance(v, str):
        return v
    if col.endswith(("p_value", "q_value")):
        return float(f"{v:.4g}")
    return round(float(v), 4)


def compstat_tests(df, covered_years, level: float = FDR_LEVEL, alpha: float = ALPHA):
    """The tests of a CompStat table: :data:`TEST_COLUMNS`, ``q_value`` and ``flagged``.

    One exact test per cell (exposure = days in each span), then Benjamini-Hochberg at
    ``level`` across the tested cells; the label follows the flag. A cell whose spans fall
    in a year not in ``covered_years`` is not tested. Returns ``(df, summary)``.

    The columns are :func:`compstat_test_columns` of the table's cells.
    """
    import pandas as pd

    cols, summary = compstat_test_columns(*(df[c].tolist() for c in ("category", "start", "end", "prev_start",
                                                                       "prev_end", "count", "prev_count")),
                                          covered_years, level, alpha)
    for c in (*TEST_COLUMNS, "q_value"):
        if c != "label":
            df[c] = pd.Series(cols[c], index=df.index, dtype="object")
        else:  # placed where the column goes (as an object column first), then the labels
            df[c] = pd.Series([None] * len(df), index=df.index, dtype="object")
    df["flagged"] = cols["flagged"]
    df["label"] = cols["label"]
    return df, summary


def compstat_test_columns(category, start, end, prev_start, prev_end, count, prev_count, covered_years,
                          level: float = FDR_LEVEL, alpha: float = ALPHA) -> tuple[dict, dict]:
    """The test columns of CompStat cells given as parallel sequences: ``{rate_ratio, ci_low,
    ci_high, p_value, label, q_value, flagged}`` (lists, one entry per cell, rounded as a table
    shows them) and the summary ``{tested, flagged, level, cells}``.

    Each (category, years of the spans) is looked up once; each distinct (count, days, reference,
    days) is tested and rounded once (a table repeats many: small counts over the same spans), its
    values those of :func:`rate_tests` (the same arrays); Benjamini-Hochberg over every tested cell.
    """
    per_cat = isinstance(covered_years, dict)
    spans_of: dict = {}  # (category, spans) -> (not-tested label or None, days, reference days)
    n_cells = len(category)
    untested: dict[int, str] = {}  # cell -> the "not tested" label
    slot: dict[tuple, int] = {}  # distinct test -> its index
    which = [-1] * n_cells  # cell -> index of its test (-1: not tested)
    for i, key in enumerate(zip(category, start, end, prev_start, prev_end)):
        got = spans_of.get(key)
        if got is None:
            cat, s, e, ps, pe = key
            covered = covered_years.get(cat, ()) if per_cat else covered_years
            missing = {s.year, e.year, ps.year, pe.year} - set(covered)
            got = spans_of[key] = (_not_covered(missing) if missing else None, _span_days(s, e), _span_days(ps, pe))
        if got[0] is not None:
            untested[i] = got[0]
            continue
        which[i] = slot.setdefault((count[i], got[1], prev_count[i], got[2]), len(slot))
    keys = list(slot)
    checked = _checked_arrays(*zip(*keys)) if keys else None
    if checked is not None:
        c1, _, c2, _ = checked
        ratio, lo, hi, pv = _rate_arrays(*checked)
        n_t = (c1 + c2).tolist()
        # what each distinct test puts in its cells: rate_tests' values rounded as _round rounds
        # them (ratios and limits to 4 decimals, an infinite one empty; p to 4 significant digits)
        isinf = math.isinf
        rr = [None if n == 0 or r2 == 0 or isinf(r) else round(r, 4)
              for n, r2, r in zip(n_t, c2.tolist(), ratio.tolist())]
        lo_r = [None if n == 0 or isinf(v) else round(v, 4) for n, v in zip(n_t, lo.tolist())]
        hi_r = [None if n == 0 or isinf(v) else round(v, 4) for n, v in zip(n_t, hi.tolist())]
        p_raw = [None if n == 0 else v for n, v in zip(n_t, pv.tolist())]
        p_r = [None if v is None or isinf(v) else float(f"{v:.4g}") for v in p_raw]
    else:
        rr = lo_r = hi_r = p_raw = p_r = []
    q = bh_qvalues([None if j < 0 else p_raw[j] for j in which])
    flagged = [v is not None and v <= level for v in q]
    out = {c: [None] * n_cells for c in TEST_COLUMNS}
    labels = out["label"]
    for col, vals in (("rate_ratio", rr), ("ci_low", lo_r), ("ci_high", hi_r), ("p_value", p_r)):
        o = out[col]
        for i, j in enumerate(which):
            if j >= 0:
                o[i] = vals[j]
    for i, j in enumerate(which):
        if j < 0:
            labels[i] = untested[i]
        elif p_r[j] is None:  # no record in either span
            labels[i] = LABEL_WITHIN
        else:
            labels[i] = change_label(rr[j], None, flagged=flagged[i])
    out["q_value"] = [None if v is None or math.isinf(v) else float(f"{v:.4g}") for v in q]
    out["flagged"] = flagged
    summary = {"tested": sum(v is not None for v in q), "flagged": int(sum(flagged)), "level": level,
               "cells": n_cells}
    return out, summary


def compstat_meta(summary: dict, units=()) -> tuple[dict, list[str]]:
    """``meta["tests"]`` and the caption notes of a tested CompStat table."""
    notes = [fdr_note(summary), TABLE_NOTE]
    if "victims" in units:
        notes.append("victim counts are over-dispersed (one incident can have several victims): the "
                     "exact Poisson test is then somewhat too quick to flag; read a flagged victim cell "
                     "with that in mind")
    tests = {"cell": TWO_COUNT_METHOD, "table": f"Benjamini-Hochberg, false discovery rate {summary['level']:.0%}",
             "tested": summary["tested"], "flagged": summary["flagged"], "cells": summary["cells"],
             "labels": [LABEL_UP, LABEL_WITHIN, LABEL_DOWN]}
    return tests, notes


def _fmt_test(t: dict) -> str:
    if t.get("p_value") is None:
        return t.get("label") or "not tested"
    hi = "unbounded" if t["ci_high"] in (None, math.inf) else f"{t['ci_high']:.2f}"
    rr = "n/a" if t["rate_ratio"] in (None, math.inf) else f"{t['rate_ratio']:.2f}"
    return f"rate ratio {rr} (95% CI {t['ci_low']:.2f}-{hi}), p = {t['p_value']:.3g}: {t['label']}"


def ytd_test_note(entry: dict, years: int) -> str:
    """One caption line: the as-of year's tests vs last year and vs the average."""
    y = entry["year"]
    parts = [f"{y} vs {y - 1}: {_fmt_test(entry['test_vs_last_year'])}"]
    if years >= 2:
        disp = entry["test_vs_avg"].get("dispersion")
        d = f", dispersion {disp:.2f}" if disp is not None else ""
        n = len(entry["avg_years"]) if entry.get("avg_years") is not None else years  # covered years only
        what = f"{n}-year average" if n else "the average of previous years"
        parts.append(f"vs {what}: {_fmt_test(entry['test_vs_avg'])}{d}")
    return "; ".join(parts)


# ------------------------------------------------------------- rates and cities
LABEL_ABOVE = "above the rest of the city, beyond normal variation"
LABEL_BELOW = "below the rest of the city, beyond normal variation"
AREA_METHOD = ("each area's rate vs the rest of the city's (the city minus the area): exact conditional test "
               "of two Poisson counts with the populations as exposures, Benjamini-Hochberg "
               f"{FDR_LEVEL:.0%} across the areas; populations are taken as exact (district populations are "
               "apportioned estimates)")
CITY_METHOD = ("each city vs its own previous year (the 2016 partial year: vs the same span of 2015): exact "
               "conditional test of two Poisson counts, populations as exposures where both years have one "
               f"(else equal exposures), Benjamini-Hochberg {FDR_LEVEL:.0%} across the cities")


def _flag(df, tests, level, up, down):
    import pandas as pd

    q = bh_qvalues([t.p_value if t is not None else None for t in tests])
    for c in ("rate_ratio", "ci_low", "ci_high", "p_value"):
        df[c] = pd.Series([None if t is None else _round(c, getattr(t, c)) for t in tests], index=df.index,
                          dtype="object")
    df["q_value"] = pd.Series([_round("q_value", v) for v in q], index=df.index, dtype="object")
    df["flagged"] = [v is not None and v <= level for v in q]
    labels = []
    for t, f in zip(tests, df["flagged"]):
        if t is None:
            labels.append("not tested")
        elif not f or t.rate_ratio is None or t.rate_ratio == 1:
            labels.append(LABEL_WITHIN)
        else:
            labels.append(up if t.rate_ratio > 1 else down)
    df["label"] = labels
    return df, {"tested": sum(v is not None for v in q), "flagged": int(sum(df["flagged"])), "level": level,
                "cells": len(df)}


def area_tests(df, level: float = FDR_LEVEL):
    """Rates table rows (``count``, ``population``) tested against the rest of the city.

    Rows without a population (records with no area) are not tested but count in the city total.
    """
    counts, pops = df["count"].tolist(), df["population"].tolist()
    has = [p is not None and bool(p == p) and p > 0 for p in pops]
    total_n = sum(int(c) for c in counts)
    total_p = sum(float(p) for p, h in zip(pops, has) if h)
    tests = []
    for c, p, h in zip(counts, pops, has):
        if not h or total_p - float(p) <= 0 or total_n == 0:
            tests.append(None)
            continue
        tests.append(rate_test(int(c), float(p), total_n - int(c), total_p - float(p)))
    return _flag(df, tests, level, LABEL_ABOVE, LABEL_BELOW)


def city_tests(df, prev_counts, prev_pops, level: float = FDR_LEVEL):
    """Cities table rows tested against their previous year (``prev_counts``; NA = not tested)."""
    import pandas as pd

    def missing(v):
        return v is None or bool(pd.isna(v))

    tests = []
    for c, p, pc, pp in zip(df["count"].tolist(), df["population"].tolist(), prev_counts, prev_pops):
        if missing(c) or missing(pc):
            tests.append(None)
            continue
        ok = all(not missing(v) and v > 0 for v in (p, pp))
        tests.append(rate_test(int(c), float(p) if ok else 1.0, int(pc), float(pp) if ok else 1.0))
    return _flag(df, tests, level, LABEL_UP, LABEL_DOWN)
