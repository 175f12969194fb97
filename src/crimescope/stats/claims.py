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
(the claimed value equals, or lies between, values under the known readings), else
``contradicts``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..categories import Taxonomy, get_category, load_taxonomy
from ..errors import ParameterError
from ..result import Result, provenance
from .counts import rule_text, unit_text
from .provenance import StatResult, data_vintage, jsonable
from .query import (as_date, category_predicate, count_expr, date_predicate, incidents_table,
                    to_pandas, versions_table)

__all__ = ["Claim", "ClaimCheck", "ClaimReport", "check_claim", "check_claims", "parse_claim",
           "claims_from_yaml", "VERDICTS"]

VERDICTS = ("matches", "within a known definitional gap", "contradicts")
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

    def __post_init__(self) -> None:
        def num(v, name):
            try:
                return float(str(v).replace(",", "")) if isinstance(v, str) else float(v)
            except (TypeError, ValueError):
                raise ParameterError(f"claim {name} {v!r} is not a number") from None

        self.value = num(self.value, "value")
        self.tolerance = num(self.tolerance, "tolerance")
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
    computed: int
    difference: float
    verdict: str
    reasons: list[dict]
    changes: Any
    vintages: Any
    unit: str
    rule: str
    vintage: dict = field(default_factory=dict)
    category_file: str | None = None

    def explain(self) -> str:
        s, e = self.claim.period()
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
        out.append(f"  verdict: {self.verdict.upper()}")
        out.append(f"  data vintage: max updated_at {self.vintage.get('max_updated_at')}, "
                   f"latest batch {self.vintage.get('latest_batch_at')}")
        return "\n".join(out)

    def frame(self):
        """One row: the claim, computed and claimed values, difference, verdict."""
        import pandas as pd

        return pd.DataFrame([self.as_row()])

    def as_row(self) -> dict:
        s, e = self.claim.period()
        best = [r["reading"] for r in self.reasons if r["matches_claim"]]
        return {"claim": self.claim.describe(), "category": self.claim.category, "start": s, "end": e,
                "area": self.claim.area(), "claimed": self.claim.value, "computed": self.computed,
                "difference": self.difference, "verdict": self.verdict,
                "explained_by": "; ".join(best)}


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
                                 "changes": c.changes.to_dict(orient="records") if c.changes is not None else [],
                                 "vintages": c.vintages.to_dict(orient="records") if c.vintages is not None else []})
                       for c in self.checks]
        return d


def _num(v):
    v = float(v)
    return int(v) if v.is_integer() else round(v, 2)


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


def check_claim(store, claim: Claim, *, source: str = "chicago",
                taxonomy: Taxonomy | None = None) -> ClaimCheck:
    """Recompute ``claim`` and explain the gap; see the module docstring.

    ``taxonomy`` resolves the claim's category (default: the built-in taxonomy).
    """
    import pandas as pd

    tax = taxonomy if taxonomy is not None else load_taxonomy()
    cat = get_category(claim.category, tax)
    s, e = claim.period()
    backend = store.ibis()
    t = _area_filter(incidents_table(backend, source=source), claim)
    computed = int(to_pandas(count_expr(t, cat, s, e))["count"].iloc[0])
    claimed = float(claim.value)
    tol = float(claim.tolerance)
    reasons: list[dict] = []

    def add(reason, reading, value, detail=""):
        reasons.append({"reason": reason, "reading": reading, "value": value, "detail": detail,
                        "matches_claim": value is not None and abs(float(value) - claimed) <= tol})

    sel = t.filter(category_predicate(t, cat), date_predicate(t, s, e))
    by_iucr = to_pandas(sel.group_by("iucr").aggregate(n=sel.count()))
    by_iucr = dict(zip(by_iucr["iucr"], by_iucr["n"].astype(int)))
    # the HOMICIDE codes this category counts (by IUCR, or by FBI 01A / 01B)
    hom_codes = (set(cat.iucr) & HOMICIDE_CODES) | ({"0110", "0130"} if "01A" in cat.fbi else set()) \
        | ({"0141", "0142"} if "01B" in cat.fbi else set())
    add("as computed", rule_text(cat), computed, unit_text(cat))

    if hom_codes:
        # victims vs incidents
        hom = sel.filter(sel.iucr.isin(sorted(hom_codes)))
        n_cases = int(to_pandas(hom.case_number.nunique()))
        n_hom = sum(v for k, v in by_iucr.items() if k in hom_codes)
        add("victims vs incidents", "homicide incidents (distinct case numbers) instead of victims",
            computed - n_hom + n_cases,
            f"{n_hom} homicide victim rows belong to {n_cases} case numbers")
        # murder vs all homicides (for the two homicide categories)
        hs = t.filter(category_predicate(t, tax["homicide"]), date_predicate(t, s, e))
        hb = to_pandas(hs.group_by("iucr").aggregate(n=hs.count()))
        hb = dict(zip(hb["iucr"], hb["n"].astype(int)))
        breakdown = ("all HOMICIDE rows in the period: " + ", ".join(f"{k}: {hb.get(k, 0)}" for k in sorted(HOMICIDE_CODES))
                     + " (0141 involuntary manslaughter and 0142 reckless homicide are excluded by the police)")
        if set(cat.iucr) <= HOMICIDE_CODES and not cat.fbi:
            other = "murder" if set(cat.iucr) != {"0110", "0130"} else "homicide"
            t_other = int(to_pandas(count_expr(t, tax[other], s, e))["count"].iloc[0])
            add("murder vs all homicides", f"{other} ({tax[other].rule})", t_other,
                "the police count murders (0110, 0130) only; " + breakdown)
        # categories the police exclude: 0141/0142, expressway killings (State Police)
        excl = sum(by_iucr.get(k, 0) for k in POLICE_EXCLUDED)
        murders = hom.filter(hom.iucr.isin(["0110", "0130"]))
        n_expr = int(to_pandas(murders.filter(murders.location_description.upper().contains("EXPRESSWAY")).count()))
        add("police-excluded categories",
            "without 0141/0142 and murders at EXPRESSWAY locations (State Police jurisdiction)",
            computed - excl - n_expr,
            f"{excl} rows are 0141/0142; {n_expr} murder rows have an expressway location; justifiable "
            "homicides are not identifiable in the portal data (not coded as murder); " + breakdown)

    # revisions: versions of every id that is, or ever was, in the category and period
    vt = _area_filter(versions_table(backend, source=source), claim)
    ever = vt.filter(category_predicate(vt, cat), date_predicate(vt, s, e)).select("id").distinct()
    all_v = versions_table(backend, source=source)
    vers = to_pandas(all_v.join(ever, "id", how="semi").select(
        "id", "case_number", "occurred_local", "iucr", "fbi_code", "primary_type", "district",
        "community_area", "updated_at", "batch_id", "_cur"))
    batches = _batches(store, source)
    origin = dict(zip(batches["batch_id"], batches["origin"]))
    codes, fbis = set(cat.iucr), set(cat.fbi)
    lo, hi = pd.Timestamp(s), pd.Timestamp(e + dt.timedelta(days=1))

    def inside(r) -> bool:
        ok = (r.iucr in codes or r.fbi_code in fbis) and lo <= pd.Timestamp(r.occurred_local) < hi
        if claim.district is not None:
            ok = ok and r.district == claim.district
        if claim.community_area is not None:
            ok = ok and r.community_area == claim.community_area
        return bool(ok)

    vers["inside"] = pd.Series([inside(r) for r in vers.itertuples(index=False)], index=vers.index, dtype=bool)
    vers["month"] = pd.to_datetime(vers["occurred_local"]).dt.strftime("%Y-%m").astype(object)
    cur = vers[(vers["_cur"] == 1) & vers["inside"]]
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
    for rid, g in vers.sort_values(["batch_id", "_cur"]).groupby("id", sort=True):
        prev = None
        for r in g.itertuples(index=False):
            if prev is not None:
                diffs = []
                if r.iucr != prev.iucr:
                    diffs.append(f"IUCR {prev.iucr} -> {r.iucr}")
                if pd.Timestamp(r.occurred_local) != pd.Timestamp(prev.occurred_local):
                    diffs.append(f"date {pd.Timestamp(prev.occurred_local)} -> {pd.Timestamp(r.occurred_local)}")
                if r.inside != prev.inside:
                    diffs.append("now counted" if r.inside else "no longer counted")
                if diffs:
                    changes.append({"id": rid, "batch_id": int(r.batch_id), "origin": _short(origin.get(r.batch_id, "?")),
                                    "change": "revised", "detail": "; ".join(diffs)})
            prev = r
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
    firsts = vers.sort_values(["batch_id", "_cur"]).groupby("id").head(1)
    first_cover = vers[vers["inside"]].groupby("month")["batch_id"].min().to_dict()
    for r in firsts.itertuples(index=False):
        if r.inside and r.batch_id > first_cover.get(r.month, r.batch_id):
            changes.append({"id": r.id, "batch_id": int(r.batch_id), "origin": _short(origin.get(r.batch_id, "?")),
                            "change": "added by a later batch",
                            "detail": f"first seen in this batch, dated {pd.Timestamp(r.occurred_local)} "
                                      "(late death, late report or reclassification into the category)"})
    vintages = vintages.drop(columns=["dlv_months", "dlv_types"])
    changes = pd.DataFrame(changes, columns=["id", "batch_id", "origin", "change", "detail"])

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
    for row in vintages[(vintages["delivered"] > 0) & vintages["covers_period"]].itertuples(index=False):
        add("revised records", f"as the store stood after batch {row.batch_id} ({_short(row.origin)})",
            row.as_of_batch)
        if row.complete_extract and row.delivered != row.as_of_batch:
            add("revised records", f"counting only the rows delivered by batch {row.batch_id} "
                f"({_short(row.origin)}) on its own", row.delivered,
                "what that extract alone says for this category and period")

    diff = claimed - computed
    if abs(diff) <= tol:
        verdict = VERDICTS[0]
    else:
        vals = [r["value"] for r in reasons if r["value"] is not None]
        if any(r["matches_claim"] for r in reasons) or (vals and min(vals) - tol <= claimed <= max(vals) + tol):
            verdict = VERDICTS[1]
        else:
            verdict = VERDICTS[2]
    chk = ClaimCheck(claim=claim, computed=computed, difference=diff, verdict=verdict, reasons=reasons,
                     changes=changes, vintages=vintages, unit=unit_text(cat), rule=cat.rule,
                     vintage=data_vintage(store, source), category_file=cat.origin)
    chk.meta = provenance(store, cat, source=source, title=f"claim check: {claim.describe()}",
                          period=f"{s} to {e} (inclusive local dates), {claim.area()}")
    return chk


def check_claims(store, claims: list[Claim], *, source: str = "chicago",
                 taxonomy: Taxonomy | None = None) -> ClaimReport:
    """Check several claims; the report's ``table`` has one row per claim.

    ``taxonomy`` resolves the claims' categories (default: the built-in taxonomy).
    """
    from .change_claims import ChangeClaim, check_change_claims  # claims about change: stats/change_claims.py

    if claims and all(isinstance(c, ChangeClaim) for c in claims):
        return check_change_claims(store, claims, source=source, taxonomy=taxonomy)
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    checks = [check_claim(store, c, source=source, taxonomy=tax) for c in claims]
    vint = data_vintage(store, source)
    meta = {"title": f"claim check ({len(checks)} claim{'s' if len(checks) != 1 else ''})",
            "unit": "; ".join(sorted({c.unit for c in checks})),
            "rule": "; ".join(sorted({rule_text(get_category(c.claim.category, tax)) for c in checks})),
            "source": vint["source_description"], "vintage": vint,
            "category_files": {c.claim.category: c.category_file for c in checks if c.category_file},
            "notes": ["verdict: matches | within a known definitional gap | contradicts"]}
    return ClaimReport(checks, meta)


# -- reading claims ------------------------------------------------------------------

_NOUNS = [
    (r"shooting victims|people shot|shootings?", "shooting"),
    (r"gun violence victims|victims of gun violence", "gun_violence"),
    (r"murders?", "murder"),
    (r"homicides?|killings?|people killed", "homicide"),
    (r"armed robberies|armed robbery", "armed_robbery"),
    (r"robberies|robbery", "robbery"),
    (r"violent crimes?", "violent_index"),
]
_SENTENCE = re.compile(
    r"^\s*(?:there (?:have been|were)\s+)?(?P<value>\d[\d,]*)\s+(?P<noun>[a-z ]+?)\s+"
    r"(?:(?P<ytd>so far this year|this year|year to date|so far in (?P<ytdyear>\d{4}))"
    r"|in (?P<year>\d{4})"
    r"|(?:from|between) (?P<from>\d{4}-\d\d-\d\d) (?:to|and) (?P<to>\d{4}-\d\d-\d\d))"
    r"(?:\s+in (?:district|police district) (?P<district>\d+))?\s*\.?\s*$",
    re.IGNORECASE,
)


def parse_claim(text: str, as_of=None, *, taxonomy: Taxonomy | None = None) -> Claim:
    """Read a sentence such as ``"110 homicides so far this year"`` (needs ``as_of``),
    ``"762 murders in 2016"`` or ``"4 shootings from 2017-01-01 to 2017-01-07"``.

    A noun that is not one of the usual words is looked up as a category name (spaces
    as underscores) in ``taxonomy`` (default: the built-in taxonomy)."""
    from .change_claims import parse_change_claim  # "shootings are up 50%": a ChangeClaim

    change = parse_change_claim(text, as_of, taxonomy=taxonomy)
    if change is not None:
        return change
    m = _SENTENCE.match(text or "")
    if not m:
        raise ParameterError(
            f"cannot read the claim {text!r}; write e.g. '110 homicides so far this year' with --as-of, "
            "'762 murders in 2016', or use --category/--value/--from/--to")
    noun = m.group("noun").strip().lower()
    cat = None
    for pat, name in _NOUNS:
        if re.fullmatch(pat, noun):
            cat = name
            break
    if cat is None:
        names = taxonomy if taxonomy is not None else load_taxonomy()
        key = noun.replace(" ", "_")
        if key in names:
            cat = key
        else:
            raise ParameterError(f"claim {text!r}: no category for {noun!r}")
    value = float(m.group("value").replace(",", ""))
    district = int(m.group("district")) if m.group("district") else None
    if m.group("ytd"):
        if as_of is None:
            raise ParameterError(f"claim {text!r} says 'so far this year': give --as-of (the date of the claim)")
        a = as_date(as_of, "as_of")
        if m.group("ytdyear") and int(m.group("ytdyear")) != a.year:
            raise ParameterError(f"claim {text!r}: year differs from --as-of {a}")
        return Claim(cat, value, as_of=a, district=district, text=text.strip())
    if m.group("year"):
        y = int(m.group("year"))
        end = dt.date(y, 12, 31)
        if as_of is not None and as_date(as_of).year == y:
            end = as_date(as_of)  # "in 2017" said during 2017 means so far
        return Claim(cat, value, start=dt.date(y, 1, 1), end=end, district=district, text=text.strip())
    return Claim(cat, value, start=m.group("from"), end=m.group("to"), district=district, text=text.strip())


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
