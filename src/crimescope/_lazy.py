"""Lazy public names for packages: ``import crimescope`` stays quick on a headless server.

A package lists ``name -> module`` and gets a module-level ``__getattr__`` and
``__dir__`` that import the defining module on first use (PEP 562).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable


def lazy_exports(package: str, names: dict[str, str], renamed: dict[str, str] | None = None,
                 eager: list[str] | tuple[str, ...] = ()) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` exporting ``names`` lazily.

    ``renamed`` maps a public name to the attribute's name in its module (for a
    public name that would clash with a submodule); ``eager`` lists names the
    package defines itself, for ``__dir__``.
    """
    renamed = renamed or {}

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(import_module(names[name]), renamed.get(name, name))
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*names, *eager})

    return __getattr__, __dir__
