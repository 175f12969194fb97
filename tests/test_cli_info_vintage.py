"""`crimescope info` says what each source's vintage is, never `vintage None`."""

from __future__ import annotations

import pytest

from _shared import SHARED, cut_crimes

NYC_YTD = SHARED / "nyc" / "NYPD_Shooting_Incident_Data__Year_To_Date_.csv" if SHARED else None
pytestmark = pytest.mark.skipif(NYC_YTD is None or not NYC_YTD.is_file(), reason="../shared/data not present")


def test_vintage_text_by_hand():
    from crimescope.cli.data import vintage_text

    assert vintage_text({"vintage": "2017-12-31 10:00:00"}) == \
        "vintage: rows updated up to 2017-12-31 10:00:00 (the source's latest update date)"
    assert vintage_text({"vintage": None, "latest_batch_at": "2026-12-01 22:00:00+00"}) == \
        "vintage: not stated by the source (its rows carry no update date); latest import 2026-12-01 22:00:00+00"
    assert vintage_text({}) == "vintage: not stated by the source (its rows carry no update date)"


def test_info_states_each_vintage(tmp_path, capsys):
    from crimescope.cli.main import main
    from crimescope.sources.chicago import ingest_files
    from crimescope.sources.nyc_shootings import ingest_file
    from crimescope.store import Store

    path = tmp_path / "mixed.duckdb"
    with Store(path) as store:
        ingest_file(store, NYC_YTD)
        ingest_files(store, [cut_crimes(tmp_path / "chi.csv", 0, 500)])
        (chi_updated,) = store.con.execute(
            "SELECT max(updated_at) FROM incidents WHERE source = 'chicago'").fetchone()
    capsys.readouterr()
    assert main(["--store", str(path), "info"]) == 0
    out = capsys.readouterr().out
    assert "None" not in out
    (nyc,) = [ln for ln in out.splitlines() if ln.startswith("nyc_shootings:")]
    assert "vintage: not stated by the source" in nyc and "latest import 20" in nyc
    (chi,) = [ln for ln in out.splitlines() if ln.startswith("chicago:")]
    assert f"rows updated up to {chi_updated}" in chi
