"""Versioned upsert of staged rows into ``incidents`` (generic over sources).

The staged table has the canonical incident columns plus ``_line``, ``_raw`` and
``_reason`` (NULL for a good row). Rules, applied per (source, id):

* a good row whose id is not stored is inserted;
* a good row with a strictly newer ``updated_at`` than the stored version replaces
  it, and the stored version moves to ``incident_history``;
* a row with an equal or older ``updated_at`` changes nothing (``unchanged``);
* when one batch carries several versions of an id, the newest wins and the
  intermediate versions that are newer than the stored one go straight to
  history (counted as ``updated``);
* rows with a ``_reason`` go to ``rejected`` with their line and raw text.

Every staged row is counted exactly once: rows = inserted + updated + unchanged + rejected.

When every good staged row is known to be a new record (:func:`all_new`: no (source, id)
repeats among them and none is stored), :func:`insert_new` applies the same rules with
one plain ``INSERT ... SELECT``: no join against the stored rows, no duplicate check.
The result is the same store, row for row (tests/store/test_insert_new.py).
"""

from __future__ import annotations

from .schema import INCIDENT_COLUMN_NAMES
from .sqltext import bind, values_rows
from .store import Batch, Store

_COLS = ", ".join(INCIDENT_COLUMN_NAMES)


def _newer(a: str, b: str) -> str:
    """SQL: version time ``a`` is strictly newer than stored time ``b``."""
    return f"coalesce({a} > {b} OR ({b} IS NULL AND {a} IS NOT NULL), false)"


def upsert_staged(store: Store, staged: str, batch: Batch, origin: str) -> Batch:
    """Move the staged rows of one batch into the store; returns the batch with counts.

    Must run inside ``store.transaction()``; the caller drops ``staged``.
    """
    con = store.con
    bid = batch.batch_id
    (n_rows,) = con.execute(f"SELECT count(*) FROM {staged}").fetchone()
    n_rej = _reject(con, staged, bid, origin)

    (n_dup,) = con.execute(
        f"SELECT count(*) FROM (SELECT id FROM {staged} WHERE _reason IS NULL GROUP BY source, id HAVING count(*) > 1)"
    ).fetchone()
    if n_dup:
        n_new, n_repl, n_interm = _upsert_with_duplicates(store, staged, bid)
    else:
        n_new, n_repl, n_interm = _upsert_unique(store, staged, bid)
    return _finish(store, staged, batch, n_rows, n_rej, n_new, n_repl + n_interm)


#: widest range of integer ids checked for repeats with a bit string (16 MiB); wider: hashed
_MAX_BITS = 2**27
#: staged ids looked up first, so that a re-ingest is told without joining every id
_PROBE = 16


def all_new(store: Store, staged: str, *, int_key: str | None = None) -> bool:
    """True when every good row of ``staged`` is a new record: no (source, id) occurs twice among
    them and none is in ``incidents``. :func:`insert_new` may then replace :func:`upsert_staged`
    for any subset of these rows, as long as nothing else writes the store in between.

    ``int_key`` is SQL for a BIGINT that equal ids share (e.g. ``CAST(id AS BIGINT)`` when
    every good row's id is a whole number) and one source's rows only: repeats are then
    counted in a bit string over its range (about 5x cheaper than hashing the text ids). Ids
    that differ as text but share the number (``012``, ``12``) count as a repeat, so the
    answer can only err towards the general upsert, never away from it.
    """
    con = store.con
    # a re-ingest is told by a few of its ids at once (one scan of the stored ids), without the join
    probe = con.execute(f"SELECT DISTINCT source, id FROM (SELECT source, id FROM {staged} "
                        f"WHERE _reason IS NULL LIMIT {_PROBE})").fetchall()
    if probe:
        (stored,) = con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM incidents WHERE (source, id) IN ({values_rows(probe)}) LIMIT 1)"
        ).fetchone()
        if stored:
            return False
    (stored,) = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {staged} s JOIN incidents i ON i.source = s.source AND i.id = s.id "
        f"WHERE s._reason IS NULL LIMIT 1)").fetchone()
    if stored:
        return False
    if int_key is not None:
        n, lo, hi = con.execute(
            f"SELECT count(*), min({int_key}), max({int_key}) FROM {staged} WHERE _reason IS NULL").fetchone()
        if not n:
            return True
        if hi - lo < _MAX_BITS:
            (distinct,) = con.execute(
                f"SELECT bit_count(bitstring_agg({int_key}, {int(lo)}, {int(hi)})) FROM {staged} "
                f"WHERE _reason IS NULL").fetchone()
            return distinct == n
    (dup,) = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {staged} WHERE _reason IS NULL "
        f"GROUP BY source, id HAVING count(*) > 1 LIMIT 1)").fetchone()
    return not dup


def insert_new(store: Store, staged: str, batch: Batch, origin: str, *,
               n_rows: int | None = None, n_rejected: int | None = None) -> Batch:
    """:func:`upsert_staged` for staged rows that :func:`all_new` found all new: the rejected rows
    go to ``rejected``, the good ones are inserted, the coverage recorded; returns the batch with
    counts. ``n_rows`` and ``n_rejected`` (the staged rows and those with a ``_reason``) save two
    scans when the caller has counted them. Must run inside ``store.transaction()``."""
    store.con.execute(
        f"INSERT INTO incidents SELECT {_select_new(batch.batch_id)} FROM {staged} WHERE _reason IS NULL")
    return finish_new(store, staged, batch, origin, n_rows=n_rows, n_rejected=n_rejected)


def finish_new(store: Store, staged: str, batch: Batch, origin: str, *,
               n_rows: int | None = None, n_rejected: int | None = None) -> Batch:
    """:func:`insert_new` for good rows that are already in ``incidents`` (the write-once path of
    an importer, which read them there itself): the rejected rows go to ``rejected``, the
    coverage is recorded from the good rows, the counts added to the batch."""
    con = store.con
    if n_rows is None:
        (n_rows,) = con.execute(f"SELECT count(*) FROM {staged}").fetchone()
    if n_rejected is None or n_rejected:
        n_rej = _reject(con, staged, batch.batch_id, origin)
    else:
        n_rej = 0
    return _finish(store, staged, batch, n_rows, n_rej, n_rows - n_rej, 0)


def _reject(con, staged: str, bid: int, origin: str) -> int:
    """Move the rows with a ``_reason`` to ``rejected``; returns how many there were."""
    con.execute(bind(
        f"INSERT INTO rejected SELECT source, ?, ?, _line, _reason, _raw, now() "
        f"FROM {staged} WHERE _reason IS NOT NULL",
        [int(bid), origin],
    ))
    (n_rej,) = con.execute(f"SELECT count(*) FROM {staged} WHERE _reason IS NOT NULL").fetchone()
    return n_rej


def _finish(store: Store, staged: str, batch: Batch, n_rows: int, n_rej: int, n_new: int, n_upd: int) -> Batch:
    from .coverage import record_batch

    record_batch(store, staged, batch)  # what this batch covers, from the rows it delivered
    batch.rows_read += n_rows
    batch.rejected += n_rej
    batch.inserted += n_new
    batch.updated += n_upd
    batch.unchanged += n_rows - n_rej - n_new - n_upd
    return batch


_SELECT_NEW = _COLS.replace("batch_id", "?").replace("loaded_at", "now()")


def _select_new(bid: int) -> str:
    return _SELECT_NEW.replace("?", str(int(bid)))


def _archive_and_delete(con, keys: str, bid: int) -> None:
    """Move the stored versions of ``keys`` (a table of source, id) to history."""
    con.execute(bind(
        f"INSERT INTO incident_history SELECT {_COLS}, now(), ? FROM incidents "
        f"WHERE (source, id) IN (SELECT (source, id) FROM {keys})",
        [int(bid)],
    ))
    con.execute(f"DELETE FROM incidents WHERE (source, id) IN (SELECT (source, id) FROM {keys})")


def _upsert_unique(store: Store, staged: str, bid: int) -> tuple[int, int, int]:
    """Fast path: each id occurs once among the good staged rows."""
    con = store.con
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _match AS
            SELECT s.source, s.id, {_newer('s.updated_at', 'i.updated_at')} AS _replace
            FROM {staged} s JOIN incidents i ON i.source = s.source AND i.id = s.id
            WHERE s._reason IS NULL"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _repl AS SELECT source, id FROM _match WHERE _replace")
    (n_match,) = con.execute("SELECT count(*) FROM _match").fetchone()
    (n_repl,) = con.execute("SELECT count(*) FROM _repl").fetchone()
    if n_repl:
        _archive_and_delete(con, "_repl", bid)
    if n_match:
        sql = (f"INSERT INTO incidents SELECT {_SELECT_NEW} FROM {staged} s WHERE _reason IS NULL "
               f"AND NOT EXISTS (SELECT 1 FROM _match m WHERE m.source = s.source AND m.id = s.id AND NOT m._replace)")
    else:
        sql = f"INSERT INTO incidents SELECT {_SELECT_NEW} FROM {staged} WHERE _reason IS NULL"
    con.execute(bind(sql, [int(bid)]))
    (n_good,) = con.execute(f"SELECT count(*) FROM {staged} WHERE _reason IS NULL").fetchone()
    con.execute("DROP TABLE _match")
    con.execute("DROP TABLE _repl")
    return n_good - n_match, n_repl, 0


def _upsert_with_duplicates(store: Store, staged: str, bid: int) -> tuple[int, int, int]:
    """General path: a batch may carry several versions of one id; the later row wins a tie."""
    con = store.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ord AS SELECT * FROM {staged}")  # rowid = arrival order
    staged = "_ord"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _cand AS
        SELECT s.*,
               row_number() OVER (PARTITION BY s.source, s.id
                                  ORDER BY s.updated_at DESC NULLS LAST, s.rowid DESC) AS _rk,
               max(s.updated_at) OVER (PARTITION BY s.source, s.id) AS _best,
               i.id IS NOT NULL AS _exists,
               i.updated_at AS _old
        FROM {staged} s
        LEFT JOIN incidents i ON i.source = s.source AND i.id = s.id
        WHERE s._reason IS NULL
        """
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _repl AS SELECT source, id FROM _cand "
        f"WHERE _rk = 1 AND _exists AND {_newer('updated_at', '_old')}"
    )
    (n_repl,) = con.execute("SELECT count(*) FROM _repl").fetchone()
    if n_repl:
        _archive_and_delete(con, "_repl", bid)
    # intermediate versions inside the batch that are newer than the stored one
    interm = f"_rk > 1 AND updated_at < _best AND (NOT _exists OR {_newer('updated_at', '_old')})"
    (n_interm,) = con.execute(f"SELECT count(*) FROM _cand WHERE {interm}").fetchone()
    if n_interm:
        con.execute(bind(f"INSERT INTO incident_history SELECT {_SELECT_NEW}, now(), ? FROM _cand WHERE {interm}",
                         [int(bid), int(bid)]))
    (n_new,) = con.execute("SELECT count(*) FROM _cand WHERE _rk = 1 AND NOT _exists").fetchone()
    con.execute(bind(
        f"INSERT INTO incidents SELECT {_SELECT_NEW} FROM _cand "
        f"WHERE _rk = 1 AND (NOT _exists OR {_newer('updated_at', '_old')})",
        [int(bid)],
    ))
    for t in ("_cand", "_repl", "_ord"):
        con.execute(f"DROP TABLE {t}")
    return n_new, n_repl, n_interm
