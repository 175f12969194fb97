"""Web commands: `serve` (the dashboard and API) and `report` (the weekly brief)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .. import settings
from .context import state

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add `serve` and `report` to the app."""

    @app.command("serve")
    def serve_cmd(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (loopback by default)."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
        heavy_workers: Optional[int] = typer.Option(
            None, "--heavy-workers", min=1, max=256, envvar=settings.SETTINGS["web_heavy_workers"].env,
            help=f"{settings.SETTINGS['web_heavy_workers'].help} (here: {settings.SETTINGS['web_heavy_workers'].default})"),
        light_workers: Optional[int] = typer.Option(
            None, "--light-workers", min=1, max=256, envvar=settings.SETTINGS["web_light_workers"].env,
            help=f"{settings.SETTINGS['web_light_workers'].help} (default: {settings.SETTINGS['web_light_workers'].default})"),
        processes: Optional[int] = typer.Option(
            None, "--processes", min=1, max=64, envvar=settings.SETTINGS["web_processes"].env,
            help=f"{settings.SETTINGS['web_processes'].help} (here: {settings.SETTINGS['web_processes'].default})"),
    ) -> None:
        """Serve the dashboard and the JSON/CSV API from the store's read snapshot.

        `ingest` and `sync` can write the store meanwhile: each publishes a new snapshot
        when it finishes, and the server switches to it within seconds, without a restart.
        Claim checks and other cheap requests are answered beside the expensive views, never
        behind them (--light-workers, --heavy-workers; docs/web.md). Several processes share the
        port and one response cache, each computing views on its own core (--processes).
        """
        from ..web import create_app
        from ..web._processes import reuse_port_supported, serve_processes
        from ..web._server import run

        st = state(ctx)
        n = settings.get("web_processes", processes)
        if n > 1 and not reuse_port_supported():
            typer.echo("crimescope: this system cannot share a port among processes (SO_REUSEPORT); "
                       "serving from one process", err=True)
            n = 1
        if n > 1:
            def ready(bound: int) -> None:
                typer.echo(f"crimescope: serving {st.store_path} from {n} processes (one per core, one response "
                           f"cache; newer snapshots are picked up without a restart) on http://{host}:{bound}/",
                           err=True)

            status = serve_processes(st.store_path, host=host, port=port, processes=n, ready=ready, warm=True,
                                     source=st.source, heavy_workers=heavy_workers, light_workers=light_workers)
            raise typer.Exit(status)
        app = create_app(st.store_path, warm=True, source=st.source, heavy_workers=heavy_workers,
                         light_workers=light_workers)
        d = app.state.ctx.generation.describe()
        what = (f"snapshot {d['file']} of {st.store_path} (published {d['published_at']}; newer snapshots "
                f"are picked up without a restart)" if d["reads"] == "snapshot"
                else f"{st.store_path} itself, read-only (no snapshot could be published: writers must wait)")
        typer.echo(f"crimescope: serving {what} on http://{host}:{port}/", err=True)
        run(app, host=host, port=port)  # uvicorn, answering oversized requests with 414/431

    @app.command("report")
    def report_cmd(
        ctx: typer.Context,
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Last day of the week covered (YYYY-MM-DD); "
                                            "default: the store's last complete day."),
        out: Path = typer.Option(..., "--out", help="Output file: brief.html or brief.pdf."),
        district: Optional[str] = typer.Option(None, "--district", help="A police district's brief (its number); "
                                               "default: the city's."),
    ) -> None:
        """Write the weekly brief: the city's (or a district's) numbers with their tests and pace, the
        district table, weekly trends, hot spot and next-week maps, the evaluation, notes and sources."""
        from ..report import write_brief

        st = state(ctx)
        path = write_brief(st.store_path, out, as_of, source=st.source, district=district)
        typer.echo(f"wrote {path}")
