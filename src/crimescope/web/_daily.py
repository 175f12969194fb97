"""The trends' per-category daily counts, now in :mod:`crimescope.app._daily` (kept under this name)."""

from ..app._daily import AREA_KINDS, DailyCounts  # noqa: F401

__all__ = ["AREA_KINDS", "DailyCounts"]
