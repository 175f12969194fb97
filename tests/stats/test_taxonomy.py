"""The offense taxonomy: required categories, code rules, user files, errors."""

from __future__ import annotations

import csv

import pytest

from _shared import SHARED, requires_shared
from crimescope.categories import load_taxonomy
from crimescope.errors import CategoryError

REQUIRED = {
    "homicide": {"0110", "0130", "0141", "0142"},
    "murder": {"0110", "0130"},
    "shooting": {"041A", "041B", "0450", "0451", "0480", "0481", "0488", "0489"},
    "gun_assault": {"051A", "051B", "0550", "0551", "0555", "0556"},
    "armed_robbery": {"031A", "031B", "033A", "033B"},
}


def test_required_categories():
    tax = load_taxonomy()
    for name, codes in REQUIRED.items():
        assert set(tax[name].iucr) == codes and not tax[name].fbi, name
    assert set(tax["gun_violence"].iucr) == REQUIRED["homicide"] | REQUIRED["shooting"]
    assert set(tax["violent_index"].fbi) == {"01A", "02", "03", "04A", "04B"}
    assert set(tax["property_index"].fbi) == {"05", "06", "07", "09"}
    assert {"robbery", "gun_possession", "weapons_violation", "battery", "theft", "narcotics"} <= set(tax)
    assert tax["homicide"].unit == "victims" and tax["shooting"].unit == "incidents"
    for c in tax.values():
        assert c.definition and c.source and c.rule, c.name
        assert "description" not in c.rule


@requires_shared
def test_every_listed_iucr_code_is_in_one_primary_type_category():
    tax = load_taxonomy()
    types = [c for c in tax.values() if c.primary_type]
    with open(SHARED / "chicago" / "other" / "iucr_codes.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            code = r["IUCR"].zfill(4)
            owners = [c.name for c in types if code in c.iucr]
            assert len(owners) == 1, (code, owners)


def test_user_file_adds_and_overrides(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text("""
categories:
  carjacking:
    label: Vehicular hijacking
    unit: incidents
    iucr: ["0325", 326]
    definition: Vehicular hijacking and aggravated vehicular hijacking.
    source: CPD IUCR codes
  gun_crime:
    include: [gun_violence, gun_assault]
    unit: records
  murder:
    iucr: ["0110"]
""")
    # a built-in name is refused unless replacing it is asked for (Python API only)
    with pytest.raises(CategoryError, match="'murder' has the name of a built-in category"):
        load_taxonomy([p])
    tax = load_taxonomy([p], override=True)
    assert set(tax["carjacking"].iucr) == {"0325", "0326"}
    assert set(tax["gun_crime"].iucr) == REQUIRED["homicide"] | REQUIRED["shooting"] | REQUIRED["gun_assault"]
    assert set(tax["murder"].iucr) == {"0110"}
    assert set(load_taxonomy()["murder"].iucr) == {"0110", "0130"}  # built-in untouched
    # each user category knows its file; built-in ones have no origin
    assert tax["carjacking"].origin == tax["murder"].origin == str(p)
    assert tax["homicide"].origin is None and load_taxonomy()["murder"].origin is None
    assert tax.origins == ("crimescope/categories/taxonomy.yaml", str(p))


def test_same_name_in_two_user_files(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for f in (a, b):
        f.write_text("categories:\n  mine:\n    iucr: ['0110']\n")
    with pytest.raises(CategoryError, match=f"{b}: category 'mine' is already defined in {a}"):
        load_taxonomy([a, b])


@pytest.mark.parametrize("body, msg", [
    ("categories:\n  x:\n    iucr: ['01100']\n", "bad iucr code"),
    ("categories:\n  x:\n    description_contains: MURDER\n    iucr: ['0110']\n", "unknown keys"),
    ("categories:\n  x:\n    unit: people\n    iucr: ['0110']\n", "unit must be"),
    ("categories:\n  x:\n    include: [y]\n  y:\n    include: [x]\n", "cycle"),
    ("categories:\n  x:\n    label: nothing\n", "no iucr"),
    ("categories:\n  x:\n    include: [nope]\n", "unknown 'nope'"),
    ("- not a mapping\n", "expected a mapping"),
    ("categories: {x: [", "not valid YAML"),
    ("categories:\n  x:\n    iucr: {a: 1}\n", "iucr must be a list"),
    ("categories:\n  homicide:\n    iucr: ['0110']\n", "name of a built-in category"),
])
def test_bad_user_files(tmp_path, body, msg):
    p = tmp_path / "bad.yaml"
    p.write_text(body)
    with pytest.raises(CategoryError, match=msg) as info:
        load_taxonomy([p])
    assert "\n" not in str(info.value) and str(p) in str(info.value)  # one line, naming the file


def test_missing_user_file(tmp_path):
    with pytest.raises(CategoryError, match="does not exist"):
        load_taxonomy([tmp_path / "nope.yaml"])
    with pytest.raises(CategoryError, match="is a directory"):
        load_taxonomy([tmp_path])


def test_known_codes_cover_the_builtin_taxonomy():
    from crimescope.categories import known_codes

    known = known_codes()
    for c in load_taxonomy().values():
        assert c.iucr <= known["iucr"] and c.fbi <= known["fbi"], c.name
    assert {"041A", "0110", "5013"} <= known["iucr"] and "9999" not in known["iucr"]


def test_docs_list_every_category():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "counting.md").read_text(encoding="utf-8")
    for name, c in load_taxonomy().items():
        assert f"| `{name}` | {c.unit} |" in doc, name


def test_public_api_names():
    import crimescope.stats as stats

    for name in stats.__all__:
        assert getattr(stats, name) is not None, name
    assert callable(stats.load_events) and callable(stats.rates_per_100k)


def test_unquoted_codes_are_read_as_written(tmp_path):
    """YAML 1.1 reads 0110 as octal 72 and 0450 as octal 296: codes must keep their text."""
    p = tmp_path / "mine.yaml"
    p.write_text("categories:\n  mine:\n    iucr: [0110, 0450, 0480, 041A, 326]\n    fbi: [04B, 01A]\n")
    mine = load_taxonomy([p])["mine"]
    assert set(mine.iucr) == {"0110", "0450", "0480", "041A", "0326"} and set(mine.fbi) == {"04B", "01A"}


def test_unknown_codes_warn_and_are_kept(tmp_path):
    from crimescope.errors import CategoryWarning

    p = tmp_path / "new.yaml"
    p.write_text("categories:\n  x:\n    iucr: ['0110', '9999']\n    fbi: ['01A', '27']\n", encoding="utf-8")
    with pytest.warns(CategoryWarning) as rec:
        tax = load_taxonomy([p])
    msgs = [str(w.message) for w in rec]
    assert any("unknown iucr code '9999'" in m and str(p) in m for m in msgs)
    assert any("unknown fbi code '27'" in m for m in msgs)
    assert tax["x"].iucr == frozenset({"0110", "9999"}) and tax["x"].fbi == frozenset({"01A", "27"})
