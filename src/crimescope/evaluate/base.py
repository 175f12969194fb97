"""The one contract every evaluation method follows, its result, and the registry.

A method is configured in its constructor (settings only, validated in ``fit``),
estimates from ``fit(panel, cohorts)`` (returns ``self``) and keeps its answer in
``result_``, an :class:`EffectResult`: the estimate with its interval and p-value,
the effect as a percent change against the estimated counterfactual, the method,
what it assumes, and warnings (a failed pre-trend test, too few donors, a method
whose planted-effect checks fail).

Rules (checked for every registered method by ``tests/evaluate/test_conformance.py``):

* ``fit`` returns ``self``; learned state lives in attributes ending in ``_``;
* ``random_state`` is a constructor setting wherever randomness enters;
* reading ``result_`` before ``fit`` raises :class:`crimescope.errors.NotFittedError`;
* a panel with no treated area, or a start with no pre-period, is a ParameterError;
* the interval contains the estimate, the p-value is in [0, 1], assumptions are stated.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from ..errors import NotFittedError, ParameterError

__all__ = ["EffectResult", "Method", "register", "registry", "make_method", "summaries", "labels", "treatment_index"]


@dataclass
class EffectResult:
    """The effect one method estimates, with its uncertainty and what it assumes.

    Attributes
    ----------
    method : str
        Registry name of the method.
    estimate : float
        The effect on the method's own scale (``scale`` says which).
    ci_low, ci_high : float
        The ``level`` interval of ``estimate``.
    p_value : float
        Of the test of no effect (two-sided; permutation for synthetic control).
    relative, relative_low, relative_high : float
        The effect as a proportional change against the estimated counterfactual
        (-0.2 = 20% fewer than expected), with its interval.
    scale : str
        What ``estimate`` measures.
    level : float
        Coverage of the interval (0.95).
    table : pandas.DataFrame
        Detail (group-time effects, gaps, windows...).
    tables : dict of DataFrame
        Further tables (``event_study``, ``placebos``...).
    assumptions : list of str
    warnings : list of str
    meta : dict
        The panel's unit, rule, source, vintage, coverage; the method's settings and
        inference, the cohorts used.
    """

    method: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    relative: float
    relative_low: float
    relative_high: float
    scale: str
    level: float = 0.95
    table: Any = None
    tables: dict = field(default_factory=dict)
    assumptions: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def summary_row(self) -> dict:
        return {"method": self.method, "estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "p_value": self.p_value, "relative": self.relative, "relative_low": self.relative_low,
                "relative_high": self.relative_high, "scale": self.scale,
                "warnings": len(self.warnings)}

    def covers(self, relative_effect: float) -> bool:
        """True when the relative interval contains ``relative_effect`` (e.g. -0.2)."""
        return bool(self.relative_low <= relative_effect <= self.relative_high)

    def stat_result(self):
        """The detail table as a :class:`~crimescope.stats.provenance.StatResult` (CSV ``#`` lines, JSON meta)."""
        import pandas as pd

        from ..stats.provenance import StatResult

        meta = dict(self.meta)
        meta["notes"] = (list(meta.get("notes", [])) + [f"assumes: {a}" for a in self.assumptions]
                         + [f"WARNING: {w}" for w in self.warnings])
        meta["effect"] = {k: v for k, v in self.summary_row().items() if k != "warnings"}
        table = self.table if self.table is not None else pd.DataFrame([self.summary_row()])
        return StatResult(table=table, meta=meta)

    def to_dict(self) -> dict:
        from ..stats.provenance import jsonable

        d = self.stat_result().to_dict()
        d["effect"] = jsonable({k: v for k, v in self.summary_row().items() if k != "warnings"})
        d["assumptions"] = list(self.assumptions)
        d["warnings"] = list(self.warnings)
        d["tables"] = {k: [{c: jsonable(v) for c, v in r.items()} for r in t.to_dict(orient="records")]
                       for k, t in self.tables.items()}
        return json_safe(d)

    def headline(self) -> str:
        pct = f"{100 * self.relative:+.1f}% ({100 * self.relative_low:+.1f}% to {100 * self.relative_high:+.1f}%)"
        return (f"{self.method}: {self.estimate:+.3g} {self.scale} [{self.ci_low:+.3g}, {self.ci_high:+.3g}], "
                f"p = {self.p_value:.3g}; {pct} vs counterfactual")


def json_safe(v):
    """JSON-safe values: NaN and +-inf become None (an unbounded interval is stated in the warnings)."""
    from ..stats.provenance import jsonable

    v = jsonable(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [json_safe(x) for x in v]
    return v


# ------------------------------------------------------------------ treatment
def treatment_index(panel, cohorts) -> np.ndarray:
    """Per panel area, the index of its first treated period; -1 for areas never treated in the panel.

    ``cohorts`` is a :class:`~crimescope.evaluate.cohorts.Cohorts` (or a mapping
    ``{area: start date}``). The first treated period is the one containing the
    start date. A start after the panel's last day leaves the area untreated within
    the panel (it is then a control, as in csdid); a start before its second period is refused
    (no pre-period to compare with).
    """
    from .cohorts import as_cohorts

    ch = as_cohorts(cohorts)
    g = np.full(panel.n_units, -1, dtype=np.int64)
    lo, hi = panel.span
    for area, start in ch.items():
        i = panel.index_of(area)
        if start > hi:
            continue
        if start < lo:
            raise ParameterError(f"area {area}: start {start} is before the panel's first day {lo}: no pre-period")
        j = panel.period_of(start)
        if j < 2:
            raise ParameterError(f"area {area}: start {start} leaves fewer than 2 periods before it in the panel")
        g[i] = j
    if not np.any(g >= 0):
        raise ParameterError("no area of the panel is treated within its span")
    if not np.any(g < 0):
        raise ParameterError("every area of the panel is treated: no comparison areas left")
    return g


# ---------------------------------------------------------------------- model
class Method:
    """Base class: settings handling, ``fit``/``result_`` skeleton, checks.

    Subclasses implement ``_validate()`` and ``_fit(panel, g) -> EffectResult`` with
    ``g`` from :func:`treatment_index`.
    """

    name: ClassVar[str] = ""
    #: the plain name a page shows (``name`` is the code the API and the CLI take)
    label: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    #: what the method assumes (copied into every result)
    assumptions: ClassVar[tuple[str, ...]] = ()
    #: True for a method that reads a panel's buffer units (``meta["buffer_units"]``, the ring of a
    #: drawn area) as its buffer; every other method has them left out of its panel
    uses_buffer_units: ClassVar[bool] = False
    #: True for a method comparing changes in records (additive): warned when the treated area is of
    #: another size than the controls (a drawn area against districts)
    scale_dependent: ClassVar[bool] = False

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = False) -> dict:
        return {p: getattr(self, p) for p in self._param_names()}

    def set_params(self, **params: Any) -> "Method":
        names = self._param_names()
        for k, v in params.items():
            if k not in names:
                raise ParameterError(f"invalid parameter={k!r}: expected one of {names}")
            setattr(self, k, v)
        return self

    def clone(self) -> "Method":
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()) + ")"

    def _validate(self) -> None:  # pragma: no cover - overridden
        pass

    def fit(self, panel, cohorts) -> "Method":
        """Estimate the effect of the cohorts' starts on ``panel``; returns self (answer in ``result_``)."""
        self._validate()
        buffers = [u for u in panel.meta.get("buffer_units", ()) if u in panel._pos]
        if buffers and not self.uses_buffer_units:
            panel = panel.subset(units=[u for u in panel.unit_ids if u not in set(buffers)])
        g = treatment_index(panel, cohorts)
        res = self._fit(panel, g)
        if buffers and not self.uses_buffer_units:
            res.meta["buffer_units_left_out"] = buffers
        if self.scale_dependent and "treated_area" in panel.meta:
            res.warnings.extend(_scale_warning(panel, g))
        res.assumptions = list(self.assumptions) + list(res.assumptions)
        meta = {k: v for k, v in panel.meta.items() if k != "title"}
        meta.update(res.meta)
        meta["title"] = f"{self.summary} - {panel.meta.get('title', repr(panel))}"
        meta["method"] = self.name
        meta["settings"] = self.get_params()
        meta["treated"] = {str(panel.unit_ids[i]): str(panel.periods[g[i]]) for i in np.flatnonzero(g >= 0)}
        meta["treated_rule"] = "first treated period = the period containing the start date"
        res.meta = meta
        if not math.isfinite(res.estimate):
            res.warnings.append("the estimate is not finite: too little data for this method")
        cal = calibration().get(self.name)
        if cal is not None:
            meta["calibration"] = cal
            if not cal.get("passes", True):
                res.warnings.append(
                    f"this method fails the planted-effect checks ({calibration_setting()}): its interval covered "
                    f"the true effect in {100 * cal['coverage']:.0f}% of draws (>= 90% wanted) and its test "
                    f"rejected {100 * cal['placebo_rejection']:.0f}% of no-effect placebos (<= 7% wanted); "
                    "see docs/benchmarks/evaluate.md")
        self.result_ = res
        return self

    @property
    def result(self) -> EffectResult:
        if "result_" not in self.__dict__:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(panel, cohorts) first")
        return self.result_

    def _fit(self, panel, g: np.ndarray) -> EffectResult:  # pragma: no cover - overridden
        raise NotImplementedError


def _scale_warning(panel, g) -> list[str]:
    """A warning when the treated areas' pre-period level is far from the controls' (additive methods)."""
    tr, ct = np.flatnonzero(g >= 0), np.flatnonzero(g < 0)
    s = int(g[tr].min())
    a = float(panel.counts[tr, :s].mean())
    c = float(np.median(panel.counts[ct, :s].mean(axis=1)))
    if c > 0 and a > 0 and not 0.25 <= a / c <= 4:
        return [f"the treated area counted {a:.2g} records per {panel.step} before the start, the median control "
                f"area {c:.2g}: a comparison of changes in records between areas of such different size is "
                "doubtful (read synth and wdd, which scale the controls, or choose smaller control areas)"]
    return []


_CALIBRATION_FILE = "calibration.json"


def _calibration() -> dict:
    import json
    from pathlib import Path

    p = Path(__file__).with_name("data") / _CALIBRATION_FILE
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def calibration() -> dict:
    """Per method, the planted-effect rates written by ``benchmarks/bench_evaluate.py`` (empty if never run)."""
    return dict(_calibration().get("methods", {}))


def calibration_setting() -> str:
    return str(_calibration().get("setting", ""))


def check_level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.5 <= float(level) < 1:
        raise ParameterError(f"invalid level={level!r}: expected a number in [0.5, 1)")
    return float(level)


# ------------------------------------------------------------------- registry
_REGISTRY: dict[str, Callable[[], Method]] = {}
_SUMMARIES: dict[str, str] = {}


def register(name: str, factory: Callable[[], Method], summary: str = "") -> None:
    _REGISTRY[name] = factory
    if summary:
        _SUMMARIES[name] = summary


def registry() -> dict[str, Callable[[], Method]]:
    """All evaluation methods by name (importing the method modules on first use)."""
    from . import _methods  # noqa: F401  (registers on import)

    return dict(_REGISTRY)


def summaries() -> dict[str, str]:
    registry()
    return dict(_SUMMARIES)


def labels() -> dict[str, str]:
    """The plain name of each registered method by its code (``did`` -> "Difference in
    differences"); a method without a ``label`` shows its code."""
    return {name: getattr(factory, "label", "") or name for name, factory in registry().items()}


def make_method(name: str, **params: Any) -> Method:
    reg = registry()
    if name not in reg:
        raise ParameterError(f"invalid method={name!r}: expected one of {', '.join(sorted(reg))}")
    m = reg[name]()
    if params:
        m.set_params(**params)
    return m
