"""Text tables: numbers by column type, missing values as an em dash with a note, fitted widths."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crimescope.result import Result
from crimescope.textable import MISSING, MISSING_NOTE, format_column, render


def test_integers_stay_integers_and_floats_are_short():
    assert format_column([55628.0, 2717.0], "f") == (["55628", "2717"], True)  # populations read as float
    assert format_column([26.7, 0.25, 1 / 3], "f") == (["26.7", "0.25", "0.333"], True)
    assert format_column([3, 40], "i") == (["3", "40"], True)
    assert format_column([1.0, np.nan], "f") == (["1", MISSING], True)
    assert format_column([-0.0001], "f") == (["0"], True)
    assert format_column([math.inf, 2.0], "f") == (["inf", "2"], True)
    assert format_column(["a\nb", None], "O") == (["a b", MISSING], False)
    assert format_column([True, False], "b") == (["yes", "no"], False)


def test_render_by_hand():
    df = pd.DataFrame({"district": [1, 12], "population": [55628.0, np.nan], "share": [26.7, 0.5]})
    text, missing = render(df)
    assert missing
    assert text.splitlines() == [
        "district  population  share",
        "--------  ----------  -----",
        "       1       55628   26.7",
        "      12           \u2014    0.5",
    ]
    out = Result(df, {"title": "t", "unit": "u"}).to_text()
    assert "NaN" not in out and "55628.0" not in out
    assert out.splitlines()[-1] == f"note: {MISSING_NOTE}"
    # no missing value: no note
    assert "note:" not in Result(df.fillna(1.0), {"title": "t"}).to_text()


def test_text_columns_are_shortened_numbers_never():
    df = pd.DataFrame({"name": ["homicide"], "rule": ["iucr in " + ", ".join(f"{i:04d}" for i in range(60))],
                       "events": [123456789]})
    text, _ = render(df, 60)
    lines = text.splitlines()
    assert max(map(len, lines)) <= 60
    assert lines[2].endswith("123456789") and "\u2026" in lines[2] and lines[2].startswith("homicide")
    full, _ = render(df)  # no width: nothing shortened
    assert df["rule"][0] in full


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=30, max_value=140), st.randoms())
def test_every_line_fits_the_width(ncols, width, rnd):
    cols = {}
    for i in range(ncols):
        kind = rnd.choice(["text", "int", "float"])
        if kind == "text":
            cols[f"col_{i}"] = ["x" * rnd.randint(0, 90) for _ in range(5)]
        elif kind == "int":
            cols[f"n{i}"] = [rnd.randint(-10**6, 10**9) for _ in range(5)]
        else:
            cols[f"value_{i}"] = [rnd.choice([np.nan, rnd.uniform(-1e4, 1e4)]) for _ in range(5)]
    df = pd.DataFrame(cols)
    text, _ = render(df, width)
    assert max(len(ln) for ln in text.splitlines()) <= width
    # every number is shown whole when it fits a line of its own with the key column
    for name, col in cols.items():
        if name.startswith("n") and len(str(max(col, key=lambda v: len(str(v))))) + 10 < width:
            for v in col:
                assert str(v) in text


def test_categories_fit_80_columns():
    from crimescope.stats.categories_table import categories_result

    res = categories_result()
    wide = res.to_text()
    assert max(map(len, wide.splitlines())) > 200  # the full table is wide ...
    text = res.to_text(width=80)
    assert max(map(len, text.splitlines())) <= 80  # ... and fits 80 columns when asked
    for name in res.frame()["name"]:
        assert name in text


def _app():
    from crimescope.cli.context import emit

    app = typer.Typer()

    @app.command()
    def show(wide: bool = typer.Option(False, "--wide")):
        from crimescope.stats.categories_table import categories_result

        emit(categories_result(), "table", wide=wide)

    return app


def test_cli_tables_fit_COLUMNS_and_stay_out_of_nothing():
    r = CliRunner().invoke(_app(), [], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    assert max(map(len, r.stdout.splitlines())) <= 80
    # --wide, and a pipe without COLUMNS: every character
    r = CliRunner().invoke(_app(), ["--wide"], env={"COLUMNS": "80"})
    assert max(map(len, r.stdout.splitlines())) > 200
    r = CliRunner().invoke(_app(), [], env={"COLUMNS": ""})
    assert max(map(len, r.stdout.splitlines())) > 200


@pytest.mark.parametrize("width", [40, 80, 120])
def test_table_width_reads_COLUMNS(monkeypatch, width):
    from crimescope.cli.context import table_width

    monkeypatch.setenv("COLUMNS", str(width))
    assert table_width() == width


def test_global_wide_turns_fitting_off(tmp_path):
    from crimescope.cli.main import app

    @app.command("_cats", hidden=True)
    def cats():
        from crimescope.cli.context import emit
        from crimescope.stats.categories_table import categories_result

        emit(categories_result(), "table")

    try:
        store = str(tmp_path / "s.duckdb")
        r = CliRunner().invoke(app, ["--store", store, "_cats"], env={"COLUMNS": "80"})
        assert r.exit_code == 0, r.output
        assert max(map(len, r.stdout.splitlines())) <= 80
        r = CliRunner().invoke(app, ["--store", store, "--wide", "_cats"], env={"COLUMNS": "80"})
        assert max(map(len, r.stdout.splitlines())) > 200
    finally:
        app.registered_commands[:] = [c for c in app.registered_commands if c.name != "_cats"]


def test_dates_and_short_codes_are_never_shortened():
    """A narrow terminal splits a wide table into blocks rather than cut an ISO date or a unit."""
    df = pd.DataFrame({"category": ["gun_violence", "armed_robbery"],
                       "start": ["2017-06-03", "2017-01-01"], "end": ["2017-06-30", "2017-06-30"],
                       "unit": ["incidents", "records"],
                       "label": ["Gun violence (homicide and shooting records)", "Armed robbery with a firearm"],
                       "prev_start": ["2016-06-03", "2016-01-01"], "prev_end": ["2016-06-30", "2016-06-30"]})
    text, _ = render(df, width=40)
    lines = text.splitlines()
    assert max(len(ln) for ln in lines) <= 40
    for d in ("2017-06-03", "2017-06-30", "2016-06-03", "2016-01-01", "incidents"):
        assert d in text
    assert "\u2026" in text  # the long label was shortened, not the dates
