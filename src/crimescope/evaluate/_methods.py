"""Registers the built-in evaluation methods (imported by ``base.registry``)."""

from __future__ import annotations

from .base import register
from .did import CallawaySantAnna, TwoWayFE

register("did", TwoWayFE, TwoWayFE.summary)
register("cs", CallawaySantAnna, CallawaySantAnna.summary)
from .synth import SyntheticControl  # noqa: E402

register("synth", SyntheticControl, SyntheticControl.summary)
from .wdd import WeightedDisplacement  # noqa: E402
from .its import InterruptedTimeSeries  # noqa: E402

register("wdd", WeightedDisplacement, WeightedDisplacement.summary)
register("its", InterruptedTimeSeries, InterruptedTimeSeries.summary)
