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
    assert render_records(df, 24, title=("label",)).splitlines()[2:4] == ["  text  one two three",
                                                                          "        four five six"]


# -- concentration ------------------------------------------------------------------------------

def test_concentration_tables_by_hand():
    import numpy as np

    from crimescope.cli.spatial import _concentration_tables
    from crimescope.spatial.concentration import concentration

    # 4 cells with 5, 3, 2, 0 events: the top 25% is 1 cell (5/10), the top 50% 2 cells (8/10), the
    # top 10% 0.4 of a cell (0.4 * 5 / 10 = 0.2, the Lorenz curve read inside the busiest cell)
    res = concentration([5, 3, 2, 0], [0.25, 0.5, 0.1])
    top, measures, notes = _concentration_tables(res, "cells")
    assert list(top.columns) == ["top", "cells", "share of events"]
    assert top["cells"].tolist() == [1, 2, 1] and top["cells"].dtype.kind == "i"
    assert np.allclose(top["share of events"], [0.5, 0.8, 0.2])
    assert top["top"].tolist() == ["25%", "50%", "10%"]
    assert measures["measure"].tolist()[:2] == ["cells with at least one event (share)",
                                                "share of cells holding 50% of events"]
    assert measures["value"].iloc[0] == 0.75
    assert any("the top 10% of 4 cells are 0.4 cells" in n for n in notes)
    assert any("less than one of the 4 cells" in n for n in notes)
    whole = _concentration_tables(concentration([5, 3, 2, 0], [0.25, 0.5]), "beats")[2]
    assert whole == []  # whole numbers of units: nothing to explain


def test_concentration_without_events_says_why_nothing_is_defined():
    from crimescope.cli.spatial import _concentration_tables
    from crimescope.spatial.concentration import concentration
    from crimescope.textable import render

    top, measures, notes = _concentration_tables(concentration([0, 0, 0], [0.5]), "beats")
    text = render(top)[0] + render(measures)[0]
    assert "nan" not in text.lower() and "\u2014" in text
    assert any(n.startswith("\u2014 : no events in the period") for n in notes)


def test_stability_names_its_columns_and_why_a_figure_is_missing():
    import pandas as pd

    from crimescope.cli.spatial import _stability_table
    from crimescope.spatial.concentration import top_stability

    # 2016: no events at all; 2017: cells 0 and 1 busiest
    st = top_stability(pd.DataFrame({2016: [0, 0, 0, 0], 2017: [4, 2, 0, 0]}), top=0.5)
    t, notes = _stability_table(st)
    assert list(t.columns) == ["from", "to", "top n", "overlap", "jaccard", "next in top", "spearman"]
    assert t["top n"].tolist() == [2]
    assert any("no unit had an event in 2016" in n for n in notes)
    assert any(n.startswith("\u2014 spearman 2016-2017") for n in notes)
    ok = _stability_table(top_stability(pd.DataFrame({1: [4, 2, 1, 0], 2: [3, 2, 0, 1]}), top=0.5))[1]
    assert len(ok) == 1  # the column legend only


@pytest.fixture(scope="module")
def shootings_store(tmp_path_factory):
    """A store file of hand-written shooting rows: 2016 in districts 1 (x3) and 2 (x1), 2017 in 1 (x2)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "stats"))
    from stats_fixtures import add_batch, insert, row

    from crimescope.store import Store

    path = tmp_path_factory.mktemp("ux") / "shootings.duckdb"
    with Store(path) as s:
        add_batch(s, 1, "hand.csv", "2018-01-10 12:00:00")
        insert(s, [row(1, "2016-03-01 10:00", "041A", district=1), row(2, "2016-04-01 10:00", "041A", district=1),
                   row(3, "2016-05-01 10:00", "0450", district=1), row(4, "2016-06-01 10:00", "041A", district=2),
                   row(5, "2017-03-01 10:00", "041A", district=1), row(6, "2017-04-01 10:00", "041B", district=1)])
    return path


def test_concentration_cli_at_60_columns(shootings_store, tmp_path):
    out = _run(["--store", str(shootings_store), "concentration", "shooting", "--from", "2016-01-01",
                "--to", "2017-12-31", "--units", "district", "--top", "0.1,0.5", "--out", str(tmp_path / "c.json")],
               "60")
    lines = out.splitlines()
    assert max(len(ln) for ln in lines if not ln.startswith("written ")) <= 60, out
    assert "NaN" not in out and "nan" not in out
    # 23 districts in the boundary file (22 stations and 31); 6 events: 5 in district 1, 1 in district 2
    i = lines.index(next(ln for ln in lines if ln.startswith("top ")))
    assert lines[i].split() == ["top", "districts", "share", "of", "events"]
    assert lines[i + 2].split() == ["10%", "3", "1"]  # 2.3 districts: (5 + 1 + 0.3 * 0) of 6 events
    assert lines[i + 3].split() == ["50%", "12", "1"]
    assert "2.3, 11.5 districts, not whole numbers" in " ".join(out.split())
    assert "units. 6 records: 6 placed by area code" in " ".join(out.split())
    # the file keeps the exact figures and the provenance
    js = json.loads((tmp_path / "c.json").read_text())
    assert [r["units"] for r in js["rows"][:2]] == [2.3, 11.5]
    assert js["meta"]["rule"].startswith("shooting: iucr in (") and js["meta"]["vintage"]


def test_thousands_separators_only_where_asked():
    import pandas as pd

    from crimescope.textable import format_column, render

    assert format_column([1234567, 12], "i", True) == (["1,234,567", "12"], True)
    assert format_column([7055.25, 0.5], "f", True) == (["7,055.25", "0.5"], True)
    assert format_column([55628.0], "f", True) == (["55,628"], True)
    assert format_column([1234567], "i") == (["1234567"], True)  # by default: as before
    df = pd.DataFrame({"place": [36988], "expected_harm": [12345.678]})
    assert render(df, thousands=("expected_harm",))[0].splitlines()[2].split() == ["36988", "12,345.678"]


# -- every command's default output on a 60-column terminal ---------------------------------------

@pytest.mark.parametrize("args", [
    ["models"], ["evaluate-methods"], ["reference"], ["categories"], ["categories", "--all"],
    ["info"], ["rejected"],
    ["claim", "--category", "shooting", "--value", "9", "--from", "2016-01-01", "--to", "2016-12-31"],
    ["count", "-c", "shooting", "--from", "2016-01-01", "--to", "2017-12-31", "--by", "district"],
    ["ytd", "-c", "shooting", "--as-of", "2017-06-30"],
    ["compstat", "--as-of", "2017-06-30"],
    ["near-repeat", "shooting", "--from", "2016-01-01", "--to", "2017-12-31", "--permutations", "9"],
], ids=lambda a: " ".join(a[:2]))
def test_default_outputs_fit_60_columns(shootings_store, args):
    r = CliRunner().invoke(app, ["--store", str(shootings_store), *args], env={"COLUMNS": "60"})
    assert r.exit_code in (0, 3), r.output  # reference: 3 when a file is missing
    lines = r.stdout.splitlines()
    assert lines
    long = [ln for ln in lines if len(ln) > 60 and not ln.startswith("reference data under ")]
    assert not long, long
    assert "NaN" not in r.stdout and "55628.0" not in r.stdout
    assert not r.stderr.strip(), r.stderr  # nothing but the figures: no library noise


def test_models_list_wraps_under_its_name_column():
    out = _run(["models"], "60")
    lines = out.splitlines()
    assert lines[0].startswith("naive_52w ") and lines[1].startswith(" " * 21 + "NaiveCounts(")
    assert all(len(ln) <= 60 for ln in lines)
    wide = _run(["models"])  # a pipe: one line per field, as before
    assert any(len(ln) > 100 for ln in wide.splitlines())


def test_wrap_lines_keeps_indents_and_provenance_marks():
    from crimescope.cli.context import wrap_lines

    text = "claim: x\n     [as computed] one two three four five six seven\n# total: alpha beta gamma delta epsilon"
    assert wrap_lines(text, 24).splitlines() == [
        "claim: x", "     [as computed] one", "       two three four", "       five six seven",
        "# total: alpha beta", "#   gamma delta epsilon"]
    assert wrap_lines(text, 0) == text  # no width (a pipe): as it is
    assert wrap_lines("see /a/very/long/path/that/is/one/word", 12).splitlines()[-1] == \
        "  /a/very/long/path/that/is/one/word"  # a path is never broken
