"""Significance tests: parity with statsmodels, hand-computed cases, BH, quasi-Poisson."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crimescope.errors import ParameterError
from crimescope.stats import significance as sg

counts = st.integers(min_value=0, max_value=3000)
exposures = st.floats(min_value=0.5, max_value=400, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(counts, exposures, counts, exposures)
def test_parity_with_statsmodels(c1, e1, c2, e2):
    """p-value and interval equal statsmodels' (exact-cond test, Clopper-Pearson) to 1e-10."""
    from statsmodels.stats.proportion import proportion_confint
    from statsmodels.stats.rates import test_poisson_2indep

    r = sg.rate_test(c1, e1, c2, e2)
    if c1 + c2 == 0:
        assert r.p_value is None and r.rate_ratio is None and r.label == sg.LABEL_WITHIN
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = test_poisson_2indep(c1, e1, c2, e2, method="exact-cond")
    assert r.p_value == pytest.approx(min(1.0, ref.pvalue), abs=1e-10, rel=0)
    lo_p, hi_p = proportion_confint(c1, c1 + c2, alpha=0.05, method="beta")
    scale = e2 / e1
    assert r.ci_low == pytest.approx(lo_p / (1 - lo_p) * scale, rel=1e-10, abs=1e-10)
    if hi_p >= 1:
        assert r.ci_high == math.inf
    else:
        assert r.ci_high == pytest.approx(hi_p / (1 - hi_p) * scale, rel=1e-10, abs=1e-10)
    if c2 > 0:
        assert r.rate_ratio == pytest.approx((c1 / e1) / (c2 / e2), rel=1e-12)
        assert r.ci_low <= r.rate_ratio <= r.ci_high
    # the label is the p-value's
    if r.p_value > 0.05:
        assert r.label == sg.LABEL_WITHIN
    else:
        assert r.label == (sg.LABEL_UP if r.rate_ratio > 1 else sg.LABEL_DOWN)


def test_hand_computed_four_vs_eight():
    """4 vs 8 in equal spans: p = 2 * P(X <= 4 | n=12, 1/2) = 2 * 794 / 4096."""
    r = sg.rate_test(4, 7, 8, 7)
    assert r.p_value == pytest.approx(2 * (1 + 12 + 66 + 220 + 495) / 4096, abs=1e-15)
    assert r.rate_ratio == 0.5 and r.label == sg.LABEL_WITHIN  # "-50%" is noise


def test_hand_computed_zero_vs_five_and_exposure():
    # 0 vs 5, equal exposure: p = 2 * 0.5**5
    r = sg.rate_test(0, 10, 5, 10)
    assert r.p_value == pytest.approx(0.0625, abs=1e-15)
    assert r.rate_ratio == 0 and r.ci_low == 0
    # with exposure 1:4, 10 vs 10 is a 4x rate; X ~ Binomial(20, 1/5): the minimum-likelihood
    # two-sided p-value sums the pmf of every outcome no likelier than 10
    pmf = [math.comb(20, x) * 0.2 ** x * 0.8 ** (20 - x) for x in range(21)]
    r = sg.rate_test(10, 1, 10, 4)
    assert r.p_value == pytest.approx(sum(v for v in pmf if v <= pmf[10] * (1 + 1e-7)), rel=1e-9)
    assert r.rate_ratio == 4 and r.p_value < 0.005 and r.label == sg.LABEL_UP


def test_bad_input_is_refused():
    with pytest.raises(ParameterError):
        sg.rate_test(-1, 1, 1, 1)
    with pytest.raises(ParameterError):
        sg.rate_test(1, 0, 1, 1)
    with pytest.raises(ParameterError):
        sg.rate_test(1.5, 1, 1, 1)


def test_bh_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    import numpy as np

    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(size=60), rng.uniform(0, 0.002, size=5)])
    q = sg.bh_qvalues(list(p))
    ref = multipletests(p, alpha=0.05, method="fdr_bh")[1]
    assert np.allclose(q, ref, atol=1e-12, rtol=0)
    assert sg.bh_qvalues([None, 0.01, float("nan")]) == [None, 0.01, None]


def test_bh_hand_computed():
    # m = 4: sorted p 0.01, 0.02, 0.03, 0.5 -> q = 0.04, 0.04, 0.04, 0.5
    assert sg.bh_qvalues([0.5, 0.03, 0.01, 0.02]) == pytest.approx([0.5, 0.04, 0.04, 0.04])


def test_average_test_hand_computed():
    """Quasi-Poisson: previous 100, 120, 80 (equal spans) -> mean 100, chi2 = (0+400+400)/100 = 8,
    phi = 4; y0 = 150: t = 50 / sqrt(4 * 100 * (1 + 1/3)), 2 df."""
    from scipy import stats

    r = sg.average_test(150, 1, [100, 120, 80], [1, 1, 1])
    t = 50 / math.sqrt(4 * 100 * (4 / 3))
    assert r.dispersion == pytest.approx(4.0)
    assert r.p_value == pytest.approx(2 * stats.t.sf(t, 2), rel=1e-12)
    assert r.rate_ratio == pytest.approx(1.5)
    sd = math.sqrt(4 / 150 + 4 / 300)
    q = stats.t.ppf(0.975, 2)
    assert (r.ci_low, r.ci_high) == pytest.approx((1.5 * math.exp(-q * sd), 1.5 * math.exp(q * sd)))
    # the same 150 against a steady baseline (phi = 1) is beyond normal variation
    steady = sg.average_test(150, 1, [100, 101, 99], [1, 1, 1])
    assert steady.dispersion == 1.0 and steady.label == sg.LABEL_UP
    assert r.p_value > steady.p_value  # over-dispersion widens the test


def test_average_test_one_year_is_the_exact_test():
    assert sg.average_test(12, 7, [5], [7]) == sg.rate_test(12, 7, 5, 7)


def test_average_test_size_under_overdispersion():
    """Planted null: negative binomial years (phi ~ 3). The quasi-Poisson test holds its
    level (rejects <= 7% of 2000 replicates at 5%), the Poisson exact test does not."""
    import numpy as np

    rng = np.random.default_rng(20170308)
    mu, k = 200.0, 100.0  # NB variance mu + mu^2/k = 600 -> phi = 3
    rej_q = rej_p = 0
    n = 2000
    for _ in range(n):
        y = rng.negative_binomial(k, k / (k + mu), size=6)
        if sg.average_test(int(y[5]), 1, [int(v) for v in y[:5]], [1] * 5).p_value <= 0.05:
            rej_q += 1
        if sg.rate_test(int(y[5]), 1, int(y[:5].sum()), 5).p_value <= 0.05:
            rej_p += 1
    assert rej_q / n <= 0.07
    assert rej_p / n >= 0.2


def test_planted_effect_is_found():
    """A tripled rate in a CompStat-like table is flagged; the unchanged cells are not."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    base = rng.uniform(5, 60, size=200)
    base[:5] = 40  # the planted cells: 40 a year ago, 120 expected now
    cur = rng.poisson(base)
    prev = rng.poisson(base)
    cur[:5] = rng.poisson(base[:5] * 3)
    df = pd.DataFrame({"count": cur, "prev_count": prev, "exposure_days": 28, "prev_exposure_days": 28})
    df = sg.add_rate_tests(df)
    df, summary = sg.flag_table(df)
    assert df["flagged"][:5].sum() >= 4
    assert df["flagged"][5:].sum() <= 2
    assert summary["tested"] == 200 and summary["flagged"] == int(df["flagged"].sum())
    assert set(df.loc[df["flagged"], "label"]) <= {sg.LABEL_UP, sg.LABEL_DOWN}
    assert (df.loc[~df["flagged"], "label"] == sg.LABEL_WITHIN).all()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 400), st.integers(1, 370), st.integers(0, 400), st.integers(1, 370))
def test_parity_whole_day_exposures(c1, e1, c2, e2):
    """Day counts as exposures (as the tables use them): ties at the mean occur; still equal."""
    from statsmodels.stats.rates import test_poisson_2indep

    if c1 + c2 == 0:
        return
    import numpy as np

    r = sg.rate_test(c1, e1, c2, e2)
    with np.errstate(divide="ignore"):  # the reference divides by a zero count's rate (its ratio is inf)
        ref = test_poisson_2indep(c1, e1, c2, e2, method="exact-cond").pvalue
    assert r.p_value == pytest.approx(min(1.0, ref), abs=1e-10, rel=0)


def test_batch_equals_scalar():
    import numpy as np

    rng = np.random.default_rng(11)
    c1, c2 = rng.integers(0, 50, 40).tolist(), rng.integers(0, 50, 40).tolist()
    e1, e2 = rng.integers(1, 30, 40).tolist(), rng.integers(1, 30, 40).tolist()
    assert sg.rate_tests(c1, e1, c2, e2) == [sg.rate_test(*a) for a in zip(c1, e1, c2, e2)]


def test_average_test_extreme_dispersion_is_unbounded_not_an_error():
    """Reference years of 0 and 1,560 with none this year: phi ~ 1,560 on 1 df puts the upper
    limit beyond a float; the interval is [0, inf) and the label 'within normal variation'."""
    t = sg.average_test(0, 365, [0, 1560], [365, 365])
    assert t.rate_ratio == 0 and t.ci_low == 0 and t.ci_high == math.inf
    assert t.p_value is not None and 0 < t.p_value <= 1
    assert t.label == sg.LABEL_WITHIN


def _scan_pvalues(k, n, p):
    """The former ``_exact_cond_pvalues``: ``y`` counted over every outcome of the other side of
    the mode (one pmf call over all of them), the reference the binary search must equal."""
    import numpy as np
    from scipy.stats import binom

    k, n, p = np.asarray(k, dtype="int64"), np.asarray(n, dtype="int64"), np.asarray(p, dtype="float64")
    rerr = 1 + 1e-7
    ok = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        d = binom.pmf(k, n, p)
    below = k < p * n
    cells = np.flatnonzero(ok & (k != p * n))
    lo = np.where(below, np.ceil(p * n), 0).astype("int64")[cells]
    hi = np.where(below, n, np.floor(p * n)).astype("int64")[cells]
    lens = hi - lo + 1
    owner = np.repeat(np.arange(len(cells)), lens)
    x = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens) + lo[owner]
    with np.errstate(invalid="ignore", divide="ignore"):
        hit = binom.pmf(x, n[cells][owner], p[cells][owner]) <= (d[cells] * rerr)[owner]
    y = np.zeros(len(k), dtype="int64")
    y[cells] = np.bincount(owner, weights=hit, minlength=len(cells)).astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        low_side = binom.cdf(k, n, p) + binom.sf(n - y, n, p)
        high_side = binom.cdf(y - 1, n, p) + binom.sf(k - 1, n, p)
    out = np.minimum(1.0, np.where(below, low_side, high_side))
    out[k == p * n] = 1.0
    out[~ok] = np.nan
    return out


@pytest.mark.parametrize("top", [3, 40, 600, 8000, 40000])
@pytest.mark.parametrize("ties", [False, True])
def test_binary_search_pvalues_equal_the_full_scan(top, ties):
    """The p-values' binary search gives the full scan's p-values bit for bit: counts of CompStat's
    sizes (a week to a year of a category), day exposures, near-ties and exact ties at the mean."""
    import numpy as np

    rng = np.random.default_rng(top + ties)
    m = 2000
    c1 = rng.integers(0, top, m)
    e1 = rng.integers(1, 370, m).astype(float)
    if ties:  # equal spans, counts a few apart: k near (and at) the mean, both sides of the mode
        e2 = e1.copy()
        c2 = np.maximum(c1 + rng.integers(-3, 4, m), 0)
    else:
        c2, e2 = rng.integers(0, top, m), rng.integers(1, 370, m).astype(float)
    n, p = c1 + c2, e1 / (e1 + e2)
    fast, ref = sg._exact_cond_pvalues(c1, n, p), _scan_pvalues(c1, n, p)
    assert np.array_equal(fast, ref, equal_nan=True)


def test_rate_tests_refuse_a_bad_entry_with_the_scalar_message():
    """The vectorised check refuses what ``_check`` refuses, with its message (the first bad entry)."""
    with pytest.raises(ParameterError, match="a count is a whole number"):
        sg.rate_tests([3, 2.5], [7, 7], [4, 4], [7, 7])
    with pytest.raises(ParameterError, match="reference: the exposure must be > 0"):
        sg.rate_tests([3, 2], [7, 7], [4, 4], [7, 0])
    with pytest.raises(ParameterError, match="a count and an exposure are needed"):
        sg.rate_tests([3, None], [7, 7], [4, 4], [7, 7])
    assert sg.rate_tests([], [], [], []) == []
    # counts as floats of whole numbers and numpy integers are counts
    assert sg.rate_tests([3.0], [7], [4], [7.0]) == [sg.rate_test(3, 7, 4, 7)]


def test_the_binomial_and_beta_ufuncs_equal_scipy_stats_value_for_value():
    """``_pmf``, ``_cdf``, ``_sf`` and ``_beta_ppf`` (the ufuncs behind scipy.stats' objects, called
    without their argument checks) give the objects' values bit for bit, at the ends of the support
    and beyond them (k = -1 and k = n, where the tests' tails reach) as inside."""
    import numpy as np
    from scipy.stats import beta, binom

    rng = np.random.default_rng(7)
    n = np.concatenate([rng.integers(0, 60, 3000), rng.integers(60, 40000, 3000)])
    p = rng.uniform(0.001, 0.999, len(n))
    for k in (np.minimum((rng.random(len(n)) * (n + 1)).astype("int64"), n), n, n - 1, np.zeros_like(n),
              np.full_like(n, -1), n + 1):
        if (k <= n).all() and (k >= 0).all():
            assert np.array_equal(sg._pmf(k, n, p), binom.pmf(k, n, p))
        assert np.array_equal(sg._cdf(k, n, p), binom.cdf(k, n, p))
        assert np.array_equal(sg._sf(k, n, p), binom.sf(k, n, p))
    c1 = np.minimum((rng.random(len(n)) * (n + 1)).astype("int64"), n)
    for q, a, b in ((0.025, np.maximum(c1, 1), n - c1 + 1), (0.975, c1 + 1, np.maximum(n - c1, 1)),
                    ((1 - 0.95) / 2, np.maximum(c1, 1), n - c1 + 1)):
        assert np.array_equal(sg._beta_ppf(q, a, b), beta.ppf(q, a, b))


def test_rate_tests_intervals_equal_the_scipy_stats_formula():
    """The Clopper-Pearson limits of ``rate_tests`` are those of ``scipy.stats.beta.ppf`` (the code
    before the ufuncs), bit for bit."""
    import numpy as np
    from scipy import stats as st

    rng = np.random.default_rng(3)
    c1, c2 = rng.integers(0, 900, 500), rng.integers(0, 900, 500)
    e1, e2 = rng.integers(1, 366, 500).astype(float), rng.integers(1, 366, 500).astype(float)
    n, half = c1 + c2, (1 - 0.95) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        lo_p = np.where((c1 == 0) | (n == 0), 0.0, st.beta.ppf(half, np.maximum(c1, 1), n - c1 + 1))
        hi_p = np.where((c1 == n) | (n == 0), 1.0, st.beta.ppf(1 - half, c1 + 1, np.maximum(n - c1, 1)))
        lo, hi = lo_p / (1 - lo_p) * (e2 / e1), np.where(hi_p >= 1.0, np.inf, hi_p / (1 - hi_p) * (e2 / e1))
    got = sg.rate_tests(c1.tolist(), e1.tolist(), c2.tolist(), e2.tolist())
    for t, n_i, lo_i, hi_i in zip(got, n.tolist(), lo.tolist(), hi.tolist()):
        if n_i:
            assert (t.ci_low, t.ci_high) == (lo_i, hi_i)


def test_compstat_test_columns_equal_compstat_tests_on_a_frame():
    """The column form (what ``periods.compstat`` calls) and the frame form give the same columns."""
    import datetime as dt
    import random

    import pandas as pd

    def year_before(d):
        return dt.date(d.year - 1, 2, 28) if (d.month, d.day) == (2, 29) else d.replace(year=d.year - 1)

    rng = random.Random(4)
    rows = []
    for i in range(300):
        e = dt.date(2013, 1, 1) + dt.timedelta(days=rng.randint(0, 1800))
        s = e - dt.timedelta(days=rng.choice([6, 27, 200]))
        rows.append({"category": rng.choice(["a", "b"]), "start": s, "end": e, "prev_start": year_before(s),
                     "prev_end": year_before(e), "count": rng.randint(0, 30), "prev_count": rng.randint(0, 30)})
    df = pd.DataFrame(rows)
    covered = {"a": range(2012, 2019), "b": range(2014, 2019)}
    got, summary = sg.compstat_tests(df.copy(), covered)
    cols, summary2 = sg.compstat_test_columns(*(df[c].tolist() for c in df.columns), covered)
    assert summary == summary2 and summary["tested"] > 100 and summary["tested"] < 300
    for c in (*sg.TEST_COLUMNS, "q_value", "flagged"):
        assert got[c].tolist() == cols[c], c
