"""Fixtures of the sync tests: a fresh SODA-shaped source and a loopback server over it."""

from __future__ import annotations

import pytest

from soda_server import SodaServer
from sync_helpers import fresh_source


@pytest.fixture
def source():
    return fresh_source()


@pytest.fixture
def server(source):
    with SodaServer(source) as srv:
        yield srv
