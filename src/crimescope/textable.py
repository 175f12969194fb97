"""Plain-text tables that fit a width, with numbers formatted by their column's type.

Used by :meth:`crimescope.result.Result.to_text` and the CLI's table output:

- an integer column prints integers; a float column whose values are all whole (a
  population read as float, ``55628.0``) prints integers too; other floats print at most
  three decimals, trailing zeros dropped (``26.7``, ``0.25``);
- a missing value (NaN, None, NaT) prints as an em dash, and the table is followed by a note
  saying so, never ``NaN``;
- with a ``width``, the text columns (labels, rules) are shortened with an ellipsis until
  the table fits, the widest first and evenly, the first (key) column only beyond half the
  width; numbers and columns of at most ten characters (dates, codes, units) are never cut; a table still too wide is split into blocks
  of columns, each repeating the first (key) column. Without one, nothing is shortened
  (files, pipes).

:func:`render_records` is the long form of a table whose cells are sentences (a definition,
a source): one block per row, each field on its own lines, wrapped to the width.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["render", "render_records", "format_column", "MISSING", "MISSING_NOTE"]

MISSING = "\u2014"
MISSING_NOTE = f"{MISSING} : no value (not available or not defined for that row)"
#: a text column is never shortened below this many characters
MIN_TEXT = 8
#: a text column this narrow (an ISO date, a code, a unit) is never shortened
SHORT = 10
GAP = "  "


def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        import pandas as pd

        r = pd.isna(v)
        return bool(r) if isinstance(r, (bool,)) or getattr(r, "shape", None) == () else False
    except (TypeError, ValueError):
        return False


def _float_text(v: float, sep: str = "") -> str:
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    s = (f"{v:,.3f}" if sep else f"{v:.3f}").rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _int_text(v, sep: str = "") -> str:
    return f"{int(v):,}" if sep else str(int(v))


def format_column(values, kind: str, thousands: bool = False) -> tuple[list[str], bool]:
    """``values`` as strings by their column's dtype ``kind`` (numpy kind letter); returns
    (texts, numeric) - numeric columns are right-aligned and never shortened. ``thousands``:
    numbers with thousands separators (``7,055``; for quantities, never for codes or years)."""
    vals = list(values)
    sep = "," if thousands else ""
    present = [v for v in vals if not _missing(v)]
    if kind in "iu":
        return [MISSING if _missing(v) else _int_text(v, sep) for v in vals], True
    if kind == "f" or (present and all(isinstance(v, float) for v in present)):
        whole = all(float(v).is_integer() for v in present if not math.isinf(float(v)))
        if whole:
            return [MISSING if _missing(v) else (_int_text(v, sep) if not math.isinf(v) else _float_text(v))
                    for v in vals], True
        return [MISSING if _missing(v) else _float_text(float(v), sep) for v in vals], True
    if kind == "b":
        return [MISSING if _missing(v) else ("yes" if v else "no") for v in vals], False
    out = []
    for v in vals:
        if _missing(v):
            out.append(MISSING)
        elif isinstance(v, float):
            out.append(str(int(v)) if v.is_integer() else _float_text(v))
        else:
            out.append(" ".join(str(v).split()))  # one line per row: newlines and tabs as spaces
    numeric = bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)
    return out, numeric


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: max(n - 1, 0)] + "\u2026"


def _block(headers, columns, numeric, widths) -> list[str]:
    def line(cells):
        return GAP.join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    out = [line([_cut(h, w) for h, w in zip(headers, widths)]), GAP.join("-" * w for w in widths)]
    for r in range(len(columns[0]) if columns else 0):
        out.append(line([_cut(col[r], w) for col, w in zip(columns, widths)]))
    return out


def render(df, width: int | None = None, thousands=()) -> tuple[str, bool]:
    """``df`` as a text table (no index) at most ``width`` characters wide (None: no limit);
    the columns named in ``thousands`` (quantities) print with thousands separators.

    Returns (text, any_missing)."""
    headers = [str(c) for c in df.columns]
    if not headers:
        return "(no columns)", False
    columns, numeric = [], []
    for c in df.columns:
        texts, num = format_column(df[c].tolist(), df[c].dtype.kind, str(c) in thousands)
        columns.append(texts)
        numeric.append(num)
    missing = any(MISSING in col for col in columns)
    full = [max([len(h)] + [len(v) for v in col]) for h, col in zip(headers, columns)]
    widths = list(full)
    if width is not None:
        # shorten the widest text columns first, down to MIN_TEXT (or their header)
        def total():
            return sum(widths) + len(GAP) * (len(widths) - 1)

        while total() > width:
            def floor(k):  # the key column (a name) is kept whole up to half the width
                if full[k] <= SHORT:  # dates, codes, units: never cut (split into blocks instead)
                    return full[k]
                return max(MIN_TEXT, min(len(headers[k]), 12)) if k else min(full[0], width // 2)

            text_cols = [i for i, num in enumerate(numeric) if not num and widths[i] > floor(i)]
            if not text_cols:
                break
            i = max(text_cols, key=lambda k: widths[k] if k else -1)
            # one character at a time off the widest: the cut is shared between the text columns
            widths[i] -= 1
    if width is None or sum(widths) + len(GAP) * (len(widths) - 1) <= width:
        return "\n".join(_block(headers, columns, numeric, widths)), missing
    # still too wide: blocks of columns, each led by the first column
    blocks, current = [], []
    for i in range(1, len(headers)):
        trial = [0, *current, i]
        if current and sum(widths[k] for k in trial) + len(GAP) * (len(trial) - 1) > width:
            blocks.append(current)
            current = [i]
        else:
            current.append(i)
    if current:
        blocks.append(current)
    parts = []
    for b in blocks:
        idx = [0, *b]
        w = [widths[k] for k in idx]
        over = sum(w) + len(GAP) * (len(w) - 1) - width
        if over > 0:  # one column alone wider than the terminal: cut the key column, then the cell
            w[0] = max(4, w[0] - over)
        parts.append("\n".join(_block([headers[k] for k in idx], [columns[k] for k in idx],
                                      [numeric[k] for k in idx], w)))
    text = "\n\n".join(parts)
    return "\n".join(ln[:width] for ln in text.splitlines()), missing


def render_records(df, width: int | None = None, *, title: tuple[str, ...] = ()) -> str:
    """``df`` one row after another: a heading line (the first column, then the ``title``
    columns), then every other column as ``field  value``, values wrapped to ``width``
    (None: one line each) and indented under their field name; a blank line between rows.
    A missing value prints as an em dash, numbers by their column's type."""
    import textwrap

    headers = [str(c) for c in df.columns]
    if not headers:
        return "(no columns)"
    cols = {h: format_column(df[c].tolist(), df[c].dtype.kind)[0] for h, c in zip(headers, df.columns)}
    head = [headers[0], *[t for t in title if t in cols and t != headers[0]]]
    fields = [h for h in headers if h not in head]
    pad = max((len(f) for f in fields), default=0) + len(GAP) + 2
    blocks = []
    for r in range(len(df)):
        first = GAP.join(cols[h][r] for h in head)
        lines = textwrap.wrap(first, width, subsequent_indent="  ", break_on_hyphens=False) if width else [first]
        for f in fields:
            lead = "  " + f.ljust(pad - 2)
            value = cols[f][r]
            if width and width > pad + MIN_TEXT:
                wrapped = textwrap.wrap(value, width - pad, break_on_hyphens=False) or [""]
            else:
                wrapped = [value]
            lines.append((lead + wrapped[0]).rstrip())
            lines += [" " * pad + w for w in wrapped[1:]]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
