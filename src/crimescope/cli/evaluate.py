"""Evaluation commands: `evaluate`, `evaluate-sdsc`, `evaluate-methods` (thin wrappers over crimescope.evaluate)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import ParameterError
from .context import CategoriesFileOpt, resolve_category, state

__all__ = ["register"]


def _cohorts(areas: Optional[str], start: Optional[str], cohorts: Optional[Path], use_sdsc: bool):
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


def _treated_shape(cells, cell_size, polygon, crs, areas, cohorts, use_sdsc, start):
    """The drawn treated area of --cells / --polygon (None when the areas are administrative)."""
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


def register(app: typer.Typer) -> None:
    """Add `evaluate`, `evaluate-sdsc` and `evaluate-methods` to the app."""

    @app.command("evaluate-methods")
    def methods_cmd() -> None:
        """List the evaluation methods with their settings."""
        from ..evaluate.base import make_method, summaries

        from .context import echo_item

        for name, text in summaries().items():
            echo_item(name, [text, repr(make_method(name))], 8)

    @app.command("evaluate")
    def evaluate_cmd(
        ctx: typer.Context,
        category: str = typer.Option("shooting", "--category", "-c", help="Category name (see `crimescope categories`)."),
        categories_file: CategoriesFileOpt = None,
        units: str = typer.Option("district", "--units", help="Area kind: district, beat, ward, community_area."),
        step: str = typer.Option("month", "--step", help="Time step of the panel: week or month."),
        start_date: Optional[str] = typer.Option(None, "--from", help="First local date of the panel (default: "
                                                 "the first covered)."),
        end_date: Optional[str] = typer.Option(None, "--to", help="Last local date of the panel (default: the "
                                               "last covered)."),
        areas: Optional[str] = typer.Option(None, "--areas", help="Treated area codes, comma-separated (with --start)."),
        start: Optional[str] = typer.Option(None, "--start", help="Start date of the intervention for --areas."),
        cohorts: Optional[Path] = typer.Option(None, "--cohorts", help="Cohorts CSV (area,start[,note]) for a "
                                               "staggered rollout."),
        use_sdsc: bool = typer.Option(False, "--sdsc", help="The Strategic Decision Support Center districts "
                                      "and dates shipped with crimescope."),
        methods: str = typer.Option("all", "--methods", help="Comma-separated methods (see `crimescope "
                                    "evaluate-methods`) or 'all'."),
        control_group: str = typer.Option("nevertreated", "--control-group", help="cs: nevertreated or "
                                          "notyettreated."),
        shift_months: int = typer.Option(0, "--shift-months", help="Also move every start by -N and +N months."),
        fmt: str = typer.Option("table", "--format", help="Output format: table, csv or json."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
        figures: Optional[Path] = typer.Option(None, "--figures", help="Write the figures into this folder."),
        figure_format: str = typer.Option("png", "--figure-format", help="png or svg."),
        cells: Optional[str] = typer.Option(None, "--cells", help="Treated area: grid cell ids (lattice ids, "
                                            "comma-separated), with --start."),
        cell_size: Optional[float] = typer.Option(None, "--cell", help="Cell size of --cells in CRS units "
                                                  "(default: the cell_size_ft setting, 500 ft)."),
        polygon: Optional[str] = typer.Option(None, "--polygon", help="Treated area: a polygon, as a .geojson/"
                                              ".wkt file or GeoJSON/WKT text, with --start."),
        crs: Optional[str] = typer.Option(None, "--crs", help="CRS of --polygon: EPSG:4326 (lon/lat, the "
                                          "GeoJSON default) or the city's (EPSG:3435); WKT needs it."),
        controls: str = typer.Option("beat", "--controls", help="With --cells/--polygon: the control areas "
                                     "(district, beat, ward, community_area) away from the treated area."),
        ring: Optional[float] = typer.Option(None, "--ring", help="With --cells/--polygon: width of the ring "
                                             "around the area in CRS units (default 1320 ft, a quarter mile)."),
    ) -> None:
        """Did it work? The effect on the treated areas, by several methods side by side.

        Treated areas are administrative areas (--areas/--cohorts/--sdsc with --units) or one drawn
        area (--cells or --polygon with --start): its records against the control areas away from it.
        """
        from ..evaluate.panel import build_panel
        from ..evaluate.run import evaluate, parse_methods

        if fmt not in ("table", "csv", "json"):
            raise ParameterError(f"--format {fmt!r} is not one of table, csv, json")
        if shift_months < 0:
            raise ParameterError("--shift-months must be >= 0")
        if figure_format not in ("png", "svg"):
            raise ParameterError(f"--figure-format {figure_format!r} is not one of png, svg")
        names = parse_methods(methods)
        shape = _treated_shape(cells, cell_size, polygon, crs, areas, cohorts, use_sdsc, start)
        ch = _cohorts(areas, start, cohorts, use_sdsc) if shape is None else None
        cat = resolve_category(categories_file, category)
        store = state(ctx).open_store(read_only=True)
        try:
            if shape is None:
                panel = build_panel(store, cat, units, start_date, end_date, step)
            else:
                from ..evaluate.areas import AREA_CODE, build_area_panel
                from ..evaluate.cohorts import Cohorts

                panel = build_area_panel(store, cat, shape, start_date, end_date, step, control_kind=controls,
                                         ring=ring)
                ch = Cohorts({AREA_CODE: start}, origin=f"{shape.label} ({shape.origin}) from --start")
        finally:
            store.close()
        ev = evaluate(panel, ch, names, shift_months=shift_months,
                      settings={"cs": {"control_group": control_group}})
        text = ev.render(fmt)
        if output is not None:
            output.write_text(text + "\n", encoding="utf-8")
            typer.echo(f"wrote {output}", err=True)
        else:
            typer.echo(text)
        if figures is not None:
            from ..evaluate.plots import save_figures

            paths = save_figures(ev, figures, figure_format)
            typer.echo(f"wrote {len(paths)} figures to {figures}", err=True)

    @app.command("evaluate-sdsc")
    def sdsc_cmd(
        ctx: typer.Context,
        out: Path = typer.Option(Path("sdsc"), "--out", help="Folder for summary.csv, case_study.json, "
                                 "report.md and the figures."),
        step: str = typer.Option("month", "--step", help="week or month."),
        methods: str = typer.Option("all", "--methods", help="Comma-separated methods or 'all'."),
        shift_months: int = typer.Option(1, "--shift-months", help="Sensitivity: move every start by -N and +N months."),
        cohorts: Optional[Path] = typer.Option(None, "--cohorts", help="Other dates for the six districts "
                                               "(default: the shipped SDSC file)."),
    ) -> None:
        """The Strategic Decision Support Center case study: shootings, homicides, gun violence, 2012-2017."""
        from ..evaluate.casestudy import sdsc_case_study
        from ..evaluate.cohorts import read_cohorts
        from ..evaluate.run import parse_methods

        names = parse_methods(methods)
        ch = read_cohorts(cohorts) if cohorts is not None else None
        store = state(ctx).open_store(read_only=True)
        try:
            cs = sdsc_case_study(store, step=step, methods=names, shift_months=shift_months, cohorts=ch)
        finally:
            store.close()
        paths = cs.write(out)
        from .context import table_width

        typer.echo(cs.summary().to_text(width=table_width()))
        typer.echo(f"wrote {len(paths)} files to {out} (report.md, summary.csv, case_study.json, figures)")
