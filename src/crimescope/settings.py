"""Settings declared once: name, default, environment variable, help.

The CLI, the web server and the docs read this table; nothing else hard-codes a
default. Secrets (the Socrata app token) come only from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

__all__ = ["Setting", "SETTINGS", "get", "default_store_path", "shared_data_dir"]


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    env: str | None
    help: str
    parse: Callable[[str], Any] = str

    def value(self, override: Any = None) -> Any:
        if override is not None:
            return override
        if self.env and os.environ.get(self.env) not in (None, ""):
            return self.parse(os.environ[self.env])
        return self.default


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("store", "crimescope.duckdb", "CRIMESCOPE_STORE",
                "Path of the DuckDB store file."),
        Setting("socrata_base_url", "https://data.cityofchicago.org", "CRIMESCOPE_SOCRATA_URL",
                "Base URL of the Socrata portal for `sync chicago`."),
        Setting("socrata_dataset", "ijzp-q8t2", "CRIMESCOPE_SOCRATA_DATASET",
                "Socrata dataset id of Chicago's 'Crimes - 2001 to present'."),
        Setting("socrata_token", None, "CRIMESCOPE_SOCRATA_TOKEN",
                "Optional Socrata app token, sent as X-App-Token (environment only)."),
        Setting("page_size", 50_000, "CRIMESCOPE_PAGE_SIZE",
                "Rows per page requested from the Socrata API.", int),
        Setting("http_timeout", 60.0, "CRIMESCOPE_HTTP_TIMEOUT",
                "Seconds before an HTTP request to the portal times out.", float),
        Setting("max_retries", 6, "CRIMESCOPE_MAX_RETRIES",
                "Attempts per page before a sync gives up.", int),
        Setting("sync_overlap_seconds", 3600, "CRIMESCOPE_SYNC_OVERLAP",
                "Seconds re-read before the stored watermark on an incremental sync.", int),
        Setting("cell_size_ft", 500.0, "CRIMESCOPE_CELL_FT",
                "Default grid cell size in US feet (about 150 m).", float),
        Setting("source", "chicago", "CRIMESCOPE_SOURCE",
                "City profile (store source key) the analyses read: chicago, nyc_shootings, or a registered one."),
        Setting("profiles", None, "CRIMESCOPE_PROFILES",
                "More city profile YAML files to register (separated by the path separator, ':' on Linux)."),
        Setting("shared_data", None, "CRIMESCOPE_SHARED_DATA",
                "Folder holding the shared public data (default: ../shared/data when present)."),
        Setting("web_heavy_workers", min(8, max(2, os.cpu_count() or 2)), "CRIMESCOPE_WEB_HEAVY",
                "Expensive views (Overview, CompStat, trends, maps, hot spots, ...) `serve` computes at once; "
                "more wait their turn (default: the machine's cores, at least 2 and at most 8).", int),
        Setting("web_processes", min(4, _cores()), "CRIMESCOPE_WEB_PROCESSES",
                "Server processes `serve` starts, on one port, sharing one response cache; each computes "
                "views on its own core (default: the machine's cores, at most 4).", int),
        Setting("web_light_workers", 4, "CRIMESCOPE_WEB_LIGHT",
                "Cheap requests (claim checks, boundaries, static files, ...) `serve` answers at once, "
                "beside the expensive views.", int),
    ]
}


def get(name: str, override: Any = None) -> Any:
    return SETTINGS[name].value(override)


def default_store_path() -> Path:
    return Path(get("store"))


def shared_data_dir() -> Path | None:
    """The shared data folder: the setting, else ``../shared/data`` of the checkout or cwd."""
    explicit = get("shared_data")
    if explicit:
        return Path(explicit)
    here = Path(__file__).resolve()
    candidates = [Path.cwd() / ".." / "shared" / "data", Path.cwd() / "shared" / "data"]
    candidates += [p / ".." / "shared" / "data" for p in here.parents[:4]]
    for c in candidates:
        if (c / "chicago").is_dir():
            return c.resolve()
    return None
