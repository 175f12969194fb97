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

    def open_store(self, *, read_only: bool = False) -> Store:
        return Store(self.store_path, read_only=read_only)


def state(ctx: typer.Context) -> State:
    """The global options of the running command."""
    return ctx.find_root().obj


def load_user_taxonomy(files: Optional[List[Path]], *names: str):
    """The built-in taxonomy plus the user category files, with ``names`` checked in it.

    A bad file or an unknown name raises CategoryError before the store is opened; a
    code crimescope does not know is a `warning:` line on stderr.
    """
    import warnings

    from ..categories import load_taxonomy
    from ..errors import CategoryWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CategoryWarning)
        tax = load_taxonomy(files or [])
    for w in caught:
        if issubclass(w.category, CategoryWarning):
            typer.echo(f"warning: {w.message}", err=True)
        else:  # pragma: no cover - not ours: pass it on
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for name in names:
        tax[name]  # raises CategoryError (with suggestions) for an unknown name
    return tax


def resolve_category(files: Optional[List[Path]], name: str):
    """The :class:`~crimescope.categories.Category` called ``name``, user files included."""
    return load_user_taxonomy(files, name)[name]


def say_provenance(store, category, start=None, end=None, *, period: str | None = None,
                   source: str = "chicago") -> dict:
    """`# ` lines stating what the following figures count, as the counting commands do.

    ``category`` is a name or a Category (a user category's rule names its file).
    Returns the provenance (:func:`crimescope.result.provenance`) so the command can
    attach it to the files it writes.
    """
    from ..categories import get_category
    from ..result import provenance

    cat = get_category(category)
    period = period or f"{start or 'first record'} to {end or 'last record'} (inclusive local dates)"
    meta = provenance(store, cat, source=source, title=f"{cat.label}, {period}", start=start, end=end)
    say_meta(meta)
    return meta


def say_meta(meta: dict) -> None:
    """A provenance dict as the `# ` lines every command prints before its figures."""
    from ..result import Result

    for line in Result(None, meta).caption_lines():
        typer.echo(f"# {line}")
