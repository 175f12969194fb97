"""Planning commands: `plan` and `backtest-plan` (thin wrappers over crimescope.plan)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .context import CategoriesFileOpt, load_user_taxonomy, progress, state

__all__ = ["register"]

_PLACES_HELP = "Place unit: grid (cells of --cell), block (block faces from the records' blocks), beat, h3:RES."
_QUOTAS_HELP = ("Per-district quotas: none, proportional (share of expected harm), 'LO-HI' for every district, "
                "or 'DISTRICT:LO-HI,...' (budget units; sq mi for area budgets).")
_WEIGHTS_HELP = ("Harm weights: 'default' (crimescope's documented mix, see docs/planning.md), a category name "
                 "(weight 1), or 'category=weight,...'.")


def _cell(text: str) -> float:
    from .forecast import _cell as cell

    return cell(text)


def _load(st, hw, model_name: str, end: str, taxonomy):
    from ..forecast.base import make_model
    from ..plan.harm import load_harm_events
    from ..stats.provenance import data_vintage

    m = make_model(model_name)
    related = sorted({c for name in hw.categories for c in m.for_target(name).related_categories()})
    store = st.open_store(read_only=True)
    try:
        events = load_harm_events(store, hw, end=end, related=related, taxonomy=taxonomy)
        vintage = data_vintage(store, "chicago")
    finally:
        store.close()
    return m, events, vintage


def register(app: typer.Typer) -> None:
    """Add `plan` and `backtest-plan` to the app."""

    @app.command("plan")
    def plan_cmd(
        ctx: typer.Context,
        as_of: str = typer.Option(..., "--as-of", help="Plan start (local date/time); only earlier records are used."),
        budget: str = typer.Option(..., "--budget", help="Places ('40'), area ('0.5sqmi', '1%' of the city) or "
                                   "patrol hours a week ('120h')."),
        weights: str = typer.Option("default", "--weights", help=_WEIGHTS_HELP),
        categories_file: CategoriesFileOpt = None,
        model: str = typer.Option("smooth_counts", "--model", help="Forecasting model (see `crimescope models`); "
                                  "naive_all or retro_hotspot for a hot-spot surface."),
        horizon: str = typer.Option("7d", "--horizon", help="Plan window: '7d', '1d', '2w'."),
        places: str = typer.Option("grid", "--places", help=_PLACES_HELP),
        cell: str = typer.Option("500ft", "--cell", help="Grid cell size in feet (the forecast's grid)."),
        quotas: str = typer.Option("none", "--quotas", help=_QUOTAS_HELP),
        equity_cap: Optional[float] = typer.Option(None, "--equity-cap", help="No community area gets more than "
                                                   "this multiple of its share of victimisation (e.g. 2)."),
        spacing: float = typer.Option(0.0, "--spacing", help="Minimum distance between chosen places, feet."),
        exclude: Optional[List[str]] = typer.Option(None, "--exclude", help="Leave out a place id, district:N or "
                                                    "community_area:N (repeatable)."),
        planner: str = typer.Option("ip", "--planner", help="ip (exact integer program, HiGHS) or greedy."),
        hours_per_place: float = typer.Option(1.0, "--hours-per-place", help="Weekly presence per place, hours "
                                              "(hour budgets and the visit schedule)."),
        visit_minutes: float = typer.Option(15.0, "--visit-minutes", help="Koper visit length, 10-16 minutes."),
        time_limit: float = typer.Option(60.0, "--time-limit", help="Integer program time limit, seconds."),
        fmt: Optional[str] = typer.Option(None, "--format", help="table, csv, json or geojson (default: from the "
                                          "--out file's suffix, else table)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write the plan here instead of stdout."),
        map_png: Optional[Path] = typer.Option(None, "--map", help="Also draw a PNG map of the plan here."),
        sheets: Optional[Path] = typer.Option(None, "--sheets", help="Also write one PDF deployment sheet per "
                                              "district into this folder."),
    ) -> None:
        """Which places, how much per district, and when: a deployment plan from a forecast of harm."""
        from ..forecast.base import parse_time
        from ..plan.core import make_plan
        from ..plan.harm import parse_weights
        from ..plan.output import PLAN_FORMATS, write_plan
        from ..spatial.grid import Grid
        from ..errors import ParameterError
        from ..plan.places import parse_place_kind

        if fmt is None:
            suffix = out.suffix.lower().lstrip(".") if out is not None else ""
            fmt = suffix if suffix in PLAN_FORMATS and suffix != "table" else "table"
        if fmt not in PLAN_FORMATS:
            raise ParameterError(f"invalid format={fmt!r}: expected one of {', '.join(PLAN_FORMATS)}")
        if planner not in ("ip", "greedy"):
            raise ParameterError(f"invalid planner={planner!r}: expected ip or greedy")
        parse_place_kind(places)
        st = state(ctx)
        tax = load_user_taxonomy(categories_file)
        hw = parse_weights(weights, tax)
        cut = parse_time(as_of)
        grid = Grid.chicago(_cell(cell))
        m, events, vintage = _load(st, hw, model, str(cut)[:10], tax)
        plan = make_plan(events, as_of=cut, grid=grid, budget=budget, weights=hw, model=m, horizon=horizon,
                         places=places, quotas=quotas, equity_cap=equity_cap, spacing=spacing, exclude=exclude,
                         planner=planner, hours_per_place=hours_per_place, visit_minutes=visit_minutes,
                         time_limit=time_limit, vintage=vintage)
        text = write_plan(plan, fmt, out)
        if out is None:
            typer.echo(text)
        else:
            for line in plan.result().caption_lines():  # what the written figures count
                typer.echo(f"# {line}")
            typer.echo(f"{len(plan.table)} places, expected harm {plan.solution.objective:.4g} "
                       f"({plan.solution.planner}, gap {plan.solution.gap:.2%}) -> {out}")
        if map_png is not None:
            plan.plot_map(map_png)
            typer.echo(f"map -> {map_png}")
        if sheets is not None:
            from ..report.plan_sheet import write_sheets

            files = write_sheets(plan, sheets)
            typer.echo(f"{len(files)} district sheets -> {sheets}")

    @app.command("backtest-plan")
    def backtest_plan_cmd(
        ctx: typer.Context,
        start: str = typer.Option(..., "--start", help="First origin date (origins are Mondays from here)."),
        end: str = typer.Option(..., "--end", help="Origins strictly before this date."),
        budget: str = typer.Option(..., "--budget", help="Places ('267'), area ('1%') or patrol hours ('120h')."),
        weights: str = typer.Option("default", "--weights", help=_WEIGHTS_HELP),
        categories_file: CategoriesFileOpt = None,
        model: str = typer.Option("smooth_counts", "--model", help="Forecasting model (see `crimescope models`)."),
        horizon: str = typer.Option("7d", "--horizon", help="Window each plan is scored on."),
        places: str = typer.Option("grid", "--places", help=_PLACES_HELP),
        cell: str = typer.Option("500ft", "--cell", help="Grid cell size in feet."),
        quotas: str = typer.Option("proportional", "--quotas", help=_QUOTAS_HELP),
        equity_cap: Optional[float] = typer.Option(2.0, "--equity-cap", help="Equity cap multiple (0 for none)."),
        spacing: float = typer.Option(0.0, "--spacing", help="Minimum distance between chosen places, feet."),
        out: Path = typer.Option(Path("backtest-plan"), "--out", help="Folder for summary.csv, records.csv, "
                                 "equity.csv, costs.csv, report.html."),
    ) -> None:
        """Plans of every week scored on the week after: ip vs greedy vs top-N vs all-history hot spots."""
        import time

        from ..forecast.backtest import weekly_origins
        from ..plan.backtest import backtest_plans
        from ..plan.core import parse_quotas
        from ..plan.harm import parse_weights
        from ..plan.places import parse_place_kind
        from ..plan.report import write_backtest_report
        from ..spatial.grid import Grid

        parse_place_kind(places)
        q = parse_quotas(quotas)
        cap = equity_cap if equity_cap else None
        st = state(ctx)
        tax = load_user_taxonomy(categories_file)
        hw = parse_weights(weights, tax)
        origins = weekly_origins(start, end)
        grid = Grid.chicago(_cell(cell))
        m, events, vintage = _load(st, hw, model, end, tax)
        t0 = time.perf_counter()
        with progress("backtest-plan", len(origins), quiet=st.quiet) as step:  # one step per weekly origin
            bt = backtest_plans(events, grid, origins, budget, weights=hw, model=m, horizon=horizon, places=places,
                                quotas=q, equity_cap=cap, spacing=spacing, progress=step,
                                settings={"start": start, "end": end, "vintage": vintage})
        elapsed = time.perf_counter() - t0
        out.mkdir(parents=True, exist_ok=True)
        paths = write_backtest_report(bt, out, elapsed_seconds=elapsed)
        s = bt.summary()
        for line in bt.settings_lines():
            typer.echo(f"# {line}")
        typer.echo(s[["variant", "windows", "places", "expected_harm", "observed_harm", "harm_share",
                      "dissimilarity"]].to_string(index=False))
        typer.echo(bt.constraint_costs()[["constraint", "expected_harm_cost", "observed_harm_cost"]]
                   .to_string(index=False))
        typer.echo(f"{len(origins)} windows in {elapsed:.0f} s; wrote {', '.join(p.name for p in paths)} to {out}")
