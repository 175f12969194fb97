"""Claims that compare Chicago with other cities: "Chicago's 2016 homicides were higher than
New York and Los Angeles combined".

Chicago's figure comes from the store (the claim's category, when the store holds the
period) and the other cities' from the city tables (``stats.cities``: FBI UCR via The
Marshall Project to 2015, FiveThirtyEight's 2014-2015 final and 2016 **partial-year**
counts). When the other cities' figures cover part of the year only, Chicago is counted over
the same span (January 1 to the earliest of their cut-off dates, which can only favour the
other side of a "higher than" claim) and every partial figure is flagged; the combined figure
is shown. Verdict: ``matches`` when the comparison holds, ``contradicts`` when it does not,
``cannot be checked with this data`` when a city or the period is not in the tables or store.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ..errors import CrimescopeError, ParameterError

__all__ = ["CityComparison", "ComparisonCheck", "parse_comparison", "check_comparison"]

_NOUN = {"homicides": "homicide", "homicide": "homicide", "murders": "murder", "murder": "murder",
         "killings": "homicide"}
_CMP = re.compile(
    r"^\s*(?:chicago\s+)?(?:in\s+)?(?P<year>(?:19|20)\d\d)\s+(?:chicago\s+)?(?P<noun>homicides?|murders?|killings)\s+"
    r"(?:in chicago\s+)?(?:were|was)\s+(?P<dir>higher|more|greater|larger|lower|fewer|less)\s+than\s+"
    r"(?:(?:those|the totals?|the numbers?) (?:of|in)\s+|in\s+)?(?P<others>.+?)(?:\s+combined|\s+put together)?\s*$")


@dataclass
class CityComparison:
    """Chicago's ``category`` count in ``year`` is ``direction`` ('higher' or 'lower') than the
    sum of ``others`` (city names as in the city tables)."""

    year: int
    category: str
    direction: str
    others: list[str]
    text: str = ""
    value: float = 0  # no claimed number: the claim is the comparison
    unit: str | None = None
    tolerance: float = 0

    def period(self) -> tuple[dt.date, dt.date]:
        return dt.date(self.year, 1, 1), dt.date(self.year, 12, 31)

    def area(self) -> str:
        return "citywide"

    def describe(self) -> str:
        return self.text or (f"Chicago {self.year} {self.category} {self.direction} than "
                             f"{' and '.join(self.others)} combined")


def parse_comparison(t: str, raw: str) -> CityComparison | None:
    """A comparison claim from normalised text (lower case, no possessive 's), or None."""
    m = _CMP.match(t.strip())
    if not m:
        return None
    others = [o.strip() for o in re.split(r",\s*(?:and\s+)?|\s+and\s+", m.group("others")) if o.strip()]
    if not others:
        return None
    d = "higher" if m.group("dir") in ("higher", "more", "greater", "larger") else "lower"
    return CityComparison(int(m.group("year")), _NOUN[m.group("noun")], d, others, text=raw.strip())


@dataclass
class ComparisonCheck:
    """The outcome of a :class:`CityComparison`: ``rows`` (one per city: ``city``, ``count``,
    ``start``, ``end``, ``partial_year``, ``source``), ``chicago``, ``combined``, ``verdict``, ``notes``."""

    claim: CityComparison
    rows: list[dict]
    chicago: int | None
    combined: int | None
    verdict: str
    notes: list[str] = field(default_factory=list)
    reasons: list = field(default_factory=list)
    unit: str = "victims (murder and non-negligent manslaughter as reported)"
    rule: str = ""
    category_file: str | None = None
    coverage: dict | None = None
    changes: object = None
    vintages: object = None
    computed: int | None = None
    difference: float | None = None
    unchecked: str | None = None

    def as_row(self) -> dict:
        s, e = self.claim.period()
        return {"claim": self.claim.describe(), "category": self.claim.category, "start": s, "end": e,
                "area": "Chicago vs " + " + ".join(self.claim.others), "claimed": None,
                "computed": self.chicago, "difference": None if self.chicago is None or self.combined is None
                else self.chicago - self.combined, "verdict": self.verdict,
                "explained_by": "", "note": "; ".join(self.notes)}

    def explain(self) -> str:
        out = [f"claim: {self.claim.describe()}"]
        for r in self.rows:
            flag = " PARTIAL YEAR" if r["partial_year"] else ""
            out.append(f"   {r['city']}: {r['count']:,} ({r['start']} to {r['end']}{flag}; {r['source']})")
        if self.combined is not None:
            out.append(f"   combined {' + '.join(self.claim.others)}: {self.combined:,}")
        for n in self.notes:
            out.append(f"  note: {n}")
        out.append(f"  verdict: {self.verdict.upper()}")
        return "\n".join(out)


def check_comparison(store, claim: CityComparison, *, source: str = "chicago", taxonomy=None,
                     shared_dir=None) -> ComparisonCheck:
    from ..store import coverage as _coverage
    from .claims import VERDICTS
    from .cities import cities
    from .counts import count

    try:
        table = cities("homicides", claim.year, shared_dir=shared_dir)
    except (ParameterError, CrimescopeError) as exc:
        return ComparisonCheck(claim, [], None, None, VERDICTS[3], [f"no city table for {claim.year}: {exc}"])
    df = table.table
    found, missing = [], []
    for name in claim.others:
        hit = df[df["city"].str.lower().str.split(",").str[0].str.strip() == name.lower()]
        if name.lower() in ("new york city", "nyc"):
            hit = df[df["city"].str.lower().str.startswith("new york")]
        if len(hit) == 0:
            missing.append(name)
        else:
            found.append(hit.iloc[0])
    notes = [n for n in table.meta.get("notes", []) if n.startswith(("PARTIAL", "FBI UCR"))]
    if missing:
        return ComparisonCheck(claim, [], None, None, VERDICTS[3],
                               notes + [f"not in the city table for {claim.year}: {', '.join(missing)}"])
    s, e = claim.period()
    rows = []
    for r in found:
        as_of = r["as_of"] if bool(r["partial_year"]) and r["as_of"] is not None else None
        rows.append({"city": r["city"], "count": int(r["count"]), "start": s, "end": as_of or e,
                     "partial_year": bool(r["partial_year"]), "source": r["source"]})
    cut = min(r["end"] for r in rows)
    # the city tables count murder (UCR murder and non-negligent manslaughter): Chicago on that basis
    basis = "murder"
    notes.append(f"Chicago is counted as murder (IUCR 0110, 0130), the UCR basis of the city tables"
                 + (f", though the claim says {claim.category}" if claim.category != basis else ""))
    chicago_end = cut if any(r["partial_year"] for r in rows) else e
    cov = _coverage.check(store, source, basis, s, chicago_end, taxonomy=taxonomy)
    if not cov.full:
        return ComparisonCheck(claim, rows, None, None, VERDICTS[3], notes + [cov.text()],
                               coverage=cov.as_dict())
    chi = int(count(store, basis, s, chicago_end, source=source, taxonomy=taxonomy).meta["total"])
    chi_rows = [{"city": f"Chicago (crimescope store, {basis})", "count": chi, "start": s,
                 "end": chicago_end, "partial_year": chicago_end != e,
                 "source": "City of Chicago Data Portal, via the store"}]
    combined = sum(r["count"] for r in rows)
    holds = chi > combined if claim.direction == "higher" else chi < combined
    if chicago_end != e:
        notes.append(f"the other cities' {claim.year} figures are partial years (to "
                     + ", ".join(f"{r['city']} {r['end']}" for r in rows)
                     + f"); Chicago is counted over {s}..{chicago_end}, the shortest of those spans")
        cov_full = _coverage.check(store, source, basis, s, e, taxonomy=taxonomy)
        if cov_full.full:
            full = int(count(store, basis, s, e, source=source, taxonomy=taxonomy).meta["total"])
            notes.append(f"Chicago's whole {claim.year}: {full:,} (not comparable with the partial years)")
    notes.append(f"Chicago {chi:,} vs combined {combined:,}: the comparison "
                 + ("holds" if holds else "does not hold"))
    return ComparisonCheck(claim, chi_rows + rows, chi, combined, VERDICTS[0] if holds else VERDICTS[2],
                           notes, coverage=cov.as_dict(), computed=chi)
