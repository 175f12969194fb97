"""The record types of several categories found in one scan equal one query per category."""

from __future__ import annotations

import pytest

from crimescope.categories import get_category, load_taxonomy
from crimescope.store import coverage
from crimescope.store.coverage import category_spans, prefetch_category_types


def _types_one_by_one(con, source, cat):
    # the reference, written out: the primary types of every stored version matching the category
    conds = []
    if cat.iucr:
        conds.append("iucr IN (" + ", ".join(f"'{c}'" for c in sorted(cat.iucr)) + ")")
    if cat.fbi:
        conds.append("fbi_code IN (" + ", ".join(f"'{c}'" for c in sorted(cat.fbi)) + ")")
    q = ("SELECT DISTINCT coalesce(primary_type, '') FROM (SELECT source, primary_type, iucr, fbi_code "
         "FROM incidents UNION ALL SELECT source, primary_type, iucr, fbi_code FROM incident_history) "
         f"WHERE source = '{source}' AND ({' OR '.join(conds)})")
    return frozenset(r[0] for r in con.execute(q).fetchall())


def _categories():
    tax = load_taxonomy()
    # CompStat's seven, an FBI-code category, the wide indexes and a few primary types
    names = ["homicide", "shooting", "gun_violence", "armed_robbery", "robbery", "violent_index",
             "property_index", "murder", "gun_assault", "gun_possession", "battery", "narcotics"]
    return [get_category(n, tax) for n in names if n in tax]


def test_prefetched_types_equal_one_query_each_on_the_real_store(chicago_store):
    cats = _categories()
    assert any(c.fbi for c in cats) and any(c.iucr for c in cats)
    coverage._CACHE.pop(chicago_store, None)
    prefetch_category_types(chicago_store, "chicago", cats)
    for c in cats:
        got = coverage._category_types(chicago_store, "chicago", c)  # read from the memo just filled
        assert got == _types_one_by_one(chicago_store.con, "chicago", c), c.name
        assert got  # every one of these is held in 2012-2017
    # and the spans built on them are those of a store that never prefetched
    before = {c.name: category_spans(chicago_store, "chicago", c) for c in cats}
    coverage._CACHE.pop(chicago_store, None)
    assert {c.name: category_spans(chicago_store, "chicago", c) for c in cats} == before


def test_prefetch_reads_nothing_for_one_category_and_fills_the_memo(tiny):
    cats = _categories()[:3]
    coverage._CACHE.pop(tiny, None)
    prefetch_category_types(tiny, "chicago", cats[:1])  # one category: left to the usual query
    assert all(k[0] != "types" for k in coverage._CACHE.get(tiny, {}) if isinstance(k, tuple))
    prefetch_category_types(tiny, "chicago", cats)
    keys = {k for k in coverage._CACHE[tiny] if isinstance(k, tuple) and k[0] == "types"}
    assert keys == {("types", "chicago", c.rule) for c in cats}
    for c in cats:
        assert coverage._category_types(tiny, "chicago", c) == _types_one_by_one(tiny.con, "chicago", c)


def test_prefetch_of_another_source_finds_no_types(tiny):
    cats = _categories()[:3]
    coverage._CACHE.pop(tiny, None)
    prefetch_category_types(tiny, "nowhere", cats)
    for c in cats:
        assert coverage._category_types(tiny, "nowhere", c) == frozenset()


@pytest.mark.parametrize("n", [2, 5])
def test_compstat_is_unchanged_by_the_prefetch(chicago_store, n, monkeypatch):
    from crimescope.stats.periods import compstat

    names = ["homicide", "shooting", "robbery", "gun_violence", "armed_robbery"][:n]
    coverage._CACHE.pop(chicago_store, None)
    with_prefetch = compstat(chicago_store, "2017-03-08", categories=names).table
    coverage._CACHE.pop(chicago_store, None)
    monkeypatch.setattr(coverage, "prefetch_category_types", lambda *a, **k: None)
    without = compstat(chicago_store, "2017-03-08", categories=names).table
    assert with_prefetch.equals(without)


def test_prefetch_scans_nothing_when_the_types_are_held(tiny, monkeypatch):
    # a served snapshot warms every category's types: CompStat's prefetch must not scan again
    cats = _categories()[:4]
    coverage._CACHE.pop(tiny, None)
    prefetch_category_types(tiny, "chicago", cats)
    before = {c.rule: coverage._category_types(tiny, "chicago", c) for c in cats}

    def no_scan(_cats):
        raise AssertionError("scanned for types already held")

    monkeypatch.setattr(coverage, "_codes_where", no_scan)
    prefetch_category_types(tiny, "chicago", cats)
    assert {c.rule: coverage._category_types(tiny, "chicago", c) for c in cats} == before


def test_prefetch_on_a_snapshot_aggregate_skips_held_types(chicago_store, monkeypatch):
    from crimescope.stats._aggregate import Aggregates

    cats = _categories()[:3]
    agg = Aggregates(chicago_store)
    monkeypatch.setattr("crimescope.stats._aggregate.aggregates_of", lambda store: agg)
    for c in cats:  # what the server's warming memoises
        coverage._category_types(chicago_store, "chicago", c)
    assert all(agg.has(("coverage", "types", "chicago", c.rule)) for c in cats)
    monkeypatch.setattr(coverage, "_codes_where", lambda _cats: (_ for _ in ()).throw(AssertionError("scanned")))
    prefetch_category_types(chicago_store, "chicago", cats)

