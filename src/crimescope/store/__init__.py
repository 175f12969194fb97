"""The incident store (DuckDB)."""

from .schema import INCIDENT_COLUMN_NAMES, INCIDENT_COLUMNS, SCHEMA_VERSION
from .snapshot import Snapshot, open_for_reading, open_for_writing, publish_snapshot, published_snapshot, snapshot_path
from .store import Batch, Store

__all__ = ["Store", "Batch", "INCIDENT_COLUMNS", "INCIDENT_COLUMN_NAMES", "SCHEMA_VERSION",
           "Snapshot", "snapshot_path", "published_snapshot", "publish_snapshot", "open_for_reading",
           "open_for_writing"]
