"""Claims about change ("shootings are up 50%", "homicides down 20% this year"), checked
with the same test as every comparison.

A change claim names a category, a signed percent change and a span: "this year" / "so
far this year" (January 1 to the claim's date) or "in YYYY" (that year, or to the claim's
date when said during it), always against the same span a year earlier (the convention
of the police and the press; :mod:`crimescope.stats.periods`). The check computes both
counts, the percent change, and the exact conditional test of the two counts with
exposure (:func:`crimescope.stats.significance.rate_test`). The verdict says two things:

* **reproduced** or **not reproduced**: the computed change equals the claimed one
  within ``tolerance`` percentage points (default 0.5: the claim's rounding) and in the
  same direction;
* the test's label: "up/down, beyond normal variation" or "within normal variation",
  and whether the claimed change lies inside the 95% interval of the rate ratio (a
  claim can be exactly reproduced and still be noise).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from ..errors import CoverageError, ParameterError
from .provenance import StatResult, jsonable

__all__ = ["ChangeClaim", "parse_change_claim", "check_change_claims", "ChangeReport"]

_CHANGE = re.compile(
    r"^\s*(?P<noun>[a-z ]+?)\s+(?:(?:are|is|were|was|have|has)\s+)?(?:(?:gone|went|been)\s+)?"
    r"(?P<dir>up|down|rose|fell|increased|decreased|dropped|jumped)\s+(?:by\s+)?"
    r"(?P<pct>\d+(?:\.\d+)?)\s*(?:%|percent|per cent)"
    r"(?:\s+(?P<ytd>this year|so far this year|year to date|so far in (?P<ytdyear>\d{4}))"
    r"|\s+in (?P<year>\d{4}))?"
    r"(?:\s+in (?:district|police district) (?P<district>\d+))?\s*\.?\s*$",
    re.IGNORECASE,
)
_DOWN = {"down", "fell", "decreased", "dropped"}


@dataclass
class ChangeClaim:
    """A claimed change vs the same span a year earlier.

    Attributes
    ----------
    category : str
    value : float
        The claimed percent change, signed (``-20`` for "down 20%").
    start, end : date
        The claim's span (inclusive local dates); compared with the same month/days a year earlier.
    district : int, optional
    tolerance : float
        Percentage points still counted as reproducing the claim (default 0.5).
    text : str, optional
    """

    category: str
    value: float
    start: Any
    end: Any
    district: int | None = None
    community_area: int | None = None  # not supported for change claims; kept for the claim interface
    tolerance: float = 0.5
    text: str | None = None

    def period(self) -> tuple[dt.date, dt.date]:
        from .query import as_date

        return as_date(self.start, "start"), as_date(self.end, "end")

    def previous(self) -> tuple[dt.date, dt.date]:
        from .query import same_day_year_ago

        s, e = self.period()
        return same_day_year_ago(s), same_day_year_ago(e)

    def area(self) -> str:
        return "citywide" if self.district is None else f"district {self.district}"

    def describe(self) -> str:
        s, e = self.period()
        return self.text or f"{self.category} {self.value:+g}% from {s} to {e} vs a year earlier, {self.area()}"


def parse_change_claim(text: str, as_of=None, *, taxonomy=None) -> ChangeClaim | None:
    """A :class:`ChangeClaim` from a sentence, or None when the sentence is not about a change.

    The noun is read by the claim reader of :mod:`crimescope.stats.claims` (so both readers
    know the same words); "this year" needs ``as_of``, the date of the claim.
    """
    m = _CHANGE.match(text or "")
    if not m:
        return None
    from .claims import parse_claim
    from .query import as_date

    noun = m.group("noun").strip()
    noun = re.sub(r"^(?:the number of|number of)\s+", "", noun, flags=re.IGNORECASE)
    try:
        category = parse_claim(f"1 {noun} in 2000", taxonomy=taxonomy).category
    except ParameterError as exc:
        raise ParameterError(f"claim {text!r}: no category for {noun!r}") from exc
    pct = float(m.group("pct")) * (-1 if m.group("dir").lower() in _DOWN else 1)
    district = int(m.group("district")) if m.group("district") else None
    if m.group("year"):
        y = int(m.group("year"))
        end = dt.date(y, 12, 31)
        if as_of is not None and as_date(as_of, "as_of").year == y:
            end = as_date(as_of, "as_of")
        return ChangeClaim(category, pct, dt.date(y, 1, 1), end, district, text=text.strip())
    if as_of is None:
        raise ParameterError(f"claim {text!r} is about this year: give --as-of (the date of the claim)")
    a = as_date(as_of, "as_of")
    if m.group("ytdyear") and int(m.group("ytdyear")) != a.year:
        raise ParameterError(f"claim {text!r}: year differs from --as-of {a}")
    return ChangeClaim(category, pct, dt.date(a.year, 1, 1), a, district, text=text.strip())


class ChangeReport(StatResult):
    """Change-claim checks: ``table`` has one row per claim; ``explain()`` reads them out."""

    def explain(self) -> str:
        out = []
        for r in self.table.to_dict(orient="records"):
            out.append("\n".join([
                f"claim: {r['claim']}",
                f"  category {r['category']}; {r['area']}; {r['start']} to {r['end']} vs {r['prev_start']} to "
                f"{r['prev_end']}",
                f"  computed: {r['count']} vs {r['prev_count']} = {_pct(r['computed_pct'])}   claimed: "
                f"{_pct(r['claimed_pct'])}",
                f"  test: rate ratio {_f(r['rate_ratio'])} (95% CI {_f(r['ci_low'])}-{_f(r['ci_high'])}), "
                f"p = {_f(r['p_value'], '.3g')}: {r['label']}",
                f"  claimed change inside the 95% interval: {'yes' if r['claimed_within_ci'] else 'no'}",
                f"  verdict: {r['verdict'].upper()}"]))
        out += [f"{line}" for line in self.caption_lines()]
        return "\n\n".join(out)

    def to_text(self) -> str:
        """The explanations with the provenance lines (what the CLI prints as a table)."""
        return self.explain()

    def to_dict(self) -> dict:
        d = super().to_dict()
        # the claim page's shape (one entry per claim with verdict, computed, claimed, reasons)
        d["checks"] = [jsonable({
            "claim": r["claim"], "category": r["category"], "start": r["start"], "end": r["end"],
            "area": r["area"], "claimed": _pct(r["claimed_pct"]), "computed": _pct(r["computed_pct"]),
            "difference": None if r["computed_pct"] is None else round(r["claimed_pct"] - r["computed_pct"], 1),
            "verdict": r["verdict"], "explained_by": "",
            "reasons": [
                {"reason": "as computed", "reading": f"{r['count']} vs {r['prev_count']} a year earlier",
                 "value": _pct(r["computed_pct"]), "matches_claim": bool(r["reproduced"]), "detail": ""},
                {"reason": "normal variation", "reading": r["label"], "value": _f(r["p_value"], ".3g"),
                 "matches_claim": bool(r["claimed_within_ci"]),
                 "detail": f"rate ratio {_f(r['rate_ratio'])}, 95% CI {_f(r['ci_low'])}-{_f(r['ci_high'])}; "
                           "matches: the claimed change lies inside the interval"},
            ]}) for r in self.table.to_dict(orient="records")]
        return d


def _pct(v) -> str:
    return "n/a" if v is None or v != v else f"{v:+.1f}%"


def _f(v, spec: str = ".2f") -> str:
    return "n/a" if v is None or v != v else format(v, spec)


def check_change_claims(store, claims: list[ChangeClaim], *, source: str = "chicago", taxonomy=None) -> ChangeReport:
    """Check change claims against the store (module docstring); one row per claim."""
    import pandas as pd

    from ..categories import get_category, load_taxonomy
    from .counts import count, rule_text, unit_text
    from .periods import pct_change
    from .provenance import data_vintage
    from .significance import TWO_COUNT_METHOD, _covered_years, _round, rate_test

    tax = taxonomy if taxonomy is not None else load_taxonomy()
    rows, cats = [], []
    for c in claims:
        if c.community_area is not None:
            raise ParameterError("change claims: a community area is not supported; use a district or citywide")
        cat = get_category(c.category, tax)
        cats.append(cat)
        (s, e), (ps, pe) = c.period(), c.previous()
        if e < s:
            raise ParameterError(f"claim {c.describe()!r}: the span ends before it starts")
        years = sorted({s.year, e.year, ps.year, pe.year})
        missing = sorted(set(years) - set(_covered_years(store, source, cat, years)))
        if missing:
            raise CoverageError(f"claim {c.describe()!r}: the store does not cover {cat.name} in "
                                f"{', '.join(map(str, missing))}; the change cannot be checked")
        by = ["district"] if c.district is not None else []

        def n(a, b):
            t = count(store, cat, a, b, by, source=source, taxonomy=tax).table
            if c.district is not None:
                t = t[pd.to_numeric(t["district"]) == int(c.district)]
            return int(t["count"].sum())

        cur, prev = n(s, e), n(ps, pe)
        days, pdays = (e - s).days + 1, (pe - ps).days + 1
        t = rate_test(cur, days, prev, pdays)
        computed = pct_change(cur, prev)
        reproduced = (computed is not None and abs(computed - c.value) <= c.tolerance
                      and (computed > 0) == (c.value > 0))
        claimed_ratio = 1 + c.value / 100.0
        # the interval is of the rate ratio (per day); a claim speaks of counts: scale by the days
        claimed_rate_ratio = claimed_ratio * pdays / days
        inside = t.ci_low is not None and t.ci_low <= claimed_rate_ratio <= t.ci_high
        verdict = ("reproduced" if reproduced else "not reproduced") + f"; the change is {t.label}"
        if not reproduced and inside:
            verdict += "; the claimed change is within the interval of what the data allow"
        rows.append({
            "claim": c.describe(), "category": cat.name, "area": c.area(), "start": s, "end": e,
            "prev_start": ps, "prev_end": pe, "count": cur, "prev_count": prev, "computed_pct": computed,
            "claimed_pct": c.value, "reproduced": reproduced,
            **{k: _round(k, v) for k, v in t.as_dict().items()},
            "claimed_within_ci": bool(inside), "verdict": verdict,
        })
    vint = data_vintage(store, source)
    meta = {"title": f"change claim check ({len(rows)} claim{'s' if len(rows) != 1 else ''})",
            "unit": "; ".join(sorted({f"{c.name}: {unit_text(c)}" for c in cats})),
            "rule": "; ".join(sorted({rule_text(c) for c in cats})),
            "source": vint["source_description"], "vintage": vint,
            "tests": TWO_COUNT_METHOD,
            "notes": ["verdict: reproduced | not reproduced (computed % change within the tolerance of the claimed "
                      "one, same direction), then the test's label",
                      "test: " + TWO_COUNT_METHOD + "; the claimed change is compared with the interval after "
                      "converting it to a rate ratio per day"]}
    return ChangeReport(pd.DataFrame(rows), meta)
