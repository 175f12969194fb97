"""Spatial commands: hotspots (generated from its declaration), concentration, emerging, near-repeat, map.

Each command loads the category's events (from the store, or with ``--from-csv``
from the shared CSV extracts through the importer and a temporary store), calls one analysis of
``crimescope.spatial`` and prints its table; ``--out`` writes the result
(.geojson/.csv/.parquet) and ``--map`` draws it (.png/.svg, or .html offline).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ..app.declared import CELL_HELP, FROM_CSV_HELP as CSV_HELP, SPATIAL_CATEGORY_HELP as CAT_HELP, UNITS_HELP
from ..app.declared import SPATIAL_END_HELP as END_HELP, SPATIAL_START_HELP as START_HELP
from ..errors import ParameterError
from .context import CategoriesFileOpt, resolve_category, say_meta, state

# options shared by the spatial commands, declared once (their help with hotspots' declaration)
CategoryArg = Annotated[Optional[str], typer.Argument(metavar="[CATEGORY]", help=CAT_HELP)]
CategoryOpt = Annotated[Optional[str], typer.Option("--category", "-c", help=CAT_HELP)]
FromOpt = Annotated[Optional[str], typer.Option("--from", "--start", help=START_HELP)]
ToOpt = Annotated[Optional[str], typer.Option("--to", "--end", help=END_HELP)]
FromCsvOpt = Annotated[bool, typer.Option("--from-csv", help=CSV_HELP)]
CellOpt = Annotated[Optional[float], typer.Option(help=CELL_HELP)]


def _events(ctx: typer.Context, category: str, start: Optional[str], end: Optional[str], from_csv: bool,
            categories_file: Optional[List[Path]] = None):
    """The category's events (user category files included); first prints what they are:
    unit, rule, source and vintage (the provenance the events carry in ``attrs``)."""
    from ..app.spatial import events
    from ..datasets import Dataset

    category = resolve_category(categories_file, category, state(ctx).source)
    if from_csv:
        ev = events(Dataset(None, state(ctx).source), category, start, end, from_csv=True)
    else:
        with state(ctx).open_dataset() as ds:
            ev = events(ds, category, start, end)
    say_meta(ev.attrs.get("provenance") or {})
    return ev


def _units(kind: str, cell: Optional[float], source: Optional[str] = None):
    from ..app.spatial import units_of

    return units_of(kind, cell, source)


def _category(positional: Optional[str], option: Optional[str]) -> str:
    """The category, given either as the argument or as ``--category`` (as in the counting commands)."""
    if positional and option and positional != option:
        raise ParameterError(f"category given twice: {positional!r} and --category {option!r}")
    if not (positional or option):
        raise ParameterError("a category is needed: --category NAME (see `crimescope categories`)")
    return positional or option


def _label(category: str, start: Optional[str], end: Optional[str]) -> str:
    return f"{category}, {start or 'start'} to {end or 'end'}"


def _print_df(df, caption: str = "", notes: Optional[List[str]] = None, thousands=()) -> None:
    """A table fitted to the terminal, numbers by column type, a missing value as an em dash;
    ``notes`` (saying why a value is missing, what a column means) replace the generic note."""
    from ..textable import MISSING_NOTE, render
    from .context import table_width

    width = table_width()
    text, missing = render(df, width, thousands)
    typer.echo(text)
    lines = [f"note: {n}" for n in notes or []]
    if missing and not any(n.startswith("\u2014") for n in notes or []):
        lines.append(f"note: {MISSING_NOTE}")
    if caption:
        lines.append(caption)
    for line in lines:
        typer.echo(_wrap(line, width))


def _wrap(line: str, width: Optional[int]) -> str:
    if not width:
        return line
    import textwrap

    return "\n".join(textwrap.wrap(line, width, subsequent_indent="  ", break_on_hyphens=False) or [""])


def _unit_noun(units: str) -> str:
    """The units of ``--units`` as a reader names them, plural: grid -> cells, h3:8 -> hexagons."""
    if units == "grid":
        return "cells"
    if units.startswith("h3"):
        return "hexagons"
    return units.replace("_", " ") + "s"


def _concentration_tables(res, noun: str):
    """What ``concentration`` prints: (top table, measures table, notes).

    The top table gives each top fraction's number of units as a whole number and its share of
    events; the share is the Lorenz curve read at the exact (fractional) number of units, which a
    note states when it is not whole (the JSON/CSV of ``--out`` keep it in ``units``). A figure
    that is not defined is an em dash and a note says why."""
    import numpy as np
    import pandas as pd

    top = pd.DataFrame({"top": [f"{100 * p:g}%" for p in res.top],
                        noun: [int(np.ceil(k - 1e-9)) for k in res.top_units],
                        "share of events": [float(v) for v in res.top_share]})
    measures = pd.DataFrame({"measure": [f"{noun} with at least one event (share)",
                                         f"share of {noun} holding 50% of events", "Gini",
                                         "generalized Gini (Bernasco & Steenbeek 2017)"],
                             "value": [res.share_units_with_events, res.units_for_half, res.gini,
                                       res.gini_generalized]})
    notes = []
    frac = [(p, k) for p, k in zip(res.top, res.top_units) if abs(k - round(k)) > 1e-9]
    if frac:
        exact = ", ".join(f"{k:,.1f}" for _, k in frac)
        pct = ", ".join(f"{100 * p:g}%" for p, _ in frac)
        notes.append(f"the top {pct} of {res.n_units:,} {noun} are {exact} {noun}, not whole numbers: each share "
                     f"is read on the Lorenz curve at that exact number (the busiest whole {noun} and that "
                     f"fraction of the next); the {noun} column counts the {noun} it reaches")
    small = [f"{100 * p:g}%" for p, k in zip(res.top, res.top_units) if k < 1]
    if small:
        notes.append(f"the top {', '.join(small)} is less than one of the {res.n_units:,} {noun}: its share is that "
                     f"fraction of the busiest one's; ask --top for a larger fraction")
    if res.n_events == 0:
        notes.append("\u2014 : no events in the period, so no share of events and no Gini is defined")
    return top, measures, notes


def _stability_table(st):
    """The year-to-year stability table with reader's column names, and why a figure is missing."""
    import math

    t = st.table.rename(columns={"k": "top n", "share_next_in_prev_top": "next in top"})
    notes = ["top n: the number of top units each year; overlap: share of the first year's top units still top "
             "the next year; jaccard: shared top units over all top units of the two years; next in top: share of the next year's events in the first "
             "year's top units; spearman: rank correlation of every unit's counts"]
    for r in st.table.itertuples(index=False):
        gone = [c for c in ("overlap", "jaccard", "share_next_in_prev_top") if math.isnan(getattr(r, c))]
        if gone:
            notes.append(f"\u2014 {r[0]}-{r[1]}: no unit had an event in {r[0]}, so there are no top units to follow")
        if math.isnan(r.spearman):
            notes.append(f"\u2014 spearman {r[0]}-{r[1]}: every unit had the same count in one of the years, "
                         "so there is no ranking to correlate")
    return t, notes


def _draw(res, path: Optional[Path], say: bool = True) -> None:
    if path is None:
        return
    if path.suffix.lower() in (".html", ".htm"):
        from ..spatial.maps import html_map

        html_map(res, path)
    else:
        res.plot(path)
    if say:
        typer.echo(f"map written to {path}")


def emit_hotspots(res, fmt: str, output: Optional[Path], params: dict) -> None:
    """What ``crimescope hotspots`` prints: the events' provenance, the units per bin and how the
    weights were made; ``--out`` also writes the units with z, p and bin (by its suffix)."""
    say_meta(getattr(res, "events_provenance", None) or {})
    _print_df(res.bin_counts(), f"Gi* on {len(res.z):,} {params['units']} units; weights: {res.weights}; "
                                f"{int(res.values.sum()):,} events, {res.n_no_location:,} without coordinates, "
                                f"{res.n_outside:,} outside the units.")
    if output:
        res.write(output)
        typer.echo(f"written {output}")


def write_map(res, path: Path, params: dict) -> str:
    """``--map``: the result drawn to .png/.svg, or an offline .html map."""
    _draw(res, path, say=False)
    return f"map written to {path}"


def register(app: typer.Typer) -> None:
    # declared once in crimescope.app.declared (its /api/ twin answers the dashboard's grid layer)
    from ..app.cli import add_commands

    add_commands(app, "hotspots")

    @app.command("concentration")
    def concentration_cmd(
        ctx: typer.Context,
        category_arg: CategoryArg = None,
        category_opt: CategoryOpt = None,
        categories_file: CategoriesFileOpt = None,
        start: FromOpt = None,
        end: ToOpt = None,
        units: str = typer.Option("grid", help=UNITS_HELP),
        cell: CellOpt = None,
        top: str = typer.Option("0.001,0.01,0.05,0.1", help="Top fractions of units, comma-separated."),
        stability_top: float = typer.Option(0.05, help="Top fraction whose year-to-year stability is reported."),
        out: Optional[Path] = typer.Option(None, help="Write the concentration table (.csv/.parquet/.json)."),
        lorenz: Optional[Path] = typer.Option(None, help="Draw the Lorenz curve (.png/.svg)."),
        from_csv: FromCsvOpt = False,
    ) -> None:
        """Share of events in the busiest units, Gini (standard and generalized) and stability of the top units."""
        category = _category(category_arg, category_opt)
        from ..spatial._events import events_meta
        from ..spatial.concentration import concentration, yearly_stability
        from ..spatial.units import assign_units

        try:
            fractions = [float(v) for v in top.split(",") if v.strip()]
        except ValueError as exc:
            raise ParameterError(f"--top {top!r}: give fractions like 0.01,0.05") from exc
        ev = _events(ctx, category, start, end, from_csv, categories_file)
        u = _units(units, cell, state(ctx).source)
        placed = assign_units(ev, u)
        res = concentration(placed.counts, fractions, label=_label(category, start, end))
        res.meta = events_meta(ev, u, method="share of events in the busiest units; Gini, generalized Gini",
                               records_in_no_unit=int(placed.n_unassigned), placement=placed.summary())
        noun = _unit_noun(units)
        top_t, measures, notes = _concentration_tables(res, noun)
        _print_df(top_t, thousands=(noun,))
        typer.echo("")
        _print_df(measures, f"{res.n_units:,} {units} units. {placed.summary()}.", notes)
        st = yearly_stability(ev, placed, stability_top)
        if st is not None:
            typer.echo(f"\nStability of the top {100 * stability_top:g}% of {noun} from year to year:")
            st_t, st_notes = _stability_table(st)
            _print_df(st_t, notes=st_notes, thousands=("top n",))
        if out:
            res.write(out)
            typer.echo(f"written {out}")
        if lorenz:
            res.plot_lorenz(path=lorenz)
            typer.echo(f"Lorenz curve written to {lorenz}")

    @app.command("emerging")
    def emerging_cmd(
        ctx: typer.Context,
        category_arg: CategoryArg = None,
        category_opt: CategoryOpt = None,
        categories_file: CategoriesFileOpt = None,
        start: FromOpt = None,
        end: ToOpt = None,
        step: str = typer.Option("month", help="Time step of the cube: week or month."),
        cell: CellOpt = None,
        band: Optional[float] = typer.Option(None, help="Spatial neighbourhood in feet [default: 3 cell sizes]."),
        time_window: int = typer.Option(1, help="Previous time steps counted as neighbours (ArcGIS default 1)."),
        alpha: float = typer.Option(0.05, help="Significance of a hot/cold bin (after FDR per step)."),
        trend_alpha: float = typer.Option(0.05, help="Significance of the Mann-Kendall trend."),
        locations: str = typer.Option("all", help="all cells of the city, or with_data (ArcGIS: cells with events)."),
        out: Optional[Path] = typer.Option(None, help="Write cells with category and trend (.geojson/.csv/.parquet)."),
        map_: Optional[Path] = typer.Option(None, "--map", help="Draw the categories (.png/.svg/.html)."),
        from_csv: FromCsvOpt = False,
    ) -> None:
        """Emerging hot spots: space-time Gi* per step, Mann-Kendall trend, the 17 ArcGIS categories."""
        category = _category(category_arg, category_opt)
        from ..spatial.emerging import emerging_hot_spots
        from ..spatial.grid import Grid

        ev = _events(ctx, category, start, end, from_csv, categories_file)
        res = emerging_hot_spots(ev, Grid.for_profile(state(ctx).source, cell), freq=step, band=band, time_window=time_window, alpha=alpha,
                                 trend_alpha=trend_alpha, start=start, end=end, locations=locations,
                                 label=_label(category, start, end))
        c = res.cube
        _print_df(res.summary(), f"{c.n_locations:,} cells x {c.n_steps} {c.freq}s; {res.rule}; {c.n_events:,} "
                                 f"events, {c.n_no_location:,} without coordinates, {c.n_outside:,} outside the city.")
        if out:
            res.write(out)
            typer.echo(f"written {out}")
        _draw(res, map_)

    @app.command("near-repeat")
    def near_repeat_cmd(
        ctx: typer.Context,
        category_arg: CategoryArg = None,
        category_opt: CategoryOpt = None,
        categories_file: CategoriesFileOpt = None,
        start: FromOpt = None,
        end: ToOpt = None,
        distance_band: float = typer.Option(400.0, help="Width of a spatial band in feet."),
        distance_bands: int = typer.Option(5, help="Number of spatial bands."),
        day_band: int = typer.Option(14, help="Width of a time band in days."),
        day_bands: int = typer.Option(5, help="Number of time bands."),
        permutations: int = typer.Option(999, help="Monte Carlo permutations of the times."),
        seed: int = typer.Option(0, help="Seed of the permutations."),
        same_location: bool = typer.Option(True, "--same-location/--no-same-location",
                                           help="Report pairs at distance 0 in their own row."),
        out: Optional[Path] = typer.Option(None, help="Write the long table (.csv/.parquet/.json)."),
        from_csv: FromCsvOpt = False,
    ) -> None:
        """Knox near-repeat test: observed/expected pairs and p-value per distance x time band."""
        category = _category(category_arg, category_opt)
        from ..spatial.knox import knox_test

        ev = _events(ctx, category, start, end, from_csv, categories_file)
        res = knox_test(ev, distance_band=distance_band, n_distance_bands=distance_bands, day_band=day_band,
                        n_day_bands=day_bands, permutations=permutations, seed=seed, same_location=same_location,
                        label=_label(category, start, end))
        from .context import table_width

        typer.echo(res.to_text(width=table_width()))
        typer.echo(_wrap(f"{res.n_events:,} events ({res.n_no_location:,} without coordinates, {res.n_no_time:,} "
                         f"without time); distance bands [lo, hi) ft, time bands [lo, hi) whole days between local "
                         "dates.", table_width()))
        if out:
            res.write(out)
            typer.echo(f"written {out}")

    @app.command("map")
    def map_cmd(
        ctx: typer.Context,
        kind: str = typer.Argument(..., help="What to map: hotspots, emerging, kde or counts."),
        category_arg: CategoryArg = None,
        category_opt: CategoryOpt = None,
        categories_file: CategoriesFileOpt = None,
        out: Path = typer.Option(..., help="Output file: .png, .svg or .html (offline, self-contained)."),
        start: FromOpt = None,
        end: ToOpt = None,
        units: str = typer.Option("grid", help=UNITS_HELP + " hotspots and counts only; kde and emerging "
                                  "need the grid."),
        cell: CellOpt = None,
        bandwidth: Optional[float] = typer.Option(None, help="KDE bandwidth in feet [default: ArcGIS rule]."),
        kernel: str = typer.Option("quartic", help="KDE kernel: quartic or gaussian."),
        step: str = typer.Option("month", help="Emerging: time step, week or month."),
        from_csv: FromCsvOpt = False,
    ) -> None:
        """Draw a map (hot spots, emerging categories, kernel density or counts) to PNG, SVG or HTML."""
        category = _category(category_arg, category_opt)
        if kind in ("kde", "emerging") and units != "grid":
            raise ParameterError(f"map {kind} is drawn on grid cells: drop --units {units}")
        ev = _events(ctx, category, start, end, from_csv, categories_file)
        grid = _units(units, cell, state(ctx).source)
        label = _label(category, start, end)
        if kind == "hotspots":
            from ..spatial.gistar import hotspots

            res = hotspots(ev, grid, label=label)
        elif kind == "emerging":
            from ..spatial.emerging import emerging_hot_spots

            res = emerging_hot_spots(ev, grid, freq=step, start=start, end=end, label=label)
        elif kind == "kde":
            from ..spatial.kde import kde

            res = kde(ev, grid, bandwidth=bandwidth, kernel=kernel, label=label)
        elif kind == "counts":
            from ..spatial.maps import plot_values

            if out.suffix.lower() in (".html", ".htm"):
                raise ParameterError("counts maps are static: use .png or .svg")
            from ..spatial.maps import unit_phrase
            from ..spatial.units import assign_units

            placed = assign_units(ev, grid)
            c = placed.counts
            plot_values(grid, c, path=out, title=f"Events per {unit_phrase(grid)}: {label}",
                        legend="events", subtitle=f"{int(c.sum()):,} events; rule: count per unit. "
                                                  f"{placed.summary()}.")
            typer.echo(f"map written to {out}")
            return
        else:
            raise ParameterError(f"map kind {kind!r} is not one of hotspots, emerging, kde, counts")
        _draw(res, out)
