"""What a claim check reads of the records, kept with a read-only snapshot (the claim fast path).

Besides its total, a claim check (:mod:`crimescope.stats.claims`) needs the current rows it
counts (by IUCR, their case numbers, months and primary types) and every version of every id
that is, or ever was, in the claim's category, period and area, to tell what each ingest batch
said and which records changed. From the store that is one query of every version of those ids
(a semi join over all 1.7M rows of the quick-start store: 0.4-0.6 s of CPU) and pandas sorts
and group-bys per batch over up to ~10,000 rows, for every claim.

A read-only snapshot never changes, so what a claim needs is kept with it, in two parts, each
built on first use and once per key even when many threads ask together (``Aggregates.memo``:
single-flight):

* :class:`CategoryRows`, per (source, category): the category's current rows ordered by local
  day, as NumPy columns (day, month, IUCR and primary type as codes, district, community area,
  batch, an EXPRESSWAY-location flag, whether the id has superseded versions) with the id and
  case number as Arrow strings. A claim's counted rows are a binary search and an area mask.
* :class:`Revisions`, per source: every version (current and superseded) of the ids that have
  superseded versions (3,297 ids on the quick-start store: the homicide extract's re-deliveries),
  ordered by (id, batch, superseded before current).

An id without superseded versions has one version, its current row: it is counted by the claim
or it is not, it was delivered by its one batch, and it can never be "revised". So its part of
every figure of the check (the count after each batch, what each batch delivered, the months and
primary types covered, the records absent from a later extract or added by one) is a vectorised
count or mask over the counted rows; only the few ids with several versions are walked one by
one, as the store path walks them.

The figures, verdicts, changes and vintages equal the store path's
(``claims._store_facts``): ``tests/stats/test_claim_fast.py`` compares them on the real store
for claims of every kind, citywide and by area, and on hand-made revisions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

__all__ = ["CategoryRows", "Revisions", "category_rows", "revisions", "claim_facts"]

_EPOCH = dt.date(1970, 1, 1)
#: an area number that is null in the store: equal to no claim's area
_NO_AREA = np.iinfo(np.int64).min
#: a batch id that is null in the store: in no batch, before none and after none
_NO_BATCH = np.iinfo(np.int64).max
_COLUMNS = ("id", "case_number", "occurred_local", "iucr", "fbi_code", "primary_type", "district",
            "community_area", "updated_at", "batch_id")


def _encode(col) -> tuple[np.ndarray, list]:
    """Codes (-1 for null) and vocabulary of a string column."""
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(col.combine_chunks() if hasattr(col, "combine_chunks") else col)
    return (pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32),
            enc.dictionary.to_pylist())


def _member(codes: np.ndarray, vocab: list, wanted) -> np.ndarray:
    """``codes`` whose value is in ``wanted`` (a null, code -1, never is)."""
    lut = np.array([v in wanted for v in vocab] + [False], bool)
    return lut[codes]


class _Columns:
    """Rows of ``incidents`` / ``incident_history`` as NumPy columns (strings as codes into a
    vocabulary; id and case number as Arrow strings)."""

    def __init__(self, tbl):
        import pyarrow as pa
        import pyarrow.compute as pc

        self.n = tbl.num_rows
        self.occ = tbl["occurred_local"].cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
        self.updated = tbl["updated_at"].cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
        # local day and month (since 1970): a null date (NaT, the smallest int64) is in no period
        self.day = self.occ.astype("datetime64[D]").astype(np.int64)
        self.month = self.occ.astype("datetime64[M]").astype(np.int64)
        self.iucr, self.iucr_vocab = _encode(tbl["iucr"])
        self.fbi, self.fbi_vocab = _encode(tbl["fbi_code"])
        self.ptype, self.ptype_vocab = _encode(tbl["primary_type"])

        def ints(name, null):
            return pc.fill_null(tbl[name].cast(pa.int64()), null).to_numpy(zero_copy_only=False).astype(np.int64)

        self.district = ints("district", _NO_AREA)
        self.community_area = ints("community_area", _NO_AREA)
        self.batch = ints("batch_id", _NO_BATCH)
        self.ids = tbl["id"].combine_chunks()
        self.case = tbl["case_number"].combine_chunks()

    def in_area(self, claim) -> np.ndarray | None:
        keep = None
        for name in ("district", "community_area"):
            v = getattr(claim, name)
            if v is not None:
                m = getattr(self, name) == int(v)
                keep = m if keep is None else keep & m
        return keep

    def ptype_of(self, code: int):
        return self.ptype_vocab[code] if code >= 0 else None

    def iucr_of(self, code: int):
        return self.iucr_vocab[code] if code >= 0 else None

    @property
    def nbytes(self) -> int:
        arrays = (self.occ, self.updated, self.day, self.month, self.iucr, self.fbi, self.ptype, self.district,
                  self.community_area, self.batch)
        return int(sum(a.nbytes for a in arrays) + self.ids.nbytes + self.case.nbytes)


class Revisions:
    """Every version (current, ``cur`` 1, and superseded, 0) of the ids of one source that have
    superseded versions, ordered by (id, batch, ``cur``); ``gid`` numbers the ids in that order."""

    def __init__(self, tbl):
        import pyarrow.compute as pc

        tbl = tbl.sort_by([("id", "ascending"), ("batch_id", "ascending"), ("_cur", "ascending")])
        self.c = _Columns(tbl)
        self.cur = pc.fill_null(tbl["_cur"], 0).to_numpy(zero_copy_only=False).astype(np.int8)
        ids = self.c.ids.to_numpy(zero_copy_only=False)
        self.id_list = ids.tolist()
        self.gid = np.concatenate([[0], np.cumsum(ids[1:] != ids[:-1])]).astype(np.int64) if len(ids) \
            else np.zeros(0, np.int64)
        #: the ids that have superseded versions (Arrow, for ``is_in``)
        self.revised_ids = pc.unique(pc.filter(self.c.ids, pc.equal(tbl["_cur"].combine_chunks(), 0)))
        self.nbytes = self.c.nbytes + int(self.cur.nbytes + self.gid.nbytes)


class CategoryRows:
    """The current rows of one category of one source, ordered by local day."""

    def __init__(self, tbl, revised_ids):
        import pyarrow as pa
        import pyarrow.compute as pc

        days = tbl["occurred_local"].cast(pa.timestamp("us")).to_numpy(zero_copy_only=False) \
            .astype("datetime64[D]").astype(np.int64)
        tbl = tbl.take(pa.array(np.argsort(days, kind="stable")))
        self.c = _Columns(tbl)
        self.expressway = pc.fill_null(tbl["expressway"], False).to_numpy(zero_copy_only=False).astype(bool)
        self.has_versions = pc.fill_null(pc.is_in(self.c.ids, value_set=revised_ids), False) \
            .to_numpy(zero_copy_only=False).astype(bool)
        self.nbytes = self.c.nbytes + int(self.expressway.nbytes + self.has_versions.nbytes)

    def cut(self, d0: int, d1: int, claim) -> np.ndarray:
        """Indices of the rows of days ``d0..d1`` (inclusive, days since 1970) in the claim's area."""
        lo = int(np.searchsorted(self.c.day, d0, side="left"))
        hi = int(np.searchsorted(self.c.day, d1, side="right"))
        idx = np.arange(lo, hi)
        keep = self.c.in_area(claim)
        return idx if keep is None else idx[keep[lo:hi]]


def _view(store):
    from ._aggregate import _CursorStore

    return _CursorStore(store)


def revisions(agg, store, source: str) -> Revisions:
    """The source's :class:`Revisions` of the snapshot (built once, single-flight)."""
    def build():  # the versions of ``versions_table`` whose id has a superseded version
        import ibis

        from .query import _table

        view = _view(store)
        try:
            cur, hist = (_table(view.ibis(), name) for name in ("incidents", "incident_history"))
            cur, hist = cur.filter(cur.source == source), hist.filter(hist.source == source)
            revised = hist.select("id").distinct()
            cur = cur.join(revised, "id", how="semi")
            tbl = ibis.union(*(t.select(*_COLUMNS, _cur=ibis.literal(k)).cast({"id": "string"})
                               for t, k in ((cur, 1), (hist, 0)))).to_pyarrow()
        finally:
            view.close()
        return Revisions(tbl.combine_chunks())

    return agg.memo(("claim_revisions", source), build)


def category_rows(agg, store, source: str, cat) -> CategoryRows:
    """The category's :class:`CategoryRows` of the snapshot (built once per category, single-flight)."""
    rev = revisions(agg, store, source)

    def build():
        from .query import category_predicate, incidents_table

        view = _view(store)
        try:
            t = incidents_table(view.ibis(), source=source)
            t = t.filter(category_predicate(t, cat))
            tbl = t.select(*_COLUMNS, expressway=t.location_description.upper().contains("EXPRESSWAY")).to_pyarrow()
        finally:
            view.close()
        return CategoryRows(tbl.combine_chunks(), rev.revised_ids)

    return agg.memo(("claim_rows", source, cat.name, cat.rule), build)


def _batches(agg, store, source: str) -> list[tuple[int, str]]:
    def build():
        view = _view(store)
        try:
            return [(int(b), o) for b, o in view.con.execute(
                "SELECT batch_id, origin FROM batches WHERE source = ? ORDER BY batch_id", [source]).fetchall()]
        finally:
            view.close()

    return agg.memo(("claim_batches", source), build)


def _months(a: np.ndarray) -> set[int]:
    return set(np.unique(a).tolist())


def claim_facts(store, source: str, cat, hcat, claim, s: dt.date, e: dt.date, hom_codes: set[str]) -> Any:
    """``claims._Facts`` of a claim (category ``cat``, days ``s..e``, the claim's area) from the
    snapshot's structures, or None when the store carries no aggregate. ``hcat`` is the homicide
    category (for the IUCR breakdown) when ``hom_codes`` (the category's HOMICIDE codes) is not empty."""
    from ._aggregate import aggregates_of

    agg = aggregates_of(store)
    if agg is None:
        return None
    import pandas as pd
    import pyarrow.compute as pc

    from .claims import POLICE_EXCLUDED, _Facts, _short

    rows, rev = category_rows(agg, store, source, cat), revisions(agg, store, source)
    batches = _batches(agg, store, source)
    origin = dict(batches)
    d0, d1 = (s - _EPOCH).days, (e - _EPOCH).days
    c, r = rows.c, rev.c

    # the current rows counted by the claim
    C = rows.cut(d0, d1, claim)
    ic = c.iucr[C]
    vals, counts = np.unique(ic[ic >= 0], return_counts=True)
    by_iucr = {c.iucr_vocab[k]: int(n) for k, n in zip(vals.tolist(), counts.tolist())}
    n_cases, hb, n_expr = 0, {}, 0
    if hom_codes:
        hom = _member(ic, c.iucr_vocab, hom_codes)
        n_cases = int(pc.count_distinct(c.case.take(C[hom])).as_py())  # as count(DISTINCT): nulls not counted
        murder = _member(ic, c.iucr_vocab, hom_codes & {"0110", "0130"})
        n_expr = int((murder & rows.expressway[C]).sum())
        hrows = category_rows(agg, store, source, hcat)
        hic = hrows.c.iucr[hrows.cut(d0, d1, claim)]
        hv, hn = np.unique(hic, return_counts=True)
        hb = {hrows.c.iucr_of(k): int(n) for k, n in zip(hv.tolist(), hn.tolist())}
    need_months = _months(c.month[C])
    need_types = {c.ptype_of(k) for k in np.unique(c.ptype[C]).tolist()}

    # S: counted rows of ids with one version (their only version); M: every version of the ids
    # with superseded versions that are, or ever were, counted by the claim (id, batch, cur order)
    S = C[~rows.has_versions[C]]
    Sb, Sm, Sp = c.batch[S], c.month[S], c.ptype[S]
    inside = (_member(r.iucr, r.iucr_vocab, cat.iucr) | _member(r.fbi, r.fbi_vocab, cat.fbi)) \
        & (r.day >= d0) & (r.day <= d1)
    area = r.in_area(claim)
    if area is not None:
        inside &= area
    M = np.flatnonzero(np.isin(rev.gid, np.unique(rev.gid[inside])))
    Mg, Mb, Mcur, Min, Mm, Mp = rev.gid[M], r.batch[M], rev.cur[M], inside[M], r.month[M], r.ptype[M]

    # per batch: the count as the store stood after it, what it delivered, the months / types covered
    vint_rows, delivered_by = [], {}
    for b, path in batches:
        s_le = Sb <= b
        n_upto, months_upto = int(s_le.sum()), _months(Sm[s_le])
        mk = np.flatnonzero(Mb <= b)
        if len(mk):  # each id's last version delivered by then
            g = Mg[mk]
            last = mk[np.concatenate([g[1:] != g[:-1], [True]])]
            last = last[Min[last]]
            n_upto += len(last)
            months_upto |= set(Mm[last].tolist())
        s_eq, m_eq = Sb == b, np.flatnonzero((Mb == b) & Min)
        n_dlv = int(s_eq.sum()) + len(m_eq)
        dlv_months = _months(Sm[s_eq]) | set(Mm[m_eq].tolist())
        dlv_types = {c.ptype_of(k) for k in np.unique(Sp[s_eq]).tolist()} | {r.ptype_of(k) for k in Mp[m_eq].tolist()}
        delivered_by[b] = (dlv_months, dlv_types)
        vint_rows.append({"batch_id": int(b), "origin": path, "as_of_batch": n_upto, "delivered": n_dlv,
                          "covers_period": bool(n_upto) and need_months <= months_upto,
                          "complete_extract": bool(n_dlv) and need_months <= dlv_months and need_types <= dlv_types})
    vintages = pd.DataFrame(vint_rows) if vint_rows else \
        pd.DataFrame(columns=["batch_id", "origin", "as_of_batch", "delivered", "covers_period", "complete_extract"])

    changes = []
    # revised: each version of an id against the one before (ids ascending, versions in order)
    ids, occ = rev.id_list, r.occ
    prev = None
    for k, ins in zip(M.tolist(), Min.tolist()):
        rid, iucr, when = ids[k], r.iucr_of(int(r.iucr[k])), occ[k]
        if prev is not None and prev[0] == rid:
            diffs = []
            if iucr != prev[1]:
                diffs.append(f"IUCR {prev[1]} -> {iucr}")
            if np.isnat(when) or np.isnat(prev[2]) or when != prev[2]:
                diffs.append(f"date {pd.Timestamp(prev[2])} -> {pd.Timestamp(when)}")
            if ins != prev[3]:
                diffs.append("now counted" if ins else "no longer counted")
            if diffs:
                b = int(r.batch[k])
                changes.append({"id": rid, "batch_id": b, "origin": _short(origin.get(b, "?")),
                                "change": "revised", "detail": "; ".join(diffs)})
        prev = (rid, iucr, when, ins)

    def row_of(cols, k, id_):
        return id_, cols.iucr_of(int(cols.iucr[k])), cols.occ[k], cols.updated[k], int(cols.batch[k])

    # counted ids that a later extract did not contain, although it delivered rows of the same
    # primary type and month (an id of S was delivered by its own batch only)
    Mc = np.flatnonzero((Mcur == 1) & Min)  # positions in M of the counted current rows
    for v in vint_rows:
        b = v["batch_id"]
        if not v["delivered"]:
            continue
        months, types = delivered_by[b]
        month_list = np.fromiter(months, np.int64, len(months))
        found = []
        sk = S[(Sb < b) & np.isin(Sm, month_list) & _member(Sp, c.ptype_vocab, types)]
        if len(sk):
            sid = c.ids.take(sk).to_pylist()
            found += [row_of(c, k, i) for k, i in zip(sk.tolist(), sid)]
        there = set(Mg[Mb == b].tolist())
        for j in Mc.tolist():
            k = int(M[j])
            if Mb[j] < b and int(Mm[j]) in months and r.ptype_of(int(Mp[j])) in types and int(Mg[j]) not in there:
                found.append(row_of(r, k, ids[k]))
        for rid, iucr, when, updated, own in sorted(found, key=lambda x: x[0]):
            what = POLICE_EXCLUDED.get(iucr, "")
            changes.append({"id": rid, "batch_id": int(b), "origin": _short(origin[b]),
                            "change": "absent from later extract",
                            "detail": f"IUCR {iucr}{' ' + what if what else ''}, {pd.Timestamp(when)}, last updated "
                                      f"{pd.Timestamp(updated)} in {_short(origin.get(own, '?'))}; "
                                      "still counted from that version"})

    # ids first delivered by a batch later than the first one that delivered counted rows of
    # their month (late deaths, reclassification into the category)
    cover_m = np.concatenate([Sm, Mm[Min]])
    cover_b = np.concatenate([Sb, Mb[Min]])
    um, ub = np.zeros(0, np.int64), np.zeros(0, np.int64)  # each month's first batch, months ascending
    if len(cover_m):
        order = np.lexsort((cover_b, cover_m))
        um, at = np.unique(cover_m[order], return_index=True)
        ub = cover_b[order][at]
    first_cover = dict(zip(um.tolist(), ub.tolist()))
    added = []  # (batch, cur, id, occurred)
    if len(S):
        sk = S[Sb > ub[np.searchsorted(um, Sm)]]
        if len(sk):
            added += [(int(c.batch[k]), 1, i, c.occ[k]) for k, i in zip(sk.tolist(), c.ids.take(sk).to_pylist())]
    if len(M):
        first = np.concatenate([[True], Mg[1:] != Mg[:-1]])
        for j in np.flatnonzero(first & Min).tolist():
            if Mb[j] > first_cover[int(Mm[j])]:
                k = int(M[j])
                added.append((int(Mb[j]), int(Mcur[j]), ids[k], occ[k]))
    for b, _, rid, when in sorted(added, key=lambda x: x[:3]):
        changes.append({"id": rid, "batch_id": b, "origin": _short(origin.get(b, "?")),
                        "change": "added by a later batch",
                        "detail": f"first seen in this batch, dated {pd.Timestamp(when)} "
                                  "(late death, late report or reclassification into the category)"})
    changes = pd.DataFrame(changes, columns=["id", "batch_id", "origin", "change", "detail"])
    return _Facts(by_iucr, n_cases, hb, n_expr, vintages, changes)
