"""Police counts beside a second source's (Gun Violence Archive) by month and district.

``reconcile(store, start, end, by)`` sets, per group:

* ``police_homicide_victims`` (chicago, category ``homicide``: one row per victim, any weapon)
  beside ``gva_killed`` (gva, ``people_shot_killed``);
* ``police_shooting_incidents`` (chicago, ``shooting``: aggravated battery with a firearm, one
  row per incident) beside ``gva_injured`` (gva, ``people_shot_injured``: one row per person);
* ``police_total`` (the two police figures summed) beside ``gva_people_shot``;

with ``ratio_killed``, ``ratio_injured`` and ``ratio_total`` = GVA / police: how much of the
police figure the news-based source captures (empty when the police figure is 0). Both sources
must hold the whole period (coverage), else CoverageError. The known reasons the two differ are
in ``meta["reasons"]`` (and the notes).
"""

from __future__ import annotations

from ._coverage import covered
from .provenance import StatResult, data_vintage
from .query import as_date, check_by

__all__ = ["reconcile", "REASONS"]

REASONS = [
    "units: GVA counts people hit; the police shooting category counts incidents (a shooting with "
    "several people hit is one police row), so the injured ratio runs above what it captures",
    "weapon: police homicide victims are of any weapon; GVA killed are gun deaths only",
    "scope: GVA includes accidental, self-inflicted and police shootings, which the police categories "
    "count elsewhere or not at all",
    "coverage: GVA is compiled from news and police reports and misses shootings that were not reported "
    "in them (an undercount)",
    "dates: GVA dates an incident by its reported date (no time); the police by the occurrence",
    "place: GVA's district is the police district containing its coordinates (none without coordinates); "
    "the police record's district is the one it was assigned",
]

PAIRS = [("police_homicide_victims", "chicago", "homicide", "gva_killed", "people_shot_killed", "ratio_killed"),
         ("police_shooting_incidents", "chicago", "shooting", "gva_injured", "people_shot_injured", "ratio_injured")]


def reconcile(store, start, end, by=("month",)) -> StatResult:
    """Police vs GVA from ``start`` to ``end`` by ``by`` (``month``, ``district``, or both)."""
    import pandas as pd

    from .counts import count

    s, e = as_date(start, "start"), as_date(end, "end")
    by = check_by(by)
    bad = [b for b in by if b not in ("month", "district", "year", "week", "community_area")]
    if bad:
        from ..errors import ParameterError

        raise ParameterError(f"reconcile --by {bad[0]!r}: use month, week, year, district or community_area")
    covs = {}
    for police, psrc, pcat, gva, gcat, _ in PAIRS:  # both sources must hold the whole period
        covs[police] = covered(store, psrc, pcat, s, e)
        covs[gva] = covered(store, "gva", gcat, s, e)
    short = [k for k, c in covs.items() if not c.full]
    if short:
        from ..errors import CoverageError

        c = covs[short[0]]
        raise CoverageError(f"reconcile needs both sources for the whole period: {c.text()}", coverage=c)
    frames = []
    for police, psrc, pcat, gva, gcat, _ in PAIRS:
        for col, src, cat in ((police, psrc, pcat), (gva, "gva", gcat)):
            t = count(store, cat, s, e, by, source=src).table[[*by, "count"]].rename(columns={"count": col})
            frames.append(t.set_index(by) if by else t)
    if by:
        df = pd.concat(frames, axis=1).fillna(0).astype("int64").reset_index()
        if "district" in by:
            df["district"] = df["district"].astype("Int64")
        df = df.sort_values(by, na_position="last").reset_index(drop=True)
    else:
        df = pd.concat(frames, axis=1)
    df["police_total"] = df["police_homicide_victims"] + df["police_shooting_incidents"]
    df["gva_people_shot"] = df["gva_killed"] + df["gva_injured"]

    def ratio(a, b):
        return (df[a] / df[b].where(df[b] > 0)).round(3)

    df["ratio_killed"] = ratio("gva_killed", "police_homicide_victims")
    df["ratio_injured"] = ratio("gva_injured", "police_shooting_incidents")
    df["ratio_total"] = ratio("gva_people_shot", "police_total")
    df = df[[*by, "police_homicide_victims", "gva_killed", "ratio_killed", "police_shooting_incidents",
             "gva_injured", "ratio_injured", "police_total", "gva_people_shot", "ratio_total"]]
    pv, gv = data_vintage(store, "chicago"), data_vintage(store, "gva")
    tot = df[["police_total", "gva_people_shot"]].sum()
    meta = {
        "title": f"Police vs Gun Violence Archive, {s} to {e}" + (f", by {', '.join(by)}" if by else ""),
        "unit": "police: homicide victims (any weapon) and shooting incidents; GVA: people killed and injured",
        "rule": "homicide: iucr in (0110, 0130, 0141, 0142); shooting: iucr in (041A, 041B, 0450, 0451, 0480, "
                "0481, 0488, 0489); GVA people_shot_killed (GVAK) and people_shot_injured (GVAI)",
        "period": f"{s} to {e} (inclusive)", "start": s, "end": e, "by": by,
        "source": f"{pv['source_description']}; {gv['source_description']}",
        "vintage": pv, "vintage_gva": gv,
        "coverage": {k: c.as_dict() for k, c in covs.items()},
        "reasons": REASONS,
        "totals": {"police_total": int(tot["police_total"]), "gva_people_shot": int(tot["gva_people_shot"])},
        "notes": ["ratio = GVA / police: how much of the police figure the news-based GVA captures"] + REASONS,
    }
    return StatResult(df, meta)
