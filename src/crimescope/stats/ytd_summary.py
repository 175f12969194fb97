"""Year to date vs the same span last year, for several categories at once (the Overview's boxes).

:func:`ytd_vs_last_year` gives, per category, what the Overview shows of
``stats.ytd(..., years=1)``: the two spans and counts, the change, the exact test of this
year's count against last year's (``meta["comparison"][0]["test_vs_last_year"]``), the
provenance (unit, rule, source, vintage) and the notes, or the ``CoverageError`` that
``ytd`` raises for a year the store does not hold.

With a per-snapshot aggregate (``stats._aggregate``) it does not build the ytd table: each
count is two look-ups in the category's cumulative daily counts (``span_counter``; a partly
held year sums the held spans only, as ``ytd`` restricts its rows), coverage is the memoised
record, and the two-count tests of all categories run in one ``rate_tests`` pass. Without
one it calls ``ytd`` per category. Both give the same values, digit for digit
(``tests/stats/test_fast_paths.py`` compares the Overview built from each on the real store).
"""

from __future__ import annotations

import datetime as dt

from ..errors import CoverageError

__all__ = ["ytd_vs_last_year"]


def _from_ytd(ds, c, a: dt.date, taxonomy) -> "dict | CoverageError":
    """The summary of one category read from ``stats.ytd`` (the reference path)."""
    from .periods import ytd

    try:
        r = ytd(ds, c, a, years=1, taxonomy=taxonomy)
    except CoverageError as exc:
        return exc
    comp = r.meta["comparison"][0]
    cur = r.table[r.table["year"] == a.year].iloc[0]
    prev = r.table[r.table["year"] == a.year - 1].iloc[0]
    return {"label": r.meta["label"], "unit": r.meta["unit"], "rule": r.meta["rule"],
            "source": r.meta["source"], "vintage": r.meta["vintage"],
            "start": cur["start"], "end": cur["end"], "prev_start": prev["start"], "prev_end": prev["end"],
            "count": comp["count"], "last_year": comp["last_year"], "change": comp["change_vs_last_year"],
            "pct_change": comp["pct_vs_last_year"], "test": comp["test_vs_last_year"],
            "notes": list(r.meta.get("notes", []))}


def ytd_vs_last_year(ds, categories, as_of: dt.date, *, taxonomy=None) -> list:
    """Per category (in order): a dict with ``label, unit, rule, source, vintage, start, end,
    prev_start, prev_end, count, last_year, change, pct_change, test, notes`` (the values of
    ``ytd(ds, c, as_of, years=1)``), or the CoverageError that ``ytd`` raises for it."""
    from . import significance as sig
    from ._aggregate import aggregates_of, span_counter
    from ._coverage import attach, covered
    from .counts import base_meta
    from .periods import _lacking_note, _ytd_note, pct_change
    from .query import same_day_year_ago
    from ..store import coverage as _coverage

    a = as_of
    store, source = ds.store, ds.key
    if aggregates_of(store) is None:
        return [_from_ytd(ds, c, a, taxonomy) for c in categories]
    y0, y1 = a.year - 1, a.year
    start, prev_start, prev_end = dt.date(y1, 1, 1), dt.date(y0, 1, 1), same_day_year_ago(a, 1)
    out: list = []
    todo = []  # (index in out, count, days, last year's count, days) of the tests to run
    for c in categories:
        cat = ds.category(c, taxonomy)
        try:
            cov = covered(store, source, cat, start, a)
        except CoverageError as exc:
            out.append(exc)
            continue
        pcov = _coverage.check(store, source, cat, prev_start, prev_end)
        counter = span_counter(store, source, cat)
        restricted = not (cov.full and pcov.full)

        def n(lo, hi):
            if not restricted:
                return counter.count(lo, hi)
            return sum(counter.count(max(h0, lo), min(h1, hi)) for h0, h1 in cov.holds
                       if max(h0, lo) <= min(h1, hi))

        cur = n(start, a)
        last = n(prev_start, prev_end) if pcov.full else None
        avg = None if last is None else float(last)
        comp = {"year": y1, "count": cur, "last_year": last,
                "change_vs_last_year": None if last is None else cur - last,
                "pct_vs_last_year": None if last is None else pct_change(cur, last),
                "avg_previous_years": None if avg is None else round(avg, 2),
                "change_vs_avg": None if avg is None else round(cur - avg, 2),
                "pct_vs_avg": None if avg is None else pct_change(cur, avg),
                "avg_years": [] if avg is None else [y0]}
        missing = {y for y, v in ((y1, cov), (y0, pcov)) if not v.full}
        comp["test_vs_last_year"] = {k: None for k in sig.TEST_COLUMNS}
        if missing:
            comp["test_vs_last_year"]["label"] = sig._not_covered(missing)
        else:
            todo.append((len(out), cur, sig._span_days(start, a), last, sig._span_days(prev_start, prev_end)))
        meta = base_meta(store, cat, source)
        out.append({"label": meta["label"], "unit": meta["unit"], "rule": meta["rule"],
                    "source": meta["source"], "vintage": meta["vintage"], "start": start, "end": a,
                    "prev_start": prev_start, "prev_end": prev_end, "count": cur, "last_year": last,
                    "change": comp["change_vs_last_year"], "pct_change": comp["pct_vs_last_year"],
                    "_comp": comp, "_cat": cat, "_cov": cov, "_pcov": pcov})
    tests = sig.rate_tests(*[[t[j] for t in todo] for j in range(1, 5)]) if todo else []
    for t, test in zip(todo, tests):
        out[t[0]]["_comp"]["test_vs_last_year"] = {k: sig._round(k, v) for k, v in test.as_dict().items()}
    for s in out:
        if isinstance(s, CoverageError):
            continue
        comp, cat, cov, pcov = s.pop("_comp"), s.pop("_cat"), s.pop("_cov"), s.pop("_pcov")
        s["test"] = comp["test_vs_last_year"]
        meta = {"notes": [_ytd_note(comp, a, 1), sig.ytd_test_note(comp, 1), sig.ytd_note(1)]}
        attach(meta, cov)
        if not pcov.full:
            meta["notes"].append(_lacking_note(cat, cov, [y0], [], 1))
        s["notes"] = meta["notes"]
    return out
