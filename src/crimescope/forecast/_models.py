"""The registry's entries: every model crimescope ships, under a stable name."""

from __future__ import annotations

from .base import register
from .ensemble import EnsembleMean
from .hawkes_grid import GridHawkes
from .hotspot import ProspectiveHotspot, RetrospectiveHotspot
from .learned import LearnedPoisson
from .naive import NaiveCounts
from .sepp import SEPP
from .stkde import SpaceTimeKDE

register("naive_52w", lambda: NaiveCounts(window_days=364), "counts per cell over the last 52 weeks")
register("naive_all", lambda: NaiveCounts(window_days=None), "counts per cell over all prior history")
register("retro_hotspot", RetrospectiveHotspot, RetrospectiveHotspot.summary)
register("prospective_hotspot", ProspectiveHotspot, ProspectiveHotspot.summary)
register("stkde", SpaceTimeKDE, SpaceTimeKDE.summary)
register("grid_hawkes", GridHawkes, GridHawkes.summary)
register("sepp", SEPP, SEPP.summary)
register("learned", LearnedPoisson, LearnedPoisson.summary)
# chosen on 2016 origins (weekly gun violence, 1% of area) before the 2017 backtest
register("ensemble", lambda: EnsembleMean(members=("naive_all", "grid_hawkes", "stkde")),
         "mean of naive_all, grid_hawkes and stkde forecasts")

#: the simple baselines the others are judged against
BASELINES = ("naive_52w", "naive_all")
