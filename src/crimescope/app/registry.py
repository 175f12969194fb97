"""Declarations of analyses: parameters once, for every interface."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ParameterError

__all__ = ["Param", "Analysis", "register", "analyses", "get"]

#: parameter kinds and what each interface makes of them
KINDS = ("category", "date", "by", "int", "text")


@dataclass(frozen=True)
class Param:
    """One parameter of an analysis.

    ``kind``: ``category`` (a category name of the city's taxonomy), ``date`` (an inclusive
    local date, ``YYYY-MM-DD``), ``by`` (groupings, repeatable / comma-separated),
    ``int`` or ``text``. ``flag`` is the CLI option (default ``--name``); ``required``
    params have no default.
    """

    name: str
    kind: str
    help: str
    default: Any = None
    required: bool = False
    flag: str | None = None
    short: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"param {self.name}: kind must be one of {KINDS}")

    @property
    def option(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def parse(self, value: Any) -> Any:
        """The value as the library takes it (one validation for every interface)."""
        if value is None:
            if self.required:
                raise ParameterError(f"{self.option} is required")
            return self.default
        if self.kind == "date":
            from ..stats.query import as_date

            return as_date(value, self.name)
        if self.kind == "by":
            items = value if isinstance(value, (list, tuple)) else [value]
            return [x.strip() for v in items for x in str(v).split(",") if x.strip()]
        if self.kind == "int":
            try:
                return int(value)
            except (TypeError, ValueError):
                raise ParameterError(f"{self.option}: {value!r} is not a whole number") from None
        return value


@dataclass(frozen=True)
class Analysis:
    """An analysis declared once.

    ``run(dataset, taxonomy=..., **params)`` returns a ``StatResult`` whose ``meta`` states
    unit, rule, source and vintage. ``summary`` is the first line of its help and API
    docs, ``description`` the rest. ``tags`` groups its API route.
    """

    name: str
    summary: str
    params: tuple[Param, ...]
    run: Callable[..., Any]
    description: str = ""
    tags: tuple[str, ...] = ("analyses",)
    cli: bool = True
    api: bool = True
    extra: dict = field(default_factory=dict)

    def parse(self, values: dict) -> dict:
        """Every parameter parsed and checked (unknown names refused)."""
        unknown = set(values) - {p.name for p in self.params}
        if unknown:
            raise ParameterError(f"{self.name}: unknown parameters {sorted(unknown)}")
        return {p.name: p.parse(values.get(p.name)) for p in self.params}

    def __call__(self, dataset, *, taxonomy=None, **values):
        """Run on a Dataset (or a Store, read as Chicago) with raw values, as the interfaces do."""
        from ..datasets import as_dataset

        ds = as_dataset(dataset)
        return self.run(ds, taxonomy=taxonomy or ds.taxonomy(), **self.parse(values))


_REGISTRY: dict[str, Analysis] = {}
_LOCK = threading.Lock()


def register(analysis: Analysis) -> Analysis:
    """Add an analysis (its name must be new); returns it."""
    with _LOCK:
        if analysis.name in _REGISTRY and _REGISTRY[analysis.name] is not analysis:
            raise ParameterError(f"an analysis called {analysis.name!r} is already registered")
        _REGISTRY[analysis.name] = analysis
    return analysis


def analyses() -> dict[str, Analysis]:
    """The registered analyses (the shipped ones are declared in :mod:`crimescope.app.declared`)."""
    from . import declared  # noqa: F401 - registers the shipped declarations

    return dict(_REGISTRY)


def get(name: str) -> Analysis:
    try:
        return analyses()[name]
    except KeyError:
        raise ParameterError(f"unknown analysis {name!r}; choose from {', '.join(analyses())}") from None


def _today() -> dt.date:  # pragma: no cover - kept for declarations that default to today
    return dt.date.today()
