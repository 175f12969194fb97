"""Several methods side by side on one panel, and how the answer moves with the start dates.

:func:`evaluate` fits each requested method on the same panel and cohorts and
returns an :class:`Evaluation`: one :class:`EffectResult` per method, a summary
table (one row per method) with the panel's provenance, and optionally the same
summary with every start moved by ``-shift`` and ``+shift`` months (the dates of
the SDSC rollout differ by source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ..errors import CrimescopeError, ParameterError
from .base import EffectResult, make_method, registry
from .cohorts import Cohorts, as_cohorts

__all__ = ["Evaluation", "evaluate", "DEFAULT_METHODS", "parse_methods"]

#: the methods run when none are named
DEFAULT_METHODS = ("did", "cs", "synth", "wdd", "its")


def parse_methods(methods: str | Sequence[str] | None) -> list[str]:
    if methods is None or methods == "all":
        return list(DEFAULT_METHODS)
    names = [m.strip() for m in (methods.split(",") if isinstance(methods, str) else methods) if m.strip()]
    known = registry()
    bad = [m for m in names if m not in known]
    if bad or not names:
        raise ParameterError(f"invalid methods={methods!r}: expected a comma-separated list of "
                             f"{', '.join(sorted(known))}")
    return list(dict.fromkeys(names))


@dataclass
class Evaluation:
    """Results of several methods on one panel.

    Attributes
    ----------
    panel : Panel
    cohorts : Cohorts
    results : dict of str -> EffectResult
        Per method; a method that could not run on this panel is in ``failed`` instead.
    failed : dict of str -> str
        Method -> the reason it could not run (e.g. too few pre-periods for ITS).
    sensitivity : pandas.DataFrame or None
        Per method and shift of the start dates (months): estimate, interval, p-value.
    """

    panel: Any
    cohorts: Cohorts
    results: dict
    failed: dict = field(default_factory=dict)
    sensitivity: Any = None

    def summary(self):
        """A StatResult: one row per method (estimate, interval, p, proportional effect, warnings)."""
        import pandas as pd

        from ..stats.provenance import StatResult

        rows = []
        for name, r in self.results.items():
            row = r.summary_row()
            row["warnings"] = " | ".join(r.warnings)
            rows.append(row)
        for name, why in self.failed.items():
            rows.append({"method": name, "warnings": f"not run: {why}"})
        meta = {k: v for k, v in self.panel.meta.items()}
        meta["title"] = f"Did it work? {self.panel.meta.get('title', repr(self.panel))}"
        meta["cohorts"] = {a: str(d) for a, d in self.cohorts.items()}
        meta["cohorts_source"] = list(self.cohorts.provenance) or [self.cohorts.origin]
        meta["methods"] = {n: {"assumptions": r.assumptions, "inference": r.meta.get("inference"),
                               "scale": r.scale} for n, r in self.results.items()}
        meta["notes"] = list(meta.get("notes", [])) + [
            f"treated: {self.cohorts.describe()} (first treated period = the one containing the start)",
            "relative = proportional change against each method's estimated counterfactual",
        ]
        return StatResult(table=pd.DataFrame(rows), meta=meta)

    def to_dict(self) -> dict:
        from ..stats.provenance import jsonable

        from .base import json_safe

        d = self.summary().to_dict()
        d["results"] = {n: r.to_dict() for n, r in self.results.items()}
        d["failed"] = dict(self.failed)
        if self.sensitivity is not None:
            d["sensitivity"] = [{k: jsonable(v) for k, v in r.items()}
                                for r in self.sensitivity.to_dict(orient="records")]
        return json_safe(d)

    def render(self, fmt: str = "table") -> str:
        import json

        if fmt == "json":
            return json.dumps(self.to_dict(), indent=2, default=str)
        s = self.summary()
        if fmt == "csv":
            out = s.to_csv()
            if self.sensitivity is not None:
                out += "# sensitivity to the start dates (months moved)\n" + self.sensitivity.to_csv(
                    index=False, lineterminator="\n")
            return out
        if fmt != "table":
            raise ParameterError(f"--format {fmt!r} is not one of table, csv, json")
        lines = [s.meta["title"], ""]
        for r in self.results.values():
            lines.append(r.headline())
            for w in r.warnings:
                lines.append(f"    warning: {w}")
        for n, why in self.failed.items():
            lines.append(f"{n}: not run ({why})")
        if self.sensitivity is not None:
            lines += ["", "sensitivity to the start dates (all starts moved by the months shown):",
                      self.sensitivity.to_string(index=False)]
        lines += [""] + s.caption_lines()
        for n, r in self.results.items():
            lines.append(f"{n} assumes: " + "; ".join(r.assumptions))
        return "\n".join(lines)


def evaluate(panel, cohorts, methods: str | Sequence[str] | None = None, *, shift_months: int = 0,
             settings: dict | None = None) -> Evaluation:
    """Fit ``methods`` (default: all) on ``panel`` with ``cohorts``; optionally the start-date sensitivity.

    ``settings`` maps a method name to its constructor settings. ``shift_months`` > 0
    also refits each method with every start moved by ``-shift_months`` and
    ``+shift_months`` (a shift that leaves no pre-period is reported as not run).
    Cohorts that do not fit the panel (an unknown area, a start with no pre-period)
    are refused with a ParameterError before any method runs; a method that cannot
    run on this panel otherwise (too few donors, fewer pre-periods than ITS's terms)
    is listed in ``failed`` with its reason; other errors propagate.
    """
    import pandas as pd

    from .base import treatment_index

    ch = as_cohorts(cohorts)
    names = parse_methods(methods)
    treatment_index(panel, ch)  # unknown areas, starts without a pre-period: refused once, before any method
    settings = settings or {}
    results: dict[str, EffectResult] = {}
    failed: dict[str, str] = {}
    for n in names:
        try:
            results[n] = make_method(n, **settings.get(n, {})).fit(panel, ch).result
        except ParameterError as exc:
            failed[n] = str(exc)
    sens = None
    if shift_months:
        rows = []
        for shift in (-abs(shift_months), 0, abs(shift_months)):
            for n in names:
                if shift == 0:
                    r = results.get(n)
                    if r is None:
                        continue
                else:
                    try:
                        r = make_method(n, **settings.get(n, {})).fit(panel, ch.shifted(shift)).result
                    except CrimescopeError as exc:
                        rows.append({"method": n, "shift_months": shift, "note": f"not run: {exc}"})
                        continue
                rows.append({"method": n, "shift_months": shift, "estimate": r.estimate, "ci_low": r.ci_low,
                             "ci_high": r.ci_high, "p_value": r.p_value, "relative": r.relative,
                             "relative_low": r.relative_low, "relative_high": r.relative_high, "note": ""})
        sens = pd.DataFrame(rows).sort_values(["method", "shift_months"], kind="stable").reset_index(drop=True)
    return Evaluation(panel=panel, cohorts=ch, results=results, failed=failed, sensitivity=sens)
