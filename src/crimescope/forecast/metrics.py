"""Accuracy of a forecast against what happened: hit rate, PAI, PEI*, Poisson log-likelihood.

Definitions (N = events in the forecast window located in kept cells, A = total
kept area, a = flagged area):

* Cells are flagged in decreasing order of the forecast's *density* (expected
  count per unit area, so clipped edge cells compete fairly) until the flagged
  area reaches ``a``. A cell (or a group of cells tied on density) straddling the
  limit is flagged *fractionally*: each tied cell gets the same fraction of its
  area and contributes that fraction of its events. This is the expectation over
  a random order of the tied cells, and makes the flagged area exactly ``a``
  (ties at zero density - cells a model knows nothing about - are spread evenly).
* hit rate = hits / N.
* PAI (predictive accuracy index, Chainey et al. 2008) = (hits / N) / (a / A).
* PEI* (NIJ RTCFC) = hits / hits*, where hits* are the most hits any selection
  of the same area could have caught: the same procedure applied to the observed
  counts (ordered by observed density). PEI* is NaN when hits* is 0 (no event in
  the window); summaries average over windows where it is defined.
* Poisson log-likelihood = sum over cells of ``y log m - m - log y!`` with
  ``m = max(expected, floor)``; the floor (default 1e-6 events per cell) keeps a
  forecast of exactly 0 in a cell that then had an event finite.

Coverage is a fraction of the kept area (``0.01``, ``"1%"``) or an absolute area
(``"0.5sqmi"``, ``"250000sqft"``; CRS units must be US feet).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import invalid

__all__ = ["Coverage", "parse_coverage", "flag_fraction", "FlagOrder", "score_coverage", "score_coverages",
           "poisson_loglik", "CoverageScore", "SQFT_PER_SQMI"]

#: square US survey feet in a square US survey mile (5280^2)
SQFT_PER_SQMI = 5280.0 ** 2

_COV_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%|sqmi|sq mi|mi2|sqft|sq ft|ft2)?\s*$", re.I)


@dataclass(frozen=True)
class Coverage:
    """A flagged-area limit: ``fraction`` of the kept area, or ``area`` in CRS units squared."""

    label: str
    fraction: float | None = None
    area: float | None = None

    def area_of(self, total_area: float) -> float:
        a = self.fraction * total_area if self.fraction is not None else float(self.area)
        return min(a, total_area)


def parse_coverage(spec: Any) -> Coverage:
    """``0.01`` or ``"1%"`` (share of area), ``"0.5sqmi"`` or ``"300000sqft"`` (absolute)."""
    if isinstance(spec, Coverage):
        return spec
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        v = float(spec)
        if not (0 < v <= 1):
            raise invalid("coverage", spec, "a fraction in (0, 1], e.g. 0.01, or '1%' / '0.5sqmi'")
        return Coverage(label=f"{v * 100:g}%", fraction=v)
    m = _COV_RE.match(str(spec))
    if not m:
        raise invalid("coverage", spec, "'1%', '0.5sqmi', '250000sqft' or a fraction")
    v = float(m.group(1))
    unit = (m.group(2) or "").lower().replace(" ", "")
    if unit == "%":
        if not (0 < v <= 100):
            raise invalid("coverage", spec, "a percentage in (0, 100]")
        return Coverage(label=f"{v:g}%", fraction=v / 100)
    if unit in ("sqmi", "mi2"):
        if v <= 0:
            raise invalid("coverage", spec, "a positive area")
        return Coverage(label=f"{v:g}sqmi", area=v * SQFT_PER_SQMI)
    if unit in ("sqft", "ft2"):
        if v <= 0:
            raise invalid("coverage", spec, "a positive area")
        return Coverage(label=f"{v:g}sqft", area=v)
    return parse_coverage(v)


def flag_fraction(score: np.ndarray, area: np.ndarray, limit: float) -> np.ndarray:
    """Fraction (0..1) of each cell flagged when cells are taken by decreasing ``score``.

    Whole tie groups are taken while they fit; the group straddling ``limit`` is
    taken fractionally (same fraction for every member).
    """
    return FlagOrder(score, area).fraction(limit)


class FlagOrder:
    """The order and tie groups of :func:`flag_fraction` for one ``score``, computed once.

    ``fraction(limit)`` equals ``flag_fraction(score, area, limit)`` bit for bit, for any
    number of limits (coverages) at the cost of one sort.
    """

    def __init__(self, score: np.ndarray, area: np.ndarray):
        score = np.asarray(score, dtype=float)
        area = np.asarray(area, dtype=float)
        self.size = score.size
        if score.size == 0:
            return
        self.order = np.argsort(-score, kind="stable")
        s = score[self.order]
        a = area[self.order]
        self.starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        self.lengths = np.r_[self.starts[1:], s.size] - self.starts
        self.garea = np.add.reduceat(a, self.starts)
        self.cum = np.cumsum(self.garea)

    def fraction(self, limit: float) -> np.ndarray:
        out = np.zeros(self.size)
        if limit <= 0 or self.size == 0:
            return out
        full = self.cum <= limit * (1 + 1e-12)
        n_full = int(full.sum())
        frac_g = np.zeros(self.starts.size)
        frac_g[:n_full] = 1.0
        if n_full < self.starts.size:
            before = self.cum[n_full - 1] if n_full else 0.0
            frac_g[n_full] = max(0.0, (limit - before) / self.garea[n_full])
        out[self.order] = np.repeat(frac_g, self.lengths)
        return out


@dataclass
class CoverageScore:
    """Scores of one forecast at one coverage.

    Attributes: ``coverage`` label, ``flagged_area``, ``total_area``, ``n_events``,
    ``hits``, ``best_hits`` (hits*), ``hit_rate``, ``pai``, ``pei_star`` (NaN when
    undefined: no events).
    """

    coverage: str
    flagged_area: float
    total_area: float
    n_events: float
    hits: float
    best_hits: float

    @property
    def hit_rate(self) -> float:
        return self.hits / self.n_events if self.n_events > 0 else math.nan

    @property
    def pai(self) -> float:
        if self.n_events <= 0 or self.flagged_area <= 0:
            return math.nan
        return self.hit_rate / (self.flagged_area / self.total_area)

    @property
    def pei_star(self) -> float:
        return self.hits / self.best_hits if self.best_hits > 0 else math.nan


def score_coverage(expected: np.ndarray, observed: np.ndarray, area: np.ndarray,
                   coverage: Any) -> CoverageScore:
    """Hit rate, PAI and PEI* of ``expected`` (per cell) against ``observed`` counts."""
    return score_coverages(expected, observed, area, [coverage])[0]


def score_coverages(expected: np.ndarray, observed: np.ndarray, area: np.ndarray, coverages,
                    best_order: "FlagOrder | None" = None, order: "FlagOrder | None" = None) -> list[CoverageScore]:
    """:func:`score_coverage` at each of ``coverages``, sorting the forecast once.

    ``order`` is ``FlagOrder(expected / area, area)`` and ``best_order``
    ``FlagOrder(observed / area, area)`` when the caller has them already (``best_order`` is
    the same for every model scored on one window).
    """
    expected = np.asarray(expected, dtype=float)
    observed = np.asarray(observed, dtype=float)
    area = np.asarray(area, dtype=float)
    total = float(area.sum())
    if order is None:
        order = FlagOrder(expected / area, area)
    if best_order is None:
        best_order = FlagOrder(observed / area, area)
    n_events = float(observed.sum())
    out = []
    for coverage in coverages:
        cov = parse_coverage(coverage)
        limit = cov.area_of(total)
        f = order.fraction(limit)
        hits = float((f * observed).sum())
        fb = best_order.fraction(limit)
        best = float((fb * observed).sum())
        out.append(CoverageScore(coverage=cov.label, flagged_area=float((f * area).sum()), total_area=total,
                                 n_events=n_events, hits=hits, best_hits=best))
    return out


def poisson_loglik(expected: np.ndarray, observed: np.ndarray, floor: float = 1e-6) -> float:
    """Sum over cells of the Poisson log-probability of ``observed`` given ``max(expected, floor)``."""
    from scipy.special import gammaln

    m = np.maximum(np.asarray(expected, dtype=float), floor)
    y = np.asarray(observed, dtype=float)
    return float(np.sum(y * np.log(m) - m - gammaln(y + 1)))
