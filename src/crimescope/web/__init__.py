"""The dashboard and JSON/CSV API (FastAPI): ``create_app(store_path)``.

Optional extra ``[web]``; imports of FastAPI and friends happen on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'crimescope.web' has no attribute {name!r}")
