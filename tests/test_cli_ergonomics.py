"""The CLI as a reporter reads it: concise defaults that fit the terminal, --all for the long form,
integers as integers, a missing figure explained (issue 16, item 7)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crimescope.cli.main import app


def _run(args, columns="", **kw):
    r = CliRunner().invoke(app, args, env={"COLUMNS": columns, "CRIMESCOPE_STORE": ""}, **kw)
    assert r.exit_code == 0, r.output
    return r.stdout


# -- categories ---------------------------------------------------------------------------------

@pytest.mark.parametrize("columns", [60, 120])
def test_categories_concise_default_fits_the_terminal(columns):
    out = _run(["categories"], str(columns))
    lines = out.splitlines()
    assert max(map(len, lines)) <= columns
    head = lines[0].split()
    assert head[:3] == ["name", "label", "codes"]
    assert ("matches" in head) == (columns >= 80)  # 60 columns: the label is kept readable instead
    assert "definition" not in head and "rule" not in head
    from crimescope.categories import load_taxonomy

    rows = {ln.split()[0]: ln for ln in lines[2:] if ln and not ln.startswith((" ", "-"))}
    for name, cat in load_taxonomy().items():  # every name whole (it is what the user types)
        assert name in rows, name
    # codes, counted by hand from taxonomy.yaml: homicide 0110 0130 0141 0142; gun_violence = homicide
    # (4) + shooting (8 codes); violent_index fbi 01A 02 03 04A 04B
    for name, n in (("homicide", 4), ("shooting", 8), ("gun_violence", 12), ("violent_index", 5)):
        cells = rows[name].split("  ")
        assert str(n) in [c.strip() for c in cells], (name, rows[name])
    if columns >= 80:
        assert "homicide + shooting" in rows["gun_violence"]
        assert "fbi_code 01A, 02, 03, 04A, 04B" in rows["violent_index"]
        assert "iucr 0110, 0130" in rows["murder"]


def test_categories_all_is_the_long_form_wrapped():
    out = _run(["categories", "--all"], "60")
    assert max(map(len, out.splitlines())) <= 60
    from crimescope.categories import load_taxonomy

    shooting = load_taxonomy()["shooting"]
    block = out.split("\n\nshooting  ")[1].split("\n\n")[0]
    assert block.startswith(shooting.label)
    flat = " ".join(block.split())
    for field in ("unit", "rule", "definition", "source"):
        assert f" {field} " in f" {flat} "
    assert " ".join(shooting.definition.split()) in flat and shooting.rule in flat
    # without a terminal: one line per field, nothing wrapped
    wide = _run(["categories", "--all"])
    assert f"  rule        {shooting.rule}" in wide.splitlines()


def test_categories_csv_and_json_keep_every_field():
    js = json.loads(_run(["categories", "--format", "json"], "60"))
    assert set(js["rows"][0]) == {"name", "label", "unit", "rule", "definition", "source"}
    assert js["meta"]["source"] and js["meta"]["rule"]
    csv = _run(["categories", "--format", "csv"], "60")
    assert csv.startswith("# ") and "name,label,unit,rule,definition,source" in csv


def test_matches_text_by_hand():
    from crimescope.categories.taxonomy import Category
    from crimescope.stats.categories_table import matches_text

    c = Category("x", "X", "incidents", iucr=frozenset({"0450", "041A", "041B", "0451", "0480", "0481", "0488"}))
    assert matches_text(c) == "iucr 041A, 041B, 0450, 0451, 0480, 0481 +1 more"
    assert matches_text(c, limit=7) == "iucr 041A, 041B, 0450, 0451, 0480, 0481, 0488"
    both = Category("y", "Y", "records", iucr=frozenset({"0110"}), fbi=frozenset({"03"}))
    assert matches_text(both) == "iucr 0110 + fbi_code 03"
    assert matches_text(Category("z", "Z", "records", include=("homicide", "shooting"))) == "homicide + shooting"
    assert matches_text(Category("a", "A", "incidents", iucr=frozenset({"1010"}), primary_type="ARSON")) == \
        "every ARSON code (iucr)"


def test_records_render_by_hand():
    import pandas as pd

    from crimescope.textable import MISSING, render_records

    df = pd.DataFrame({"name": ["a", "b"], "label": ["A", "B"], "n": [3.0, None],
                       "text": ["one two three four five six", "x"]})
    assert render_records(df, None, title=("label",)).splitlines() == [
        "a  A", "  n     3", "  text  one two three four five six", "",
        "b  B", f"  n     {MISSING}", "  text  x"]
    assert render_records(df, 24, title=("label",)).splitlines()[2:4] == ["  text  one two three", "        four five six"]
