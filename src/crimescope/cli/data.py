"""Commands that fill and describe the store: `ingest ...`, `info`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List

import typer
from rich.console import Console
from rich.table import Table

from ..errors import IngestError, StoreError
from ..store import Batch
from .context import progress, state

#: the option of the writer commands that turns publishing off
SNAPSHOT_OPTION = typer.Option(
    True, "--snapshot/--no-snapshot",
    help="After writing, publish a read snapshot of the store for `crimescope serve` "
         "(<store stem>.snapshot.duckdb; about the store's size on disk).")


def open_writer(ctx: typer.Context):
    """The store, opened read-write; waits (up to a minute) while a snapshot is being published."""
    from ..store.snapshot import open_for_writing

    return open_for_writing(state(ctx).store_path,
                            on_wait=lambda msg: typer.echo(f"crimescope: {msg}", err=True))


def publish_after_write(ctx: typer.Context) -> str:
    """Publish the snapshot after a write command closed the store; returns the line that says so.

    Another writer having opened the store in the meantime is not an error: it publishes when
    it finishes. Any other failure raises StoreError (the data written stays in the store).
    """
    import time

    from ..store.snapshot import is_lock_conflict, publish_snapshot

    t0 = time.perf_counter()
    try:
        snap = publish_snapshot(state(ctx).store_path)
    except StoreError as exc:
        if not is_lock_conflict(exc):
            raise
        return ("snapshot not published: another process opened the store to write it "
                "and publishes one when it finishes")
    return (f"snapshot {snap.path.name} published ({snap.size_bytes / 2**20:,.1f} MB, "
            f"{time.perf_counter() - t0:.1f} s)")


def publish_if_behind(ctx: typer.Context) -> str | None:
    """Publish the snapshot when it is behind the store (a writer stopped between its commit and
    its publish); the line that says so, or None when there was nothing to do."""
    import time

    from ..store.snapshot import publish_if_behind as _publish_if_behind

    if str(state(ctx).store_path) == ":memory:":
        return None
    t0 = time.perf_counter()
    snap = _publish_if_behind(state(ctx).store_path)
    if snap is None:
        return None
    return (f"snapshot {snap.path.name} was behind the store (a write that did not publish): published "
            f"({snap.size_bytes / 2**20:,.1f} MB, {time.perf_counter() - t0:.1f} s)")


ingest_app = typer.Typer(help="Load exported files into the store (upsert; nothing is lost).",
                         no_args_is_help=True)


def _report(results: list[tuple[Path, "Batch | IngestError"]], note: str | None = None) -> int:
    """Print one line per file, the totals and ``note`` (the snapshot); return the exit status (0, 1 or 2)."""
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    tot = dict(rows_read=0, inserted=0, updated=0, unchanged=0, rejected=0)
    refused = 0
    for path, res in results:
        if isinstance(res, IngestError):
            refused += 1
            err.print(f"refused: {res}", markup=False)
            continue
        for k in tot:
            tot[k] += getattr(res, k)
        out.print(f"{path.name}: read {res.rows_read:,} · inserted {res.inserted:,} · updated {res.updated:,}"
                  f" · unchanged {res.unchanged:,} · rejected {res.rejected:,}", markup=False)
    out.print(f"total: read {tot['rows_read']:,} · inserted {tot['inserted']:,} · updated {tot['updated']:,}"
              f" · unchanged {tot['unchanged']:,} · rejected {tot['rejected']:,}"
              + (f" · files refused {refused}" if refused else ""), markup=False)
    if tot["rejected"]:
        out.print("rejected rows are kept with their reason: `crimescope rejected` lists them", markup=False)
    if note:
        out.print(note, markup=False)
    return 2 if refused else (1 if tot["rejected"] else 0)


@ingest_app.command("chicago")
def ingest_chicago(
    ctx: typer.Context,
    files: List[Path] = typer.Argument(..., help="Portal CSV exports (plain or .gz; 20- or 22-column header)."),
    snapshot: bool = SNAPSHOT_OPTION,
) -> None:
    """Ingest City of Chicago 'Crimes - 2001 to present' CSV exports.

    Upserts on (source, id): a newer `Updated On` replaces the stored version,
    which moves to history. Exit status: 0 all loaded, 1 some rows rejected,
    2 a file was refused (nothing from it committed). Then the store's read snapshot
    is published (a refused file does not prevent it: what was committed is consistent).
    """
    from ..sources.chicago import ingest_files

    _ingest_with(ctx, ingest_files, files, snapshot, label="ingest chicago")


@ingest_app.command("nyc-shootings")
def ingest_nyc(
    ctx: typer.Context,
    files: List[Path] = typer.Argument(..., help="NYPD Shooting Incident Data exports (official header)."),
    snapshot: bool = SNAPSHOT_OPTION,
) -> None:
    """Ingest NYPD shooting-incident exports (one row per victim).

    Exit status and snapshot as for `ingest chicago`.
    """
    from ..sources.nyc_shootings import ingest_files

    _ingest_with(ctx, ingest_files, files, snapshot)


@ingest_app.command("city")
def ingest_city(
    ctx: typer.Context,
    files: List[Path] = typer.Argument(..., help="Files in the format of the --source city's importer."),
    snapshot: bool = SNAPSHOT_OPTION,
) -> None:
    """Ingest files with the importer of the global --source city (e.g. a city added by a profile file).

    Exit status and snapshot as for `ingest chicago`.
    """
    _ingest_with(ctx, state(ctx).profile.importer_function(), files, snapshot)


@ingest_app.command("gva")
def ingest_gva(
    ctx: typer.Context,
    files: List[Path] = typer.Argument(..., help="Gun Violence Archive exports (incident_id, date, n_killed, "
                                                  "n_injured, latitude, longitude, ...)."),
    snapshot: bool = SNAPSHOT_OPTION,
) -> None:
    """Ingest Gun Violence Archive incidents as source `gva`: one row per person killed or injured
    (categories people_shot, people_shot_killed, people_shot_injured; a news-based undercount).

    Exit status and snapshot as for `ingest chicago`.
    """
    from ..sources.gva import ingest_files

    _ingest_with(ctx, ingest_files, files, snapshot)


def _ingest_with(ctx: typer.Context, importer, files: List[Path], snapshot: bool, label: str = "ingest") -> None:
    """Run an importer's ``ingest_files(store, files, on_file=...)`` (one transaction per file),
    report each file in the order given, publish the read snapshot, and exit with the ingest exit
    status."""
    store = open_writer(ctx)
    results: list = []
    with progress(label, len(files), quiet=state(ctx).quiet) as step:
        def on_file(p: Path, res) -> None:
            results.append((p, res))
            step(f"{Path(p).name} done")

        try:
            importer(store, files, on_file=on_file)
        finally:
            store.close()
    note = publish_after_write(ctx) if snapshot else None
    order = {p: i for i, p in enumerate(files)}
    results.sort(key=lambda r: order.get(r[0], 0))
    raise typer.Exit(_report(results, note))


def info(
    ctx: typer.Context,
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """What is in the store: rows per source and year, rejected rows, vintages, last sync."""
    from ..store.info import store_info

    if fmt not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json")
    store = state(ctx).open_store(read_only=True)
    data = store_info(store)
    store.close()
    note = publish_if_behind(ctx)
    if fmt == "json":
        typer.echo(json.dumps(data, indent=2))
        if note:
            typer.echo(f"crimescope: {note}", err=True)
        return
    from .context import wrap_lines

    if note:
        typer.echo(wrap_lines(note))
    con = Console(highlight=False, soft_wrap=True)
    for source, s in data["sources"].items():
        con.print(wrap_lines(f"{source}: {s['incidents']:,} records, {s['rejected']:,} rejected, "
                             f"{s.get('history_versions', 0):,} earlier versions; {vintage_text(s)}"), markup=False)
        if s.get("coverage"):
            con.print(wrap_lines(f"  holds: {s['coverage']}"), markup=False)
        t = Table()
        t.add_column("year", justify="right")
        t.add_column("records", justify="right")
        for y, n in s["by_year"].items():
            t.add_row(y, f"{n:,}")
        con.print(t)
    for sy in data["syncs"]:
        con.print(f"sync {sy['source']} {sy['base_url']} {sy['dataset']}: {sy['status']}, "
                  f"watermark {sy['watermark_updated_at']} / {sy['watermark_id']}, last finished {sy['last_finished_at']}",
                  markup=False)


def vintage_text(s: dict) -> str:
    """What the data vintage of a source is, in words: the rows' latest update date, or - when the
    source states none on its rows (NYC, GVA) - that, with the date of the latest import."""
    if s.get("vintage"):
        return f"vintage: rows updated up to {s['vintage']} (the source's latest update date)"
    text = "vintage: not stated by the source (its rows carry no update date)"
    if s.get("latest_batch_at"):
        text += f"; latest import {s['latest_batch_at']}"
    return text


def snapshot_cmd(ctx: typer.Context) -> None:
    """Publish the store's read snapshot for `serve` now (ingest and sync do it after each write)."""
    typer.echo(publish_after_write(ctx))


def reference_cmd(
    ctx: typer.Context,
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """The reference data each city needs (boundaries, populations, code lists) and whether it is
    there: shipped in the package, or in CRIMESCOPE_SHARED_DATA when set. Exit 3 when one is missing."""
    from ..datasets import profiles
    from ..reference import data_root, find

    root = data_root()
    rows = [{"city": p.key, "file": rel, "found": str(find(root / rel)) if find(root / rel) else None}
            for p in profiles().values() for rel in p.reference_files()]
    if fmt == "json":
        typer.echo(json.dumps({"root": str(root), "files": rows}, indent=2))
    else:
        typer.echo(f"reference data under {root}")
        w = max([len(r["city"]) for r in rows] + [4])
        for r in rows:
            typer.echo(f"{r['city']:{w}s}  {'ok     ' if r['found'] else 'MISSING'} {r['file']}")
    if any(r["found"] is None for r in rows):
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
    app.command("reference")(reference_cmd)
    app.command("info")(info)
    # `rejected` is declared once (crimescope.app.declared); its command is generated from the declaration
    from ..app.cli import add_commands

    add_commands(app, "rejected")
    app.command("snapshot")(snapshot_cmd)
