"""Shared fixtures. Shared-data fixtures skip when ../shared/data is absent."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _shared import CRIME_FILES, SHARED  # noqa: E402

# CI replays the same examples every run (derandomized), so a landing never depends on
# which random cases a run happened to draw; local runs explore new examples.
from hypothesis import settings as _hyp  # noqa: E402

_hyp.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    _hyp.load_profile("ci")


@pytest.fixture
def tiny():
    """A tiny store of hand-written rows (tests/stats/stats_fixtures.py), no shared data."""
    sys.path.insert(0, str(Path(__file__).parent / "stats"))
    from stats_fixtures import build_tiny_store

    s = build_tiny_store()
    yield s
    s.close()


@pytest.fixture(scope="session")
def chicago_store_path(tmp_path_factory) -> Path:
    """A store with the six shared Chicago crime files (2012-2017) ingested, built once per run.

    Treat it as read-only: open it with ``Store(path, read_only=True)``.
    """
    if SHARED is None:
        pytest.skip("../shared/data not present")
    from crimescope.sources.chicago import ingest_files
    from crimescope.store import Store

    path = tmp_path_factory.mktemp("chicago") / "chicago.duckdb"
    with Store(path) as store:
        results = ingest_files(store, CRIME_FILES)
    bad = [r for r in results if not hasattr(r, "batch_id")]
    assert not bad, bad
    return path


@pytest.fixture(scope="session")
def chicago_store(chicago_store_path):
    """The shared Chicago store opened read-only (one connection per test session)."""
    from crimescope.store import Store

    store = Store(chicago_store_path, read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="session")
def chicago_full_store_path(chicago_store_path, tmp_path_factory) -> Path:
    """The six 2012-2017 files plus the homicide-only extract 2001-2017 (a later vintage): the
    quick-start store, whose coverage is 'all types 2012-2017; HOMICIDE 2001-2017'. Read-only."""
    import shutil

    from _shared import HOMICIDES
    from crimescope.sources.chicago import ingest_files
    from crimescope.store import Store

    path = tmp_path_factory.mktemp("chicago_full") / "chicago_full.duckdb"
    shutil.copyfile(chicago_store_path, path)
    with Store(path) as store:
        (res,) = ingest_files(store, [HOMICIDES])
    assert hasattr(res, "batch_id"), res
    return path


@pytest.fixture(scope="session")
def chicago_full_store(chicago_full_store_path):
    from crimescope.store import Store

    store = Store(chicago_full_store_path, read_only=True)
    yield store
    store.close()


# -- the end of the run ------------------------------------------------------------------------
# A native library's thread pool (DuckDB, LightGBM, Arrow) still alive when the interpreter
# finalises can abort the process with "terminate called without an active exception" after
# every test has passed and the summary has been printed, turning a green run into exit 134.
# So once pytest has reported, the process ends with pytest's own exit status and skips the
# interpreter's finalisation. The product's own background threads are joined by the server's
# close (crimescope.web._context.WebContext.close); this guards the test process only.
_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if _EXIT_STATUS and not os.environ.get("CRIMESCOPE_TEST_FINALIZE"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
