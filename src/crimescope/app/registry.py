"""Declarations of analyses: parameters once, for every interface."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ..errors import ParameterError

__all__ = ["Param", "Output", "Analysis", "register", "analyses", "get", "resolve"]

#: parameter kinds and what each interface makes of them
KINDS = ("category", "categories", "date", "by", "int", "float", "bool", "choice", "text", "list", "path")
#: the interfaces a parameter is offered on (``Param.cli`` / ``Param.api``)
INTERFACES = ("cli", "api")


@dataclass(frozen=True)
class Param:
    """One parameter of an analysis.

    ``kind``: ``category`` (a category name of the city's taxonomy), ``categories``
    (several: a repeatable CLI option, a comma-separated query parameter, at most
    ``max_items``), ``date`` (an inclusive local date, ``YYYY-MM-DD``), ``by`` (groupings,
    repeatable / comma-separated), ``int``, ``float`` (``ge``/``le`` bound them), ``bool``
    (a CLI flag), ``choice`` (one of ``choices``: a tuple, or a function giving one, e.g.
    the area kinds of the shipped profiles), ``text``, ``list`` (a repeatable CLI option whose
    values are kept as given, not split at commas) or ``path`` (a file or folder). ``flag`` is
    the CLI option (default ``--name``); ``required`` params have no default. ``ge``/``gt``/``le``
    bound a number, ``pattern``/``max_length`` a text on the API (its schema states them).
    ``positional``: the CLI takes it as an argument (claim's sentence); a ``category`` as an optional
    argument *or* its option (``crimescope hotspots homicide`` or ``-c homicide``: not both, and when
    ``required``, one of them). ``aliases``: more CLI names of its option (``--start`` for ``--from``).
    A ``bool`` defaulting to True is a ``--name/--no-name`` flag.
    ``cli=False`` / ``api=False``: a parameter one interface does not offer (it takes its
    default there), e.g. CompStat's ``--all`` (how the terminal table is cut) or its API
    ``category`` filter (one category's rows for the dashboard). ``cli={...}`` / ``api={...}``:
    the interface offers it with these fields changed, e.g. a plan's ``budget`` is required on
    the command line and defaults to ``"40"`` on the API, whose bounds are the web's
    (:meth:`on` gives the parameter as one interface sees it).
    """

    name: str
    kind: str
    help: str
    default: Any = None
    required: bool = False
    flag: str | None = None
    short: str | None = None
    choices: Any = ()
    ge: float | None = None
    le: float | None = None
    max_items: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    gt: float | None = None
    cli: bool | dict = True
    api: bool | dict = True
    positional: bool = False
    aliases: tuple[str, ...] = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"param {self.name}: kind must be one of {KINDS}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"param {self.name}: a choice needs its choices")

    def offered(self, interface: str | None) -> bool:
        """Whether ``interface`` (``cli``, ``api``; None: a Python call) offers this parameter."""
        if interface is None:
            return True
        if interface not in INTERFACES:
            raise ValueError(f"interface must be one of {INTERFACES}")
        v = getattr(self, interface)
        return True if isinstance(v, dict) else bool(v)

    def on(self, interface: str | None) -> "Param":
        """The parameter as ``interface`` offers it (its ``cli={...}``/``api={...}`` changes applied)."""
        v = getattr(self, interface) if interface is not None else None
        return replace(self, **v) if isinstance(v, dict) else self

    def options(self) -> tuple:
        """The allowed values of a ``choice`` parameter."""
        return tuple(self.choices() if callable(self.choices) else self.choices)

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
        if self.kind == "list":
            items = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
            return items or self.default
        if self.kind == "path":
            from pathlib import Path

            return Path(value)
        if self.kind in ("by", "categories"):
            items = value if isinstance(value, (list, tuple)) else [value]
            out = list(dict.fromkeys(x.strip() for v in items for x in str(v).split(",") if x.strip()))
            if self.max_items is not None and len(out) > self.max_items:
                raise ParameterError(f"{self.name}: at most {self.max_items} values allowed, got {len(out)}")
            return out
        if self.kind in ("int", "float"):
            try:
                v = int(value) if self.kind == "int" else float(value)
            except (TypeError, ValueError):
                what = "a whole number" if self.kind == "int" else "a number"
                raise ParameterError(f"{self.option}: {value!r} is not {what}") from None
            low = (self.ge is not None and v < self.ge) or (self.gt is not None and v <= self.gt)
            if low or (self.le is not None and v > self.le):
                lo = self.ge if self.ge is not None else self.gt
                if self.le is None:
                    raise ParameterError(f"{self.option} must be {'>=' if self.ge is not None else '>'} {lo}")
                if lo is None:
                    raise ParameterError(f"{self.option} must be <= {self.le}")
                raise ParameterError(f"{self.option}: {v} is outside {lo} to {self.le}")
            return v
        if self.kind == "bool":
            return bool(value)
        if self.kind == "text" and self.max_length is not None and len(str(value)) > self.max_length:
            raise ParameterError(f"{self.name}: at most {self.max_length} characters")
        if self.kind == "choice":
            value = getattr(value, "value", value)
            if value not in self.options():
                raise ParameterError(f"{self.option} must be one of {', '.join(map(str, self.options()))}"
                                     f" (not {value!r})")
        return value


@dataclass(frozen=True)
class Output:
    """A file the generated command also writes when its option is given (a map, figures, sheets).

    ``write(result, path, params)`` writes it and returns the line that says so (None: nothing
    to say); ``params`` are the parsed values of the analysis plus those of this output's own
    ``options`` (e.g. ``--figure-format`` of ``--figures``), which are offered on the command
    line only. ``write`` may be ``"module:function"`` (imported when used). The line goes to
    stdout, or to stderr with ``err=True``.
    """

    name: str
    flag: str
    help: str
    write: Callable[..., Any] | str
    options: tuple[Param, ...] = ()
    err: bool = False


@dataclass(frozen=True)
class Analysis:
    """An analysis declared once.

    ``run(dataset, taxonomy=..., **params)`` returns a ``StatResult`` whose ``meta`` states
    unit, rule, source and vintage. ``summary`` is the first line of its help and API
    docs, ``description`` the rest. ``tags`` groups its API route.

    What the interfaces may need beyond the parameters, declared here too:
    ``route``: the name of its ``/api/ROUTE.{json,csv}`` twins (default ``name``);
    ``engines``: the CLI command also takes ``--engine``/``--data``/``--spark-master``
    (the counting commands can read a Parquet export with Spark); ``store``: it reads the
    store (False: published tables only, no store opened); ``taxonomy``: it takes
    ``--categories-file``; ``table``: ``table(result, params)`` gives what the terminal's
    table format shows (a shorter result, or text), when that is not the whole result;
    ``cli=False``/``api=False``: that interface is written by hand (a command writing
    files, a page-shaped answer) and calls the same function.

    How the generated command writes its result, when not as a ``Result`` in table, CSV or
    JSON: ``formats`` (the ``--format`` choices), ``format_help``, ``output_flags`` and
    ``output_help`` (the option naming the output file, default ``--output``/``-o``),
    ``format_from_output`` (no ``--format`` given: the output file's suffix when it is one of
    ``formats``, else table), ``emit(result, fmt, output, params)`` (prints or writes the
    result; default :func:`crimescope.cli.context.emit`) and ``writes`` (:class:`Output`: the
    files it also writes, each behind its own option). ``api_files``: ``{fmt: summary}`` of
    one-format routes ``/api/ROUTE.FMT`` beside the JSON/CSV twins (``geojson``: the result's
    ``to_geojson()``). ``emit``, ``web`` and ``Output.write`` may be ``"module:function"``, so
    the application layer does not import the interfaces. ``api_summary``/``api_description``:
    the twins' documentation when the web answers differently (evaluate's twins answer the SDSC
    case study; the command evaluates any treated areas). One format only (``formats=("table",)``): no
    ``--format`` option. ``store_unless``: a bool parameter that, when set, makes the command read no
    store: ``run`` gets a Dataset without one (the city only; hotspots' ``--from-csv`` reads the shared
    CSV extracts).
    """

    name: str
    summary: str
    params: tuple[Param, ...]
    run: Callable[..., Any]
    description: str = ""
    tags: tuple[str, ...] = ("analyses",)
    cli: bool = True
    api: bool = True
    route: str | None = None
    engines: bool = False
    store: bool = True
    taxonomy: bool = True
    table: Callable[..., Any] | None = None
    web: Callable[..., Any] | str | None = None
    formats: tuple[str, ...] = ("table", "csv", "json")
    format_help: str = "Output format: table, csv or json."
    format_from_output: bool = False
    output_flags: tuple[str, ...] = ("--output", "-o")
    output_help: str = "Write to this file instead of stdout."
    emit: Callable[..., Any] | str | None = None
    writes: tuple[Output, ...] = ()
    api_files: dict = field(default_factory=dict)
    api_summary: str | None = None
    api_description: str | None = None
    store_unless: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def route_name(self) -> str:
        return self.route or self.name

    @property
    def route_summary(self) -> str:
        """The summary of its ``/api/`` twins (``api_summary``, else ``summary``)."""
        return self.api_summary or self.summary

    def doc(self, interface: str) -> str:
        """The help (``cli``) or the API description (``api``): summary, blank line, description."""
        if interface == "api":
            summary, description = self.route_summary, self.api_description or self.description
        else:
            summary, description = self.summary, self.description
        return summary + ("\n\n" + description if description else "")

    def parse(self, values: dict, on: str | None = None) -> dict:
        """Every parameter parsed and checked (unknown names refused), as interface ``on`` offers
        it (``cli``, ``api``; None: a Python call); one it does not offer takes its default."""
        unknown = set(values) - {p.name for p in self.params}
        if unknown:
            raise ParameterError(f"{self.name}: unknown parameters {sorted(unknown)}")
        return {p.name: p.on(on).parse(values.get(p.name)) if p.offered(on) else p.parse(None)
                for p in self.params}

    def category_names(self, values: dict, on: str | None = None) -> list[str]:
        """The category names among raw ``values`` (checked before a store is opened)."""
        out: list[str] = []
        for p in (q.on(on) for q in self.params if q.offered(on)):
            v = values.get(p.name)
            if not v:
                continue
            if p.kind == "category":
                out.append(str(v))
            elif p.kind == "categories":
                out += p.parse(v)
        return out

    def __call__(self, dataset, *, taxonomy=None, **values):
        """Run on a Dataset (or a Store, read as Chicago) with raw values, as the interfaces do."""
        from ..datasets import as_dataset

        if not self.store:
            return self.run(None, taxonomy=taxonomy, **self.parse(values))
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


def resolve(ref):
    """A function, or ``"module:function"`` imported on first use (the app layer does not import the
    interfaces it is rendered by)."""
    if ref is None or callable(ref):
        return ref
    from importlib import import_module

    mod, _, fn = ref.partition(":")
    return getattr(import_module(mod), fn)


def _today() -> dt.date:  # pragma: no cover - kept for declarations that default to today
    return dt.date.today()
