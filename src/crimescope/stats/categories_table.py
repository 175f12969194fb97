"""The taxonomy as a table (for ``crimescope categories`` and its JSON twin)."""

from __future__ import annotations

from ..categories import load_taxonomy
from .provenance import StatResult

__all__ = ["categories_result"]


def categories_result(files=()) -> StatResult:
    """One row per category: name, label, unit, rule, definition, source."""
    import pandas as pd

    tax = load_taxonomy(files)
    rows = [{"name": c.name, "label": c.label, "unit": c.unit, "rule": c.rule,
             "definition": c.definition, "source": c.source} for c in tax.values()]
    meta = {"title": f"{len(rows)} offense categories",
            "rule": "categories match on IUCR / FBI codes only, never on description text",
            "source": "; ".join(tax.origins)}
    return StatResult(pd.DataFrame(rows), meta)
