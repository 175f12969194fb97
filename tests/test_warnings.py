"""crimescope's own calls raise no warnings (pandas / Ibis deprecations included).

Third-party warnings that only the Spark engine triggers are filtered in pyproject.toml,
each with the upstream change named; this test makes sure the DuckDB path (every count,
event load and spatial analysis) stays free of them, so those filters hide nothing of ours.
"""

from __future__ import annotations

import warnings


def test_counting_events_and_spatial_raise_no_warning(tiny):
    from crimescope.spatial.gistar import hotspots
    from crimescope.spatial.grid import Grid
    from crimescope.stats import compstat, count, ytd
    from crimescope.stats.arrests import arrests
    from crimescope.stats.claims import Claim, check_claims
    from crimescope.stats.events import load_categories, load_events

    tiny.ibis()  # the Ibis table lookup (its schema read warns upstream, filtered in pyproject)
    from crimescope.stats.query import incidents_table

    incidents_table(tiny.ibis())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert count(tiny, "homicide", "2016-01-01", "2016-12-31", by=["district", "week"]).meta["unit"]
        ytd(tiny, "homicide", "2017-03-08", years=2, by=["district"])
        compstat(tiny, "2017-03-08")
        arrests(tiny, "robbery", "2016-01-01", "2017-12-31")
        check_claims(tiny, [Claim(category="homicide", value=4, start="2016-01-01", end="2016-12-31")])
        ev = load_events(tiny, "homicide", "2016-01-01", "2017-12-31")
        load_categories(tiny, ["homicide", "robbery"], "2016-01-01", "2017-12-31")
        res = hotspots(ev, Grid.regular(1_170_000, 1_895_000, 6, 6, 2000.0), band=4000.0)
        res.to_csv()
        res.to_geojson()
