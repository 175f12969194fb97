"""Values written into SQL text, for the statements of the ingest path.

DuckDB's Python client imports pandas and NumPy (about 0.6 s, more under load) the first
time a statement is run with parameters (``con.execute(sql, [..])``, ``executemany``),
to check whether a parameter is one of their types. The importer and the store's writes
need neither, so on the paths ``crimescope ingest`` runs, the few scalar values (batch ids,
file names, dates, counts) are written into the statement as SQL literals instead:
:func:`bind` replaces each ``?`` outside quotes with :func:`literal` of the next value.

Only the types below are accepted; anything else is a TypeError, never ``str(value)``.
Text is quoted with its single quotes doubled, which is all a DuckDB string literal needs
(a backslash is an ordinary character in standard SQL strings).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Iterable

__all__ = ["literal", "bind", "values_rows"]


def literal(value) -> str:
    """``value`` as a DuckDB SQL literal: NULL, TRUE/FALSE, a number, a quoted text, a typed
    DATE / TIMESTAMP / TIMESTAMPTZ."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "'nan'::DOUBLE"
        if math.isinf(value):
            return "'inf'::DOUBLE" if value > 0 else "'-inf'::DOUBLE"
        return repr(value) + "::DOUBLE"
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("a SQL text literal cannot hold a NUL character")
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return f"TIMESTAMPTZ '{value.isoformat(sep=' ')}'"
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    raise TypeError(f"no SQL literal for a {type(value).__name__}")


def bind(sql: str, params: Iterable = ()) -> str:
    """``sql`` with each ``?`` placeholder outside quotes ('...', "...") replaced by the
    literal of the next value of ``params``; the counts must match."""
    values = list(params)
    out, k, i, n = [], 0, 0, len(sql)
    while i < n:
        c = sql[i]
        if c in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # a doubled quote inside the quotes
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
            continue
        if c == "?":
            if k >= len(values):
                raise ValueError(f"bind: more placeholders than the {len(values)} values")
            out.append(literal(values[k]))
            k += 1
        else:
            out.append(c)
        i += 1
    if k != len(values):
        raise ValueError(f"bind: {len(values)} values for {k} placeholders")
    return "".join(out)


def values_rows(rows: Iterable[Iterable]) -> str:
    """``(a, b), (c, d)`` for ``INSERT ... VALUES``: the rows as literals."""
    return ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
