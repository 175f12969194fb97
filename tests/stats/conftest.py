"""Fixtures of the counting tests (helpers in stats_fixtures.py)."""

from __future__ import annotations

import pytest

from stats_fixtures import build_tiny_store


@pytest.fixture
def tiny_store():
    s = build_tiny_store()
    yield s
    s.close()


@pytest.fixture(scope="module")
def pair(chicago_full_store_path):
    """(plain store, store with a per-snapshot aggregate), both read-only on the same file: the
    fast paths must answer as the store does (tests/stats/test_aggregate.py, test_fast_paths.py)."""
    from crimescope.stats._aggregate import Aggregates
    from crimescope.store import Store

    plain = Store(chicago_full_store_path, read_only=True)
    fast = Store(chicago_full_store_path, read_only=True)
    fast.aggregates = Aggregates(fast)
    yield plain, fast
    plain.close()
    fast.close()
