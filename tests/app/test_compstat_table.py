"""``crimescope compstat``: the table is concise by default (citywide plus the cells beyond normal
variation, and a line saying how many rows it leaves out); ``--all`` and CSV/JSON give every row."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from crimescope.app.counting import compstat_table
from crimescope.stats.provenance import StatResult


def _res(flags):
    rows = [{"category": "homicide", "area": "citywide", "district": None, "period": p, "count": 3, "flagged": False}
            for p in ("week", "28d", "ytd")]
    rows += [{"category": "homicide", "area": "district", "district": d, "period": "ytd", "count": d, "flagged": f}
             for d, f in flags]
    return StatResult(pd.DataFrame(rows), {"title": "CompStat", "notes": ["n"]})


def test_concise_keeps_citywide_and_flagged_rows():
    res = _res([(1, False), (2, True), (3, False), (4, None)])  # None: not tested (no record in either span)
    short = compstat_table(res, {"all": False})
    assert list(short.table["area"]) == ["citywide"] * 3 + ["district"]
    assert short.table["district"].tolist()[-1] == 2
    assert short.meta["notes"][0] == "n"  # the result's own notes are kept, the new line added
    assert "the 1 district rows beyond normal variation; 3 district rows within normal variation are left out" \
        in short.meta["notes"][-1]
    assert res.meta["notes"] == ["n"]  # the full result is not changed
    assert compstat_table(res, {"all": True}) is res
    nothing_left = _res([(2, True)])
    assert compstat_table(nothing_left, {"all": False}) is nothing_left


@pytest.mark.shared
def test_cli_default_all_and_json(chicago_store_path):
    from typer.testing import CliRunner

    from crimescope.cli.main import app

    base = ["--store", str(chicago_store_path), "compstat", "--as-of", "2017-06-30", "-c", "homicide", "-c", "shooting"]
    r = CliRunner().invoke(app, base + ["--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    rows = pd.DataFrame(doc["rows"])
    n_city = int((rows["area"] == "citywide").sum())
    n_flag = int(((rows["area"] != "citywide") & rows["flagged"]).sum())
    assert n_city == 6 and len(rows) > 100  # citywide x 2 categories x 3 periods; 23 districts too

    short = CliRunner().invoke(app, base)
    assert short.exit_code == 0, short.output
    m = re.search(r"the (\d+) district rows beyond normal variation; (\d+) district rows within normal variation "
                  r"are left out", short.output)
    assert m and int(m.group(1)) == n_flag and int(m.group(2)) == len(rows) - n_city - n_flag
    body = [ln for ln in short.output.splitlines() if ln.startswith("│")]
    assert len(body) == n_city + n_flag
    full = CliRunner().invoke(app, base + ["--all"])
    assert full.exit_code == 0 and len([ln for ln in full.output.splitlines() if ln.startswith("│")]) == len(rows)
    assert "left out" not in full.output and "Benjamini-Hochberg" in full.output
