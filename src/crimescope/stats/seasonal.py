"""Seasonally adjusted trends: expected vs observed per week or month, and unusual periods.

Method (docs/counting.md, "Seasonally adjusted trends"): the series of complete periods
from the store's first complete period to the last one shown is decomposed by STL
(Cleveland et al. 1990; statsmodels ``STL``, robust fitting, period 52 weeks or 12
months). The expected count ``mu`` of a period is its trend plus its seasonal component;
the 95% interval is ``mu +- 1.96 * sqrt(phi * mu)`` (quasi-Poisson: counts vary at least
as Poisson counts do) with ``phi = max(1, (1.4826 * MAD of the Pearson residuals)^2)``, a
robust dispersion (one extreme period does not widen every interval); a count outside it
is marked ``unusual``. The fit uses at most six seasonal cycles up to the last period
shown (robust STL with one reweighting pass). The series starts at the first complete period after the first
record of the category in the area (earlier periods are not covered, not zero). The fit uses the whole series (in-sample), so
this flags a period unusual *given its neighbours and its season*, not as a forecast.
At least two full seasonal cycles are needed; with less history the columns are empty
and the result says why.
"""

from __future__ import annotations

__all__ = ["stl_expected", "SEASONAL_COLUMNS", "PERIODS", "METHOD"]

PERIODS = {"week": 52, "month": 12}
SEASONAL_COLUMNS = ("expected", "expected_low", "expected_high", "unusual")
METHOD = ("expected = STL trend + seasonal (statsmodels STL, robust, period {p} {u}s) fitted on the complete "
          "{u}s from {first} (after the first record of the category here) to {last}; 95% interval "
          "expected +- 1.96 sqrt(phi x expected), dispersion phi = {phi:.2f} (robust, from the Pearson "
          "residuals, at least 1); unusual = count outside it")
Z95 = 1.959963984540054
#: seasonal cycles of history the decomposition uses before the last period shown
HISTORY_CYCLES = 6


def stl_expected(counts, interval: str):
    """STL expected counts of a complete-period series.

    ``counts``: a sequence of counts, one per consecutive complete period. Returns
    ``(expected, low, high, phi)`` (NumPy arrays and the dispersion). Raises ParameterError
    with fewer than two seasonal cycles.
    """
    import numpy as np

    from ..errors import ParameterError

    if interval not in PERIODS:
        raise ParameterError(f"interval: {interval!r} is not one of week, month")
    period = PERIODS[interval]
    y = np.asarray(counts, dtype="float64")
    if len(y) < 2 * period + 1:
        raise ParameterError(f"seasonal adjustment needs at least {2 * period + 1} complete {interval}s "
                             f"(two seasonal cycles); the store has {len(y)}")
    # robust, with one reweighting pass (outer_iter=2): most of the robustness at a fifth of the cost
    seasonal, trend = _stl(y, period)
    expected = np.maximum(trend + seasonal, 0.0)
    # quasi-Poisson scale: Pearson residuals, robust dispersion, at least Poisson
    mu = np.maximum(expected, 0.5)
    r = (y - expected) / np.sqrt(mu)
    phi = max(1.0, float((1.4826 * np.median(np.abs(r - np.median(r)))) ** 2))
    half = Z95 * np.sqrt(phi * mu)
    return expected, np.maximum(expected - half, 0.0), expected + half, phi


def _stl(y, period: int):
    """``(seasonal, trend)`` of ``statsmodels.tsa.seasonal.STL(y, period=period, robust=True).fit(outer_iter=2)``:
    from the Numba port of its loops (:mod:`crimescope.stats._stl_kernels`, the same numbers bit for
    bit at a fifth of the CPU) when Numba is installed, else from statsmodels."""
    import numpy as np

    try:
        from ._stl_kernels import stl
    except ImportError:  # pragma: no cover - numba comes with the [web], [spatial] and [models] extras
        from statsmodels.tsa.seasonal import STL

        fit = STL(y, period=period, robust=True).fit(outer_iter=2)
        return np.asarray(fit.seasonal), np.asarray(fit.trend)
    seasonal = 7  # statsmodels' defaults: seasonal window 7, trend and low-pass windows from the period
    trend = int(np.ceil(1.5 * period / (1 - 1.5 / seasonal)))
    trend += trend % 2 == 0
    low_pass = period + 1
    low_pass += low_pass % 2 == 0
    return stl(np.ascontiguousarray(y, dtype=np.float64), period, seasonal, trend, low_pass, 2, 2)


def _last_keys(interval: str, k0, k1, keep: int) -> list:
    """The last ``keep`` period keys from ``k0`` to ``k1`` (inclusive; none when ``k1`` is before
    ``k0``): weeks are Mondays (dates), months ``"YYYY-MM"``."""
    import datetime as dt

    if interval == "week":
        n = (k1 - k0).days // 7 + 1
        return [k0 + dt.timedelta(days=7 * i) for i in range(max(0, n - keep), max(0, n))]
    m0 = int(k0[:4]) * 12 + int(k0[5:7]) - 1
    m1 = int(k1[:4]) * 12 + int(k1[5:7]) - 1
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(max(m0, m1 - keep + 1), m1 + 1)]


def expected_columns(period_counts, keys, interval: str, first_day, last_day_of, start, end):
    """The :data:`SEASONAL_COLUMNS` for the trend rows ``keys``, and a note.

    ``period_counts(s, e)``: ``{period key: count}`` of the area between two dates;
    ``first_day``: the store's first record day; ``last_day_of(key)``: the last date of a
    period. Partial periods (the first/last of the span, or before the store's first
    complete period) get empty columns.
    """
    import datetime as dt

    from ..errors import ParameterError

    out = {c: [None] * len(keys) for c in SEASONAL_COLUMNS}
    if first_day is None:
        return out, "no seasonal adjustment: the store has no records"

    def first_day_of(k):
        return k if interval == "week" else dt.date(int(k[:4]), int(k[5:7]), 1)

    def next_key(k):
        if interval == "week":
            return k + dt.timedelta(days=7)
        y, m = int(k[:4]), int(k[5:7])
        return f"{y + (m == 12):04d}-{m % 12 + 1:02d}"

    # the complete periods from the first complete one after the category's first record here
    # (the coverage stand-in: before it the store does not cover the series) to the last shown
    seen = period_counts(first_day, end)
    if not seen:
        return out, f"no seasonal adjustment: no record of the category here up to {end}"
    k_first = min(k for k, v in seen.items() if v)
    first_day = max(first_day, first_day_of(next_key(k_first)))
    k0 = (first_day - dt.timedelta(days=first_day.weekday())) if interval == "week" else f"{first_day:%Y-%m}"
    if first_day_of(k0) < first_day:
        k0 = next_key(k0)
    complete = [k for k in keys if first_day_of(k) >= start and last_day_of(k) <= end]
    if not complete:
        return out, f"no seasonal adjustment: no complete {interval} in the span"
    # the periods k0 .. complete[-1], of which at most HISTORY_CYCLES seasonal cycles (more when the
    # span shown is longer): local and quick; only the last `keep` keys are written
    keep = max(HISTORY_CYCLES * PERIODS[interval], len(complete) + 2 * PERIODS[interval])
    series_keys = _last_keys(interval, k0, complete[-1], keep)
    counts = period_counts(first_day_of(series_keys[0]), last_day_of(series_keys[-1])) if series_keys else {}
    try:
        exp, lo, hi, phi = stl_expected([int(counts.get(k, 0)) for k in series_keys], interval)
    except ParameterError as exc:
        return out, f"no seasonal adjustment: {exc}"
    at = {k: i for i, k in enumerate(series_keys)}
    obs = [int(counts.get(k, 0)) for k in series_keys]
    done = set(complete)
    for j, key in enumerate(keys):
        i = at.get(key)
        if i is None or key not in done:
            continue
        out["expected"][j] = round(float(exp[i]), 2)
        out["expected_low"][j] = round(float(lo[i]), 2)
        out["expected_high"][j] = round(float(hi[i]), 2)
        out["unusual"][j] = bool(obs[i] < lo[i] or obs[i] > hi[i])
    note = METHOD.format(p=PERIODS[interval], u=interval, first=first_day_of(series_keys[0]),
                         last=last_day_of(series_keys[-1]), phi=phi)
    n_unusual = sum(1 for v in out["unusual"] if v)
    n_done = sum(1 for v in out["unusual"] if v is not None)
    return out, f"{note}; {n_unusual} of {n_done} complete {interval}s shown are unusual"
