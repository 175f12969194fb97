"""Claim check: recompute a published figure and explain the known reasons it may differ.

A claim is a category, a period (``start``..``end``, or "so far this year" as of a
date), an optional area and a claimed value. :func:`check_claim` computes the value
from the store and, for each known reason counts differ, the value under that
reading:

* victims vs incidents (HOMICIDE rows are one per victim; distinct case numbers ~ incidents);
* murder (0110, 0130) vs all homicides (adds 0141 involuntary manslaughter and 0142
  reckless homicide, which the police exclude, as they exclude expressway killings
  handled by the State Police and justifiable homicides);
* date of injury vs date of death (records re-dated, or added later, by revisions);
* revised records: the count as the store stood after each earlier ingest batch
  (versions kept in ``incident_history``), and the count in each extract on its own,
  listing the ids that changed and how.

Verdict: ``matches`` (equal within the tolerance), ``within a known definitional gap``
(a named reading - another rule, vintage, unit or exclusion - equals the claim within the
same stated tolerance; the reading is named in ``explained_by``), ``contradicts``, or
``cannot be checked with this data``: the store does not hold the whole period for the
category (coverage), or the claim counts a unit (victims, people shot, arrests) that no
category of the store counts - the nearest comparable figure is then shown with its unit,
never a contradiction.

What the check reads of the records (the rows it counts, every version of every id that is, or
ever was, in the claim) comes from the store, or, on a read-only snapshot that carries an
aggregate (the web server's), from the snapshot's structures (``stats._claim_index``): the same
figures, readings, listed changes and verdicts (``tests/stats/test_claim_fast.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..categories import Taxonomy, get_category, load_taxonomy
from ..errors import CrimescopeError, ParameterError
from ..store import coverage as _coverage
from ..result import Result, provenance
from .counts import rule_text, unit_text
from .provenance import StatResult, data_vintage, jsonable
from .query import (as_date, category_predicate, count_expr, date_predicate, incidents_table,
                    to_pandas, versions_table)

__all__ = ["Claim", "ClaimCheck", "ClaimReport", "check_claim", "check_claims", "parse_claim",
           "claims_from_yaml", "VERDICTS"]

#: the source whose records a claim is checked against (the web's claim page and ``crimescope claim``)
CLAIM_SOURCE = "chicago"

VERDICTS = ("matches", "within a known definitional gap", "contradicts", "cannot be checked with this data")

#: what a claim counts, as read from its words (None: the category's own unit)
CLAIM_UNITS = ("victims", "incidents", "people shot", "people killed", "people injured", "arrests")
#: the claim units each category unit can answer (homicide rows are one per victim = people killed)
_UNIT_OK = {"victims": {"victims", "people killed"}, "incidents": {"incidents"},
            "records": set()}
HOMICIDE_CODES = {"0110", "0130", "0141", "0142"}
POLICE_EXCLUDED = {"0141": "involuntary manslaughter", "0142": "reckless homicide (mostly traffic)"}


@dataclass
class Claim:
    """A published figure to check.

    Attributes
    ----------
    category : str
        Taxonomy category the claim is about.
    value : float
        The claimed number.
    start, end : date, optional
        Inclusive local dates. With ``as_of`` and no ``start``: January 1 of that year
        to ``as_of`` ("so far this year").
    district, community_area : int, optional
        Restrict to one area (default citywide).
    tolerance : float
        Absolute difference still counted as a match (default 0).
    text : str, optional
        The claim as published.
    """

    category: str
    value: float
    start: Any = None
    end: Any = None
    as_of: Any = None
    district: int | None = None
    community_area: int | None = None
    tolerance: float = 0.0
    text: str | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        def num(v, name):
            try:
                return float(str(v).replace(",", "")) if isinstance(v, str) else float(v)
            except (TypeError, ValueError):
                raise ParameterError(f"claim {name} {v!r} is not a number") from None

        self.value = _intish(num(self.value, "value"))
        self.tolerance = _intish(num(self.tolerance, "tolerance"))
        if self.unit is not None and self.unit not in CLAIM_UNITS:
            raise ParameterError(f"claim unit {self.unit!r} is not one of {', '.join(CLAIM_UNITS)}")
        if self.tolerance < 0:
            raise ParameterError("claim tolerance must be >= 0")
        for name in ("district", "community_area"):
            v = getattr(self, name)
            if v is not None:
                try:
                    setattr(self, name, int(v))
                except (TypeError, ValueError):
                    raise ParameterError(f"claim {name} {v!r} is not an integer") from None

    def period(self) -> tuple[dt.date, dt.date]:
        if self.start is None and self.as_of is not None:
            a = as_date(self.as_of, "as_of")
            return dt.date(a.year, 1, 1), a
        if self.start is None or (self.end is None and self.as_of is None):
            raise ParameterError("a claim needs --from and --to, or --as-of for 'so far this year'")
        s = as_date(self.start, "from")
        e = as_date(self.end if self.end is not None else self.as_of, "to")
        if e < s:
            raise ParameterError(f"claim period ends ({e}) before it starts ({s})")
        return s, e

    def area(self) -> str:
        if self.district is not None:
            return f"district {self.district}"
        if self.community_area is not None:
            return f"community area {self.community_area}"
        return "citywide"

    def describe(self) -> str:
        s, e = self.period()
        v = int(self.value) if float(self.value).is_integer() else self.value
        return self.text or f"{v} {self.category}, {s} to {e}, {self.area()}"


@dataclass
class ClaimCheck(Result):
    """The outcome of checking one claim.

    Attributes
    ----------
    claim : Claim
    computed : int
        The value computed from the store (current versions) under the claim's category.
    difference : float
        ``claim.value - computed``.
    verdict : str
        One of :data:`VERDICTS`.
    reasons : list of dict
        Known reasons counts differ: ``reason``, ``reading``, ``value`` (the count under
        that reading, or None when it cannot be computed), ``matches_claim``, ``detail``.
    changes : pandas.DataFrame
        Ids whose versions differ between batches: ``id``, ``batch_id``, ``origin``,
        ``change``, ``detail``.
    vintages : pandas.DataFrame
        Per ingest batch: ``batch_id``, ``origin``, ``as_of_batch`` (count with the store as
        it stood after the batch), ``delivered`` (count among the rows that batch delivered),
        ``covers_period`` (the store then had rows in every month of the current count) and
        ``complete_extract`` (the batch alone has every month and primary type of it).
    unit, rule : str
        The counting unit and the codes of the category.
    vintage : dict
        Data vintage of the store (see ``data_vintage``).
    category_file : str or None
        The user category file that defined the category (None for a built-in one).
    """

    claim: Claim
    computed: int | None
    difference: float | None
    verdict: str
    reasons: list[dict]
    changes: Any
    vintages: Any
    unit: str
    rule: str
    vintage: dict = field(default_factory=dict)
    category_file: str | None = None
    coverage: dict | None = None
    #: why the claim cannot be checked (coverage or unit), None when it can
    unchecked: str | None = None

    def explain(self) -> str:
        s, e = self.claim.period()
        if self.unchecked is not None:
            out = [f"claim: {self.claim.describe()}",
                   f"  category {self.claim.category} ({self.rule}); unit: {self.unit}",
                   f"  period {s} to {e} (inclusive local dates), {self.claim.area()}",
                   f"  claimed: {_num(self.claim.value)}" + (f" {self.claim.unit}" if self.claim.unit else ""),
                   f"  {self.unchecked}"]
            for r in self.reasons:
                val = "n/a" if r["value"] is None else _num(r["value"])
                out.append(f"     [{r['reason']}] {r['reading']}: {val}")
                if r.get("detail"):
                    out.append(f"       {r['detail']}")
            out.append(f"  verdict: {self.verdict.upper()}")
            return "\n".join(out)
        out = [f"claim: {self.claim.describe()}",
               f"  category {self.claim.category} ({self.rule}); unit: {self.unit}",
               *([f"  user category defined in {self.category_file}"] if self.category_file else []),
               f"  period {s} to {e} (inclusive local dates), {self.claim.area()}",
               f"  computed: {self.computed}   claimed: {_num(self.claim.value)}   difference: {_num(self.difference):+}",
               "  known reasons counts differ:"]
        for r in self.reasons:
            mark = "=" if r["matches_claim"] else " "
            val = "n/a" if r["value"] is None else _num(r["value"])
            out.append(f"   {mark} [{r['reason']}] {r['reading']}: {val}")
            if r.get("detail"):
                out.append(f"       {r['detail']}")
        if self.changes is not None and len(self.changes):
            out.append("  records that changed between extracts / vintages:")
            for row in self.changes.itertuples(index=False):
                out.append(f"     id {row.id}: {row.change} ({row.origin}) {row.detail}")
        best = [f"[{r['reason']}] {r['reading']}" for r in self.reasons
                if r["matches_claim"] and r["reason"] != "as computed"]
        if best and self.verdict != VERDICTS[0]:
            out.append("  the claimed value is explained by: " + "; ".join(best))
        band = next((r for r in self.reasons if r["reason"] == PUBLISHED and "low" in r and r["matches_claim"]), None)
        if band is not None and self.verdict == VERDICTS[1]:
            d = float(self.claim.value) - float(self.computed)
            out.append(f"  close: the store counts {self.computed} by the rule {self.rule}; the published "
                       f"{_num(self.claim.value)} is {_num(abs(d))} {'below' if d < 0 else 'above'} it "
                       f"({100 * abs(d) / self.computed:.1f}%), within the range the police's published counts "
                       f"take ({band['low']} to {band['high']}): they use a different definition (UCR murder: "
                       "no justifiable homicides, no expressway killings) and an earlier vintage")
        if self.verdict == VERDICTS[2]:
            near = self.nearest()
            if near is not None:
                out.append(f"  no known reading comes within the tolerance ({_num(self.claim.tolerance)}) of the "
                           f"claim; the nearest is [{near['reason']}] {near['reading']}: {_num(near['value'])}")
        out.append(f"  verdict: {self.verdict.upper()}")
        out.append(f"  data vintage: max updated_at {self.vintage.get('max_updated_at')}, "
                   f"latest batch {self.vintage.get('latest_batch_at')}")
        return "\n".join(out)

    def frame(self):
        """One row: the claim, computed and claimed values, difference, verdict."""
        import pandas as pd

        return pd.DataFrame([self.as_row()])

    def nearest(self) -> dict | None:
        """The reading closest to the claimed value (None when no reading has a value)."""
        vals = [r for r in self.reasons if r["value"] is not None]
        return min(vals, key=lambda r: abs(float(r["value"]) - float(self.claim.value))) if vals else None

    def as_row(self) -> dict:
        s, e = self.claim.period()
        best = [r["reading"] for r in self.reasons if r["matches_claim"]]
        return {"claim": self.claim.describe(), "category": self.claim.category, "start": s, "end": e,
                "area": self.claim.area(), "claimed": self.claim.value, "computed": self.computed,
                "difference": self.difference, "verdict": self.verdict,
                "explained_by": "; ".join(best) if self.verdict != VERDICTS[3] else "",
                "note": self.unchecked or ""}


class ClaimReport(StatResult):
    """Several claim checks: ``table`` has one row per claim; ``checks`` the details."""

    def __init__(self, checks: list[ClaimCheck], meta: dict):
        import pandas as pd

        super().__init__(pd.DataFrame([c.as_row() for c in checks]), meta)
        self.checks = checks

    def explain(self) -> str:
        return "\n\n".join(c.explain() for c in self.checks)

    def to_text(self) -> str:
        """The explanations, then the provenance lines (unit, rule, source, vintage)."""
        return self.explain() + "\n\n" + "\n".join(self.caption_lines())

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["checks"] = [jsonable({**c.as_row(), "reasons": c.reasons, "unit": c.unit, "rule": c.rule,
                                 "category_file": c.category_file,
                                 "coverage": c.coverage, "claim_unit": c.claim.unit,
                                 "changes": c.changes.to_dict(orient="records") if c.changes is not None else [],
                                 "vintages": _base_names(c.vintages)})
                       for c in self.checks]
        return d


def _num(v):
    v = float(v)
    return int(v) if v.is_integer() else round(v, 2)


def _intish(v: float):
    """A whole number as int (claims print as ``110``, not ``110.0``)."""
    return int(v) if float(v).is_integer() else float(v)


def _base_names(vintages) -> list[dict]:
    """Vintage rows with each batch's origin as its file's base name: no server path in an answer."""
    if vintages is None:
        return []
    rows = vintages.to_dict(orient="records")
    for r in rows:
        if "origin" in r:
            r["origin"] = _short(r["origin"])
    return rows


def _area_filter(t, claim: Claim):
    if claim.district is not None:
        t = t.filter(t.district == int(claim.district))
    if claim.community_area is not None:
        t = t.filter(t.community_area == int(claim.community_area))
    return t


def _batches(store, source: str):
    import pandas as pd

    return pd.DataFrame(store.con.execute(
        "SELECT batch_id, origin FROM batches WHERE source = ? ORDER BY batch_id", [source]
    ).fetchall(), columns=["batch_id", "origin"])


def _short(origin: str) -> str:
    return Path(str(origin)).name or str(origin)


def check_claim(store, claim: Claim, *, source: str = CLAIM_SOURCE,
                taxonomy: Taxonomy | None = None) -> ClaimCheck:
    """Recompute ``claim`` and explain the gap; see the module docstring.

    ``taxonomy`` resolves the claim's category (default: the built-in taxonomy). The check
    is a one-row :class:`~crimescope.result.Result` whose ``meta`` is its provenance.
    """
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    chk = _check_claim(store, claim, source=source, taxonomy=tax)
    s, e = claim.period()
    chk.meta = provenance(store, get_category(claim.category, tax), source=source,
                          title=f"claim check: {claim.describe()}",
                          period=f"{s} to {e} (inclusive local dates), {claim.area()}",
                          **({"coverage": chk.coverage} if chk.coverage else {}))
    return chk


def _plain(store):
    """The store under a Dataset (the per-snapshot structures hang on the store, not on a Dataset)."""
    from ..datasets import Dataset

    return store.store if isinstance(store, Dataset) else store


def _aggregate_total(store, source: str, cat, s, e, claim: Claim) -> int | None:
    """The claim's computed count from the per-snapshot count table (``stats._aggregate``), or None
    when the store has none."""
    import pandas as pd

    from ._aggregate import count_frame, span_counter

    if claim.community_area is None:  # citywide or a district: two look-ups in cumulative daily counts
        counter = span_counter(_plain(store), source, cat, claim.district)
        if counter is not None:
            return counter.count(s, e)
    by = [k for k in ("district", "community_area") if getattr(claim, k) is not None]
    df = count_frame(_plain(store), source, cat, s, e, by)
    if df is None:
        return None
    for k in by:
        df = df[pd.to_numeric(df[k]) == int(getattr(claim, k))]
    return int(df["count"].sum())


def _total(store, source: str, cat, s, e, claim: Claim) -> int:
    """The current rows of ``cat`` in the claim's period and area: from the count table, else a store query."""
    n = _aggregate_total(store, source, cat, s, e, claim)
    if n is None:
        t = _area_filter(incidents_table(store.ibis(), source=source), claim)
        n = int(to_pandas(count_expr(t, cat, s, e))["count"].iloc[0])
    return n


@dataclass
class _Facts:
    """What a claim check reads of the records besides totals: from the store (:func:`_store_facts`)
    or from the snapshot's structures (``stats._claim_index``), the same values either way.

    ``by_iucr``: the current rows counted, by IUCR; ``n_cases``: distinct case numbers among those
    with one of the category's HOMICIDE codes; ``homicide_iucr``: current rows of the homicide
    category in the period and area, by IUCR; ``n_expressway``: the counted murder rows (0110,
    0130) at an EXPRESSWAY location; ``vintages``, ``changes``: as :class:`ClaimCheck` has them.
    The homicide figures are 0 / empty when the category counts no HOMICIDE code.
    """

    by_iucr: dict
    n_cases: int
    homicide_iucr: dict
    n_expressway: int
    vintages: Any
    changes: Any


def _hom_codes(cat) -> set[str]:
    """The HOMICIDE codes a category counts (by IUCR, or by FBI 01A / 01B)."""
    return (set(cat.iucr) & HOMICIDE_CODES) | ({"0110", "0130"} if "01A" in cat.fbi else set()) \
        | ({"0141", "0142"} if "01B" in cat.fbi else set())


def _check_claim(store, claim: Claim, *, source: str, taxonomy: Taxonomy) -> ClaimCheck:
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    cat = get_category(claim.category, tax)
    s, e = claim.period()
    cov = _coverage.check(_plain(store), source, cat, s, e)
    computed = None
    if cov.status != "none":
        computed = _total(store, source, cat, s, e, claim)  # the per-snapshot count table, if any
    if not cov.full:  # a total over days the store does not hold cannot be checked
        why = ("the store does not hold the whole period: " if cov.status == "partial" else "") + cov.text()
        reasons = [] if computed is None else [_reason(
            "covered days only", f"{rule_text(cat)}, {cov.spans_text(cov.covered)}", computed, claim,
            "a count of part of the period: not comparable with the claim")]
        return _unchecked(store, claim, cat, source, why, reasons, computed, cov)
    if claim.unit is not None and claim.unit not in _UNIT_OK[cat.unit]:
        return _unit_mismatch(store, claim, cat, source, computed, cov)
    claimed = float(claim.value)
    tol = float(claim.tolerance)
    reasons: list[dict] = []

    def add(reason, reading, value, detail=""):
        reasons.append({"reason": reason, "reading": reading, "value": value, "detail": detail,
                        "matches_claim": value is not None and abs(float(value) - claimed) <= tol})

    hom_codes = _hom_codes(cat)
    hcat = tax["homicide"] if hom_codes else None
    from ._claim_index import claim_facts

    facts = claim_facts(_plain(store), source, cat, hcat, claim, s, e, hom_codes)  # None without a snapshot
    if facts is None:
        facts = _store_facts(store, source, cat, hcat, claim, s, e, hom_codes)
    by_iucr = facts.by_iucr
    add("as computed", rule_text(cat), computed, unit_text(cat))

    if hom_codes:
        # victims vs incidents
        n_cases = facts.n_cases
        n_hom = sum(v for k, v in by_iucr.items() if k in hom_codes)
        add("victims vs incidents", "homicide incidents (distinct case numbers) instead of victims",
            computed - n_hom + n_cases,
            f"{n_hom} homicide victim rows belong to {n_cases} case numbers")
        # murder vs all homicides (for the two homicide categories)
        hb = facts.homicide_iucr
        breakdown = ("all HOMICIDE rows in the period: " + ", ".join(f"{k}: {hb.get(k, 0)}" for k in sorted(HOMICIDE_CODES))
                     + " (0141 involuntary manslaughter and 0142 reckless homicide are excluded by the police)")
        n_murder = None  # the claim's murder count (0110, 0130), for a homicide or murder claim
        if set(cat.iucr) <= HOMICIDE_CODES and not cat.fbi:
            other = "murder" if set(cat.iucr) != {"0110", "0130"} else "homicide"
            t_other = _total(store, source, tax[other], s, e, claim)
            add("murder vs all homicides", f"{other} ({tax[other].rule})", t_other,
                "the police count murders (0110, 0130) only; " + breakdown)
            n_murder = t_other if other == "murder" else computed
        # categories the police exclude: 0141/0142, expressway killings (State Police)
        excl = sum(by_iucr.get(k, 0) for k in POLICE_EXCLUDED)
        n_expr = facts.n_expressway
        add("police-excluded categories",
            "without 0141/0142 and murders at EXPRESSWAY locations (State Police jurisdiction)",
            computed - excl - n_expr,
            f"{excl} rows are 0141/0142; {n_expr} murder rows have an expressway location; justifiable "
            "homicides are not identifiable in the portal data (no code marks them); " + breakdown)
        if n_murder is not None:
            reasons += _published(store, source, tax["murder"], claim, s, e, n_murder)

    vintages, changes = facts.vintages, facts.changes

    n_redated = int(((changes["change"] == "revised") & changes["detail"].str.contains("date ")).sum()) \
        if len(changes) else 0
    n_added = int((changes["change"] == "added by a later batch").sum()) if len(changes) else 0
    add("date of injury vs date of death",
        f"{n_redated} record(s) re-dated and {n_added} added by later batches (listed below)", None,
        "the portal dates a homicide by the incident (injury) date; a later death is added or "
        "re-dated to it, while press tallies may use the date of death"
        if hom_codes else "records re-dated by revisions are listed below")
    # earlier vintages: only batches that delivered rows of the claim, once the store
    # covered every month of it (otherwise a partial count, e.g. one year of two)
    sel = vintages[(vintages["delivered"] > 0) & vintages["covers_period"]]
    # the columns zipped, not itertuples: that builds a namedtuple class per call (~15 ms a claim in a burst)
    for batch_id, origin, as_of_batch, complete, delivered in zip(
            sel["batch_id"], sel["origin"], sel["as_of_batch"], sel["complete_extract"], sel["delivered"]):
        add("revised records", f"as the store stood after batch {batch_id} ({_short(origin)})", as_of_batch)
        if complete and delivered != as_of_batch:
            add("revised records", f"counting only the rows delivered by batch {batch_id} "
                f"({_short(origin)}) on its own", delivered,
                "what that extract alone says for this category and period")

    diff = _intish(claimed - computed)
    if abs(diff) <= tol:
        verdict = VERDICTS[0]
    elif any(r["matches_claim"] for r in reasons):  # a named reading within the tolerance
        verdict = VERDICTS[1]
    else:  # lying between two readings explains nothing
        verdict = VERDICTS[2]
    return ClaimCheck(claim=claim, computed=computed, difference=diff, verdict=verdict, reasons=reasons,
                      changes=changes, vintages=vintages, unit=unit_text(cat), rule=cat.rule,
                      vintage=data_vintage(store, source), category_file=cat.origin, coverage=cov.as_dict())


#: the reason a published police count is set beside the store's murder count under
PUBLISHED = "published police count"


def _year_totals(store, source: str, cat, years: list[int]) -> dict[int, int]:
    """The category's citywide count in each calendar year of ``years``: from the count table
    (``stats._aggregate``) when the store has one, else one store query grouped by year."""
    from ._aggregate import span_counter

    counter = span_counter(_plain(store), source, cat)
    if counter is not None:
        return {y: int(counter.count(dt.date(y, 1, 1), dt.date(y, 12, 31))) for y in years}
    t = incidents_table(store.ibis(), source=source)
    df = to_pandas(count_expr(t, cat, dt.date(min(years), 1, 1), dt.date(max(years), 12, 31), by=["year"]))
    got = {int(y): int(n) for y, n in zip(df["year"], df["count"])}
    return {y: got.get(y, 0) for y in years}


def _published(store, source: str, mcat, claim: Claim, s: dt.date, e: dt.date, n_murder: int) -> list[dict]:
    """Readings "published police count" of a murder or homicide claim that is citywide and covers
    whole calendar years: the range the police's published full-year murder counts have had below
    the store's murder count (``mcat``; ``n_murder`` in the claim's period), and the published
    figure of the claim's own year when the city tables have one.

    The published counts (UCR murder and non-negligent manslaughter, ``cities.published_years``)
    leave out what no code of the portal marks - justifiable homicides, expressway killings the
    State Police investigate - and are made weeks after the year ends, while the portal goes on
    adding delayed deaths and late classifications to the year of the injury. So they run below
    the store's murder count by an amount the data cannot itemise. Its size is measured on the
    years where a published figure and a fully covered year of the store meet (the claim's own
    years left out): the largest share seen below, ``g``, gives the range
    ``ceil(n_murder * (1 - g)) .. n_murder`` (a published figure above the store's count would
    widen it upwards the same way). No reading when the source's city has no published figure or
    the claim is not citywide whole years; one without a value when the city tables are not found.
    """
    import math

    from ..datasets import get_profile
    from .cities import published_years

    if claim.district is not None or claim.community_area is not None \
            or (s.month, s.day, e.month, e.day) != (1, 1, 12, 31):
        return []
    try:
        pub = published_years(get_profile(source).name)
    except CrimescopeError as exc:
        return [{"reason": PUBLISHED, "reading": "the police's published murder counts", "value": None,
                 "detail": f"not available: {exc}", "matches_claim": False}]
    claimed, tol = float(claim.value), float(claim.tolerance)
    own = set(range(s.year, e.year + 1))
    out = []
    held = [y for y in sorted({r["year"] for r in pub} - own)
            if _coverage.check(_plain(store), source, mcat, dt.date(y, 1, 1), dt.date(y, 12, 31)).full]
    store_n = _year_totals(store, source, mcat, held) if held else {}
    seen = [(r["year"], r["count"], store_n[r["year"]], r["source"]) for r in pub if store_n.get(r["year"], 0) > 0]
    if seen:
        shares = [(n - p) / n for _, p, n, _ in seen]
        below, above = max(max(shares), 0.0), max(-min(shares), 0.0)
        lo, hi = math.ceil(n_murder * (1 - below) - 1e-9), math.floor(n_murder * (1 + above) + 1e-9)
        years = f"{seen[0][0]}-{seen[-1][0]}" if len(seen) > 1 else str(seen[0][0])
        pct = f"0% to {100 * below:.1f}% below" + (f", up to {100 * above:.1f}% above" if above else "")
        by_year: dict[int, tuple[int, list[int]]] = {}
        for y, p, n, _ in seen:  # a year two tables publish (2014: 411 and 415) is listed once
            ps = by_year.setdefault(y, (n, []))[1]
            if p not in ps:
                ps.append(p)
        per_year = ", ".join(f"{y}: {' and '.join(map(str, ps))} vs {n}" for y, (n, ps) in by_year.items())
        out.append({
            "reason": PUBLISHED,
            "reading": (f"the police's published murder count: {lo} to {hi} (the store's {n_murder} murders, "
                        f"{pct}: the gap of the {len(seen)} published full-year figures of {years})"),
            "value": None, "low": lo, "high": hi,
            "detail": (f"published full-year murder counts (UCR murder and non-negligent manslaughter; "
                       f"{'; '.join(sorted({src for *_, src in seen}))}) vs the store's murder count, per year: "
                       f"{per_year}: from {100 * min(shares):.1f}% to {100 * max(shares):.1f}% below the store. "
                       "The police's count leaves out what no code of the portal marks (justifiable homicides, "
                       "killings on expressways investigated by the State Police) and is made weeks after the "
                       "year ends, while the portal adds later deaths and classifications to the year of the "
                       "injury: a different definition and vintage, not itemised in the data"),
            "matches_claim": lo - tol <= claimed <= hi + tol})
    if len(own) == 1:  # the claim's own year is published: each figure is a reading too
        out += [{"reason": PUBLISHED, "reading": f"published for {r['year']} ({r['source']})", "value": r["count"],
                 "detail": "UCR murder and non-negligent manslaughter, as the city tables give it",
                 "matches_claim": abs(r["count"] - claimed) <= tol} for r in pub if r["year"] in own]
    return out


def _store_facts(store, source: str, cat, hcat, claim: Claim, s, e, hom_codes: set[str]) -> _Facts:
    """:class:`_Facts` from the store: one query of every version of every id that is, or ever was,
    in the category, period and area, then pandas (the path without a snapshot's structures, and
    the reference ``stats._claim_index`` is compared with)."""
    import pandas as pd

    backend = store.ibis()
    t = _area_filter(incidents_table(backend, source=source), claim)
    # revisions: versions of every id that is, or ever was, in the category and period
    vt = _area_filter(versions_table(backend, source=source), claim)
    ever = vt.filter(category_predicate(vt, cat), date_predicate(vt, s, e)).select("id").distinct()
    all_v = versions_table(backend, source=source)
    vers = to_pandas(all_v.join(ever, "id", how="semi").select(
        "id", "case_number", "occurred_local", "iucr", "fbi_code", "primary_type", "district",
        "community_area", "updated_at", "batch_id", "_cur"))
    # a stable order whatever order the query returns its rows in: each id's versions in (batch, current) order
    vers = vers.sort_values(["id", "batch_id", "_cur"], kind="stable").reset_index(drop=True)
    batches = _batches(store, source)
    origin = dict(zip(batches["batch_id"], batches["origin"]))
    codes, fbis = set(cat.iucr), set(cat.fbi)
    lo, hi = pd.Timestamp(s), pd.Timestamp(e + dt.timedelta(days=1))

    # the version is counted by the claim: the category's codes, the period, the area (vectorised)
    occurred = pd.to_datetime(vers["occurred_local"])
    inside = (vers["iucr"].isin(codes) | vers["fbi_code"].isin(fbis)) & (occurred >= lo) & (occurred < hi)
    if claim.district is not None:
        inside &= pd.to_numeric(vers["district"]) == claim.district
    if claim.community_area is not None:
        inside &= pd.to_numeric(vers["community_area"]) == claim.community_area
    vers["inside"] = inside.fillna(False).astype(bool)
    vers["month"] = pd.to_datetime(vers["occurred_local"]).dt.strftime("%Y-%m").astype(object)
    cur = vers[(vers["_cur"] == 1) & vers["inside"]]
    sel = t.filter(category_predicate(t, cat), date_predicate(t, s, e))
    # the current rows counted (``sel``) are the current versions inside the claim: count them by IUCR
    by_iucr = {k: int(v) for k, v in cur.groupby("iucr").size().items()}
    n_cases, hb, n_expr = 0, {}, 0
    if hom_codes:
        hom = sel.filter(sel.iucr.isin(sorted(hom_codes)))
        n_cases = int(cur.loc[cur["iucr"].isin(hom_codes), "case_number"].nunique())  # SQL count(DISTINCT)
        hs = t.filter(category_predicate(t, hcat), date_predicate(t, s, e))
        hb = to_pandas(hs.group_by("iucr").aggregate(n=hs.count()))
        hb = dict(zip(hb["iucr"], hb["n"].astype(int)))
        murders = hom.filter(hom.iucr.isin(["0110", "0130"]))
        n_expr = int(to_pandas(murders.filter(murders.location_description.upper().contains("EXPRESSWAY")).count()))
    need_months, need_types = set(cur["month"]), set(cur["primary_type"])
    # Per batch: the count with the store as it stood after it ("as_of_batch"), the count
    # among the rows it delivered ("delivered"), whether the store then covered every
    # month of the current count ("covers_period": earlier batches of other years would
    # give meaningless partial counts), and whether the batch on its own is a complete
    # extract for the claim (every month and primary type of the current count).
    vint_rows = []
    for b in batches["batch_id"]:
        upto = vers[vers["batch_id"] <= b].sort_values(["id", "batch_id", "_cur"]).groupby("id").tail(1)
        upto_in = upto[upto["inside"]]
        dlv = vers[(vers["batch_id"] == b) & vers["inside"]]
        vint_rows.append({"batch_id": int(b), "origin": origin[b],
                          "as_of_batch": len(upto_in), "delivered": len(dlv),
                          "covers_period": bool(len(upto_in)) and need_months <= set(upto_in["month"]),
                          "complete_extract": bool(len(dlv)) and need_months <= set(dlv["month"])
                          and need_types <= set(dlv["primary_type"]),
                          "dlv_months": set(dlv["month"]), "dlv_types": set(dlv["primary_type"])})
    vintages = pd.DataFrame(vint_rows)
    if len(vintages) == 0:
        vintages = pd.DataFrame(columns=["batch_id", "origin", "as_of_batch", "delivered", "covers_period",
                                         "complete_extract", "dlv_months", "dlv_types"])

    changes = []
    revised = vers[vers.duplicated("id", keep=False)]  # only ids with two or more versions can be revised
    # per id (ascending), its versions in (batch_id, _cur) order: each one against the one before
    rv = revised.sort_values(["batch_id", "_cur"]).sort_values("id", kind="stable")
    prev = None
    for rid, r_iucr, r_occ, r_in, r_batch in zip(rv["id"].tolist(), rv["iucr"].tolist(),
                                                  pd.to_datetime(rv["occurred_local"]).tolist(),
                                                  rv["inside"].tolist(), rv["batch_id"].tolist()):
        if prev is not None and prev[0] == rid:
            diffs = []
            if r_iucr != prev[1]:
                diffs.append(f"IUCR {prev[1]} -> {r_iucr}")
            if pd.Timestamp(r_occ) != pd.Timestamp(prev[2]):
                diffs.append(f"date {pd.Timestamp(prev[2])} -> {pd.Timestamp(r_occ)}")
            if r_in != prev[3]:
                diffs.append("now counted" if r_in else "no longer counted")
            if diffs:
                changes.append({"id": rid, "batch_id": int(r_batch), "origin": _short(origin.get(r_batch, "?")),
                                "change": "revised", "detail": "; ".join(diffs)})
        prev = (rid, r_iucr, r_occ, r_in)
    # ids counted now that a later extract did not contain, although it delivered rows of
    # the same primary type and month
    for v in vintages[vintages["delivered"] > 0].itertuples(index=False):
        b = v.batch_id
        delivered_ids = set(vers.loc[vers["batch_id"] == b, "id"])
        missing = cur[(cur["batch_id"] < b) & cur["month"].isin(v.dlv_months) & cur["primary_type"].isin(v.dlv_types)
                      & ~cur["id"].isin(delivered_ids)]
        for r in missing.itertuples(index=False):
            what = POLICE_EXCLUDED.get(r.iucr, "")
            changes.append({"id": r.id, "batch_id": int(b), "origin": _short(origin[b]),
                            "change": "absent from later extract",
                            "detail": f"IUCR {r.iucr}{' ' + what if what else ''}, "
                                      f"{pd.Timestamp(r.occurred_local)}, last updated {pd.Timestamp(r.updated_at)} "
                                      f"in {_short(origin.get(r.batch_id, '?'))}; still counted from that version"})
    # ids first delivered by a batch later than the first one that delivered rows of their
    # month (late deaths, reclassification into the category)
    firsts = vers.sort_values(["batch_id", "_cur", "id"]).groupby("id").head(1)  # id: a stable order
    first_cover = vers[vers["inside"]].groupby("month")["batch_id"].min().to_dict()
    for r in firsts.itertuples(index=False):
        if r.inside and r.batch_id > first_cover.get(r.month, r.batch_id):
            changes.append({"id": r.id, "batch_id": int(r.batch_id), "origin": _short(origin.get(r.batch_id, "?")),
                            "change": "added by a later batch",
                            "detail": f"first seen in this batch, dated {pd.Timestamp(r.occurred_local)} "
                                      "(late death, late report or reclassification into the category)"})
    vintages = vintages.drop(columns=["dlv_months", "dlv_types"])
    changes = pd.DataFrame(changes, columns=["id", "batch_id", "origin", "change", "detail"])
    return _Facts(by_iucr, n_cases, hb, n_expr, vintages, changes)


def _reason(reason, reading, value, claim: Claim, detail="", *, comparable: bool = False) -> dict:
    """A reading; it can match the claim only when it counts what the claim counts (``comparable``)."""
    ok = comparable and value is not None and abs(float(value) - float(claim.value)) <= float(claim.tolerance)
    return {"reason": reason, "reading": reading, "value": value, "detail": detail, "matches_claim": ok}


def _unchecked(store, claim, cat, source, why, reasons, computed, cov, verdict=VERDICTS[3]) -> ClaimCheck:
    diff = None if computed is None or verdict == VERDICTS[3] else _intish(float(claim.value) - computed)
    return ClaimCheck(claim=claim, computed=computed, difference=diff, verdict=verdict, reasons=reasons,
                      changes=None, vintages=None, unit=unit_text(cat), rule=cat.rule,
                      vintage=data_vintage(store, source), category_file=cat.origin,
                      coverage=cov.as_dict() if cov is not None else None, unchecked=why)


def _unit_mismatch(store, claim: Claim, cat, source: str, computed: int, cov) -> ClaimCheck:
    """The claim counts a unit the category does not: check it against a second source that counts
    it (GVA victims, a news-based undercount), else say it cannot be checked, with the nearest figure."""
    police = _reason("nearest comparable figure", f"police {cat.label}: {rule_text(cat)}", computed, claim,
                     f"unit: {unit_text(cat)}, not {claim.unit}")
    s, e = claim.period()
    second = _second_source(store, claim, s, e)
    if second is not None:
        value, name, detail = second
        r = _reason("second source", name, value, claim, detail, comparable=True)
        ok = r["matches_claim"]
        why = (f"the claim counts {claim.unit}; the police data ({source}) counts {unit_text(cat)}; checked "
               f"against {name}, a news-based count that undercounts the official figure")
        # an undercount can confirm (matches) or show the claim is not above the police figure; it cannot contradict
        verdict = VERDICTS[0] if ok else (VERDICTS[3] if float(claim.value) >= value else VERDICTS[2])
        if verdict == VERDICTS[3]:
            why += f"; the claim is above it ({_num(claim.value)} vs {_num(value)}), as an undercount would be"
        return _unchecked(store, claim, cat, source, why, [r, police], computed, cov, verdict=verdict)
    why = (f"cannot be checked with this data: the claim counts {claim.unit}, and no source in the store "
           f"counts {claim.unit} (the {cat.name} category of {source} counts {unit_text(cat)}); the nearest "
           f"comparable figure is {computed:,} {cat.unit}")
    return _unchecked(store, claim, cat, source, why, [police], computed, cov)


def _second_source(store, claim: Claim, s, e):
    """(value, name, detail) from a second source that counts the claim's unit, or None."""
    try:
        from ..sources.gva import victims_count
    except ImportError:
        return None
    return victims_count(store, claim.unit, s, e, district=claim.district)


def check_claims(store, claims: list[Claim], *, source: str = CLAIM_SOURCE,
                 taxonomy: Taxonomy | None = None) -> ClaimReport:
    """Check several claims; the report's ``table`` has one row per claim.

    ``taxonomy`` resolves the claims' categories (default: the built-in taxonomy).
    """
    from .change_claims import ChangeClaim, check_change_claims  # claims about change: stats/change_claims.py
    from .comparison import CityComparison, check_comparison

    if claims and all(isinstance(c, ChangeClaim) for c in claims):
        # the plain store under a Dataset: its coverage and counts are memoised with the snapshot
        return check_change_claims(_plain(store), claims, source=source, taxonomy=taxonomy)
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    checks = [check_comparison(store, c, source=source, taxonomy=tax) if isinstance(c, CityComparison)
              else check_claim(store, c, source=source, taxonomy=tax) for c in claims]
    vint = data_vintage(store, source)
    meta = {"title": f"claim check ({len(checks)} claim{'s' if len(checks) != 1 else ''})",
            "unit": "; ".join(sorted({c.unit for c in checks})),
            "rule": "; ".join(sorted({rule_text(get_category(c.claim.category, tax)) for c in checks})),
            "source": vint["source_description"], "vintage": vint,
            "category_files": {c.claim.category: c.category_file for c in checks if c.category_file},
            "notes": ["verdict: " + " | ".join(VERDICTS)]}
    return ClaimReport(checks, meta)


# -- reading claims ------------------------------------------------------------------

#: (words, category, unit the words count or None for the category's own), most specific first
_NOUNS = [
    (r"(?:gun violence|gunshot) victims|victims of gun violence|people (?:shot|struck by gunfire)|"
     r"persons shot|shooting victims|victims shot", "shooting", "people shot"),
    (r"people (?:shot and )?(?:wounded|injured)(?: by gunfire| in shootings)?", "shooting", "people injured"),
    (r"people (?:shot and )?killed|people murdered|homicide victims|murder victims", "homicide", "people killed"),
    (r"murders?", "murder", None),
    (r"homicides?|killings?", "homicide", None),
    (r"shooting incidents|shootings?", "shooting", None),
    (r"armed robberies|armed robbery", "armed_robbery", None),
    (r"robberies|robbery", "robbery", None),
    (r"violent (?:index )?crimes?", "violent_index", None),
    (r"arrests?", None, "arrests"),
]
_YTD = re.compile(r"\b(?:so far this year|so far in (?P<y>\d{4})|this year(?: so far)?|year[- ]to[- ]date|ytd)\b")
_RANGE = re.compile(r"\b(?:from|between) (?P<a>\d{4}-\d\d-\d\d) (?:to|and|through|until) (?P<b>\d{4}-\d\d-\d\d)\b")
_DISTRICT = re.compile(r"\b(?:in )?(?:the )?(?:police )?district (?P<d>\d+)\b")
_NUMBER = re.compile(r"(?<![\d-])\d[\d,]*(?:\.\d+)?(?![\d-])")
_HINT = ("write e.g. '762 murders in 2016', 'Chicago had 762 murders in 2016', 'So far this year, Chicago has "
         "seen 110 homicides' (with --as-of), '4 shootings from 2017-01-01 to 2017-01-07', or use "
         "--category/--value/--from/--to")


def _blank(t: str, m) -> str:
    return t[:m.start()] + " " * (m.end() - m.start()) + t[m.end():]


def parse_claim(text: str, as_of=None, *, taxonomy: Taxonomy | None = None):
    """Read a claim written the plain ways people write them: ``"762 murders in 2016"``,
    ``"Chicago had 762 murders in 2016"``, ``"762 murders in Chicago in 2016"``, ``"So far this
    year, Chicago has seen 110 homicides"`` (needs ``as_of``), ``"4,331 shooting victims in 2016"``
    (unit: people shot), ``"4 shootings from 2017-01-01 to 2017-01-07"``, ``"... in district 7"``.

    The unit is read from the words (``shooting victims`` / ``people shot``, ``people killed``,
    ``people wounded``, ``arrests``); a noun that is not one of the usual words is looked up as a
    category name (spaces as underscores) in ``taxonomy`` (default: the built-in taxonomy). A
    comparison (``"Chicago's 2016 homicides were higher than New York and Los Angeles combined"``)
    is returned as a :class:`~crimescope.stats.comparison.CityComparison`.
    """
    from .change_claims import parse_change_claim  # "shootings are up 50%": a ChangeClaim

    change = parse_change_claim(text, as_of, taxonomy=taxonomy)
    if change is not None:
        return change
    raw = (text or "").strip()
    t = " " + re.sub(r"\s+", " ", raw.lower()).strip(" .!?") + " "
    t = re.sub(r"(?<=[a-z])['\u2019]s\b", "", t)  # Chicago's -> chicago
    from .comparison import parse_comparison

    comp = parse_comparison(t, raw)
    if comp is not None:
        return comp
    rng, ytd, dist = _RANGE.search(t), _YTD.search(t), _DISTRICT.search(t)
    for m in (rng, ytd, dist):
        if m:
            t = _blank(t, m)
    noun = cat = unit = None
    for pat, name, u in _NOUNS:
        m = re.search(rf"\b(?:{pat})\b", t)
        if m:
            noun, cat, unit = m, name, u
            break
    if noun is None:  # a category name, e.g. '12 gun possession in 2016'
        names = taxonomy if taxonomy is not None else load_taxonomy()
        for m in re.finditer(r"\d[\d,]*\s+(?P<n>[a-z][a-z_ ]*)", t):
            words = m.group("n").split()
            for k in range(len(words), 0, -1):  # the longest run of words that names a category
                key = "_".join(words[:k])
                if key in names:
                    noun, cat = re.search(r"\b" + r"\s+".join(map(re.escape, words[:k])) + r"\b", t), key
                    break
            if noun is not None:
                break
    if noun is None:
        raise ParameterError(f"cannot read the claim {raw!r}: no category words found; {_HINT}")
    if cat is None:
        raise ParameterError(f"claim {raw!r}: a claim about arrests needs --category (arrests of which offense)")
    value = None
    for m in _NUMBER.finditer(t[:noun.start()]):
        between = t[m.end():noun.start()]
        if not re.search(r"\d", between) and len(between.split()) <= 3:
            value = m
    if value is None:
        raise ParameterError(f"cannot read the claim {raw!r}: no number before {noun.group(0)!r}; {_HINT}")
    number = float(value.group(0).replace(",", ""))
    t = _blank(t, value)
    district = int(dist.group("d")) if dist else None
    if rng:
        return Claim(cat, number, start=rng.group("a"), end=rng.group("b"), district=district, text=raw, unit=unit)
    if ytd:
        if as_of is None:
            raise ParameterError(f"claim {raw!r} says 'so far this year': give --as-of (the date of the claim)")
        a = as_date(as_of, "as_of")
        if ytd.group("y") and int(ytd.group("y")) != a.year:
            raise ParameterError(f"claim {raw!r}: year differs from --as-of {a}")
        return Claim(cat, number, as_of=a, district=district, text=raw, unit=unit)
    ym = re.search(r"\b(?:in|during|for|of)\s+(?P<y>(?:1[89]|2[01])\d\d)\b", t) or \
        re.search(r"\b(?P<y>(?:1[89]|2[01])\d\d)\b", t)
    if ym is None:
        raise ParameterError(f"cannot read the claim {raw!r}: no period (a year, 'so far this year' or "
                             f"'from ... to ...'); {_HINT}")
    y = int(ym.group("y"))
    end = dt.date(y, 12, 31)
    if as_of is not None and as_date(as_of).year == y:
        end = as_date(as_of)  # "in 2017" said during 2017 means so far
    return Claim(cat, number, start=dt.date(y, 1, 1), end=end, district=district, text=raw, unit=unit)


def claims_from_yaml(path: str | Path, *, taxonomy: Taxonomy | None = None) -> list[Claim]:
    """Claims from a YAML file: a list (or ``claims:`` list) of mappings with the
    :class:`Claim` fields, or ``text`` (+ ``as_of``) to be read as a sentence (its
    category looked up in ``taxonomy``, default the built-in one)."""
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"cannot read claims file {path}: {exc}") from exc
    items = doc.get("claims") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ParameterError(f"{path}: expected a list of claims")
    out = []
    fields = {"category", "value", "start", "end", "as_of", "district", "community_area", "tolerance", "text"}
    for i, it in enumerate(items, 1):
        if not isinstance(it, dict):
            raise ParameterError(f"{path}: claim {i} is not a mapping")
        it = {("start" if k == "from" else "end" if k == "to" else k): v for k, v in it.items()}
        unknown = set(it) - fields
        if unknown:
            raise ParameterError(f"{path}: claim {i}: unknown keys {sorted(unknown)}")
        if "category" not in it and "text" in it:
            c = parse_claim(it["text"], as_of=it.get("as_of"), taxonomy=taxonomy)
            if "tolerance" in it:
                c.tolerance = float(it["tolerance"])
            out.append(c)
            continue
        if "category" not in it or "value" not in it:
            raise ParameterError(f"{path}: claim {i} needs category and value (or text)")
        out.append(Claim(**it))
    return out
