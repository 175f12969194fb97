"""The weekly brief: YTD box, CompStat table, trend charts, hot spot and forecast maps,
definitions; HTML (Jinja2, charts embedded as PNG) or PDF (WeasyPrint).

``build_brief(store_path, as_of)`` returns a :class:`Brief`; ``Brief.write(path)``
writes ``.html`` or ``.pdf`` by suffix.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Brief", "build_brief", "write_brief"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import brief

        return getattr(brief, name)
    raise AttributeError(f"module 'crimescope.report' has no attribute {name!r}")
