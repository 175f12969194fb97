"""NYC shootings selected with --source / ?source= on the real NYPD export (../shared/data/nyc).

The expected figures are read from the file itself here (csv module, not the importer):
902 victim rows from 2021-01-01 to 2021-06-30, of which those with
STATISTICAL_MURDER_FLAG true are the murder victims.
"""

from __future__ import annotations

import csv
import json

import pytest

from _shared import SHARED, cut_crimes, requires_shared

pytestmark = requires_shared
NYC_YTD = SHARED / "nyc" / "NYPD_Shooting_Incident_Data__Year_To_Date_.csv" if SHARED else None


def _file_rows():
    with open(NYC_YTD, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory):
    """A store with the NYC file and 2,000 Chicago rows of 2017 (both cities in one file)."""
    from crimescope.sources.chicago import ingest_files
    from crimescope.sources.nyc_shootings import ingest_file
    from crimescope.store import Store

    d = tmp_path_factory.mktemp("nyc")
    path = d / "mixed.duckdb"
    with Store(path) as store:
        ingest_file(store, NYC_YTD)
        ingest_files(store, [cut_crimes(d / "chi.csv", 0, 2000)])
    return path


def _cli(args, capsys):
    from crimescope.cli.main import main

    rc = main(args)
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    return cap.out


def test_count_is_the_files_902_rows(mixed_store, capsys):
    rows = _file_rows()
    assert len(rows) == 902
    murders = sum(r["STATISTICAL_MURDER_FLAG"].lower() == "true" for r in rows)
    base = ["--store", str(mixed_store), "--source", "nyc_shootings"]
    out = _cli(base + ["count", "--category", "shooting_victims", "--from", "2021-01-01", "--to", "2021-06-30",
                       "--format", "json"], capsys)
    doc = json.loads(out)
    assert doc["rows"] == [{"count": 902}]
    assert doc["meta"]["source"] == "NYC Open Data, NYPD Shooting Incident Data"
    assert doc["meta"]["publisher"] == "NYC Open Data (NYPD)"
    assert "America/New_York" in doc["meta"]["dates"]
    out = _cli(base + ["count", "-c", "shooting_murder_victims", "--from", "2021-01-01", "--to", "2021-06-30",
                       "--format", "csv"], capsys)
    assert out.strip().splitlines()[-1] == str(murders)
    # per precinct (stored in the district column), sums to the file's rows per PRECINCT
    out = _cli(base + ["count", "-c", "shooting_victims", "--from", "2021-01-01", "--to", "2021-06-30",
                       "--by", "district", "--format", "json"], capsys)
    got = {r["district"]: r["count"] for r in json.loads(out)["rows"]}
    expect: dict = {}
    for r in rows:
        expect[int(r["PRECINCT"])] = expect.get(int(r["PRECINCT"]), 0) + 1
    assert got == expect


def test_chicago_is_still_the_default(mixed_store, capsys):
    from crimescope.cli.main import main

    rc = main(["--store", str(mixed_store), "count", "-c", "shooting_victims", "--from", "2021-01-01",
               "--to", "2021-06-30"])
    assert rc == 2 and "unknown category 'shooting_victims'" in capsys.readouterr().err
    doc = json.loads(_cli(["--store", str(mixed_store), "count", "-c", "battery", "--from", "2017-01-01",
                           "--to", "2017-12-31", "--format", "json"], capsys))
    assert doc["meta"]["source"].startswith("City of Chicago Data Portal")
    assert doc["meta"]["total"] > 0
    # NYC rows are never counted as Chicago's: the NYC ids are INCIDENT_KEY:n, none in a Chicago count
    from crimescope.stats import count
    from crimescope.store import Store

    from crimescope.errors import CoverageError

    with Store(mixed_store, read_only=True) as s:  # Chicago's rows are January 2017 only: refused, not 0
        with pytest.raises(CoverageError, match="no data for battery from 2021-01-01"):
            count(s, "battery", "2021-01-01", "2021-06-30")


def test_unknown_source_is_one_line_exit_2(mixed_store, capsys):
    from crimescope.cli.main import main

    rc = main(["--store", str(mixed_store), "--source", "atlantis", "count", "-c", "x", "--from", "2021-01-01",
               "--to", "2021-01-02"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "chicago, nyc_shootings" in err


@pytest.mark.parametrize("cmd", [
    ["ytd", "-c", "shooting_victims", "--as-of", "2021-06-30", "--years", "0", "--format", "csv"],
    ["hotspots", "shooting_victims", "--from", "2021-01-01", "--to", "2021-06-30", "--cell", "2000"],
    ["concentration", "shooting_victims", "--from", "2021-01-01", "--to", "2021-06-30", "--cell", "2000"],
])
def test_nyc_publisher_in_every_provenance_line(mixed_store, capsys, cmd):
    out = _cli(["--store", str(mixed_store), "--source", "nyc_shootings", *cmd], capsys)
    src = [line for line in out.splitlines() if line.startswith("# source:") or line.startswith("source:")]
    assert src and all("NYPD" in line for line in src)
    assert "Chicago" not in out
    if cmd[0] == "ytd":
        assert out.strip().splitlines()[-1].startswith("2021,2021-01-01,2021-06-30,902,")
    if cmd[0] == "concentration":
        assert "902 records" in out and "0 in no unit" in out
        assert "no city outline shipped" in out  # the grid is the declared box: said, not hidden


def test_hotspots_nyc_cells_hold_all_902(mixed_store):
    """Gi* over NYC's grid: every located victim is in a cell, and the cell counts sum to 902."""
    from crimescope.datasets import Dataset
    from crimescope.spatial.gistar import hotspots
    from crimescope.spatial.grid import Grid
    from crimescope.stats.events import load_events
    from crimescope.store import Store

    with Store(mixed_store, read_only=True) as s:
        ds = Dataset(s, "nyc_shootings")
        ev = load_events(ds, "shooting_victims", "2021-01-01", "2021-06-30")
        grid = Grid.for_profile(ds.profile, 2000.0)
        assert grid.crs == "EPSG:2263"
        res = hotspots(ev, grid)
        assert res.values.sum() == 902 - res.n_no_location - res.n_outside
        assert res.n_hot > 0
        assert "ft" in res.weights


def test_dashboard_for_nyc(mixed_store):
    from fastapi.testclient import TestClient

    from crimescope.web.app import create_app

    app = create_app(mixed_store, response_cache_mb=0)
    with TestClient(app) as c:
        for page in ("/", "/trends", "/data", "/claim", "/map"):
            r = c.get(page, params={"source": "nyc_shootings"})
            assert r.status_code == 200, (page, r.text[:300])
            assert "source=nyc_shootings" in r.text  # links keep the city
        r = c.get("/map", params={"source": "nyc_shootings", "start": "2021-01-01", "end": "2021-06-30"})
        assert 'data-testid="map-total">902<' in r.text and "no area boundaries are shipped" in r.text
        ov = c.get("/api/overview.json", params={"source": "nyc_shootings"}).json()
        assert [r["category"] for r in ov["rows"]] == ["shooting_victims", "shooting_murder_victims",
                                                         "nonfatal_shooting_victims"]
        assert ov["rows"][0]["count"] == 902 and "NYPD" in ov["meta"]["source"]
        for path, params in [("/api/trends.json", {}), ("/api/compstat.json", {}),
                             ("/api/hotspots.json", {"start": "2021-01-01", "end": "2021-06-30", "cell": 2000}),
                             ("/api/forecast.json", {"model": "naive_all", "cell": 2000})]:
            doc = c.get(path, params={"source": "nyc_shootings", **params}).json()
            assert "NYPD" in doc["meta"]["source"], path
            csv_text = c.get(path.replace(".json", ".csv"), params={"source": "nyc_shootings", **params}).text
            assert "# source: NYC Open Data, NYPD Shooting Incident Data" in csv_text, path
        # the same route without source is Chicago's, and the two are cached apart
        chi = c.get("/api/overview.json").json()
        assert chi["meta"]["source"].startswith("City of Chicago") and chi["rows"][0]["category"] == "murder"
        # NYC has no boundaries shipped: its map and geometry say so (400, one error shape)
        r = c.get("/api/geometry/community_area.geojson", params={"source": "nyc_shootings"})
        assert r.status_code == 400 and "no boundaries" in r.json()["error"]["message"]
        r = c.get("/api/overview.json", params={"source": "atlantis"})
        assert r.status_code == 400 and "not a registered city" in r.json()["error"]["message"]
        cities = c.get("/api/cities.json").json()
        assert [x["key"] for x in cities["cities"]][:2] == ["chicago", "nyc_shootings"]
