"""Counting it right: counts, year-to-date and CompStat comparisons, rates, arrests,
city comparisons and claim checks, all stating unit, rule, source and vintage.

The aggregations are Ibis expressions (``crimescope.stats.query``) run on the DuckDB
store by default; the functions here return :class:`StatResult` objects (pandas
``table`` + ``meta``) or pandas DataFrames.
"""

from __future__ import annotations

from .._lazy import lazy_exports


_LAZY = {
    "load_events": "crimescope.stats.events",
    "count": "crimescope.stats.counts",
    "last_complete_day": "crimescope.stats.counts",
    "ytd": "crimescope.stats.periods",
    "compstat": "crimescope.stats.periods",
    # the submodules rates / arrests / cities shadow same-named package attributes,
    # so their functions are exported under these names
    "rates_per_100k": "crimescope.stats.rates",
    "arrest_share": "crimescope.stats.arrests",
    "city_counts": "crimescope.stats.cities",
    "Claim": "crimescope.stats.claims",
    "check_claim": "crimescope.stats.claims",
    "StatResult": "crimescope.stats.provenance",
    "data_vintage": "crimescope.stats.provenance",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
