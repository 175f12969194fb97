"""The claim check's snapshot path (``stats._claim_index``) gives what its store path gives.

A store that carries a per-snapshot aggregate (``store.aggregates``, as every generation the
web server reads) answers a claim from the snapshot's structures: the category's current rows
by day and the versions of the ids that have superseded versions. Here every claim is checked
on two read-only connections to the same file, one plain (the store path: one query of every
version of every id in the claim, then pandas) and one with an aggregate, and the checks must
be equal: computed value, difference, verdict, every reading and its value, the records that
changed, the per-batch vintages, coverage, provenance and the text. On the quick-start store
(six yearly files, then the homicide extract 2001-2017 that re-delivers 3,297 homicides) for a
spread of claims of every kind, citywide and by area, refused for coverage or for their unit,
and claims about change; on random claims (hypothesis); and on the hand-made two-extract store
of ``test_claims.py``, whose revisions are hand-computed.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_claims import claim as _claim
from test_claims import reading, two_extracts  # noqa: F401 - the fixture

from crimescope.stats.claims import Claim, ClaimCheck, check_claim, check_claims, parse_claim


def _same_check(a, b) -> None:
    """Two ClaimChecks are equal in every figure, reading, listed change and output."""
    assert (b.computed, b.difference, b.verdict, b.unchecked) == (a.computed, a.difference, a.verdict, a.unchecked)
    assert b.reasons == a.reasons
    assert (b.coverage, b.vintage, b.unit, b.rule, b.category_file) == (a.coverage, a.vintage, a.unit, a.rule,
                                                                       a.category_file)
    for name in ("changes", "vintages"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            pd.testing.assert_frame_equal(y, x, obj=name)
    assert b.meta == a.meta
    assert b.explain() == a.explain()


def _both(pair, claims):
    """The report of ``claims`` from the store path and from the snapshot path, compared."""
    plain, fast = pair
    want, got = check_claims(plain, claims), check_claims(fast, claims)
    for a, b in zip(getattr(want, "checks", []), getattr(got, "checks", [])):
        if isinstance(a, ClaimCheck):
            _same_check(a, b)
    pd.testing.assert_frame_equal(got.table, want.table)
    assert got.meta == want.meta
    assert got.to_dict() == want.to_dict()
    from crimescope.datasets import as_dataset

    assert check_claims(as_dataset(fast), claims).to_dict() == want.to_dict()  # as the web asks (a Dataset)
    return got


SENTENCES = [  # the load benchmark's kinds (benchmarks/bench_web.py CLAIM_NOUNS) and more
    ("762 murders in 2016", None),  # inside the published police count's range (test_published_gap.py)
    ("500 murders in 2016", None),  # outside it
    ("478 murders in 2015", None),  # the published figure of the claim's own year
    ("431 homicides in 2013", None),
    ("3,550 shootings in 2016", None),
    ("9,800 robberies in 2014", None),
    ("451 homicides in 2005", None),  # the homicide extract alone holds 2005
    ("95 murders in 2016 in district 11", None),
    ("110 homicides so far this year", "2017-03-08"),
    ("4,331 shooting victims in 2016", None),  # a unit no category of the store counts
    ("900 robberies in 2005", None),  # refused: the store holds no robbery of 2005
    ("30,000 violent crimes in 2015", None),  # counted by FBI codes (01A: murders among them)
    ("shootings are up 50% so far this year", "2017-06-30"),  # a claim about change, with its test
    ("homicides are down 10% in 2016", None),
]

CLAIMS = [
    Claim("homicide", 50, start="2016-01-01", end="2016-12-31", community_area=25),
    Claim("murder", 20, start="2015-06-01", end="2015-08-31", district=7, community_area=67),
    Claim("homicide", 400, start="2011-06-01", end="2012-06-30"),  # across the first yearly file
    Claim("robbery", 5000, start="2011-07-01", end="2012-06-30"),  # refused: half the period held
    Claim("battery", 100, start="2015-03-01", end="2015-03-31", district=7),
    Claim("shooting", 8, start="2017-12-25", end="2017-12-31", tolerance=2),
    Claim("homicide", 0, start="2030-01-01", end="2030-01-31"),  # refused: nothing held
]


@pytest.mark.parametrize("text, as_of", SENTENCES)
def test_sentences_equal_the_store_path(pair, text, as_of):
    _both(pair, [parse_claim(text, as_of=as_of)])


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.describe())
def test_claims_equal_the_store_path(pair, claim):
    _both(pair, [claim])


def test_the_spread_reaches_every_verdict_and_every_kind_of_change(pair):
    """The claims above are not all alike: between them they give every verdict and list every
    kind of change, so the comparison covers each branch of the check."""
    fast = pair[1]
    checks = [check_claim(fast, parse_claim(t, as_of=a)) for t, a in SENTENCES[:10]]
    checks += [check_claim(fast, c) for c in CLAIMS]
    m = check_claim(fast, parse_claim("762 murders in 2016"))
    checks.append(check_claim(fast, Claim("murder", m.computed, start="2016-01-01", end="2016-12-31")))
    other = [r["value"] for r in m.reasons if r["value"] not in (None, m.computed)]  # e.g. distinct cases
    gap = Claim("murder", other[0], start="2016-01-01", end="2016-12-31")
    checks.append(check_claim(fast, gap))
    _same_check(check_claim(pair[0], gap), checks[-1])
    verdicts = {c.verdict for c in checks}
    assert verdicts == {"matches", "within a known definitional gap", "contradicts",
                        "cannot be checked with this data"}
    kinds = set().union(*(set(c.changes["change"]) for c in checks if c.changes is not None))
    assert kinds == {"revised", "absent from later extract", "added by a later batch"}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cat=st.sampled_from(["homicide", "murder", "shooting", "robbery", "gun_violence", "violent_index"]),
       start=st.dates(dt.date(2000, 6, 1), dt.date(2018, 2, 1)), days=st.integers(0, 500),
       area=st.sampled_from([None, ("district", 11), ("district", 7), ("community_area", 25), ("district", 31)]),
       pick=st.integers(0, 20), tolerance=st.sampled_from([0, 0, 3]))
def test_random_claims_equal_the_store_path(pair, cat, start, days, area, pick, tolerance):
    """The claimed value is one of the check's own readings (or just beside one), so that the
    verdicts vary: matches, a definitional gap, contradicts."""
    plain, fast = pair
    kw = dict(start=start, end=start + dt.timedelta(days=days), tolerance=tolerance,
              **({area[0]: area[1]} if area else {}))
    first = check_claim(fast, Claim(cat, 0, **kw))
    values = sorted({int(r["value"]) for r in first.reasons if r["value"] is not None}) or [0]
    value = values[pick % len(values)] + (pick // len(values)) % 3 - 1
    c = Claim(cat, value, **kw)
    _same_check(check_claim(plain, c), check_claim(fast, c))


# -- hand-made revisions -------------------------------------------------------------------------
class WithAggregate:
    """An in-memory store seen through a snapshot's aggregate (the plain one is the same database)."""

    def __init__(self, store):
        from crimescope.stats._aggregate import Aggregates

        self._store, self.aggregates = store, Aggregates(store)

    def __getattr__(self, name):
        return getattr(self._store, name)


@pytest.fixture
def two_pair(two_extracts):  # noqa: F811 - the fixture imported above
    """The hand-made store of ``test_claims.py``, plain and with an aggregate."""
    return two_extracts, WithAggregate(two_extracts)


@pytest.mark.parametrize("value, cat", [(5, "homicide"), (4, "homicide"), (9, "homicide"), (1, "murder"),
                                        (4, "murder")])
def test_hand_made_revisions_equal_the_store_path(two_pair, value, cat):
    plain, fast = two_pair
    c = _claim(value, cat)
    _same_check(check_claim(plain, c), check_claim(fast, c))


def test_hand_computed_revisions_from_the_snapshot(two_pair):
    """The docstring of ``two_extracts``: now h1-h4, h6 = 5; after batch 1: h1-h5 = 5; batch 2
    alone: h1, h2, h3, h6 = 4; murder now 4; case numbers now 4; h4 absent from batch 2, h5
    re-dated out of the period, h6 first delivered by batch 2."""
    _, fast = two_pair
    c = check_claim(fast, _claim(4))
    assert ("claim_rows", "chicago", "homicide", c.rule) in fast.aggregates._values  # the snapshot path ran
    assert (c.computed, c.verdict) == (5, "within a known definitional gap")
    assert reading(c, "murder vs all homicides")[0]["value"] == 4
    assert reading(c, "victims vs incidents")[0]["value"] == 4
    assert reading(c, "revised records", "after batch 1")[0]["value"] == 5
    assert reading(c, "revised records", "delivered by batch 2")[0]["value"] == 4
    assert c.changes[["id", "change", "batch_id"]].values.tolist() == [
        ["h5", "revised", 2], ["h4", "absent from later extract", 2], ["h6", "added by a later batch", 2]]
    assert c.changes["detail"].tolist()[0] == "date 2017-03-07 21:00:00 -> 2017-03-10 21:00:00; no longer counted"
    assert c.vintages[["batch_id", "as_of_batch", "delivered", "covers_period", "complete_extract"]].values.tolist() \
        == [[1, 5, 5, True, True], [2, 5, 4, True, True]]


@pytest.fixture
def three_pair():
    """Three batches: a 2017 crimes file, then two homicide extracts. Murders of 2017-01-01..03-31:

    m1 0110 01-05 (case K1), batch 1 only: absent from batch 2 and from batch 3 (both deliver January)
    m2 0110 01-10 (case K1, an EXPRESSWAY), delivered unchanged by batches 1, 2 and 3
    m3 0142 02-03 in batch 1, 0110 in batch 2 (now counted), absent from batch 3 (which delivers February)
    m4 0110 03-20, district 1 in batch 1, district 2 in batch 2
    m5 0110 02-20, first delivered by batch 3 (February was first delivered by batch 2: m3)
    m6 0110 03-02 in batch 1, re-dated 04-02 in batch 2 (no longer counted)
    m7 0130 01-15 first delivered by batch 2 (January: batch 1), re-dated 01-16 in batch 3
    """
    from crimescope.store import Store
    from stats_fixtures import add_batch, insert, row

    s = Store(":memory:")
    for b, name, when in ((1, "crimes/2017.csv.gz", "2018-03-01"), (2, "homicides-a.csv.gz", "2019-01-01"),
                          (3, "homicides-b.csv.gz", "2020-01-01")):
        add_batch(s, b, f"/data/{name}", f"{when} 00:00:00+00")
    v = {b: dict(batch_id=b, updated_at=dt.datetime(2017 + b, 2, 1)) for b in (1, 2, 3)}

    def old(b, *a, **kw):
        return row(*a, superseded_by_batch=b + 1, **v[b], **kw)

    hist = [old(1, "m2", "2017-01-10 10:00", "0110", case_number="K1", location_description="DAN RYAN EXPRESSWAY"),
            old(2, "m2", "2017-01-10 10:00", "0110", case_number="K1", location_description="DAN RYAN EXPRESSWAY"),
            old(1, "m3", "2017-02-03 10:00", "0142", case_number="K3"),
            old(1, "m4", "2017-03-20 10:00", "0110", case_number="K4"),
            old(1, "m6", "2017-03-02 10:00", "0110", case_number="K6"),
            old(2, "m7", "2017-01-15 10:00", "0130", case_number="K7")]
    cur = [row("m1", "2017-01-05 10:00", "0110", case_number="K1", **v[1]),
           row("m2", "2017-01-10 10:00", "0110", case_number="K1", location_description="DAN RYAN EXPRESSWAY", **v[3]),
           row("m3", "2017-02-03 10:00", "0110", case_number="K3", **v[2]),
           row("m4", "2017-03-20 10:00", "0110", case_number="K4", district=2, **v[2]),
           row("m5", "2017-02-20 10:00", "0110", case_number="K5", **v[3]),
           row("m6", "2017-04-02 10:00", "0110", case_number="K6", **v[2]),
           row("m7", "2017-01-16 10:00", "0130", case_number="K7", **v[3])]
    insert(s, cur)
    insert(s, hist, table="incident_history")

    yield s, WithAggregate(s)
    s.close()


def test_three_extracts_hand_computed(three_pair):
    """Counted now m1-m5, m7 = 6; after batch 1: m1, m2, m4, m6 = 4 (February not held: no
    vintage reading); after batch 2: m1-m4, m7 = 5; batch 2 alone: m2, m3, m4, m7 = 4; case
    numbers 5 (K1 twice); without the expressway murder 5. Both paths, equal."""
    plain, fast = three_pair
    c = Claim("murder", 5, start="2017-01-01", end="2017-03-31")
    want, got = check_claim(plain, c), check_claim(fast, c)
    _same_check(want, got)
    assert ("claim_rows", "chicago", "murder", got.rule) in fast.aggregates._values  # the snapshot path ran
    assert (got.computed, got.verdict) == (6, "within a known definitional gap")
    assert reading(got, "victims vs incidents")[0]["value"] == 5
    assert reading(got, "murder vs all homicides")[0]["value"] == 6
    assert reading(got, "police-excluded categories")[0]["value"] == 5
    assert not reading(got, "revised records", "after batch 1")
    assert reading(got, "revised records", "after batch 2")[0]["value"] == 5
    assert reading(got, "revised records", "delivered by batch 2")[0]["value"] == 4
    assert reading(got, "revised records", "after batch 3")[0]["value"] == 6
    assert not reading(got, "revised records", "delivered by batch 3")  # not a complete extract (no March)
    assert "2 record(s) re-dated and 2 added" in reading(got, "date of injury vs date of death")[0]["reading"]
    assert got.vintages[["as_of_batch", "delivered", "covers_period", "complete_extract"]].values.tolist() == [
        [4, 4, False, False], [5, 4, True, True], [6, 3, True, False]]
    assert got.changes[["id", "change", "batch_id"]].values.tolist() == [
        ["m3", "revised", 2], ["m6", "revised", 2], ["m7", "revised", 3],
        ["m1", "absent from later extract", 2], ["m1", "absent from later extract", 3],
        ["m3", "absent from later extract", 3],
        ["m7", "added by a later batch", 2], ["m5", "added by a later batch", 3]]
    assert got.changes["detail"].tolist()[:3] == [
        "IUCR 0142 -> 0110; now counted", "date 2017-03-02 10:00:00 -> 2017-04-02 10:00:00; no longer counted",
        "date 2017-01-15 10:00:00 -> 2017-01-16 10:00:00"]
    assert got.changes["origin"].tolist()[5] == "homicides-b.csv.gz"
    assert "last updated 2019-02-01 00:00:00 in homicides-a.csv.gz" in got.changes["detail"].tolist()[5]


def test_three_extracts_by_district(three_pair):
    """District 1: m4 moved to district 2 in batch 2, so it is no longer counted there."""
    plain, fast = three_pair
    c = Claim("murder", 5, start="2017-01-01", end="2017-03-31", district=1)
    want, got = check_claim(plain, c), check_claim(fast, c)
    _same_check(want, got)
    assert got.computed == 5 and got.verdict == "matches"
    assert ["m4", "revised", 2, "no longer counted"] in got.changes[["id", "change", "batch_id", "detail"]].values.tolist()
    for cat, value in (("homicide", 6), ("murder", 0)):
        c = Claim(cat, value, start="2017-01-01", end="2017-02-28", community_area=1)
        _same_check(check_claim(plain, c), check_claim(fast, c))


def test_an_older_version_delivered_later_is_not_absent():
    """A batch that re-delivers an id in an older version (kept as superseded, the current row
    stays with its earlier batch) did contain the id: it is not listed as absent from that batch."""
    from crimescope.store import Store
    from stats_fixtures import add_batch, insert, row

    s = Store(":memory:")
    add_batch(s, 1, "/data/crimes/2017.csv.gz", "2018-03-01 00:00:00+00")
    add_batch(s, 2, "/data/homicides.csv.gz", "2019-01-01 00:00:00+00")
    insert(s, [row("a1", "2017-02-10 10:00", "0110", case_number="A1", batch_id=1,
                   updated_at=dt.datetime(2018, 2, 1)),
               row("a2", "2017-02-11 10:00", "0110", case_number="A2", batch_id=2,
                   updated_at=dt.datetime(2018, 12, 1))])
    insert(s, [row("a1", "2017-02-10 10:00", "0110", case_number="A1", batch_id=2, superseded_by_batch=2,
                   updated_at=dt.datetime(2017, 3, 1))], table="incident_history")
    c = Claim("murder", 2, start="2017-02-01", end="2017-02-28")
    try:
        want, got = check_claim(s, c), check_claim(WithAggregate(s), c)
        _same_check(want, got)
        assert got.verdict == "matches"
        assert got.changes[["id", "change"]].values.tolist() == [["a2", "added by a later batch"]]
    finally:
        s.close()


def test_the_snapshot_path_raises_no_warning(three_pair):
    """As tests/test_warnings.py for the store path: no deprecation (pandas, Arrow, NumPy) of ours."""
    import warnings

    _, fast = three_pair
    fast.ibis()  # the Ibis table lookup (its schema read warns upstream, filtered in pyproject)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_claims(fast, [Claim("murder", 5, start="2017-01-01", end="2017-03-31", district=1),
                            Claim("homicide", 6, start="2017-01-01", end="2017-03-31")])
