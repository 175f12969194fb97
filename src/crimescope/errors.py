"""The exception tree of crimescope.

Library code raises one of these; the CLI maps them to a one-line message and an
exit status, the web layer to an HTTP status and one JSON error shape.

    CrimescopeError
    ├── ParameterError      a user-supplied setting is invalid (dates, cell size, ...)
    ├── IngestError         an input file or page was refused as a whole
    ├── SyncError           the live API failed repeatedly or answered nonsense
    ├── StoreError          the store is missing, locked, or of another schema
    ├── CategoryError       an unknown offense category or a bad taxonomy file
    ├── CoverageError       the store holds no data for that source, category and period
    ├── EngineError         a compute engine (Spark) is missing or failed
    ├── SetupError          the installation lacks something it needs (reference data)
    └── NotFittedError      a model was asked to predict before ``fit``

    CategoryWarning (a UserWarning): a user category uses a code crimescope does not know
"""

from __future__ import annotations

__all__ = [
    "CrimescopeError",
    "ParameterError",
    "IngestError",
    "SyncError",
    "StoreError",
    "CategoryError",
    "CoverageError",
    "EngineError",
    "NotFittedError",
    "SetupError",
    "CategoryWarning",
]


class CrimescopeError(Exception):
    """Root of every error crimescope raises on purpose."""

    #: exit status used by the CLI when this error reaches it
    exit_code: int = 2
    #: HTTP status used by the web layer
    http_status: int = 400


class ParameterError(CrimescopeError, ValueError):
    """A parameter given by the user is invalid; the message says which and why."""


class IngestError(CrimescopeError):
    """An input was refused whole; nothing from it was committed."""

    def __init__(self, origin: str, problem: str):
        self.origin = origin
        self.problem = problem
        super().__init__(f"{origin}: {problem}")


class SyncError(CrimescopeError):
    """The live API could not be read; what was committed so far is kept."""

    http_status = 502


class StoreError(CrimescopeError):
    """The store cannot be opened or is not a crimescope store."""

    http_status = 503


class CategoryError(CrimescopeError, KeyError):
    """Unknown category or invalid category file."""

    http_status = 404

    def __str__(self) -> str:  # KeyError quotes its message; we do not want that
        return str(self.args[0]) if self.args else ""


class CoverageError(CrimescopeError):
    """The store holds no records of that category and source for the period asked (or
    for a vintage that old): the figure is refused rather than answered with 0.

    HTTP 404 (what was asked for is not in the store, like an unknown category); CLI exit 2.
    ``coverage`` is the :class:`~crimescope.store.coverage.Coverage` that failed, if any.
    """

    http_status = 404

    def __init__(self, message: str, coverage=None):
        super().__init__(message)
        self.coverage = coverage


class EngineError(CrimescopeError):
    """A compute engine (Spark) is unavailable or failed: missing pyspark or Java,
    an unreachable master, a job that died."""

    http_status = 503


class SetupError(CrimescopeError):
    """The installation is incomplete: a reference file a city profile declares is missing.
    Raised at start-up (``serve``, ``report``), never answered with an empty map."""

    exit_code = 3
    http_status = 503


class NotFittedError(CrimescopeError, AttributeError):
    """A model was used before ``fit`` was called."""

    http_status = 409


class CategoryWarning(UserWarning):
    """A user category names a well-formed IUCR/FBI code that is not in the code lists crimescope
    knows (a typo, or a code the CPD added after them): it is counted as given."""
