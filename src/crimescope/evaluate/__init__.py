"""Did it work? Evaluating a place-based strategy in the areas where it was tried.

Build an area-by-period panel with :func:`build_panel`, give the treated areas and
their start dates (:class:`Cohorts`, or :func:`sdsc` for the Strategic Decision
Support Center districts), and run one or several methods from the registry
(:func:`make_method`, :func:`evaluate`). Each returns an :class:`EffectResult`
with the estimate, its interval and p-value, the proportional effect, what the
method assumes and warnings. Place-based only: areas, never people.
"""

from __future__ import annotations

from .._lazy import lazy_exports

__all__ = ["build_panel", "Panel", "covered_span", "Cohorts", "read_cohorts", "sdsc", "EffectResult",
           "make_method", "registry", "evaluate", "Evaluation"]

_P = "crimescope.evaluate."
__getattr__, __dir__ = lazy_exports(__name__, {
    "build_panel": _P + "panel", "Panel": _P + "panel", "covered_span": _P + "panel",
    "Cohorts": _P + "cohorts", "read_cohorts": _P + "cohorts", "sdsc": _P + "cohorts",
    "EffectResult": _P + "base", "make_method": _P + "base", "registry": _P + "base",
    "evaluate": _P + "run", "Evaluation": _P + "run",
})
