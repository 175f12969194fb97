"""`crimescope evaluate`, `evaluate-sdsc`, `evaluate-methods`: thin, every format states what it counts."""

from __future__ import annotations

import json

import pytest

from crimescope.cli.main import main


@pytest.fixture()
def store(chicago_store_path):
    return str(chicago_store_path)


def test_evaluate_csv_and_json_state_rule_source_vintage(store, capsys):
    rc = main(["--store", store, "evaluate", "-c", "shooting", "--from", "2012-01-01", "--to", "2016-12-31",
               "--areas", "7,11", "--start", "2015-06-01", "--methods", "did,wdd", "--format", "csv"])
    out = capsys.readouterr().out
    assert rc == 0
    assert out.startswith("# ") and "# rule: shooting: iucr in" in out and "# data vintage:" in out
    assert "method,estimate,ci_low,ci_high,p_value,relative" in out and "\ndid," in out and "\nwdd," in out
    rc = main(["--store", store, "evaluate", "-c", "shooting", "--from", "2012-01-01", "--to", "2016-12-31",
               "--areas", "7,11", "--start", "2015-06-01", "--methods", "did", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["meta"]["unit"].startswith("incidents") and doc["meta"]["vintage"]["max_updated_at"]
    r = doc["results"]["did"]
    assert r["assumptions"] and r["meta"]["treated"] == {"7": "2015-06-01", "11": "2015-06-01"}
    assert r["effect"]["ci_low"] <= r["effect"]["estimate"] <= r["effect"]["ci_high"]


def test_evaluate_table_with_cohorts_file_sensitivity_and_figures(store, tmp_path, capsys):
    f = tmp_path / "cohorts.csv"
    f.write_text("# a test rollout\narea,start\n7,2015-03-01\n11,2015-06-01\n", encoding="utf-8")
    rc = main(["--store", store, "evaluate", "-c", "shooting", "--from", "2012-01-01", "--to", "2016-12-31",
               "--cohorts", str(f), "--methods", "cs,synth", "--shift-months", "1", "--figures", str(tmp_path / "fig")])
    cap = capsys.readouterr()
    assert rc == 0
    assert "cs:" in cap.out and "synth:" in cap.out and "sensitivity to the start dates" in cap.out
    assert "cs assumes:" in cap.out and "data vintage" in cap.out
    assert {p.name for p in (tmp_path / "fig").iterdir()} == {"methods.png", "event_study.png", "gaps.png"}


@pytest.mark.parametrize("args, msg", [
    (["--from", "2010-01-01", "--areas", "7", "--start", "2015-01-01"], "not covered"),
    (["--areas", "7", "--start", "2015-01-01", "--sdsc"], "give the treated areas once"),
    (["--areas", "7"], "needs --start"),
    (["--areas", "99", "--start", "2015-01-01"], "not in the panel"),
    (["--areas", "7", "--start", "2015-01-01", "--methods", "did,magic"], "invalid methods"),
    (["--areas", "7", "--start", "2015-01-01", "--step", "day"], "step"),
    (["--areas", "7", "--start", "2015-01-01", "--format", "xml"], "--format"),
    (["--areas", "7", "--start", "2015-01-01", "--figure-format", "gif"], "--figure-format"),
])
def test_bad_input_is_one_line_and_exit_2(store, capsys, args, msg):
    rc = main(["--store", store, "evaluate", "-c", "shooting", "--to", "2016-12-31", *args])
    err = capsys.readouterr().err
    assert rc == 2 and msg in err and len(err.strip().splitlines()) == 1


def test_methods_are_listed(capsys):
    assert main(["evaluate-methods"]) == 0
    out = capsys.readouterr().out
    for name in ("did", "cs", "synth", "wdd", "its"):
        assert f"\n{name} " in "\n" + out
