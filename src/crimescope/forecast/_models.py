"""The registry's entries: every model crimescope ships, under a stable name."""

from __future__ import annotations

from .base import register
from .ensemble import EnsembleMean
from .hawkes_grid import GridHawkes
from .hotspot import BOWERS_UNIT_FT, ProspectiveHotspot, RetrospectiveHotspot
from .leading import BAGGED, REPORTED_INDICATORS, LeadingIndicators
from .learned import LearnedPoisson
from .naive import NaiveCounts
from .offset_avg import OffsetAverage
from .sepp import SEPP
from .smooth import SmoothedCounts
from .stkde import SpaceTimeKDE

register("naive_52w", lambda: NaiveCounts(window_days=364), "counts per cell over the last 52 weeks")
register("naive_all", lambda: NaiveCounts(window_days=None), "counts per cell over all prior history")
register("retro_hotspot", RetrospectiveHotspot, RetrospectiveHotspot.summary)
# distances in Bowers, Johnson & Pease's 50 m cells (164 ft), not in the grid's cells (docs/forecasting.md)
register("prospective_hotspot", lambda: ProspectiveHotspot(distance_unit=BOWERS_UNIT_FT), ProspectiveHotspot.summary)
register("stkde", SpaceTimeKDE, SpaceTimeKDE.summary)
register("grid_hawkes", GridHawkes, GridHawkes.summary)
register("sepp", SEPP, SEPP.summary)
register("smooth_counts", SmoothedCounts, SmoothedCounts.summary)
register("learned", LearnedPoisson, LearnedPoisson.summary)
# fixed on 2014-2016 weekly windows before any 2017 run (docs/forecasting.md)
register("leading_indicators", LeadingIndicators, LeadingIndicators.summary)
# seed-averaged (3 boosters on independent 5% draws of the event-free rows), with near-repeat terms and the
# time of year; configuration fixed before its 2014-2016 validation run (docs/forecasting.md, round four)
register("leading_bagged", lambda: LeadingIndicators(**BAGGED),
         "leading_indicators averaged over 3 seeds, with near-repeat (7-30 day) surfaces and the time of year")
# the same without the categories police activity drives (narcotics, weapons violations): for users who
# do not want enforcement records to steer where a forecast points (docs/forecasting.md, responsible use)
register("leading_reported", lambda: LeadingIndicators(related=REPORTED_INDICATORS),
         "leading_indicators with victim-reported indicators only (no narcotics or weapons violations)")
# chosen on 2016 origins (weekly gun violence, 1% of area) before the 2017 backtest
register("ensemble", lambda: EnsembleMean(members=("naive_all", "grid_hawkes", "stkde")),
         "mean of naive_all, grid_hawkes and stkde forecasts")
# weights maximising the Poisson log-likelihood of the 52 weekly windows of 2016
# (members fitted before each 2016 origin; naive_all and grid_hawkes got ~0 weight)
register("ensemble_fit", lambda: EnsembleMean(members=("smooth_counts", "stkde"), weights=(0.77, 0.23)),
         "smooth_counts and stkde, weights fitted on 2016 windows (Poisson likelihood)")
# smooth_counts (registry defaults) averaged over the four half-cell-shifted grids
register("smooth_counts_avg4", lambda: OffsetAverage(base="smooth_counts"),
         "smooth_counts averaged over four half-cell-shifted grids (area-overlap mapping)")

#: the simple baselines the others are judged against
BASELINES = ("naive_52w", "naive_all")
