"""Where the shared public data lives, for tests (read at test time, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crimescope.settings import shared_data_dir

SHARED: Path | None = shared_data_dir()
CRIMES = SHARED / "chicago" / "crimes" if SHARED else None
CRIME_FILES = sorted(CRIMES.glob("*.csv.gz")) if CRIMES else []
HOMICIDES = SHARED / "chicago" / "homicides-2001-2017.csv.gz" if SHARED else None

requires_shared = pytest.mark.skipif(SHARED is None, reason="../shared/data not present")
