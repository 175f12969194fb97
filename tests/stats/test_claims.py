"""Claim check: verdicts and explanations on a hand-made two-extract store, sentences, YAML."""

from __future__ import annotations

import datetime as dt

import pytest

from crimescope.errors import ParameterError
from crimescope.stats.claims import Claim, check_claim, check_claims, claims_from_yaml, parse_claim
from crimescope.store import Store
from stats_fixtures import add_batch, insert, row

U1, U2 = dt.datetime(2018, 2, 1), dt.datetime(2022, 12, 1)


@pytest.fixture
def two_extracts():
    """Batch 1 (a 2018 crimes extract) and batch 2 (a later homicide-only extract).

    h1, h2 (same case K1), h3: 0110, re-delivered unchanged in batch 2
    h4: 0142 reckless homicide, absent from batch 2 (still counted from batch 1)
    h5: 0110 dated 2017-03-07 in batch 1, re-dated 2017-03-10 in batch 2
    h6: 0110 dated 2017-02-01, first delivered by batch 2
    Period 2017-01-01..2017-03-08: now h1-h4, h6 = 5; after batch 1: h1-h5 = 5;
    batch 2 alone: h1, h2, h3, h6 = 4; murder now: 4; case numbers now: 4.
    """
    s = Store(":memory:")
    add_batch(s, 1, "/data/crimes/2017.csv.gz", "2018-03-01 00:00:00+00")
    add_batch(s, 2, "/data/homicides-2001-2017.csv.gz", "2023-01-01 00:00:00+00")
    first = dict(updated_at=U1, batch_id=1)
    later = dict(updated_at=U2, batch_id=2)
    base = {"h1": ("2017-01-05 10:00", "K1"), "h2": ("2017-01-05 10:00", "K1"), "h3": ("2017-02-10 22:00", "K3")}
    hist, cur = [], []
    for i, (ts, case) in base.items():
        hist.append(row(i, ts, "0110", case_number=case, superseded_by_batch=2, **first))
        cur.append(row(i, ts, "0110", case_number=case, **later))
    cur.append(row("h4", "2017-01-18 12:30", "0142", case_number="K4", **first))
    hist.append(row("h5", "2017-03-07 21:00", "0110", case_number="K5", superseded_by_batch=2, **first))
    cur.append(row("h5", "2017-03-10 21:00", "0110", case_number="K5", **later))
    cur.append(row("h6", "2017-02-01 03:00", "0110", case_number="K6", **later))
    insert(s, cur)
    insert(s, hist, table="incident_history")
    yield s
    s.close()


def claim(v, cat="homicide"):
    return Claim(cat, v, start="2017-01-01", end="2017-03-08")


def reading(check, reason, contains=""):
    return [r for r in check.reasons if r["reason"] == reason and contains in r["reading"]]


def test_matching_claim(two_extracts):
    c = check_claim(two_extracts, claim(5))
    assert (c.computed, c.difference, c.verdict) == (5, 0, "matches")


def test_gap_explained_by_later_extract_and_murder(two_extracts):
    c = check_claim(two_extracts, claim(4))
    assert c.computed == 5 and c.difference == -1
    assert c.verdict == "within a known definitional gap"
    assert reading(c, "murder vs all homicides")[0]["value"] == 4
    assert reading(c, "victims vs incidents")[0]["value"] == 4  # K1 has two victims
    assert reading(c, "revised records", "after batch 1")[0]["value"] == 5
    alone = reading(c, "revised records", "delivered by batch 2")[0]
    assert alone["value"] == 4 and alone["matches_claim"]
    ch = {(r.id, r.change): r.detail for r in c.changes.itertuples(index=False)}
    assert "IUCR 0142 reckless homicide" in ch[("h4", "absent from later extract")]
    assert "date 2017-03-07 21:00:00 -> 2017-03-10 21:00:00" in ch[("h5", "revised")]
    assert "no longer counted" in ch[("h5", "revised")]
    assert ("h6", "added by a later batch") in ch
    text = c.explain()
    assert "h4" in text and "homicides-2001-2017.csv.gz" in text and "WITHIN A KNOWN DEFINITIONAL GAP" in text


def test_contradicting_claim(two_extracts):
    assert check_claim(two_extracts, claim(9)).verdict == "contradicts"
    assert check_claim(two_extracts, claim(1, "murder")).verdict == "contradicts"


def test_tolerance_and_district(two_extracts):
    assert check_claim(two_extracts, Claim("homicide", 6, start="2017-01-01", end="2017-03-08",
                                           tolerance=1)).verdict == "matches"
    c = check_claim(two_extracts, Claim("homicide", 5, start="2017-01-01", end="2017-03-08", district=1))
    assert c.computed == 5  # all rows are in district 1
    c = check_claim(two_extracts, Claim("homicide", 0, start="2017-01-01", end="2017-03-08", district=2))
    assert (c.computed, c.verdict) == (0, "matches")


def test_report_outputs(two_extracts):
    rep = check_claims(two_extracts, [claim(5), claim(4)])
    assert rep.table["verdict"].tolist() == ["matches", "within a known definitional gap"]
    assert rep.to_csv().startswith("# claim check")
    d = rep.to_dict()
    assert d["checks"][1]["changes"] and d["meta"]["vintage"]["batches"] == 2


@pytest.mark.parametrize("text, as_of, expect", [
    ("110 homicides so far this year", "2017-03-08", ("homicide", 110, dt.date(2017, 1, 1), dt.date(2017, 3, 8))),
    ("762 murders in 2016", None, ("murder", 762, dt.date(2016, 1, 1), dt.date(2016, 12, 31))),
    ("There have been 4,331 shooting victims in 2016.", None,
     ("shooting", 4331, dt.date(2016, 1, 1), dt.date(2016, 12, 31))),
    ("12 robberies from 2017-01-01 to 2017-01-31", None,
     ("robbery", 12, dt.date(2017, 1, 1), dt.date(2017, 1, 31))),
    ("300 homicides in 2017", "2017-06-30", ("homicide", 300, dt.date(2017, 1, 1), dt.date(2017, 6, 30))),
])
def test_parse_claim(text, as_of, expect):
    c = parse_claim(text, as_of=as_of)
    assert (c.category, c.value, *c.period()) == expect


def test_parse_claim_errors():
    with pytest.raises(ParameterError, match="--as-of"):
        parse_claim("110 homicides so far this year")
    with pytest.raises(ParameterError, match="cannot read"):
        parse_claim("homicides are up")
    with pytest.raises(ParameterError, match="no category"):
        parse_claim("5 parking tickets in 2016")


def test_claims_yaml(tmp_path, two_extracts):
    p = tmp_path / "claims.yaml"
    p.write_text("""
claims:
  - {category: homicide, value: 4, from: 2017-01-01, to: 2017-03-08}
  - {text: "5 homicides so far this year", as_of: 2017-03-08}
""")
    cs = claims_from_yaml(p)
    assert [c.value for c in cs] == [4, 5]
    rep = check_claims(two_extracts, cs)
    assert rep.table["verdict"].tolist() == ["within a known definitional gap", "matches"]
    p.write_text("- {category: homicide, value: 1, when: today}\n")
    with pytest.raises(ParameterError, match="unknown keys"):
        claims_from_yaml(p)


def test_claim_field_validation():
    assert Claim("homicide", "1,580", start="2016-01-01", end="2016-12-31").value == 1580
    with pytest.raises(ParameterError, match="not a number"):
        Claim("homicide", "many", start="2016-01-01", end="2016-12-31")
    with pytest.raises(ParameterError, match="not an integer"):
        Claim("homicide", 3, start="2016-01-01", end="2016-12-31", district="north")
    with pytest.raises(ParameterError, match="--from and --to"):
        Claim("homicide", 3, start="2016-01-01").period()
