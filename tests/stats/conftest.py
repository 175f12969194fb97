"""Fixtures of the counting tests (helpers in stats_fixtures.py)."""

from __future__ import annotations

import pytest

from stats_fixtures import build_tiny_store


@pytest.fixture
def tiny_store():
    s = build_tiny_store()
    yield s
    s.close()
