"""crimescope: violent-crime analytics on city open data.

The public Python API is re-exported here; heavy modules load lazily, so
``import crimescope`` stays quick on a headless server.
"""

from __future__ import annotations

from ._lazy import lazy_exports

from .errors import (
    CategoryError,
    CrimescopeError,
    EngineError,
    IngestError,
    NotFittedError,
    ParameterError,
    StoreError,
    SyncError,
)

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use)
_LAZY = {
    "Store": "crimescope.store",
    "ingest_files": "crimescope.sources.chicago",
    "count": "crimescope.stats.counts",
    "ytd": "crimescope.stats.periods",
    "compstat": "crimescope.stats.periods",
    "check_claim": "crimescope.stats.claims",
    "load_events": "crimescope.stats.events",
    "Grid": "crimescope.spatial.grid",
}

__all__ = [
    "__version__",
    "CrimescopeError",
    "ParameterError",
    "IngestError",
    "SyncError",
    "StoreError",
    "CategoryError",
    "EngineError",
    "NotFittedError",
    *_LAZY,
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, eager=__all__)
