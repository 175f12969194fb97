"""Treated areas and their start dates: one date, or a cohorts file for a staggered rollout.

A cohorts file is CSV with a header ``area,start`` (optional further columns such as
``note``; lines starting with ``#`` are comments, kept as the file's provenance)::

    # SDSC districts, press reports; exact dates differ
    area,start,note
    7,2017-02-01,Englewood
    11,2017-02-01,Harrison

``area`` is an area code of the panel's kind (district ``7``, beat ``1713``...),
``start`` an ISO date (the first treated period is the one containing it).
The Strategic Decision Support Center districts ship as ``cohorts.sdsc()``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import ParameterError

__all__ = ["Cohorts", "as_cohorts", "read_cohorts", "sdsc", "SDSC_FILE"]

SDSC_FILE = Path(__file__).with_name("data") / "sdsc_districts.csv"


@dataclass
class Cohorts:
    """Treated areas with their start dates.

    Attributes
    ----------
    starts : dict of str -> datetime.date
        Area code -> start date.
    notes : dict of str -> str
        Per-area notes (the file's ``note`` column).
    provenance : list of str
        The comment lines of the file (where the dates come from).
    origin : str
        The file read, or ``"given"``.
    """

    starts: dict
    notes: dict = field(default_factory=dict)
    provenance: list = field(default_factory=list)
    origin: str = "given"

    def __post_init__(self) -> None:
        from ..spatial.units import normalise_code
        from ..stats.query import as_date

        clean = {}
        for a, s in self.starts.items():
            code = normalise_code(a)
            if code is None:
                raise ParameterError(f"cohorts: blank area code (start {s})")
            if code in clean:
                raise ParameterError(f"cohorts: area {code} is listed twice")
            clean[code] = as_date(s, f"start of area {code}")
        if not clean:
            raise ParameterError("cohorts: no treated area given")
        self.starts = clean

    def items(self):
        return self.starts.items()

    @property
    def areas(self) -> list[str]:
        return list(self.starts)

    def shifted(self, months: int) -> "Cohorts":
        """Every start moved by ``months`` calendar months (negative: earlier), for sensitivity checks."""
        out = {}
        for a, d in self.starts.items():
            m = d.month - 1 + int(months)
            y = d.year + m // 12
            m = m % 12 + 1
            day = min(d.day, [31, 29 if y % 4 == 0 and (y % 100 or y % 400 == 0) else 28, 31, 30, 31, 30, 31,
                              31, 30, 31, 30, 31][m - 1])
            out[a] = dt.date(y, m, day)
        return Cohorts(out, dict(self.notes), self.provenance + [f"all starts moved by {months:+d} month(s)"],
                       self.origin)

    def only(self, areas: Iterable) -> "Cohorts":
        from ..spatial.units import normalise_code

        keep = [normalise_code(a) for a in areas]
        missing = [a for a in keep if a not in self.starts]
        if missing:
            raise ParameterError(f"cohorts: areas {', '.join(missing)} are not in {self.origin}")
        return Cohorts({a: self.starts[a] for a in keep}, {a: self.notes.get(a, "") for a in keep},
                       list(self.provenance), self.origin)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"area": list(self.starts), "start": list(self.starts.values()),
                             "note": [self.notes.get(a, "") for a in self.starts]})

    def describe(self) -> str:
        return "; ".join(f"{a} from {d}" for a, d in self.starts.items())


def read_cohorts(path_or_text, *, origin: str | None = None) -> Cohorts:
    """A cohorts CSV (``area,start[,note]``) from a path or its text."""
    if isinstance(path_or_text, Path) or (isinstance(path_or_text, str) and "\n" not in path_or_text):
        p = Path(path_or_text)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ParameterError(f"cohorts file {p}: {exc.strerror or exc}") from exc
        origin = origin or str(p)
    else:
        text = str(path_or_text)
        origin = origin or "given"
    lines = text.splitlines()
    prov = [ln.lstrip("#").strip() for ln in lines if ln.strip().startswith("#")]
    body = [ln for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(body))))
    if not body or not rows or rows and not {"area", "start"} <= set(rows[0]):
        raise ParameterError(f"cohorts file {origin}: expected a CSV header with the columns area,start")
    starts, notes = {}, {}
    for k, r in enumerate(rows, start=2):
        a = (r.get("area") or "").strip()
        s = (r.get("start") or "").strip()
        if not a or not s:
            raise ParameterError(f"cohorts file {origin}, row {k}: area and start are both needed")
        if a in starts:
            raise ParameterError(f"cohorts file {origin}: area {a} is listed twice")
        starts[a] = s
        notes[a] = (r.get("note") or "").strip()
    c = Cohorts(starts, {}, prov, origin)
    from ..spatial.units import normalise_code

    c.notes = {normalise_code(a): n for a, n in notes.items()}
    return c


def sdsc() -> Cohorts:
    """The six Strategic Decision Support Center districts with the start dates used (see the file's notes)."""
    return read_cohorts(SDSC_FILE, origin="crimescope/evaluate/data/sdsc_districts.csv")


def as_cohorts(value) -> Cohorts:
    """A Cohorts from a Cohorts, a mapping ``{area: start}`` or a path to a cohorts file."""
    if isinstance(value, Cohorts):
        return value
    if isinstance(value, dict):
        return Cohorts(dict(value))
    if isinstance(value, (str, Path)):
        return read_cohorts(value)
    raise ParameterError(f"cohorts: {type(value).__name__} is not a Cohorts, a mapping area -> start or a file")
