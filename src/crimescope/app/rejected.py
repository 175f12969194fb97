"""The rows the importers refused, as an analysis of a Dataset (declared in
:mod:`crimescope.app.declared`): ``crimescope rejected`` and a Python call read them with
:func:`rejected`; the ``/api/rejected.*`` twins and the Data page page through them with the
web's bounds (:func:`crimescope.web.views.rejected`: batch, short origin and time of refusal
per row, ``total``/``limit``/``offset`` in ``meta``)."""

from __future__ import annotations

__all__ = ["rejected", "rejected_table"]


def rejected(ds, *, taxonomy=None, limit: int = 20, offset: int = 0):
    """The first ``limit`` refused rows (0: all) after ``offset``, in the order they were refused:
    ``source, origin, line, reason, raw``, with the provenance of the store's rejected table."""
    from ..result import Result, provenance

    sql = "SELECT source, origin, line, reason, raw FROM rejected ORDER BY rejected_at, origin, line"
    if limit:
        sql += f" LIMIT {int(limit)}"
    if offset:
        sql += f" OFFSET {int(offset)}"
    df = ds.con.execute(sql).df()
    meta = provenance(ds, title="Rows refused by the importers", unit="input rows refused by the importer",
                      rule="every refused row is kept with its file, line and reason")
    meta["source"] = f"the store's rejected table (rows refused while importing: {meta['source']})"
    return Result(df, meta)


def rejected_table(res, params):
    """What the terminal's table shows: the rows, fitted to the terminal by the one text renderer
    with their provenance (or that there are none, with the provenance as ``# `` lines)."""
    if len(res.frame()):
        return res
    return "\n".join(["no rejected rows", *(f"# {line}" for line in res.caption_lines())])
