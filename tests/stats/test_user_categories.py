"""A user category file (``--categories-file``) on every counting command that takes a
category: the figure equals a direct SQL count over the same codes and dates on the
shared Chicago store, and the rule names the file; the file's errors are one line and
exit status 2. Also: ``ytd --by`` shows the average of the previous years in every format.

The expectations are written here in SQL against the store's ``incidents`` table,
independently of the Ibis query layer.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest

from _shared import requires_shared
from crimescope.cli.main import main
from crimescope.errors import CategoryError

pytestmark = [requires_shared, pytest.mark.shared]

NAME = "handgun_battery"
CODES = ("041A", "0450", "0480")  # aggravated battery with a handgun (incl. police, protected employee)
IN = "(" + ", ".join(f"'{c}'" for c in CODES) + ")"
RULE = f"{NAME}: iucr in ({', '.join(CODES)})"


@pytest.fixture
def user_file(tmp_path):
    p = tmp_path / "my_categories.yaml"
    p.write_text(f"""
categories:
  {NAME}:
    label: Handgun aggravated battery
    unit: incidents
    iucr: [{', '.join(CODES)}]
    definition: Aggravated battery with a handgun, our own narrower reading of 'shooting'.
""", encoding="utf-8")
    return p


def sql(store, d0, d1, group=None, what="count(*)"):
    """Rows of the user codes whose local calendar date lies in [d0, d1] (inclusive)."""
    g = f"{group}, " if group else ""
    q = (f"SELECT {g}{what} FROM incidents WHERE source = 'chicago' AND iucr IN {IN} "
         f"AND CAST(occurred_local AS DATE) BETWEEN DATE '{d0}' AND DATE '{d1}'")
    if group:
        return {r[0]: r[1] for r in store.con.execute(q + f" GROUP BY {group}").fetchall()}
    return store.con.execute(q).fetchone()


def cli(capsys, store_path, *args):
    """Run the real entry point; returns (exit status, stdout, stderr)."""
    rc = main(["--store", str(store_path), *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def names_file(text: str, path, prefix: str = "") -> bool:
    """The rule, on one line, names the user file."""
    return f"{prefix}{RULE} (user category defined in {path})" in text


def test_count(chicago_store, chicago_store_path, user_file, capsys):
    rc, out, err = cli(capsys, chicago_store_path, "count", "-c", NAME, "--from", "2016-01-01",
                       "--to", "2016-12-31", "--by", "district", "--categories-file", str(user_file),
                       "--format", "csv")
    assert rc == 0, err
    assert names_file(out, user_file, "\n# rule: ")
    df = pd.read_csv(io.StringIO(out), comment="#")
    exp = sql(chicago_store, "2016-01-01", "2016-12-31", "district")
    assert {(None if pd.isna(d) else int(d)): int(n) for d, n in zip(df["district"], df["count"])} == exp
    assert sum(exp.values()) > 100  # the codes are in the data: the comparison says something
    rc, out, _ = cli(capsys, chicago_store_path, "count", "-c", NAME, "--from", "2016-01-01",
                     "--to", "2016-12-31", "--categories-file", str(user_file), "--format", "json")
    meta = json.loads(out)["meta"]
    assert meta["category_file"] == str(user_file) and str(user_file) in meta["category_source"]
    assert json.loads(out)["rows"][0]["count"] == sql(chicago_store, "2016-01-01", "2016-12-31")[0]


def test_ytd(chicago_store, chicago_store_path, user_file, capsys):
    rc, out, err = cli(capsys, chicago_store_path, "ytd", "-c", NAME, "--as-of", "2016-07-04", "--years", "2",
                       "--categories-file", str(user_file), "--format", "json")
    assert rc == 0, err
    d = json.loads(out)
    assert names_file(d["meta"]["rule"], user_file) and d["meta"]["category_file"] == str(user_file)
    got = {r["year"]: r["count"] for r in d["rows"]}
    assert got == {y: sql(chicago_store, f"{y}-01-01", f"{y}-07-04")[0] for y in (2014, 2015, 2016)}
    assert d["meta"]["comparison"][0]["avg_previous_years"] == round((got[2014] + got[2015]) / 2, 2)
    # the table names the file too, on one line
    rc, out, _ = cli(capsys, chicago_store_path, "ytd", "-c", NAME, "--as-of", "2016-07-04", "--years", "2",
                     "--categories-file", str(user_file))
    assert rc == 0 and names_file(out, user_file, "\nrule: ")


def test_compstat(chicago_store, chicago_store_path, user_file, capsys):
    rc, out, err = cli(capsys, chicago_store_path, "compstat", "--as-of", "2017-03-08", "--by", "none",
                       "-c", NAME, "-c", "homicide", "--categories-file", str(user_file), "--format", "json")
    assert rc == 0, err
    d = json.loads(out)
    assert names_file(d["meta"]["rule"], user_file)
    assert d["meta"]["rule"].endswith("; homicide: iucr in (0110, 0130, 0141, 0142)")  # built-in: no file
    assert d["meta"]["category_files"] == {NAME: str(user_file)}
    spans = {"week": ("2017-03-02", "2017-03-08", "2016-03-02", "2016-03-08"),
             "28d": ("2017-02-09", "2017-03-08", "2016-02-10", "2016-03-08"),
             "ytd": ("2017-01-01", "2017-03-08", "2016-01-01", "2016-03-08")}
    rows = {r["period"]: r for r in d["rows"] if r["category"] == NAME}
    for period, (s, e, ps, pe) in spans.items():
        assert rows[period]["count"] == sql(chicago_store, s, e)[0], period
        assert rows[period]["prev_count"] == sql(chicago_store, ps, pe)[0], period


def test_rates(chicago_store, chicago_store_path, user_file, capsys):
    rc, out, err = cli(capsys, chicago_store_path, "rates", "-c", NAME, "--from", "2016-01-01",
                       "--to", "2016-12-31", "--by", "citywide", "--categories-file", str(user_file),
                       "--format", "csv")
    assert rc == 0, err
    assert names_file(out, user_file, "\n# rule: ")
    df = pd.read_csv(io.StringIO(out), comment="#")
    n = sql(chicago_store, "2016-01-01", "2016-12-31")[0]
    assert df["count"].tolist() == [n]
    assert df["rate_per_100k"].iloc[0] == pytest.approx(n / 2_746_388 * 100_000, abs=0.01)  # 2020 census


def test_arrests(chicago_store, chicago_store_path, user_file, capsys):
    rc, out, err = cli(capsys, chicago_store_path, "arrests", "-c", NAME, "--from", "2015-01-01",
                       "--to", "2015-12-31", "--categories-file", str(user_file), "--format", "json")
    assert rc == 0, err
    d = json.loads(out)
    assert names_file(d["meta"]["rule"], user_file)
    n, arrested = sql(chicago_store, "2015-01-01", "2015-12-31",
                      what="count(*), count(*) FILTER (WHERE arrest)")
    assert (d["rows"][0]["count"], d["rows"][0]["arrests"]) == (n, arrested)


def test_claim(chicago_store, chicago_store_path, user_file, capsys):
    n = sql(chicago_store, "2017-01-01", "2017-03-08")[0]
    args = ["claim", "-c", NAME, "--value", str(n), "--from", "2017-01-01", "--to", "2017-03-08",
            "--categories-file", str(user_file)]
    rc, out, err = cli(capsys, chicago_store_path, *args, "--format", "json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["rows"][0]["computed"] == n and d["rows"][0]["verdict"] == "matches"
    assert names_file(d["meta"]["rule"], user_file) and d["checks"][0]["category_file"] == str(user_file)
    rc, out, _ = cli(capsys, chicago_store_path, *args)
    assert rc == 0 and f"user category defined in {user_file}" in out and "verdict: MATCHES" in out
    # a claims file and a sentence use the user taxonomy too
    claims = user_file.parent / "claims.yaml"
    claims.write_text(f"claims:\n  - {{text: '{n} handgun battery so far this year', as_of: 2017-03-08}}\n")
    rc, out, err = cli(capsys, chicago_store_path, "claim", "--file", str(claims),
                       "--categories-file", str(user_file), "--format", "json")
    assert rc == 0, err
    assert json.loads(out)["rows"][0]["verdict"] == "matches"


# -- errors: one line on stderr, exit status 2 (CategoryError), before the store is read --

COMMANDS = {
    "count": ["count", "--from", "2016-01-01", "--to", "2016-12-31"],
    "ytd": ["ytd", "--as-of", "2016-07-04"],
    "compstat": ["compstat", "--as-of", "2016-07-04"],
    "rates": ["rates", "--from", "2016-01-01", "--to", "2016-12-31"],
    "arrests": ["arrests", "--from", "2016-01-01", "--to", "2016-12-31"],
    "claim": ["claim", "--value", "1", "--from", "2016-01-01", "--to", "2016-12-31"],
}
BAD = {
    "missing file": (None, "does not exist"),
    "bad yaml": ("categories: {mine: [\n", "not valid YAML"),
    "built-in name": ("categories:\n  shooting:\n    iucr: ['041A']\n", "name of a built-in category"),
    "bad iucr": ("categories:\n  mine:\n    iucr: ['041A', '04150']\n", "bad iucr code '04150'"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(BAD))
def test_category_file_errors(tmp_path, capsys, command, case):
    body, msg = BAD[case]
    p = tmp_path / "cats.yaml"
    if body is not None:
        p.write_text(body, encoding="utf-8")
    category = "shooting" if case == "built-in name" else "mine"
    rc, out, err = cli(capsys, tmp_path / "no-store.duckdb", *COMMANDS[command], "-c", category,
                       "--categories-file", str(p))
    assert rc == CategoryError.exit_code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert msg in lines[0] and str(p) in lines[0], lines[0]


def test_unknown_code_is_counted_with_a_warning(tmp_path, capsys, chicago_store_path):
    """A well-formed code crimescope does not know (a typo, or one the CPD added later) is a warning."""
    p = tmp_path / "cats.yaml"
    p.write_text("categories:\n  mine:\n    iucr: ['041A', '9999']\n    fbi: ['04C']\n", encoding="utf-8")
    rc, out, err = cli(capsys, chicago_store_path, *COMMANDS["count"], "-c", "mine", "--categories-file", str(p))
    assert rc == 0 and out
    warned = [line for line in err.strip().splitlines() if line.startswith("warning: ")]
    assert len(warned) == 2 and "unknown iucr code '9999'" in warned[0] and str(p) in warned[0]
    assert "unknown fbi code '04C'" in warned[1]


def test_unknown_category_with_a_user_file(tmp_path, capsys, user_file):
    rc, _, err = cli(capsys, tmp_path / "no-store.duckdb", "ytd", "-c", "handgun", "--categories-file",
                     str(user_file))
    assert rc == 2 and "unknown category 'handgun'" in err and NAME in err


# -- ytd --by: the average of the previous years in the table, the CSV and the JSON --

def _rich_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and body cells of a text table printed by the CLI (column spans from its dashed rule)."""
    import re

    lines = text.splitlines()
    k = next(i for i, ln in enumerate(lines) if ln and set(ln) <= {"-", " "})
    spans = [m.span() for m in re.finditer(r"-+", lines[k])]
    end = next((i for i in range(k + 1, len(lines)) if not lines[i].strip()), len(lines))

    def cells(ln):
        return [ln[a:b].strip() for a, b in spans]

    return cells(lines[k - 1]), [cells(ln) for ln in lines[k + 1:end]]


def test_ytd_by_district_average_in_every_format(chicago_store_path, capsys):
    args = ["ytd", "-c", "shooting", "--as-of", "2016-07-04", "--years", "3", "--by", "district"]
    rc, out, err = cli(capsys, chicago_store_path, *args, "--format", "json")
    assert rc == 0, err
    comparison = json.loads(out)["meta"]["comparison"]
    expected = {c["district"]: c["avg_previous_years"] for c in comparison}
    assert len(expected) > 20 and all(v is not None for v in expected.values())

    rc, out, _ = cli(capsys, chicago_store_path, *args)
    assert rc == 0
    header, body = _rich_rows(out)
    assert "avg_previous_years" in header
    iy, idist, iavg = header.index("year"), header.index("district"), header.index("avg_previous_years")
    shown = {(int(r[idist]) if r[idist] not in ("", "\u2014") else None): float(r[iavg])
             for r in body if r[iy] == "2016"}
    assert shown == expected
    assert all(r[iavg] == "\u2014" for r in body if r[iy] != "2016")  # only on the as-of year's rows

    rc, out, _ = cli(capsys, chicago_store_path, *args, "--format", "csv")
    df = pd.read_csv(io.StringIO(out), comment="#")
    cur = df[df["year"] == 2016]
    assert {(None if pd.isna(d) else int(d)): a for d, a in zip(cur["district"], cur["avg_previous_years"])} \
        == expected
    assert df.loc[df["year"] != 2016, "avg_previous_years"].isna().all()


def test_ytd_average_column_hand_counts(chicago_store):
    """The column against SQL for two districts (mean of the three previous years' spans)."""
    from crimescope.stats import ytd

    t = ytd(chicago_store, "shooting", "2016-07-04", years=3, by="district").table
    codes = "('041A','041B','0450','0451','0480','0481','0488','0489')"
    for d in (7, 11):
        prev = [chicago_store.con.execute(
            f"SELECT count(*) FROM incidents WHERE source = 'chicago' AND iucr IN {codes} AND district = {d} "
            f"AND CAST(occurred_local AS DATE) BETWEEN DATE '{y}-01-01' AND DATE '{y}-07-04'").fetchone()[0]
            for y in (2013, 2014, 2015)]
        row = t[(t["year"] == 2016) & (t["district"] == d)]
        assert row["avg_previous_years"].item() == round(sum(prev) / 3, 2), d
    assert dt.date(2016, 7, 4) in set(t["end"])


def test_spatial_and_forecast_commands_take_user_categories(chicago_store, chicago_store_path, user_file,
                                                            tmp_path, capsys):
    """`concentration`, `hotspots` and `forecast` read a user category: the events are the SQL rows of
    its codes, and the `# rule:` line names the file."""
    common = ["-c", NAME, "--from", "2016-06-01", "--to", "2016-08-31", "--categories-file", str(user_file)]
    rc, out, err = cli(capsys, chicago_store_path, "concentration", *common, "--units", "district")
    assert rc == 0, err
    assert names_file(out, user_file, "# rule: ")
    located = sql(chicago_store, "2016-06-01", "2016-08-31", what="count(*) FILTER (WHERE x IS NOT NULL AND x > 0)")
    records = sql(chicago_store, "2016-06-01", "2016-08-31")[0]
    assert f"district units. {records:,} records:" in out, out

    rc, out, err = cli(capsys, chicago_store_path, "hotspots", *common, "--out", str(tmp_path / "h.csv"))
    assert rc == 0, err
    assert names_file(out, user_file, "# rule: ")
    h = pd.read_csv(tmp_path / "h.csv", comment="#")
    assert int(h["count"].sum()) == located[0]

    rc, out, err = cli(capsys, chicago_store_path, "forecast", "--model", "naive_all", "--category", NAME,
                       "--categories-file", str(user_file), "--as-of", "2017-01-02", "--cell", "2000ft",
                       "--out", str(tmp_path / "f.csv"))
    assert rc == 0, err
    assert names_file(out, user_file, "# rule: ")
    f = pd.read_csv(tmp_path / "f.csv", comment="#")
    # a registry model's total is the seasonal citywide level of the category's located history
    # before 2017-01-02 (crimescope.forecast.base.citywide_level)
    import numpy as np

    from crimescope.forecast.base import citywide_level, to_days

    when = chicago_store.con.execute(
        f"SELECT occurred_local FROM incidents WHERE iucr IN {IN} AND x > 0 "
        "AND occurred_local < TIMESTAMP '2017-01-02' ORDER BY occurred_local").df()["occurred_local"]
    t = np.sort(np.asarray(to_days(when.to_numpy("datetime64[ns]")), dtype=float))
    want = citywide_level(t, float(to_days(np.datetime64("2017-01-02"))), 7.0)
    assert f["expected"].sum() == pytest.approx(want, rel=0.02)
