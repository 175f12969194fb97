"""Forecasting commands: `models`, `forecast`, `backtest` (thin wrappers over crimescope.forecast)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer

from .context import CategoriesFileOpt, progress, resolve_category, say_provenance, state

__all__ = ["register"]


def _cell(text: str) -> float:
    from ..forecast.base import invalid

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ft|feet)?\s*", text or "")
    if not m or float(m.group(1)) <= 0:
        raise invalid("cell", text, "a positive cell size in feet such as '500ft'")
    return float(m.group(1))


def _offset(text: str) -> tuple[float, float]:
    from ..forecast.base import invalid

    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise invalid("offset", text, "two numbers in feet, e.g. '250,0'") from exc
    return a, b


def _split(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _load_for(store, models: list, category, end: str):
    """Events of ``category`` (a Category), plus the related categories any of ``models`` reads (tagged)."""
    from ..stats.events import load_categories, load_events

    related = [c for c in dict.fromkeys(c for m in models for c in m.related_categories()) if c != category.name]
    if not related:
        return load_events(store, category, end=end)
    return load_categories(store, [category, *related], end=end)


def register(app: typer.Typer) -> None:
    """Add `models`, `forecast` and `backtest` to the app."""

    @app.command("models")
    def models_cmd() -> None:
        """List the forecasting models with their settings."""
        from ..forecast.base import make_model, summaries

        from .context import echo_item

        for name, text in summaries().items():
            m = make_model(name)
            echo_item(name, [text, f"{type(m).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in m.get_params().items())
                             + ")"], 20)

    @app.command("forecast")
    def forecast_cmd(
        ctx: typer.Context,
        model: str = typer.Option("best", "--model", help="Model name (see `crimescope models`) or 'best': "
                                  "the first of the latest backtest of the category."),
        category: str = typer.Option("gun_violence", "--category", help="Offense category to forecast."),
        categories_file: CategoriesFileOpt = None,
        as_of: str = typer.Option(..., "--as-of", help="Forecast start (local date/time); only earlier events are used."),
        horizon: str = typer.Option("7d", "--horizon", help="Forecast length: '1d', '7d', '4w'..."),
        cell: str = typer.Option("500ft", "--cell", help="Grid cell size in feet."),
        offset: str = typer.Option("0,0", "--offset", help="Grid offset 'x,y' in feet."),
        out: Path = typer.Option(..., "--out", help="Output file: .csv or .geojson."),
        map_png: Optional[Path] = typer.Option(None, "--map", help="Also draw a PNG map here."),
    ) -> None:
        """Expected events per grid cell over the horizon, written as CSV or GeoJSON."""
        from ..forecast.backtest import choose_best
        from ..forecast.base import invalid, make_model, parse_time
        from ..spatial.grid import Grid

        st = state(ctx)
        cat = resolve_category(categories_file, category, state(ctx).source)
        cut = parse_time(as_of)
        choice = None
        if model == "best":  # only a ranking whose backtest ended by the as-of (no look-ahead)
            name, choice = choose_best(st.store_path, category, cut)
            typer.echo(f"model: {name} ({choice['reason']})", err=True)
        else:
            name = model
        m = make_model(name).for_target(category)
        suffix = out.suffix.lower()
        if suffix not in (".csv", ".geojson", ".json"):
            raise invalid("out", str(out), "a .csv or .geojson file name")
        grid = Grid.for_profile(st.source, _cell(cell), offset=_offset(offset))
        store = st.open_dataset()
        try:
            meta = say_provenance(store, cat, period=f"events before {str(cut)[:16].replace('T', ' ')} train the model")
            events = _load_for(store, [m], cat, str(cut)[:10])
        finally:
            store.close()
        with progress(f"forecast {name}", quiet=st.quiet) as step:
            step(f"fitting on {len(events):,} events, {grid.n_cells:,} cells")
            fc = m.fit(events, cut, grid=grid).predict(horizon)
        meta.update(title=f"Forecast of {cat.label}: {name}, as of {str(cut)[:16].replace('T', ' ')}",
                    unit=f"expected {meta['unit']} per {grid.unit_label} over {fc.horizon_days:g} days",
                    model=name, params=m.get_params(), as_of=str(cut), horizon_days=fc.horizon_days)
        meta.setdefault("notes", []).append("a forecast of places (grid cells), never of people")
        fc.meta = meta
        if suffix == ".csv":
            fc.to_csv(out)
        else:
            fc.to_geojson(out)
        if map_png is not None:
            from ..forecast.output import plot_map

            plot_map(fc, map_png)
        from .context import wrap_lines

        typer.echo(wrap_lines(f"{name}: {fc.expected.sum():,.1f} expected {category} events in "
                              f"{fc.horizon_days:g} days over {grid.n_cells:,} cells -> {out}"))
        if choice is not None:
            typer.echo(wrap_lines(f"model choice: {choice['reason']}"))
        if m.rescale_to_level:
            typer.echo(wrap_lines("# total: the seasonal citywide level (last 8 weeks' rate x the season's ratio in "
                                  "up to 5 earlier years); the model sets where, not how many (docs/forecasting.md)"))

    @app.command("backtest")
    def backtest_cmd(
        ctx: typer.Context,
        category: str = typer.Option("gun_violence", "--category", help="Offense category."),
        categories_file: CategoriesFileOpt = None,
        start: str = typer.Option(..., "--start", help="First origin date (origins are Mondays from here)."),
        end: str = typer.Option(..., "--end", help="Origins strictly before this date."),
        models: str = typer.Option("all", "--models", help="Comma-separated model names, or 'all'."),
        horizons: str = typer.Option("1,7,28", "--horizons", help="Horizons in days, comma-separated."),
        coverage: str = typer.Option("0.5%,1%,5%", "--coverage",
                                     help="Coverages: % of city area or absolute ('0.25sqmi'), comma-separated."),
        cell: str = typer.Option("500ft", "--cell", help="Grid cell size in feet."),
        offsets: bool = typer.Option(False, "--offsets", help="Also rerun the best model and baseline on shifted grids."),
        out: Path = typer.Option(Path("backtest"), "--out", help="Folder for summary.csv, records.csv, report.html."),
        jobs: int = typer.Option(1, "--jobs", help="Worker processes scoring origins in parallel (0 = one per core); "
                                 "the same results as 1, about N times the memory."),
    ) -> None:
        """Rolling-origin backtest: every model refitted each week; table + HTML report."""
        from ..forecast.backtest import backtest, offset_sensitivity, ranking_path, resolve_jobs, weekly_origins
        from ..forecast.base import make_model, registry
        from ..errors import CrimescopeError
        from ..forecast.report import equity_frame, write_report
        from ..result import Result
        from ..spatial.grid import Grid

        st = state(ctx)
        size = _cell(cell)
        grid = Grid.for_profile(st.source, size)
        origins = weekly_origins(start, end)
        resolve_jobs(jobs, len(origins))  # a bad --jobs is refused before the events are read
        names = sorted(registry()) if models == "all" else _split(models)
        instances = {n: make_model(n).for_target(category) for n in names}
        cat = resolve_category(categories_file, category, state(ctx).source)
        store = st.open_dataset()
        try:
            meta = say_provenance(store, cat, period=f"events before {end} (origins from {start})")
            events = _load_for(store, list(instances.values()), cat, end)
        finally:
            store.close()
        # one step per (window, model) fit: "2017-03-06 naive_52w 0.31s"
        with progress("backtest", len(origins) * len(instances), quiet=st.quiet) as step:
            res = backtest(events, grid, instances, origins, horizons=_split(horizons), coverages=_split(coverage),
                           settings={"category": category, "cell": f"{size:g}ft", "start": start, "end": end},
                           target_category=category, progress=step, jobs=jobs)
        meta.update(title=f"Backtest of {category}: weekly origins {start} to {end}, {size:g} ft cells",
                    unit=f"scores of forecasts of {meta['unit']} per {grid.unit_label} (mean over windows)",
                    models=names, horizons=res.horizons, coverages=res.coverages)
        res.meta = meta
        out.mkdir(parents=True, exist_ok=True)
        res.to_csv(out / "summary.csv")
        Result(res.records, meta).to_csv(out / "records.csv")
        Result(res.calibration("year"), meta).to_csv(out / "calibration.csv")  # expected / observed per year
        Result(res.reliability, meta).to_csv(out / "reliability.csv")  # deciles of expected mass per window
        hz, main_cov = res.headline()
        off = None
        if offsets:
            rank = res.ranking(hz, main_cov)
            pick = list(dict.fromkeys([rank[0]] + [m for m in rank if m in ("naive_52w", "naive_all")][:1]))
            off = offset_sensitivity(events, lambda o: Grid.for_profile(st.source, size, offset=o),
                                     {p: instances[p] for p in pick}, origins,
                                     [(0, 0), (size / 2, 0), (0, size / 2), (size / 2, size / 2)], hz, main_cov,
                                     target_category=category)
            Result(off, {**meta, "title": meta["title"] + ": grid-offset sensitivity"}).to_csv(out / "offsets.csv")
        write_report(res, out / "report.html", offsets=off, horizon=hz, coverage=main_cov,
                     title=f"Backtest: {category}, {start} to {end}, {size:g} ft cells")
        try:
            Result(equity_frame(res, hz), {**meta, "title": meta["title"] + ": flagged area and hits per community area"}
                   ).to_csv(out / "equity.csv")
        except CrimescopeError as exc:  # no community-area boundaries: the report says so too
            typer.echo(f"equity.csv not written: {exc}", err=True)
        res.save_ranking(ranking_path(st.store_path, category), hz, main_cov)
        rank = res.ranking(hz, main_cov)
        typer.echo(f"ranking at {main_cov}, {hz:g} days: {', '.join(rank)}")
        typer.echo(f"wrote {out}/summary.csv, records.csv, calibration.csv, reliability.csv, equity.csv, report.html")
