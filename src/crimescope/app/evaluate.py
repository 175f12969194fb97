"""Did it work? The evaluation of an intervention as an analysis of a Dataset (declared in
:mod:`crimescope.app.declared`).

:func:`evaluate` is what ``crimescope evaluate`` and a Python call compute: a panel of
counts per area and period, the treated areas (administrative areas with their start dates,
or one drawn area against the control areas away from it), and several methods side by
side (:func:`crimescope.evaluate.run.evaluate`). The dashboard's ``/evaluate`` page and its
``/api/evaluate.*`` twins answer through :func:`crimescope.web.routes.evaluate.case_view`
(the SDSC case study, or one drawn area's, cached per server).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import ParameterError

__all__ = ["evaluate", "cohorts_of", "treated_shape"]


def cohorts_of(areas: Optional[str], start: Optional[str], cohorts: Optional[Path], use_sdsc: bool):
    """The treated areas and their start dates, given once: ``areas`` with ``start``, a cohorts
    file, or the shipped SDSC districts."""
    from ..evaluate.cohorts import Cohorts, read_cohorts, sdsc

    given = sum(x is not None and x is not False for x in (cohorts, use_sdsc or None, areas))
    if given != 1:
        raise ParameterError("give the treated areas once: --areas with --start, --cohorts FILE, or --sdsc")
    if use_sdsc:
        return sdsc()
    if cohorts is not None:
        return read_cohorts(cohorts)
    if not start:
        raise ParameterError("--areas needs --start (one date for all of them)")
    codes = [a.strip() for a in areas.split(",") if a.strip()]
    return Cohorts({a: start for a in codes}, origin="--areas/--start")


def treated_shape(cells, cell_size, polygon, crs, areas, cohorts, use_sdsc, start):
    """The drawn treated area of ``cells`` / ``polygon`` (None when the areas are administrative)."""
    if cells is None and polygon is None:
        if cell_size is not None or crs is not None:
            raise ParameterError("--cell goes with --cells, --crs with --polygon")
        return None
    if cells is not None and polygon is not None:
        raise ParameterError("give one treated shape: --cells or --polygon")
    if areas is not None or cohorts is not None or use_sdsc:
        raise ParameterError("--cells/--polygon replace --areas, --cohorts and --sdsc: give one of them")
    if not start:
        raise ParameterError("--cells/--polygon need --start (the date the strategy began there)")
    from ..evaluate.areas import cells_area, polygon_area

    if cells is not None:
        if crs is not None:
            raise ParameterError("--crs goes with --polygon (cells are in the city's CRS)")
        return cells_area(cells, cell_size)
    if cell_size is not None:
        raise ParameterError("--cell goes with --cells")
    return polygon_area(polygon, crs)


def evaluate(ds, *, taxonomy, category: str = "shooting", units: str = "district", step: str = "month",
             start=None, end=None, areas: Optional[str] = None, area_start: Optional[str] = None,
             cohorts: Optional[Path] = None, sdsc: bool = False, methods: str = "all",
             control_group: str = "nevertreated", shift: int = 0, cells: Optional[str] = None,
             cell: Optional[float] = None, polygon: Optional[str] = None, crs: Optional[str] = None,
             controls: str = "beat", ring: Optional[float] = None):
    """The effect on the treated areas by several methods (an
    :class:`~crimescope.evaluate.run.Evaluation`: ``summary()``, ``to_dict()``, ``render(fmt)``).

    Treated areas are administrative areas of kind ``units`` (``areas`` with ``area_start``, a
    ``cohorts`` file, or ``sdsc``) or one drawn area (``cells`` of size ``cell``, or a
    ``polygon`` in ``crs``, with ``area_start``): its records against the ``controls`` areas
    away from it, beyond a ``ring``. ``start``/``end`` bound the panel, ``step`` is week or
    month; ``shift`` also moves every start by -N and +N months.
    """
    from ..evaluate.panel import build_panel
    from ..evaluate.run import evaluate as run_methods, parse_methods

    names = parse_methods(methods)
    shape = treated_shape(cells, cell, polygon, crs, areas, cohorts, sdsc, area_start)
    ch = cohorts_of(areas, area_start, cohorts, sdsc) if shape is None else None
    cat = taxonomy[category]
    if shape is None:
        panel = build_panel(ds, cat, units, start, end, step)
    else:
        from ..evaluate.areas import AREA_CODE, build_area_panel
        from ..evaluate.cohorts import Cohorts

        panel = build_area_panel(ds, cat, shape, start, end, step, control_kind=controls, ring=ring)
        ch = Cohorts({AREA_CODE: area_start}, origin=f"{shape.label} ({shape.origin}) from --start")
    return run_methods(panel, ch, names, shift_months=shift, settings={"cs": {"control_group": control_group}})
