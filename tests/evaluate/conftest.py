"""Fixtures of the evaluation tests: real panels cut from the shared store (see evaluate_fixtures.py
for the synthetic ones)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="module")
def district_months(chicago_store):
    """Shootings per district and month, 2012-2016, from the six shared crime files."""
    from crimescope.evaluate.panel import build_panel

    return build_panel(chicago_store, "shooting", "district", "2012-01-01", "2016-12-31", "month")
