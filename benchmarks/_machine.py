"""Machine description printed by every benchmark."""

from __future__ import annotations

import os
import platform
import sys


def describe() -> str:
    try:
        mem_kb = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
        mem = f"{mem_kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        mem = "RAM unknown"
    import duckdb
    import numpy

    return (f"{platform.machine()}, {os.cpu_count()} cores, {mem}, Python {sys.version.split()[0]}, "
            f"DuckDB {duckdb.__version__}, NumPy {numpy.__version__}")


def command() -> str:
    return "python " + " ".join(sys.argv)
