"""State shared by CLI commands (the global options)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ..store import Store

CATEGORIES_FILE_HELP = ("Add the categories of this YAML file (repeatable; same shape as the built-in "
                        "taxonomy, see docs/counting.md); a name may not be a built-in category's.")
#: the user category files option, shared by every command that takes a category
CategoriesFileOpt = Annotated[Optional[List[Path]], typer.Option("--categories-file", help=CATEGORIES_FILE_HELP)]


@dataclass
class State:
    store_path: Path
    #: the global ``--source`` (a city profile key); None means the default (Chicago)
    source: Optional[str] = None
    #: the global ``--quiet``: no progress display on stderr
    quiet: bool = False
    #: the global ``--wide``: tables are not fitted to the terminal
    wide: bool = False

    def open_store(self, *, read_only: bool = False) -> Store:
        return Store(self.store_path, read_only=read_only)

    def open_dataset(self, *, read_only: bool = True):
        """The store read as the ``--source`` city (a :class:`~crimescope.datasets.Dataset`)."""
        from ..datasets import Dataset

        return Dataset(self.open_store(read_only=read_only), self.source)

    @property
    def profile(self):
        from ..datasets import get_profile

        return get_profile(self.source)


def state(ctx: typer.Context) -> State:
    """The global options of the running command."""
    return ctx.find_root().obj


def load_user_taxonomy(files: Optional[List[Path]], *names: str, source: Optional[str] = None):
    """The ``--source`` city's taxonomy (Chicago: the built-in one) plus the user category
    files, with ``names`` checked in it.

    A bad file or an unknown name raises CategoryError before the store is opened; a
    code crimescope does not know is a `warning:` line on stderr.
    """
    import warnings

    from ..categories.taxonomy import taxonomy_for
    from ..datasets import get_profile
    from ..errors import CategoryWarning

    prof = get_profile(source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CategoryWarning)
        tax = taxonomy_for(prof, files or [])
    for w in caught:
        if issubclass(w.category, CategoryWarning):
            typer.echo(f"warning: {w.message}", err=True)
        else:  # pragma: no cover - not ours: pass it on
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for name in names:
        tax[name]  # raises CategoryError (with suggestions) for an unknown name
    return tax


def resolve_category(files: Optional[List[Path]], name: str, source: Optional[str] = None):
    """The :class:`~crimescope.categories.Category` called ``name`` in the ``source`` city's
    taxonomy (default Chicago's), user files included."""
    return load_user_taxonomy(files, name, source=source)[name]


def say_provenance(store, category, start=None, end=None, *, period: str | None = None,
                   source: Optional[str] = None) -> dict:
    """`# ` lines stating what the following figures count, as the counting commands do.

    ``category`` is a name (looked up in the ``source`` city's taxonomy) or a Category (a
    user category's rule names its file); ``store`` a Store, a Dataset or None (figures
    read directly from files). Returns the provenance (:func:`crimescope.result.provenance`)
    so the command can attach it to the files it writes.
    """
    from ..datasets import as_dataset, get_profile
    from ..result import provenance

    if store is None:
        prof = get_profile(source)
        cat = load_user_taxonomy(None, source=prof.key)[category] if isinstance(category, str) else category
        ds = None
    else:
        ds = as_dataset(store, source)
        prof = ds.profile
        cat = ds.category(category)
    period = period or f"{start or 'first record'} to {end or 'last record'} (inclusive local dates, {prof.timezone})"
    notes = [n for n in [prof.area_note()] if n]
    meta = provenance(ds, cat, title=f"{cat.label}, {period}", start=start, end=end, notes=notes)
    if ds is None:
        from ..stats.counts import unit_text

        meta.update(unit=unit_text(cat, prof), source=f"{prof.publisher} CSV extracts, read directly (no store, not versioned)")
    say_meta(meta)
    return meta


def say_meta(meta: dict) -> None:
    """A provenance dict as the `# ` lines every command prints before its figures (wrapped to
    :func:`table_width` on a terminal, each continuation line a `#   ` line)."""
    import textwrap

    from ..result import Result

    width = table_width()
    for line in Result(None, meta).caption_lines():
        if width and width > 20:
            for w in textwrap.wrap(line, width - 2, subsequent_indent="  ", break_on_hyphens=False) or [""]:
                typer.echo(f"# {w}")
        else:
            typer.echo(f"# {line}")


def table_width() -> int | None:
    """The width tables are fitted to: ``COLUMNS`` when set, the terminal's when standard output is
    one, else None (a pipe or file gets every character); None with the global ``--wide``."""
    import os
    import shutil
    import sys

    try:  # Typer 0.29 runs on its own copy of click (not exported: no public accessor)
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - Typer on the click package
        from click import get_current_context

    cur = get_current_context(silent=True)
    root = cur.find_root().obj if cur is not None else None
    if isinstance(root, State) and root.wide:
        return None

    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def wrap_lines(text: str, width: Optional[int] = None) -> str:
    """``text`` with each line wrapped to ``width`` (default :func:`table_width`; None: as it is),
    a continuation indented two more than its line; words are never broken (a path stays whole)."""
    import textwrap

    width = table_width() if width is None else width
    if not width:
        return text
    out = []
    for line in text.splitlines():
        lead = line[: len(line) - len(line.lstrip(" "))]
        if line.startswith("# "):  # a provenance line continues as one
            lead = "# "
        if len(line) <= width or len(lead) + 12 > width:
            out.append(line)
            continue
        out += textwrap.wrap(line, width, initial_indent="", subsequent_indent=lead + "  ",
                             break_on_hyphens=False, break_long_words=False) or [""]
    return "\n".join(out)


def echo_item(name: str, lines: List[str], name_width: int) -> None:
    """One entry of a list (``models``, ``evaluate-methods``): ``name`` in a column of
    ``name_width``, then each of ``lines`` beside it, wrapped to :func:`table_width`."""
    import textwrap

    width = table_width()
    pad = " " * (name_width + 1)
    first = True
    for text in lines:
        if width and width > name_width + 20:
            wrapped = textwrap.wrap(text, width - name_width - 1, break_on_hyphens=False) or [""]
        else:
            wrapped = [text]
        for w in wrapped:
            typer.echo((f"{name:{name_width}s} " if first else pad) + w)
            first = False


def emit(result, fmt: str, output: Optional[Path] = None, *, wide: bool = False) -> None:
    """Print (or write) a result as ``table`` (fitted to :func:`table_width` unless ``wide``),
    ``csv`` or ``json``; with ``output``, write the file instead (never shortened)."""
    from ..errors import ParameterError

    if fmt not in ("table", "csv", "json"):
        raise ParameterError(f"--format {fmt!r} is not one of table, csv, json")
    if fmt == "table":
        text = result.to_text(width=None if (wide or output is not None) else table_width())
    else:
        text = result.render(fmt)
    if output is not None:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    else:
        typer.echo(text.rstrip("\n"))


class _NoProgress:
    """What :func:`progress` yields when nothing is shown: every call does nothing."""

    def __call__(self, text: str = "", advance: int = 1) -> None:
        pass


def progress_shown(quiet: bool = False) -> bool:
    """Progress is drawn on stderr only when it is a terminal and ``--quiet`` is not given."""
    import sys

    return not quiet and sys.stderr.isatty()


def progress(label: str, total: Optional[int] = None, *, quiet: bool = False):
    """A Rich progress bar (``total`` steps) or spinner (``total`` None) on stderr, for a step that
    takes more than a moment. Yields ``step(text, advance=1)``: shows ``text`` as what is being
    done and advances the bar. Off when stderr is not a terminal or with ``--quiet``; it never
    writes to stdout and disappears when done.
    """
    import contextlib

    @contextlib.contextmanager
    def run():
        if not progress_shown(quiet):
            yield _NoProgress()
            return
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        cols = [SpinnerColumn(), TextColumn(label), TextColumn("{task.description}")]
        if total is not None:
            cols += [BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
        cols.append(TimeElapsedColumn())
        with Progress(*cols, console=Console(stderr=True), transient=True) as prog:
            task = prog.add_task("", total=total)

            def step(text: str = "", advance: int = 1) -> None:
                prog.update(task, description=text, advance=advance if total is not None else 0)

            yield step

    return run()
