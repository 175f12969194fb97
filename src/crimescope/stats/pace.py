""""On pace for": the year-end count implied by the year to date, with 80% and 95% intervals.

Method (docs/counting.md, "On pace for"). For an as-of date ``d`` in year ``Y`` with
year-to-date count ``y`` (Jan 1 to ``d``), and ``n >= 3`` prior covered years ``j`` with
the same span's count ``y_j`` and the whole year's ``T_j``:

* seasonal share ``s = sum y_j / sum T_j`` (the share of a year's records that fall by
  ``d``, pooled over the prior years) and the year-end estimate ``T = y / s``
  (a straight line would use ``s = days elapsed / days in the year``);
* the variance of the year end given ``y`` has two parts:

  - counting noise: if the year's records are Poisson with mean ``L`` split by the share,
    ``y ~ Poisson(L s)`` and the rest ``~ Poisson(L (1 - s))``, the rest predicted from
    ``y`` has variance ``L (1 - s) / s``, times ``phi``, the dispersion of the counting
    unit (``phi = sum k^2 / sum k`` over the records' case numbers, ``k`` records per case:
    1 for incidents, above 1 for victims counted per homicide incident);
  - seasonality: the share varies from year to year beyond binomial noise, by
    ``tau^2 = max(0, var_j(s_j) - mean_j(s_j (1 - s_j) / T_j))``; with ``s`` itself
    estimated from ``n`` years, ``Var(share) = tau^2 (1 + 1/n) + s (1 - s) / sum T_j`` and,
    by the delta method, ``Var(T) += (y / s^2)^2 Var(share)``;

* the interval is ``T * exp(+- q * sd / T)`` (symmetric on the log scale: counts are
  skewed) with ``q`` the Student t quantile with ``n - 1`` degrees of freedom (the share's
  variance is estimated from ``n`` years), and never below ``y`` (the year-to-date
  records have happened). The normal quantile was tried first and covered too little
  (80%: 73%, 95%: 91% on the benchmark); docs/benchmarks/significance.md has the figures.

Assumptions, stated in the output: the prior years' seasonal pattern holds this year;
the counting noise is (compound) Poisson; the prior years are covered by the store.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

from ..categories import Taxonomy
from ..errors import CoverageError, ParameterError
from .counts import base_meta, last_complete_day
from .provenance import StatResult
from .query import as_date, same_day_year_ago, to_pandas

__all__ = ["Pace", "seasonal_pace", "pace", "MIN_PRIOR_YEARS", "LEVELS", "pace_sentence"]

MIN_PRIOR_YEARS = 3
LEVELS = (0.80, 0.95)
METHOD = ("year end = YTD / seasonal share (share of prior covered years' records falling Jan 1 to the "
          "same month/day, pooled); interval: compound-Poisson counting noise of the rest of the year "
          "plus the year-to-year variance of the seasonal share beyond binomial noise (delta method), "
          "symmetric on the log scale with Student t quantiles (n-1 df), never below the YTD count")


@dataclass(frozen=True)
class Pace:
    """A year-end estimate from the year to date.

    Attributes
    ----------
    ytd : int
        The year-to-date count.
    share : float
        The seasonal share of the year by the as-of date (prior years pooled).
    estimate : float
        ``ytd / share``.
    straight_line : float
        ``ytd * days_in_year / days_elapsed`` (the naive pace, for comparison).
    sd : float
        Standard deviation of the year end given the YTD.
    sd_counting, sd_seasonal : float
        Its two parts (``sd**2 = sd_counting**2 + sd_seasonal**2``).
    tau2 : float
        Extra-binomial year-to-year variance of the share.
    dispersion : float
        ``phi`` of the counting unit.
    intervals : dict
        ``{level: (low, high)}``.
    n_years : int
        Prior years used.
    """

    ytd: int
    share: float
    estimate: float
    straight_line: float | None
    sd: float
    sd_counting: float
    sd_seasonal: float
    tau2: float
    dispersion: float
    intervals: dict
    n_years: int


@functools.lru_cache(maxsize=1024)
def _z(level: float, df=None) -> float:
    """The two-sided ``level`` quantile of Student's t with ``df`` degrees of freedom (None: the
    normal's). ``scipy.special.stdtrit`` is what ``scipy.stats.t.ppf`` calls after checking its
    arguments (the same value, a tenth of the time); the few (level, df) pairs are kept."""
    if df is None:
        from scipy import stats

        return float(stats.norm.ppf(0.5 + level / 2))
    from scipy.special import stdtrit

    if not df > 0:  # what t.ppf answers outside its domain
        return float("nan")
    return float(stdtrit(df, 0.5 + level / 2))


def seasonal_pace(ytd: int, prior_ytd, prior_totals, dispersion: float = 1.0, levels=LEVELS,
                  days_elapsed: int | None = None, days_in_year: int | None = None) -> Pace:
    """The seasonal pace (module docstring) from plain counts; no store needed."""
    prior_ytd, prior_totals = [int(v) for v in prior_ytd], [int(v) for v in prior_totals]
    if len(prior_ytd) != len(prior_totals):
        raise ParameterError("pace: one year-to-date and one total per prior year")
    pairs = [(a, t) for a, t in zip(prior_ytd, prior_totals) if t > 0]
    if any(a > t or a < 0 for a, t in pairs):
        raise ParameterError("pace: a prior year's year-to-date count exceeds its total")
    n = len(pairs)
    if n < MIN_PRIOR_YEARS:
        raise ParameterError(f"pace needs at least {MIN_PRIOR_YEARS} prior years with records "
                             f"(has {n})")
    y = int(ytd)
    if y < 0:
        raise ParameterError("pace: the year-to-date count is a whole number >= 0")
    if not dispersion >= 1.0:
        raise ParameterError("pace: the dispersion is at least 1")
    sum_a = sum(a for a, _ in pairs)
    sum_t = sum(t for _, t in pairs)
    s = sum_a / sum_t
    straight = None if not days_elapsed or not days_in_year else y * days_in_year / days_elapsed
    if s <= 0:
        raise ParameterError("pace: the prior years had no record by this date; the seasonal share is 0")
    shares = [a / t for a, t in pairs]
    mean_s = sum(shares) / n
    var_s = sum((v - mean_s) ** 2 for v in shares) / (n - 1)
    binom = sum(v * (1 - v) / t for v, (_, t) in zip(shares, pairs)) / n
    tau2 = max(0.0, var_s - binom)
    est = y / s
    if s >= 1.0:  # as of Dec 31: the year is complete
        ivs = {lv: (float(y), float(y)) for lv in levels}
        return Pace(y, 1.0, float(y), straight, 0.0, 0.0, 0.0, tau2, float(dispersion), ivs, n)
    var_count = dispersion * est * (1 - s) / s
    var_share = tau2 * (1 + 1 / n) + s * (1 - s) / sum_t
    var_season = (y / s ** 2) ** 2 * var_share
    sd = math.sqrt(var_count + var_season)
    ivs = {}
    for lv in levels:
        z = _z(lv, n - 1)
        if est > 0:
            lo, hi = est * math.exp(-z * sd / est), est * math.exp(z * sd / est)
        else:  # nothing yet: only the counting noise of a zero-rate guess is left; say 0 to 0
            lo, hi = 0.0, 0.0
        ivs[lv] = (max(float(y), lo), max(float(y), hi))
    return Pace(y, s, est, straight, sd, math.sqrt(var_count), math.sqrt(var_season), tau2,
                float(dispersion), ivs, n)


def pace_sentence(p: Pace, noun: str, level: float = 0.80) -> str:
    """'on pace for 700-820 homicides (80% interval; estimate 760)'."""
    lo, hi = p.intervals[level]
    return (f"on pace for {math.floor(lo):,}-{math.ceil(hi):,} {noun} ({level:.0%} interval; "
            f"estimate {p.estimate:,.0f}, seasonal share {p.share:.1%} of the year by this date)")


def _dispersion(store, cat, source, years, district) -> float:
    """``sum k^2 / sum k`` over case numbers (k records per case) in ``years`` (1 for incidents).

    With a per-snapshot aggregate (``stats._aggregate``) it is computed once per snapshot,
    category, years and district."""
    from ._aggregate import aggregates_of

    agg = aggregates_of(store)
    if agg is None:
        return _dispersion_query(store, cat, source, years, district)
    cases = agg.memo(("cases", source, cat.name, cat.rule), lambda: _CaseCounts(store, cat, source))
    return agg.memo(("dispersion", source, cat.name, cat.rule, tuple(years), district),
                    lambda: cases.dispersion(years, district))


class _CaseCounts:
    """Records per (case number, local year, district) of a category, read once per snapshot: the
    dispersion of any set of years (and district) is then a ``bincount``, the same integers
    ``sum k^2 / sum k`` as :func:`_dispersion_query` (``k`` summed over the years per case)."""

    def __init__(self, store, cat, source):
        import pandas as pd

        from ._aggregate import _CursorStore
        from .query import category_predicate, incidents_table

        view = _CursorStore(store)
        try:
            t = incidents_table(view.ibis(), source=source)
            t = t.filter(category_predicate(t, cat), t.case_number.notnull())
            t = t.mutate(year=t.occurred_local.year())
            df = to_pandas(t.group_by(["case_number", "year", "district"]).aggregate(k=t.count()))
        finally:
            view.close()
        self.case, _ = pd.factorize(df["case_number"])
        self.n_cases = int(self.case.max()) + 1 if len(self.case) else 0
        self.year = pd.to_numeric(df["year"]).to_numpy("float64")  # NaN: no date
        self.district = pd.to_numeric(df["district"]).to_numpy("float64")  # NaN: no district
        self.k = df["k"].to_numpy("int64")

    def dispersion(self, years, district) -> float:
        import numpy as np

        keep = np.isin(self.year, np.asarray(list(years), "float64"))
        if district is not None:
            keep &= self.district == int(district)
        if not keep.any():
            return 1.0
        per_case = np.bincount(self.case[keep], weights=self.k[keep], minlength=self.n_cases).astype("int64")
        s1, s2 = int(per_case.sum()), int((per_case * per_case).sum())
        if s1 == 0:
            return 1.0
        return max(1.0, float(s2) / float(s1))


def _dispersion_query(store, cat, source, years, district) -> float:
    from .query import category_predicate, incidents_table

    t = incidents_table(store.ibis(), source=source)
    t = t.filter(category_predicate(t, cat), t.occurred_local.year().isin(list(years)))
    if district is not None:
        t = t.filter(t.district == int(district))
    t = t.filter(t.case_number.notnull())
    g = t.group_by(t.case_number).aggregate(k=t.count())
    row = to_pandas(g.aggregate(s1=g.k.sum(), s2=(g.k * g.k).sum())).iloc[0]
    if row["s1"] is None or not row["s1"] == row["s1"] or row["s1"] == 0:
        return 1.0
    return max(1.0, float(row["s2"]) / float(row["s1"]))


def _pace_parts(store, category, as_of, district, max_years, *, source, taxonomy):
    """What :func:`pace` computes before it builds its table and metadata: ``(store, source, cat,
    as_of, prior rows, ytd, dispersion, SeasonalPace, days elapsed, days in the year)``."""
    import pandas as pd

    from ..datasets import as_dataset
    from .query import count_expr, incidents_table
    from .significance import _covered_years

    ds = as_dataset(store, source)
    store, source = ds.store, ds.key
    cat = ds.category(category, taxonomy)
    a = as_date(as_of, "as_of") if as_of is not None else last_complete_day(store, source)
    if not 1 <= int(max_years) <= 50:
        raise ParameterError("--years must be between 1 and 50")
    candidates = list(range(a.year - int(max_years), a.year))
    covered = _covered_years(store, source, cat, candidates + [a.year])
    if a.year not in covered:
        raise CoverageError(f"pace: the store does not cover {cat.name} in {a.year}")
    prior = [y for y in candidates if y in covered]
    if len(prior) < MIN_PRIOR_YEARS:
        raise CoverageError(f"pace needs at least {MIN_PRIOR_YEARS} prior covered years of {cat.name}; "
                            f"the store covers {', '.join(map(str, prior)) or 'none'} before {a.year}")
    from ._aggregate import span_counter

    counter = span_counter(store, source, cat, district)  # the per-snapshot cumulative daily counts
    if counter is not None:
        lo_day = dt.date(prior[0], 1, 1)

        def spans(pairs):  # the store path reads days prior[0]-01-01 .. as-of only
            return counter.counts([(max(y0, lo_day), min(y1, a)) for y0, y1 in pairs])
    else:
        by = ["date"] + (["district"] if district is not None else [])
        t = incidents_table(store.ibis(), source=source)
        df = to_pandas(count_expr(t, cat, dt.date(prior[0], 1, 1), a, by))
        if district is not None:
            df = df[pd.to_numeric(df["district"]) == int(district)]
        df["date"] = pd.to_datetime(df["date"]).dt.date
        daily = df.groupby("date")["count"].sum()

        def spans(pairs):
            return [int(daily[(daily.index >= y0) & (daily.index <= y1)].sum()) for y0, y1 in pairs]

    ends = [same_day_year_ago(a, a.year - y) for y in prior]
    pairs = [p for y, e in zip(prior, ends) for p in ((dt.date(y, 1, 1), e), (dt.date(y, 1, 1), dt.date(y, 12, 31)))]
    *counts, ytd = spans(pairs + [(dt.date(a.year, 1, 1), a)])
    rows = [{"year": y, "ytd": counts[2 * i], "total": counts[2 * i + 1], "ytd_end": e}
            for i, (y, e) in enumerate(zip(prior, ends))]
    phi = _dispersion(store, cat, source, prior, district)
    days_in_year = (dt.date(a.year, 12, 31) - dt.date(a.year, 1, 1)).days + 1
    elapsed = (a - dt.date(a.year, 1, 1)).days + 1
    p = seasonal_pace(ytd, [r["ytd"] for r in rows], [r["total"] for r in rows], phi,
                      days_elapsed=elapsed, days_in_year=days_in_year)
    return store, source, cat, a, rows, ytd, phi, p, elapsed, days_in_year


def pace(store, category, as_of=None, district: int | None = None, max_years: int = 10, *,
         source: str | None = None, taxonomy: Taxonomy | None = None) -> StatResult:
    """Year-end count implied by the year to date (:func:`seasonal_pace`) from the store.

    Prior years: the up to ``max_years`` years before the as-of year that the store covers
    (:func:`~crimescope.stats.significance._covered_years`); at least three are needed.
    ``table``: one row with ``category``, ``district``, ``as_of``, ``ytd``, ``prior_years``,
    ``seasonal_share``, ``pace``, ``low_80``, ``high_80``, ``low_95``, ``high_95``,
    ``straight_line``, ``sd``, ``sd_counting``, ``sd_seasonal``, ``dispersion``.
    ``meta["prior"]``: per prior year its YTD, total and share.
    """
    import pandas as pd

    store, source, cat, a, rows, ytd, phi, p, elapsed, days_in_year = _pace_parts(
        store, category, as_of, district, max_years, source=source, taxonomy=taxonomy)
    used = [r["year"] for r in rows if r["total"] > 0]
    table = pd.DataFrame([{
        "category": cat.name, "district": district, "as_of": a, "ytd": ytd,
        "prior_years": f"{used[0]}-{used[-1]}" if used == list(range(used[0], used[-1] + 1)) else
        ",".join(map(str, used)),
        "seasonal_share": round(p.share, 4), **_figures(p),
        "straight_line": None if p.straight_line is None else round(p.straight_line, 1),
        "sd": round(p.sd, 2), "sd_counting": round(p.sd_counting, 2), "sd_seasonal": round(p.sd_seasonal, 2),
        "dispersion": round(p.dispersion, 3),
    }])
    table["district"] = table["district"].astype("Int64")
    meta = base_meta(store, cat, source)
    where = "citywide" if district is None else f"district {district}"
    sentence = _sentence(p, cat)
    meta.update(
        title=f"{cat.label}: on pace for, {where}, as of {a}",
        as_of=a, district=district,
        period=f"Jan 1 to {a} ({elapsed} of {days_in_year} days); prior years {table.at[0, 'prior_years']}",
        method=METHOD, prior=[{k: v for k, v in r.items()} for r in rows],
        sentence=sentence,
        notes=[sentence,
               "method: " + METHOD,
               f"assumes {a.year} follows the seasonal pattern of the prior years, counting noise compound "
               f"Poisson (dispersion {p.dispersion:.3f} = records per case, squared-weighted); prior years "
               "are those the store covers",
               f"straight_line = YTD x {days_in_year}/{elapsed} (365/day extrapolation), shown for comparison"],
    )
    return StatResult(table, meta)


#: the columns :func:`pace_columns` adds to a row (the overview's)
PACE_COLUMNS = ("pace", "pace_low_80", "pace_high_80", "pace_low_95", "pace_high_95", "pace_sentence")


def pace_columns(store, category, as_of, *, source: str | None = None, taxonomy=None) -> tuple[dict, str | None]:
    """The pace of one category as columns for a summary row, and why it is missing (or None).

    Refusals (fewer than three prior covered years, no prior record by the date) leave the
    columns empty with the reason: never a pace from zeros.
    """
    try:  # pace()'s figures, without building its one-row table and its provenance
        _, _, cat, _, _, _, _, p, _, _ = _pace_parts(store, category, as_of, None, 10, source=source,
                                                       taxonomy=taxonomy)
    except (ParameterError, CoverageError) as exc:
        name = category if isinstance(category, str) else category.name
        return {c: None for c in PACE_COLUMNS}, f"{name}: no pace ({exc})"
    f = _figures(p)
    return ({"pace": f["pace"], **{f"pace_{k}": f[k] for k in ("low_80", "high_80", "low_95", "high_95")},
             "pace_sentence": _sentence(p, cat)}, None)


def _figures(p) -> dict:
    """The pace and its intervals as :func:`pace`'s table and :func:`pace_columns` give them."""
    return {"pace": round(p.estimate, 1),
            "low_80": round(p.intervals[0.8][0], 1), "high_80": round(p.intervals[0.8][1], 1),
            "low_95": round(p.intervals[0.95][0], 1), "high_95": round(p.intervals[0.95][1], 1)}


def _sentence(p, cat) -> str:
    """"On pace for ..." in the category's words (its label without the parenthesis, its unit)."""
    return pace_sentence(p, f"{cat.label.split(' (')[0].lower()} {cat.unit}")
