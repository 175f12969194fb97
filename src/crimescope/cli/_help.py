"""Help text details: a flag takes no value, so ``--help`` shows no type for it.

Typer 0.29's rich help prints a type for every option, ``<bool>`` for flags too
(``--help -h <bool>``, ``--overwrite <bool>``), which reads as if the flag took a value.
:func:`hide_flag_types` makes flags show no type; tests/test_cli_help.py checks that no
help text shows ``<bool>``.
"""

from __future__ import annotations

__all__ = ["hide_flag_types"]


def hide_flag_types() -> None:
    """Flags (``--x`` and ``--x/--no-x``) show no ``<bool>`` type in ``--help`` (idempotent)."""
    from typer.core import TyperOption

    if getattr(TyperOption.display_type_rich, "_crimescope", False):
        return
    shown = TyperOption.display_type_rich

    def display_type_rich(self, ctx):
        if self.is_flag and not self.count:
            return None
        return shown(self, ctx)

    display_type_rich._crimescope = True
    TyperOption.display_type_rich = display_type_rich
