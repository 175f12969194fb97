"""The spatial analyses of the command line: any units and weights, the events from the store or,
for Chicago, from the shared CSV extracts (their /api/ twins answer the dashboard's grid layers)."""

from __future__ import annotations

from ..errors import ParameterError

__all__ = ["events", "units_of", "hotspots"]


def events(ds, category, start=None, end=None, from_csv: bool = False):
    """The category's events (a Category or a name): from the Dataset's store or, with ``from_csv``,
    from the shared Chicago CSV extracts of the period (``spatial.sample.category_events``)."""
    from ..spatial.sample import category_events

    if from_csv:
        if ds.key != "chicago":
            raise ParameterError("--from-csv reads the shared Chicago extracts: use the store for other cities")
        return category_events(category, start, end, from_csv=True)
    return category_events(category, start, end, store=ds)


def units_of(kind: str, cell=None, source: str | None = None):
    """The spatial units ``kind`` (grid, an area kind, h3:RES) of the ``source`` city."""
    from ..spatial.units import load_units

    try:
        return load_units(kind, cell, profile=source)
    except ParameterError as exc:
        raise ParameterError(f"--units: {exc}") from exc


def hotspots(ds, *, taxonomy=None, category: str, start=None, end=None, units: str = "grid", cell=None,
             band=None, knn=None, ring=None, fdr: bool = True, from_csv: bool = False):
    """Getis-Ord Gi* of the category's event counts per unit (``spatial.gistar.hotspots``).

    Returns the :class:`~crimescope.spatial.gistar.GiStarResult`; its ``events_provenance`` is the
    provenance of the events it counts (what the command prints before its table)."""
    from ..spatial.gistar import hotspots as gistar

    cat = ds.category(category, taxonomy)
    placed_in = units_of(units, cell, ds.key)  # a bad --units before the events are read
    ev = events(ds, cat, start, end, from_csv)
    res = gistar(ev, placed_in, band=band, knn=knn, ring=ring, fdr=fdr,
                 label=f"{category}, {start or 'start'} to {end or 'end'}")
    res.events_provenance = ev.attrs.get("provenance") or {}
    return res
