"""What is in a store: rows per source and year, rejected rows, vintages, syncs."""

from __future__ import annotations

from .store import Store


def store_info(store: Store) -> dict:
    """A JSON-able summary of the store (the `crimescope info` output)."""
    con = store.con
    out: dict = {"store": store.path, "sources": {}}
    for source, n, first, last, vintage in con.execute(
        "SELECT source, count(*), min(occurred_local), max(occurred_local), max(updated_at) "
        "FROM incidents GROUP BY source ORDER BY source"
    ).fetchall():
        by_year = dict(
            (str(y), int(c))
            for y, c in con.execute(
                "SELECT year(occurred_local) AS yr, count(*) FROM incidents WHERE source = ? "
                "GROUP BY yr ORDER BY yr", [source]
            ).fetchall()
        )
        (hist,) = con.execute("SELECT count(*) FROM incident_history WHERE source = ?", [source]).fetchone()
        (no_loc,) = con.execute(
            "SELECT count(*) FROM incidents WHERE source = ? AND NOT has_location", [source]
        ).fetchone()
        out["sources"][source] = {
            "incidents": int(n),
            "rejected": 0,
            "history_versions": int(hist),
            "without_location": int(no_loc),
            "first_occurred": str(first) if first else None,
            "last_occurred": str(last) if last else None,
            "vintage": str(vintage) if vintage else None,
            "by_year": by_year,
        }
    for source, latest in con.execute("SELECT source, max(finished_at) FROM batches GROUP BY source").fetchall():
        if source in out["sources"]:  # when the rows carry no update date, the import is the vintage
            out["sources"][source]["latest_batch_at"] = str(latest) if latest else None
    from .coverage import summary

    for source, cov in summary(store).items():  # what the store holds, per offense scope and dates
        out["sources"].setdefault(source, {"incidents": 0, "by_year": {}, "history_versions": 0, "rejected": 0})
        out["sources"][source]["coverage"] = cov["text"]
        out["sources"][source]["coverage_spans"] = cov["spans"]
    for source, n in con.execute("SELECT source, count(*) FROM rejected GROUP BY source").fetchall():
        out["sources"].setdefault(source, {"incidents": 0, "by_year": {}, "history_versions": 0})
        out["sources"][source]["rejected"] = int(n)
    out["batches"] = [
        {"batch_id": r[0], "source": r[1], "kind": r[2], "origin": r[3],
         "finished_at": str(r[4]) if r[4] else None, "rows_read": r[5], "inserted": r[6],
         "updated": r[7], "unchanged": r[8], "rejected": r[9], "status": r[10]}
        for r in con.execute(
            "SELECT batch_id, source, kind, origin, finished_at, rows_read, inserted, updated, "
            "unchanged, rejected, status FROM batches ORDER BY batch_id DESC LIMIT 20"
        ).fetchall()
    ]
    out["syncs"] = [
        {"source": r[0], "base_url": r[1], "dataset": r[2],
         "watermark_updated_at": str(r[3]) if r[3] else None, "watermark_id": r[4],
         "rows_committed": r[5], "last_finished_at": str(r[6]) if r[6] else None,
         "status": r[7], "last_error": r[8]}
        for r in con.execute(
            "SELECT source, base_url, dataset, watermark_updated_at, watermark_id, rows_committed, "
            "last_finished_at, status, last_error FROM sync_state ORDER BY source"
        ).fetchall()
    ]
    return out
