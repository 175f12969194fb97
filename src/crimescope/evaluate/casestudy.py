"""The Strategic Decision Support Center case: every method, three categories, start-date sensitivity.

:func:`sdsc_case_study` builds the district-by-month panels of shootings, homicides
and gun violence from the store, runs every method with the SDSC cohorts
(:func:`crimescope.evaluate.cohorts.sdsc`) and the same with every start moved a
month earlier and later. :meth:`CaseStudy.write` puts the summary (CSV with ``#``
lines, JSON), a Markdown report and the figures in a folder. The same function
backs ``crimescope evaluate-sdsc``, the dashboard's ``/evaluate`` page and
docs/evaluation.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .cohorts import Cohorts, sdsc
from .panel import build_panel
from .run import Evaluation, evaluate

__all__ = ["CaseStudy", "sdsc_case_study", "area_case_study", "AREA_CAVEATS", "brief_evaluation", "SDSC_CATEGORIES", "SDSC_CAVEATS", "HOW_TO_READ"]

SDSC_CATEGORIES = ("shooting", "homicide", "gun_violence")

SDSC_CAVEATS = [
    "The centres came with other changes in the same districts and months (more officers, gunshot detection "
    "and cameras, and a citywide fall in shootings in 2017 after the 2016 surge): no method here separates "
    "the centres from what arrived with them.",
    "Spillover: neighbouring districts may have gained (displacement) or lost (diffusion of benefits) crime; "
    "they are in the comparison group of DiD, CS and synthetic control. WDD reports the buffer separately.",
    "Few treated units: six districts (two per wave), and districts 6 and 10 have only the last months of "
    "2017 after their start; intervals based on so few treated areas are fragile (see the planted-effect "
    "rates in docs/benchmarks/evaluate.md).",
    "Start dates are from press reports and differ by source; the sensitivity table moves them by a month.",
    "The data end in December 2017: at most eleven months after the first centres opened.",
]

HOW_TO_READ = [
    "Each method asks what the treated districts would have counted without the centres and compares that "
    "with what they did count. 'relative' is the difference as a share of that counterfactual: -10% means "
    "10% fewer than expected.",
    "The interval is the range of effects consistent with the data (95%). If it includes 0, the data cannot "
    "tell a real change from normal ups and downs.",
    "The methods differ in how they build the 'what would have happened': difference in differences and "
    "Callaway-Sant'Anna use the other districts' change, synthetic control a weighted mix of districts that "
    "tracked each treated one before, weighted displacement difference a scaled control area, interrupted "
    "time series only the treated districts' own past (so a citywide drop counts as an effect).",
    "When the methods disagree, or warnings say a check failed, trust none of them on its own.",
]


@dataclass
class CaseStudy:
    """Evaluations of one set of cohorts on several categories.

    Attributes
    ----------
    evaluations : dict of str -> Evaluation
        Per category.
    cohorts : Cohorts
    settings : dict
        Span, step, area kind, methods, shift.
    caveats, how_to_read : list of str
    """

    evaluations: dict
    cohorts: Cohorts
    settings: dict
    caveats: list = field(default_factory=lambda: list(SDSC_CAVEATS))
    how_to_read: list = field(default_factory=lambda: list(HOW_TO_READ))
    title: str = "Strategic Decision Support Centers: did shootings, homicides and gun violence fall?"

    def summary(self):
        """One StatResult: a row per category and method, with the provenance of the panels."""
        import pandas as pd

        from ..stats.provenance import StatResult

        frames = []
        for cat, ev in self.evaluations.items():
            t = ev.summary().table.copy()
            t.insert(0, "category", cat)
            frames.append(t)
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        first = next(iter(self.evaluations.values()))
        meta = dict(first.summary().meta)
        meta["title"] = self.title
        meta["unit"] = "; ".join(f"{c}: {e.panel.meta['unit']}" for c, e in self.evaluations.items())
        meta["rule"] = "; ".join(f"{c}: {e.panel.meta['rule']}" for c, e in self.evaluations.items())
        meta["settings"] = self.settings
        meta["notes"] = list(meta.get("notes", [])) + [f"caveat: {c}" for c in self.caveats]
        return StatResult(table=table, meta=meta)

    def sensitivity(self):
        import pandas as pd

        frames = []
        for cat, ev in self.evaluations.items():
            if ev.sensitivity is not None:
                t = ev.sensitivity.copy()
                t.insert(0, "category", cat)
                frames.append(t)
        return pd.concat(frames, ignore_index=True) if frames else None

    def to_dict(self) -> dict:
        from ..stats.provenance import jsonable

        from .base import json_safe

        d = self.summary().to_dict()
        d["cohorts"] = [{k: jsonable(v) for k, v in r.items()} for r in self.cohorts.to_frame().to_dict("records")]
        d["cohorts_source"] = list(self.cohorts.provenance)
        d["caveats"] = list(self.caveats)
        d["how_to_read"] = list(self.how_to_read)
        s = self.sensitivity()
        d["sensitivity"] = [] if s is None else [{k: jsonable(v) for k, v in r.items()}
                                                 for r in s.to_dict(orient="records")]
        d["evaluations"] = {c: e.to_dict() for c, e in self.evaluations.items()}
        return json_safe(d)

    def markdown(self) -> str:
        """The report as Markdown (what docs/evaluation.md quotes)."""
        lines = [f"# {self.summary().meta['title']}", ""]
        lines += ["Cohorts (area, start):", ""] + [f"- {'' if self.settings.get('treated_area') else 'district '}{a}: {d}" + (f" ({self.cohorts.notes.get(a)})"
                                                                         if self.cohorts.notes.get(a) else "")
                                                  for a, d in self.cohorts.items()]
        lines += ["", "Dates: " + " ".join(self.cohorts.provenance), ""]
        for cat, ev in self.evaluations.items():
            p = ev.panel
            lines += [f"## {cat}", "", f"Panel: {p.meta['title']}; unit: {p.meta['unit']}; rule: {p.meta['rule']}.",
                      "", "| method | estimate | 95% interval | p | relative (95% interval) | warnings |",
                      "|---|---|---|---|---|---|"]
            for n, r in ev.results.items():
                lines.append(f"| {n} | {r.estimate:+.3g} | {r.ci_low:+.3g} to {r.ci_high:+.3g} | {r.p_value:.3g} | "
                             f"{100 * r.relative:+.1f}% ({100 * r.relative_low:+.1f}% to {100 * r.relative_high:+.1f}%)"
                             f" | {'; '.join(r.warnings) or '-'} |")
            for n, why in ev.failed.items():
                lines.append(f"| {n} | not run | | | | {why} |")
            lines.append("")
            if ev.sensitivity is not None:
                lines += ["Sensitivity (relative effect when every start moves by the months shown):", "",
                          "| method | -1 month | as recorded | +1 month |", "|---|---|---|---|"]
                s = ev.sensitivity
                for n in s["method"].unique():
                    cells = []
                    for sh in sorted(s["shift_months"].unique()):
                        row = s[(s["method"] == n) & (s["shift_months"] == sh)]
                        if len(row) and row["note"].iloc[0] == "":
                            r = row.iloc[0]
                            cells.append(f"{100 * r['relative']:+.1f}% ({100 * r['relative_low']:+.1f}% to "
                                         f"{100 * r['relative_high']:+.1f}%)")
                        else:
                            cells.append("not run")
                    lines.append(f"| {n} | " + " | ".join(cells) + " |")
                lines.append("")
        lines += ["## Caveats", ""] + [f"- {c}" for c in self.caveats]
        lines += ["", "## How to read this", ""] + [f"- {c}" for c in self.how_to_read]
        v = next(iter(self.evaluations.values())).panel.meta.get("vintage") or {}
        lines += ["", f"Source: {v.get('source_description')}; data vintage: max updated_at "
                      f"{v.get('max_updated_at')}. City of Chicago Data Portal.", ""]
        return "\n".join(lines)

    def write(self, folder, fmt: str = "png") -> list[Path]:
        """summary.csv, case_study.json, report.md and the figures of every category into ``folder``."""
        import json

        from .plots import save_figures

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        p = folder / "summary.csv"
        text = self.summary().to_csv()
        s = self.sensitivity()
        if s is not None:
            text += "# sensitivity to the start dates (months moved)\n" + s.to_csv(index=False, lineterminator="\n")
        p.write_text(text, encoding="utf-8")
        out.append(p)
        p = folder / "case_study.json"
        p.write_text(json.dumps(self.to_dict(), indent=1, default=str), encoding="utf-8")
        out.append(p)
        p = folder / "report.md"
        p.write_text(self.markdown(), encoding="utf-8")
        out.append(p)
        for cat, ev in self.evaluations.items():
            out += save_figures(ev, folder / cat, fmt)
        return out


def sdsc_case_study(store, categories: Sequence[str] = SDSC_CATEGORIES, *, step: str = "month",
                    start: Any = "2012-01-01", end: Any = "2017-12-31", unit_kind: str = "district",
                    methods=None, shift_months: int = 1, cohorts: Cohorts | None = None,
                    settings: dict | None = None) -> CaseStudy:
    """Run every method on the SDSC districts for each category (see the module docstring)."""
    ch = cohorts or sdsc()
    evs: dict[str, Evaluation] = {}
    for cat in categories:
        panel = build_panel(store, cat, unit_kind, start, end, step)
        evs[cat] = evaluate(panel, ch, methods, shift_months=shift_months, settings=settings)
    return CaseStudy(evaluations=evs, cohorts=ch,
                     settings={"start": str(start), "end": str(end), "step": step, "unit_kind": unit_kind,
                               "methods": list(next(iter(evs.values())).results) if evs else [],
                               "shift_months": shift_months})


AREA_CAVEATS = [
    "One treated area: randomization and placebo tests compare it with the control areas one at a time, so "
    "with fewer than 19 controls no test can reject at 5% (choose beats as controls for a small area).",
    "The ring around the area is left out of every comparison except WDD's buffer: crime that moved next "
    "door would otherwise pass for a comparison.",
    "Records are placed by their published point (blurred to the block by the portal); records without "
    "coordinates cannot be placed and are counted in the notes.",
    "An area drawn where crime was highest will usually see fewer records afterwards anyway (regression to "
    "the mean); a pre-trend warning often says so.",
]


def area_case_study(store, category: str, area, start_date, *, step: str = "month", start: Any = None,
                    end: Any = None, control_kind: str = "beat", ring: float | None = None, methods=None,
                    shift_months: int = 0, settings: dict | None = None) -> CaseStudy:
    """Every method on one drawn treated area (:mod:`crimescope.evaluate.areas`) from ``start_date``."""
    from .areas import AREA_CODE, build_area_panel

    panel = build_area_panel(store, category, area, start, end, step, control_kind=control_kind, ring=ring)
    ch = Cohorts({AREA_CODE: start_date}, origin=f"{area.label} ({area.origin})")
    ev = evaluate(panel, ch, methods, shift_months=shift_months, settings=settings)
    return CaseStudy(evaluations={panel.category: ev}, cohorts=ch, caveats=list(AREA_CAVEATS),
                     title=f"Did it work? {area.label} from {start_date}",
                     settings={"start": str(start), "end": str(end), "step": step, "unit_kind": control_kind,
                               "treated_area": panel.meta["treated_area"], "methods": list(ev.results),
                               "shift_months": shift_months})


#: the methods of the brief's section (the fast ones; the page and the CLI run all)
BRIEF_METHODS = ("did", "cs", "synth")


def brief_evaluation(store, as_of) -> Evaluation:
    """The brief's "Did it work?" section: SDSC districts, shootings per district and month up to ``as_of``.

    Raises a CrimescopeError (shown as "not available" in the brief) when the store does not cover
    a pre- and post-period around the starts.
    """
    import datetime as dt

    from ..stats.query import as_date

    a = as_date(as_of, "as_of")
    end = dt.date(a.year, a.month, 1) - dt.timedelta(days=1)  # the last full month
    panel = build_panel(store, "shooting", "district", None, end, "month")
    return evaluate(panel, sdsc(), BRIEF_METHODS)
