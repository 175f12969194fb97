"""Planning commands: `plan` (generated from its declaration in crimescope.app.declared, with the
renderings below) and `backtest-plan` (a thin wrapper over crimescope.plan)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .context import CategoriesFileOpt, load_user_taxonomy, progress, state

__all__ = ["register"]

# the help of the options `backtest-plan` shares with the declared `plan`
from ..app.declared import _PLACES_HELP, _QUOTAS_HELP, _WEIGHTS_HELP  # noqa: E402


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


def emit_plan(plan, fmt: str, out: Optional[Path], params: dict) -> None:
    """How `crimescope plan` shows its plan: the rendering on stdout, or written to ``--out`` with
    what the written figures count and a one-line summary on stdout."""
    from ..plan.output import write_plan

    text = write_plan(plan, fmt, out)
    if out is None:
        typer.echo(text)
        return
    for line in plan.result().caption_lines():  # what the written figures count
        typer.echo(f"# {line}")
    typer.echo(f"{len(plan.table)} places, expected harm {plan.solution.objective:.4g} "
               f"({plan.solution.planner}, gap {plan.solution.gap:.2%}) -> {out}")


def write_map(plan, path: Path, params: dict) -> str:
    """`--map`: a PNG map of the plan."""
    plan.plot_map(path)
    return f"map -> {path}"


def write_sheets(plan, folder: Path, params: dict) -> str:
    """`--sheets`: one PDF deployment sheet per district."""
    from ..report.plan_sheet import write_sheets as _write_sheets

    files = _write_sheets(plan, folder)
    return f"{len(files)} district sheets -> {folder}"


def register(app: typer.Typer) -> None:
    """Add `plan` (generated from its declaration) and `backtest-plan` to the app."""

    # `plan` is declared once (crimescope.app.declared); its command is generated from the declaration
    from ..app.cli import add_commands

    add_commands(app, "plan")

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
