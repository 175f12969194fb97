"""`crimescope sync ...`: bring the store up to date from a live portal API."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from .. import settings
from ..errors import CrimescopeError
from .data import SNAPSHOT_OPTION, open_writer, publish_after_write

sync_app = typer.Typer(
    help="Update the store from a city's live open-data API (incremental, resumable).",
    no_args_is_help=True,
)


def _summary(result) -> str:
    wm = result.watermark.isoformat(sep=" ") if result.watermark else "none"
    return (
        f"{result.endpoint}: {result.pages} pages, {result.rows_read:,} rows read: "
        f"{result.inserted:,} inserted, {result.updated:,} updated, {result.unchanged:,} unchanged, "
        f"{result.rejected:,} rejected; watermark {wm} (id {result.watermark_id or '-'}); "
        f"{result.requests} requests, {result.retries} retried"
    )


@sync_app.command("chicago")
def chicago(
    ctx: typer.Context,
    base_url: Optional[str] = typer.Option(
        None, "--base-url", help=f"{settings.SETTINGS['socrata_base_url'].help} "
        f"(default: {settings.SETTINGS['socrata_base_url'].default})"),
    dataset: Optional[str] = typer.Option(
        None, "--dataset", help=f"{settings.SETTINGS['socrata_dataset'].help} "
        f"(default: {settings.SETTINGS['socrata_dataset'].default})"),
    since: Optional[str] = typer.Option(
        None, "--since", metavar="DATE",
        help="Read records updated on or after DATE (YYYY-MM-DD) instead of the stored "
             "watermark minus the overlap. Default: the watermark; everything on a first sync."),
    occurred_since: Optional[str] = typer.Option(
        None, "--occurred-since", metavar="DATE",
        help="Only records that occurred on or after DATE (bounds a first download to recent years)."),
    page_size: Optional[int] = typer.Option(
        None, "--page-size", min=1,
        help=f"{settings.SETTINGS['page_size'].help} (default: {settings.SETTINGS['page_size'].default})"),
    snapshot: bool = SNAPSHOT_OPTION,
) -> None:
    """Sync Chicago's "Crimes - 2001 to present" from the Socrata API.

    Pages are read in (updated_on, id) order; each page is committed with the new
    watermark in one transaction, so an interrupted sync resumes where it stopped.
    The app token, if any, comes from CRIMESCOPE_SOCRATA_TOKEN. Exit status: 0 ok,
    1 some records rejected (see the `rejected` table), 2 failed. After the run the
    store's read snapshot is published for `crimescope serve`, also after a failed run
    (the pages committed are consistent), but not after Ctrl-C.
    """
    from ..sources.socrata import SocrataClient
    from ..sources.sync import sync_chicago

    progress_cb, stop = _progress()
    store = open_writer(ctx)
    try:
        with store, SocrataClient(base_url, dataset) as client:
            try:
                result = sync_chicago(store, client, since=since, occurred_since=occurred_since,
                                      page_size=page_size, progress=progress_cb)
            finally:
                stop()
    except CrimescopeError:
        if snapshot:  # the pages committed before the failure are served; the failure is what is reported
            try:
                publish_after_write(ctx)
            except CrimescopeError as exc:
                typer.echo(f"crimescope: snapshot not published: {exc}", err=True)
        raise
    note = publish_after_write(ctx) if snapshot else None
    typer.echo(_summary(result) + (f"; {note}" if note else ""))
    if result.rejected:
        raise typer.Exit(1)


def _progress():
    """A Rich progress display on stderr when it is a terminal; else nothing."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    prog = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)
    task = prog.add_task("syncing", total=None)
    prog.start()

    def update(result) -> None:
        wm = result.watermark.isoformat(sep=" ") if result.watermark else ""
        prog.update(task, description=f"page {result.pages}: {result.rows_read:,} rows "
                                      f"({result.inserted:,} new, {result.updated:,} updated), up to {wm}")

    return update, prog.stop


def register(app: typer.Typer) -> None:
    """Add the `sync` command group."""
    app.add_typer(sync_app, name="sync")
