"""Crime concentration at place: top-unit shares, Lorenz curve, Gini, stability of the top units.

Definitions (docs/spatial.md):

* Units are sorted by count, highest first. The share of events in the top
  ``p`` of units is the Lorenz curve read at a fraction ``p`` of units, linearly
  interpolated between whole units (so the top 0.1% of 26,657 cells, 26.7 cells,
  holds the events of the 26 busiest cells plus 0.657 of the 27th's).
* ``gini`` is the standard Gini coefficient of the unit counts,
  ``sum_i sum_j |c_i - c_j| / (2 n^2 mean)``.
* ``gini_generalized`` is Bernasco & Steenbeek's (2017) correction for sparse data
  (fewer events N than units n): the Lorenz curve is compared with the line of
  *maximal* equality given N (N units with one event each), which gives
  ``G' = max(1, n/N) * (G - 1) + 1``. With N >= n it equals G.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..result import Result

__all__ = ["ConcentrationResult", "concentration", "gini", "generalized_gini", "StabilityResult",
           "top_stability", "yearly_stability", "DEFAULT_TOP"]

DEFAULT_TOP = (0.001, 0.01, 0.05, 0.10)


def _counts(c: Any) -> np.ndarray:
    a = np.asarray(c, dtype=float).ravel()
    if a.size == 0:
        raise ParameterError("no units to measure concentration over")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ParameterError("unit counts must be finite and non-negative")
    return a


def gini(counts: Any) -> float:
    """Standard (biased, population) Gini of non-negative unit counts; NaN if all zero."""
    c = np.sort(_counts(counts))
    n, tot = c.size, c.sum()
    if tot == 0:
        return float("nan")
    # sum_i (2i - n - 1) c_(i) / (n * total), i = 1..n ascending
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * c) / (n * tot))


def generalized_gini(counts: Any) -> float:
    """Bernasco & Steenbeek (2017) generalized Gini: ``max(1, n/N) * (G - 1) + 1``."""
    c = _counts(counts)
    n, tot = c.size, c.sum()
    if tot == 0:
        return float("nan")
    return float(max(1.0, n / tot) * (gini(c) - 1.0) + 1.0)


@dataclass
class ConcentrationResult(Result):
    """Concentration of events over units.

    Attributes
    ----------
    counts : ndarray (n_units,)
        Events per unit (the input).
    n_units, n_events : int
    top : ndarray
        Fractions of units asked for (e.g. 0.001, 0.01, 0.05, 0.10).
    top_units : ndarray of float
        ``top * n_units`` (number of units, possibly fractional).
    top_share : ndarray of float
        Share of all events in those units (0..1).
    lorenz_units, lorenz_events : ndarray (n_units + 1,)
        Lorenz curve, busiest units first: cumulative fraction of units and of events.
    gini : float
        Standard Gini coefficient.
    gini_generalized : float
        Bernasco & Steenbeek (2017) generalized Gini (equals ``gini`` when events >= units).
    share_units_with_events : float
        Fraction of units with at least one event.
    units_for_half : float
        Fraction of units holding 50% of the events.
    label : str
        What was counted (category, period, unit), for tables and titles.
    """

    counts: np.ndarray
    n_units: int
    n_events: int
    top: np.ndarray
    top_units: np.ndarray
    top_share: np.ndarray
    lorenz_units: np.ndarray
    lorenz_events: np.ndarray
    gini: float
    gini_generalized: float
    share_units_with_events: float
    units_for_half: float
    label: str = ""
    extra: dict = field(default_factory=dict)

    def frame(self):
        return self.table()

    def share_at(self, fraction: float) -> float:
        """Share of events in the busiest ``fraction`` of units (interpolated Lorenz curve)."""
        return float(np.interp(fraction, self.lorenz_units, self.lorenz_events))

    def table(self):
        """DataFrame: one row per top fraction, then Gini rows (for the CLI and exports)."""
        import pandas as pd

        rows = [{"measure": f"share of events in top {100 * p:g}% of units", "units": round(k, 1),
                 "value": s} for p, k, s in zip(self.top, self.top_units, self.top_share)]
        rows += [
            {"measure": "units with at least one event (share)", "units": None,
             "value": self.share_units_with_events},
            {"measure": "share of units holding 50% of events", "units": None, "value": self.units_for_half},
            {"measure": "Gini", "units": None, "value": self.gini},
            {"measure": "generalized Gini (Bernasco & Steenbeek 2017)", "units": None,
             "value": self.gini_generalized},
        ]
        return pd.DataFrame(rows)

    def plot_lorenz(self, ax=None, path=None):
        """Lorenz curve with the lines of perfect and of maximal equality; returns the figure."""
        from .maps import plot_lorenz

        return plot_lorenz(self, ax=ax, path=path)


def concentration(counts: Any, top: Any = DEFAULT_TOP, label: str = "") -> ConcentrationResult:
    """Concentration measures of per-unit event counts (zeros included: every unit counts)."""
    c = _counts(counts)
    fr = np.asarray(top, dtype=float).ravel()
    if np.any((fr <= 0) | (fr > 1)):
        raise ParameterError("top fractions must be in (0, 1]")
    n, tot = c.size, float(c.sum())
    desc = np.sort(c)[::-1]
    lx = np.arange(n + 1) / n
    ly = np.r_[0.0, np.cumsum(desc) / tot] if tot > 0 else np.full(n + 1, np.nan)
    shares = np.interp(fr, lx, ly) if tot > 0 else np.full(fr.size, np.nan)
    half = float(np.interp(0.5, ly, lx)) if tot > 0 else float("nan")
    return ConcentrationResult(
        counts=c, n_units=n, n_events=int(round(tot)), top=fr, top_units=fr * n, top_share=shares,
        lorenz_units=lx, lorenz_events=ly, gini=gini(c), gini_generalized=generalized_gini(c),
        share_units_with_events=float((c > 0).mean()), units_for_half=half, label=label)


@dataclass
class StabilityResult(Result):
    """How stable the busiest units are from one period to the next.

    Attributes
    ----------
    periods : list
        Period labels (e.g. years), in order.
    top : float
        Fraction of units defining "top" in each period.
    table : pandas.DataFrame
        One row per consecutive pair of periods: ``from``, ``to``, ``k`` (top units),
        ``overlap`` (share of the first period's top units still top in the next),
        ``jaccard``, ``share_next_in_prev_top`` (share of the next period's events
        that fell in the previous period's top units), ``spearman`` (rank
        correlation of all unit counts).
    """

    periods: list
    top: float
    table: Any


def _top_set(c: np.ndarray, k: int) -> np.ndarray:
    # highest counts first, ties broken by unit index (deterministic); only units with events
    order = np.lexsort((np.arange(c.size), -c))
    sel = order[:k]
    return sel[c[sel] > 0]


def top_stability(counts_by_period: Any, top: float = 0.05) -> StabilityResult:
    """Year-to-year (period-to-period) stability of the top ``top`` fraction of units.

    ``counts_by_period`` is a DataFrame with one column per period (units as rows)
    or a mapping period -> counts array.
    """
    import pandas as pd
    from scipy.stats import spearmanr

    if isinstance(counts_by_period, dict):
        counts_by_period = pd.DataFrame(counts_by_period)
    if not isinstance(counts_by_period, pd.DataFrame) or counts_by_period.shape[1] < 2:
        raise ParameterError("stability needs counts for at least two periods")
    if not 0 < top <= 1:
        raise ParameterError("top must be a fraction in (0, 1]")
    periods = list(counts_by_period.columns)
    n = counts_by_period.shape[0]
    k = max(1, int(round(top * n)))
    rows = []
    for a, b in zip(periods[:-1], periods[1:]):
        ca = counts_by_period[a].to_numpy(float)
        cb = counts_by_period[b].to_numpy(float)
        sa, sb = set(_top_set(ca, k).tolist()), set(_top_set(cb, k).tolist())
        inter = len(sa & sb)
        union = len(sa | sb)
        rho = spearmanr(ca, cb).statistic if ca.std() > 0 and cb.std() > 0 else float("nan")
        rows.append({"from": a, "to": b, "k": k, "overlap": inter / len(sa) if sa else float("nan"),
                     "jaccard": inter / union if union else float("nan"),
                     "share_next_in_prev_top": cb[list(sa)].sum() / cb.sum() if cb.sum() > 0 and sa else float("nan"),
                     "spearman": float(rho)})
    return StabilityResult(periods=periods, top=top, table=pd.DataFrame(rows))


def yearly_stability(events, placed, top: float = 0.05) -> "StabilityResult | None":
    """Stability of the top ``top`` units from one calendar year of ``events`` to the next.

    ``placed``: the events' units (:func:`crimescope.spatial.units.assign_units`); events
    in no unit are left out. None when the events span fewer than two years (nothing to
    compare). Years are the local years of ``occurred_local``.
    """
    years = events["occurred_local"].dt.year.to_numpy()
    ok = placed.unit_index >= 0
    yrs = sorted(set(years[ok].tolist()))
    if len(yrs) < 2:
        return None
    by = {y: np.bincount(placed.unit_index[ok & (years == y)], minlength=len(placed.counts)) for y in yrs}
    return top_stability(by, top)
