"""Events read from the shared Chicago CSV extracts without a store of one's own (``--from-csv``).

The normal path is ``crimescope.stats.events.load_events(store, category, ...)``.
``--from-csv`` and :func:`read_chicago_csv` take the same path: the extracts that
cover the period (``<shared data>/chicago/crimes/*.csv.gz``, named by year) are
ingested by the real importer (:func:`crimescope.sources.chicago.ingest_files`)
into a temporary in-memory store, and the events are read from it with
``load_events``. So coordinates, districts, revisions and rejected rows are
handled exactly as in a store, and the provenance of the figures is that store's
(the extracts' ``Updated On`` vintage, one batch per file).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

from ..errors import ParameterError

__all__ = ["read_chicago_csv", "category_events", "csv_store", "extract_files", "GUN_VIOLENCE_IUCR"]

#: homicide, shootings (aggravated battery with a firearm, incl. against officers): the
#: codes of the built-in ``gun_violence`` category
GUN_VIOLENCE_IUCR = ("0110", "0130", "0141", "0142", "041A", "041B", "0450", "0451", "0480", "0481", "0488", "0489")


#: the note every result read with ``--from-csv`` carries
CSV_NOTE = ("read from the shared CSV extracts through the importer into a temporary store (not kept); "
            "the latest batch time is the time of that read")


def extract_files(start: Any = None, end: Any = None, data_dir: str | Path | None = None) -> list[Path]:
    """The shared crime extracts whose year (file name ``YYYY...``) meets ``start``..``end``."""
    from .. import settings

    base = Path(data_dir) if data_dir else settings.shared_data_dir()
    if base is None or not (base / "chicago" / "crimes").is_dir():
        raise ParameterError("shared Chicago crime extracts not found (set CRIMESCOPE_SHARED_DATA)")
    files = sorted((base / "chicago" / "crimes").glob("*.csv.gz"))
    y0 = int(str(start)[:4]) if start is not None else None
    y1 = int(str(end)[:4]) if end is not None else None
    files = [f for f in files if not f.name[:4].isdigit()
             or ((y0 is None or int(f.name[:4]) >= y0) and (y1 is None or int(f.name[:4]) <= y1))]
    if not files:
        raise ParameterError(f"no crime extract covers {start} to {end}")
    return files


@contextlib.contextmanager
def csv_store(start: Any = None, end: Any = None, data_dir: str | Path | None = None) -> Iterator[Any]:
    """A temporary in-memory store holding the extracts that cover ``start``..``end``.

    The files go through the importer (``ingest_files``); a refused file is an
    IngestError, as with ``crimescope ingest chicago``. The store is closed on exit.
    """
    from ..errors import IngestError
    from ..sources.chicago import ingest_files
    from ..store import Store

    files = extract_files(start, end, data_dir)
    store = Store(":memory:")
    try:
        for res in ingest_files(store, files):
            if isinstance(res, IngestError):
                raise res
        yield store
    finally:
        store.close()


def _codes_category(iucr: Any):
    from ..categories import Category, get_category

    codes = frozenset(str(c).zfill(4) for c in iucr)
    gv = get_category("gun_violence")
    if codes == gv.iucr and not gv.fbi:
        return gv
    return Category(name="iucr_codes", label="records of the given IUCR codes", unit="records", iucr=codes,
                    definition="records whose IUCR code is one of the given codes", source="read_chicago_csv")


def read_chicago_csv(iucr: Any = GUN_VIOLENCE_IUCR, start: Any = None, end: Any = None,
                     data_dir: str | Path | None = None, *, category: Any = None):
    """Events of ``category`` (default: the records of the IUCR codes ``iucr``, gun violence)
    from ``start`` to ``end`` (inclusive local dates), read through a temporary store.

    Returns the frame of :func:`crimescope.stats.events.load_events` (its ``attrs``
    hold the provenance).
    """
    from ..stats.events import load_events

    cat = category if category is not None else _codes_category(iucr)
    with csv_store(start, end, data_dir) as store:
        return load_events(store, cat, start, end)


def category_events(category: Any, start: Any = None, end: Any = None, *, store: Any = None,
                    from_csv: bool = False, data_dir: str | Path | None = None):
    """Events of a category (a taxonomy name or a Category, e.g. from a user file): from the
    store (``load_events``) or, with ``from_csv``, from the shared CSV extracts through a
    temporary store (:func:`csv_store`)."""
    from ..stats.events import load_events

    if from_csv:
        with csv_store(start, end, data_dir) as tmp:
            ev = load_events(tmp, category, start, end)
        ev.attrs["provenance"].setdefault("notes", []).append(CSV_NOTE)
        return ev
    if store is None:
        raise ParameterError("no store given: open one or read the shared CSVs (from_csv=True)")
    return load_events(store, category, start, end)
