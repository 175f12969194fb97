"""Incremental, resumable sync of Chicago's crimes from the Socrata API.

How it pages (see docs/sync.md):

* keyset paging on ``(updated_on, id)``: every request carries
  ``$order=updated_on,id`` and, after the first page,
  ``$where=updated_on > 'W' OR (updated_on = 'W' AND id > I)`` where ``(W, I)`` is
  the last row received (``id`` is a number column in SODA, so ``I`` is compared
  as a number). No ``$offset``: a record revised while we page moves *forward*
  (its ``updated_on`` grows), so it is read again later instead of shifting the
  offsets of the rows behind it.
* the first request of a run starts at the stored watermark minus an overlap
  (``updated_on >= 'W - overlap'``), or at ``--since``, or at the beginning.
* one transaction per page: the page's rows are upserted and the watermark is
  moved to the page's last row in the same transaction, so a run killed at any
  moment resumes from the last committed page (the upsert is idempotent, so
  re-reading the overlap changes nothing).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable

from .. import settings
from ..errors import ParameterError, SyncError
from ..store import Store
from .socrata import SocrataClient, soql_timestamp

__all__ = ["SyncResult", "sync_chicago", "records_to_table", "SYNC_FIELDS"]

SOURCE = "chicago"
_ID = re.compile(r"[0-9]+")


#: fields requested with ``$select``: the raw columns except the ``location`` object
#: (latitude/longitude carry the same point)
SYNC_FIELDS: list[str] = [
    "id", "case_number", "date", "block", "iucr", "primary_type", "description",
    "location_description", "arrest", "domestic", "beat", "district", "ward",
    "community_area", "fbi_code", "x_coordinate", "y_coordinate", "year", "updated_on",
    "latitude", "longitude",
]


@dataclass
class SyncResult:
    """What one sync run did.

    Attributes
    ----------
    source : str
        ``"chicago"``.
    endpoint : str
        The SODA resource URL read.
    started_from : datetime or None
        Lower bound on ``updated_on`` of the first request (stored watermark minus
        the overlap, or ``--since``); None when the run read from the beginning.
    occurred_since : datetime or None
        Lower bound on the occurrence ``date`` applied to every request, if any.
    pages : int
        Pages committed by this run (each in its own transaction).
    rows_read, inserted, updated, unchanged, rejected : int
        Record counts of this run; ``rows_read = inserted + updated + unchanged + rejected``.
    watermark : datetime or None
        ``updated_on`` of the last committed record (the stored watermark after the run).
    watermark_id : str or None
        ``id`` of that record (the keyset tiebreak).
    requests, retries : int
        HTTP attempts made, and how many of them failed and were retried.
    batch_ids : list of int
        The store batches (one per page) this run committed.
    """

    source: str
    endpoint: str
    started_from: datetime | None = None
    occurred_since: datetime | None = None
    pages: int = 0
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    watermark: datetime | None = None
    watermark_id: str | None = None
    requests: int = 0
    retries: int = 0
    batch_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        for k in ("started_from", "occurred_since", "watermark"):
            d[k] = d[k].isoformat() if d[k] is not None else None
        d["batch_ids"] = list(self.batch_ids)
        return d


def _to_datetime(value: date | datetime | str | None, option: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value).strip()).replace(tzinfo=None)
    except ValueError:
        raise ParameterError(
            f"{option} must be a date like 2024-01-01 (or 2024-01-01T06:00:00), got {value!r}"
        ) from None


def _text(v: Any) -> str | None:
    """A SODA JSON value as the text the importer parses."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def records_to_table(records: list[dict[str, Any]]):
    """SODA records -> the pyarrow table :func:`crimescope.sources.chicago.ingest_raw` takes.

    String columns named as the SODA fields (a field a record omits is null, which
    is how SODA sends nulls), ``_line`` (1-based row in the page) and ``_raw`` (the
    record as compact JSON, kept if the row is rejected).
    """
    import pyarrow as pa

    cols: dict[str, list[str | None]] = {c: [] for c in SYNC_FIELDS}
    for rec in records:
        for c in SYNC_FIELDS:
            cols[c].append(_text(rec.get(c)))
    arrays = {c: pa.array(v, type=pa.string()) for c, v in cols.items()}
    arrays["_line"] = pa.array(range(1, len(records) + 1), type=pa.int64())
    arrays["_raw"] = pa.array(
        [json.dumps(r, separators=(",", ":"), ensure_ascii=False, sort_keys=True) for r in records],
        type=pa.string(),
    )
    return pa.table(arrays)


def _keyset_of(record: dict[str, Any], endpoint: str, page: int) -> tuple[datetime, int]:
    """(updated_on, id) of a record, to page past it; SyncError if it has none."""
    uo, rid = record.get("updated_on"), record.get("id")
    try:
        ts = datetime.fromisoformat(str(uo)).replace(tzinfo=None)
    except ValueError:
        ts = None
    rid_s = _text(rid)
    if ts is None or rid_s is None or not _ID.fullmatch(rid_s.strip()):
        raise SyncError(
            f"{endpoint}: cannot page past record {json.dumps(record)[:120]} of page {page}: "
            f"it lacks a valid updated_on/id (updated_on={uo!r}, id={rid!r})"
        )
    return ts, int(rid_s)


def _where(lower: datetime | None, keyset: tuple[datetime, int] | None, occurred: datetime | None) -> str | None:
    parts = []
    if occurred is not None:
        parts.append(f"date >= '{soql_timestamp(occurred)}'")
    if keyset is not None:
        w = soql_timestamp(keyset[0])
        parts.append(f"(updated_on > '{w}' OR (updated_on = '{w}' AND id > {keyset[1]}))")
    elif lower is not None:
        parts.append(f"updated_on >= '{soql_timestamp(lower)}'")
    return " AND ".join(parts) or None


class _State:
    """The sync_state row of (source, base_url, dataset)."""

    def __init__(self, store: Store, base_url: str, dataset: str):
        self.store, self.key = store, [SOURCE, base_url, dataset]

    def load(self) -> tuple[datetime | None, str | None]:
        row = self.store.con.execute(
            "SELECT watermark_updated_at, watermark_id FROM sync_state "
            "WHERE source = ? AND base_url = ? AND dataset = ?", self.key,
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def start(self) -> None:
        with self.store.transaction() as con:
            con.execute(
                "INSERT INTO sync_state (source, base_url, dataset, last_started_at, status) "
                "VALUES (?, ?, ?, now(), 'running') "
                "ON CONFLICT (source, base_url, dataset) DO UPDATE SET "
                "last_started_at = excluded.last_started_at, status = 'running', last_error = NULL",
                self.key,
            )

    def advance(self, watermark: datetime, wid: str, rows: int) -> None:
        """Inside the page's transaction."""
        self.store.con.execute(
            "UPDATE sync_state SET watermark_updated_at = ?, watermark_id = ?, "
            "pages_committed = pages_committed + 1, rows_committed = rows_committed + ? "
            "WHERE source = ? AND base_url = ? AND dataset = ?",
            [watermark, wid, rows, *self.key],
        )

    def finish(self, status: str, error: str | None = None) -> None:
        with self.store.transaction() as con:
            con.execute(
                "UPDATE sync_state SET status = ?, last_error = ?, last_finished_at = now() "
                "WHERE source = ? AND base_url = ? AND dataset = ?",
                [status, error, *self.key],
            )


def sync_chicago(
    store: Store,
    client: SocrataClient | None = None,
    *,
    since: date | datetime | str | None = None,
    occurred_since: date | datetime | str | None = None,
    page_size: int | None = None,
    overlap_seconds: int | None = None,
    progress: Callable[[SyncResult], None] | None = None,
) -> SyncResult:
    """Bring the store up to date with the portal's crimes dataset.

    Parameters
    ----------
    store
        A writable :class:`~crimescope.store.Store`.
    client
        A :class:`SocrataClient` (default: one built from the settings; closed after).
    since
        Read records updated at or after this time instead of the stored watermark
        minus the overlap (default: the watermark; on a first sync, everything).
    occurred_since
        Only records whose occurrence ``date`` is at or after this (bounds a first
        download to recent years); applied to every request of this run.
    page_size
        Rows per request (setting ``page_size``).
    overlap_seconds
        Seconds re-read before the stored watermark (setting ``sync_overlap_seconds``).
    progress
        Called with the running :class:`SyncResult` after each committed page.

    Raises
    ------
    SyncError
        The portal failed repeatedly or answered nonsense. Pages committed before
        are kept; ``sync_state.status`` becomes ``'failed'`` with ``last_error``.
    ParameterError
        A bad date or page size.
    """
    from .chicago import ingest_raw

    page_size = int(settings.get("page_size", page_size))
    if page_size < 1:
        raise ParameterError(f"--page-size must be at least 1, got {page_size}")
    overlap = int(settings.get("sync_overlap_seconds", overlap_seconds))
    if overlap < 0:
        raise ParameterError(f"sync overlap must be >= 0 seconds, got {overlap}")
    since_dt = _to_datetime(since, "--since")
    occurred_dt = _to_datetime(occurred_since, "--occurred-since")

    if client is None:
        with SocrataClient() as own:
            return sync_chicago(store, own, since=since, occurred_since=occurred_since, page_size=page_size,
                                overlap_seconds=overlap_seconds, progress=progress)
    req0, retry0 = client.requests_made, client.retries
    state = _State(store, client.base_url, client.dataset)
    result = SyncResult(SOURCE, client.endpoint, occurred_since=occurred_dt)

    wm, wm_id = state.load()
    keyset: tuple[datetime, int] | None = None
    if since_dt is not None:
        result.started_from = since_dt
    elif wm is not None:
        if overlap == 0 and wm_id is not None and _ID.fullmatch(wm_id):
            keyset = (wm, int(wm_id))  # resume exactly after the last committed record
        result.started_from = wm - timedelta(seconds=overlap)
    result.watermark, result.watermark_id = wm, wm_id

    state.start()
    try:
        while True:
            params = {"$select": ",".join(SYNC_FIELDS), "$order": "updated_on,id", "$limit": str(page_size)}
            where = _where(result.started_from, keyset, occurred_dt)
            if where:
                params["$where"] = where
            page_no = result.pages + 1
            records = client.get_records(params)
            result.requests, result.retries = client.requests_made - req0, client.retries - retry0
            if not records:
                break
            last = _keyset_of(records[-1], client.endpoint, page_no)
            if keyset is not None and last <= keyset:
                raise SyncError(
                    f"{client.endpoint}: page {page_no} did not advance past updated_on "
                    f"{soql_timestamp(keyset[0])}, id {keyset[1]}: the server ignores $where/$order"
                )
            table = records_to_table(records)
            with store.transaction():
                batch = store.new_batch(SOURCE, "sync", client.endpoint)
                ingest_raw(store, table, batch, origin=client.endpoint)
                store.finish_batch(batch)
                state.advance(last[0], str(last[1]), len(records))
            keyset = last
            result.pages += 1
            result.batch_ids.append(batch.batch_id)
            for f in ("rows_read", "inserted", "updated", "unchanged", "rejected"):
                setattr(result, f, getattr(result, f) + getattr(batch, f))
            result.watermark, result.watermark_id = last[0], str(last[1])
            if progress is not None:
                progress(result)
            # a short page is not taken as the end: a server may cap $limit below ours;
            # the run ends at the first empty page (one cheap request)
    except BaseException as exc:
        msg = "interrupted" if isinstance(exc, KeyboardInterrupt) else " ".join(str(exc).split()) or type(exc).__name__
        try:
            state.finish("failed", msg)
        except Exception as exc2:  # keep the original error; say the state could not be saved
            exc.add_note(f"(could not record the failure in sync_state: {exc2})")
        raise
    finally:
        result.requests, result.retries = client.requests_made - req0, client.retries - retry0
    state.finish("done")
    return result
