"""The taxonomy as a table (for ``crimescope categories`` and its JSON twin)."""

from __future__ import annotations

from ..categories import load_taxonomy
from .provenance import StatResult

__all__ = ["categories_result"]


def categories_result(files=(), source=None) -> StatResult:
    """One row per category of a city's taxonomy (default Chicago's): name, label, unit, rule,
    definition, source."""
    import pandas as pd

    from ..categories.taxonomy import taxonomy_for
    from ..datasets import get_profile

    prof = get_profile(source)
    tax = taxonomy_for(prof, files) if prof.key != "chicago" else load_taxonomy(files)
    rows = [{"name": c.name, "label": c.label, "unit": c.unit, "rule": c.rule,
             "definition": c.definition, "source": c.source} for c in tax.values()]
    meta = {"title": f"{len(rows)} offense categories",
            "rule": (f"categories match on {' / '.join(prof.code_columns)} codes only, never on description text"),
            "city": prof.key, "publisher": prof.publisher,
            "source": "; ".join(tax.origins)}
    return StatResult(pd.DataFrame(rows), meta)
