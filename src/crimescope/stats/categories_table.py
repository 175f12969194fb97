"""The taxonomy as a table (for ``crimescope categories`` and its JSON twin)."""

from __future__ import annotations

from ..categories import load_taxonomy
from .provenance import StatResult

__all__ = ["categories_result", "matches_text", "CONCISE_CODES"]

#: codes a concise ``matches`` cell names before it says how many more there are
CONCISE_CODES = 6


def matches_text(cat, limit: int = CONCISE_CODES) -> str:
    """What a category matches, in a few words: the categories it includes
    (``homicide + shooting``), every code of a primary type (``every ARSON code (iucr)``),
    or its first ``limit`` codes and how many more (``iucr 041A, 041B, ... +2 more``)."""
    parts = list(cat.include)
    if not cat.include:
        if cat.primary_type and cat.iucr and not cat.fbi:
            return f"every {cat.primary_type} code (iucr)"
        for column, codes in (("iucr", cat.iucr), ("fbi_code", cat.fbi)):
            if codes:
                c = sorted(codes)
                more = f" +{len(c) - limit} more" if len(c) > limit else ""
                parts.append(f"{column} {', '.join(c[:limit])}{more}")
    return " + ".join(parts)


def categories_result(files=(), source=None, *, concise: bool = False) -> StatResult:
    """One row per category of a city's taxonomy (default Chicago's): name, label, unit, rule,
    definition, source.

    ``concise``: name, label, ``codes`` (how many IUCR / FBI codes it matches, included
    categories resolved) and ``matches`` (:func:`matches_text`) instead: the terminal's
    default list."""
    import pandas as pd

    from ..categories.taxonomy import taxonomy_for
    from ..datasets import get_profile

    prof = get_profile(source)
    tax = taxonomy_for(prof, files) if prof.key != "chicago" else load_taxonomy(files)
    if concise:
        rows = [{"name": c.name, "label": c.label, "codes": len(c.iucr) + len(c.fbi), "matches": matches_text(c)}
                for c in tax.values()]
    else:
        rows = [{"name": c.name, "label": c.label, "unit": c.unit, "rule": c.rule,
                 "definition": c.definition, "source": c.source} for c in tax.values()]
    meta = {"title": f"{len(rows)} offense categories",
            "rule": (f"categories match on {' / '.join(prof.code_columns)} codes only, never on description text"),
            "city": prof.key, "publisher": prof.publisher,
            "source": "; ".join(tax.origins)}
    if concise:
        meta["notes"] = ["codes: how many IUCR / FBI codes the category matches (included categories resolved); "
                         "--all lists every category with its unit, full rule, definition and source"]
    return StatResult(pd.DataFrame(rows), meta)
