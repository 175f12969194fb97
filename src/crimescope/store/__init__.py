"""The incident store (DuckDB)."""

from .schema import INCIDENT_COLUMN_NAMES, INCIDENT_COLUMNS, SCHEMA_VERSION
from .store import Batch, Store

__all__ = ["Store", "Batch", "INCIDENT_COLUMNS", "INCIDENT_COLUMN_NAMES", "SCHEMA_VERSION"]
