"""What a declaration can say beyond its parameters, on the generated command and routes: a
parameter offered differently per interface, the output option and the format taken from its
suffix, a file also written (with its own option), a one-format route beside the twins.

A hand-made store of 10 homicide rows in March 2016, districts 7 (6 rows) and 11 (4 rows)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from chicago_rows import HEADER20, row  # noqa: E402
from _generated_app import generated_app  # noqa: E402

DISTRICTS = [7, 7, 7, 7, 7, 7, 11, 11, 11, 11]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from crimescope.sources.chicago import ingest_files
    from crimescope.store import Store

    d = tmp_path_factory.mktemp("gen")
    lines = [HEADER20] + [row(id_=str(200 + i), case=f"HG{i}", date=f"03/{i + 1:02d}/2016 10:00:00 PM", iucr="0110",
                              ptype="HOMICIDE", desc="FIRST DEGREE MURDER", fbi="01A", district=f"{dist:03d}")
                          for i, dist in enumerate(DISTRICTS)]
    (d / "h.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = d / "s.duckdb"
    with Store(path) as s:
        assert [b.inserted for b in ingest_files(s, [d / "h.csv"])] == [10]
    return path


def _run(ds, *, taxonomy, category, year, top):
    """Records per district of one year, the largest first, at most ``top`` rows."""
    from crimescope.stats import count

    res = count(ds, category, f"{year}-01-01", f"{year}-12-31", by=["district"], taxonomy=taxonomy)
    t = res.table.sort_values(["count", "district"], ascending=[False, True]).reset_index(drop=True)
    return _Demo(t if top is None else t.head(top), res.meta)


class _Demo:
    """A result with a GeoJSON rendering (no geometry: the districts as null-geometry features)."""

    def __init__(self, table, meta):
        from crimescope.stats.provenance import StatResult

        self._r = StatResult(table, meta)
        self.table, self.meta = table, meta

    def __getattr__(self, name):
        return getattr(self._r, name)

    def to_geojson(self):
        return {"type": "FeatureCollection", "meta": self.meta,
                "features": [{"type": "Feature", "geometry": None, "properties": r}
                             for r in self.table.to_dict(orient="records")]}


def _write_totals(res, path, params):
    total = int(res.table["count"].sum())
    Path(path).write_text(f"{params['label']}={total}\n", encoding="utf-8")
    return f"totals -> {path}"


@pytest.fixture(scope="module")
def demo():
    from crimescope.app import Analysis, Param, register, registry
    from crimescope.app.registry import Output

    a = register(Analysis(
        name="district_demo", summary="Records per district of one year, the largest first.",
        params=(Param("category", "category", "Category.", required=True, short="-c"),
                Param("year", "int", "Calendar year.", required=True, api={"required": False, "default": 2016}),
                Param("top", "int", "At most this many rows.", ge=1, api={"le": 1})),
        run=_run, format_from_output=True, output_flags=("--save",), output_help="Write the rows here.",
        writes=(Output("totals", "--totals", "Also write the total here.", write=_write_totals,
                       options=(Param("label", "text", "Label of the total.", default="total", flag="--label"),)),),
        api_files={"geojson": "Records per district of one year, as GeoJSON."}))
    yield a
    registry._REGISTRY.pop("district_demo", None)


def _app():
    return generated_app()


def test_the_format_comes_from_the_output_file_and_a_file_is_also_written(demo, store_path, tmp_path):
    out, totals = tmp_path / "rows.json", tmp_path / "totals.txt"
    r = CliRunner().invoke(_app(), ["--store", str(store_path), "district_demo", "-c", "homicide", "--year", "2016",
                                    "--save", str(out), "--totals", str(totals), "--label", "homicides"])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text(encoding="utf-8"))  # JSON because of the suffix: no --format given
    assert [(row["district"], row["count"]) for row in doc["rows"]] == [(7, 6), (11, 4)]
    assert doc["meta"]["rule"].startswith("homicide: iucr in") and doc["meta"]["vintage"]["max_updated_at"]
    assert totals.read_text(encoding="utf-8") == "homicides=10\n"
    assert f"totals -> {totals}" in r.stdout
    csv_out = tmp_path / "rows.csv"
    r = CliRunner().invoke(_app(), ["--store", str(store_path), "district_demo", "-c", "homicide", "--year", "2016",
                                    "--top", "5", "--save", str(csv_out)])
    assert r.exit_code == 0, r.output
    text = csv_out.read_text(encoding="utf-8")
    assert "# rule: homicide: iucr in" in text and text.rstrip().endswith("11,4")
    assert "totals ->" not in r.stdout  # no --totals: nothing else written


def test_a_parameter_offered_differently_on_each_interface(demo, store_path):
    from fastapi.testclient import TestClient

    from crimescope.web.app import create_app

    r = CliRunner().invoke(_app(), ["--store", str(store_path), "district_demo", "-c", "homicide"])
    assert r.exit_code != 0 and "--year" in r.output  # required on the command line
    r = CliRunner().invoke(_app(), ["--store", str(store_path), "district_demo", "-c", "homicide", "--year", "2016",
                                    "--top", "2", "--format", "csv"])
    assert r.exit_code == 0 and r.stdout.rstrip().endswith("7,6\n11,4")  # no upper bound on the command line
    with TestClient(create_app(store_path, response_cache_mb=0)) as c:
        doc = c.get("/api/district_demo.json", params={"category": "homicide"}).json()  # year: 2016 by default
        assert [row["count"] for row in doc["rows"]] == [6, 4]
        bad = c.get("/api/district_demo.json", params={"category": "homicide", "top": 2})
        assert bad.status_code == 400 and "less than or equal to 1" in bad.json()["error"]["message"]
        assert c.get("/api/district_demo.csv", params={"category": "homicide", "top": 1}).text.rstrip().endswith("7,6")
        schema = c.get("/api/openapi.json").json()["paths"]
    year = next(p for p in schema["/api/district_demo.{fmt}"]["get"]["parameters"] if p["name"] == "year")
    assert not year.get("required") and year["schema"]["default"] == 2016


def test_a_one_format_route_beside_the_twins(demo, store_path):
    from fastapi.testclient import TestClient

    from crimescope.web.app import create_app

    with TestClient(create_app(store_path, response_cache_mb=0)) as c:
        r = c.get("/api/district_demo.geojson", params={"category": "homicide", "year": 2016})
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        doc = r.json()
        assert [f["properties"]["count"] for f in doc["features"]] == [6, 4]
        assert doc["meta"]["unit"] and doc["meta"]["source"].startswith("City of Chicago Data Portal")
        op = c.get("/api/openapi.json").json()["paths"]["/api/district_demo.geojson"]["get"]
        assert op["summary"] == "Records per district of one year, as GeoJSON."
        assert c.get("/api/district_demo.json", params={"category": "homicide"}).status_code == 200


# -- claim: a generated command with a positional argument (the sentence) and a CLI-only file of claims
SENTENCE = "10 homicides from 2016-03-01 to 2016-03-31"


def _claim(store_path, *args):
    return CliRunner().invoke(_app(), ["--store", str(store_path), "claim", *args])


def test_claim_takes_its_sentence_as_an_argument_and_answers_as_its_api_twin(store_path):
    from fastapi.testclient import TestClient

    from crimescope.web.app import create_app

    r = _claim(store_path, SENTENCE, "--format", "json")
    assert r.exit_code == 0, r.output
    cli_doc = json.loads(r.stdout)
    assert [(row["computed"], row["verdict"]) for row in cli_doc["rows"]] == [(10, "matches")]
    r = _claim(store_path, SENTENCE, "--district", "7", "--format", "json")  # 6 of the 10 rows are district 7
    assert r.exit_code == 0, r.output
    d7 = json.loads(r.stdout)
    assert [(row["computed"], row["claimed"]) for row in d7["rows"]] == [(6, 10)]
    with TestClient(create_app(store_path, response_cache_mb=0)) as c:
        api = c.get("/api/claim.json", params={"text": SENTENCE}).json()
        api7 = c.get("/api/claim.json", params={"text": SENTENCE, "district": 7}).json()
    assert api["rows"] == cli_doc["rows"] and api7["rows"] == d7["rows"]
    assert api["meta"]["rule"] == cli_doc["meta"]["rule"] and api["meta"]["rule"].startswith("homicide: iucr in")
    r = _claim(store_path, SENTENCE)  # the table: each claim's check, then the caption
    assert r.exit_code == 0 and "verdict: MATCHES" in r.stdout and "\nrule: homicide: iucr in" in r.stdout


def test_claim_reads_a_yaml_file_of_claims_on_the_command_line_only(store_path, tmp_path):
    from crimescope.app import get

    f = tmp_path / "claims.yaml"
    f.write_text("claims:\n"
                 "  - {category: homicide, value: 4, from: 2016-03-01, to: 2016-03-31, district: 11}\n"
                 f"  - {{text: '{SENTENCE}'}}\n"
                 "  - {category: homicide, value: 3, from: 2016-03-01, to: 2016-03-05}\n", encoding="utf-8")
    r = _claim(store_path, "--file", str(f), "--format", "csv")
    assert r.exit_code == 0, r.output
    import io

    import pandas as pd

    rows = pd.read_csv(io.StringIO(r.stdout), comment="#")
    # district 11 holds rows 7-10 (4); the month all 10; March 1-5 the first 5 (district 7)
    assert rows["computed"].tolist() == [4, 10, 5]
    assert rows["verdict"].tolist()[:2] == ["matches", "matches"]
    assert not get("claim").parse({}, on="api")["file"] and "file" not in {
        p.name for p in get("claim").params if p.offered("api")}


def test_claim_refuses_what_is_not_a_claim(store_path):
    from crimescope.errors import ParameterError

    r = _claim(store_path, "--category", "homicide", "--from", "2016-03-01", "--to", "2016-03-31")  # no value
    assert isinstance(r.exception, ParameterError) and "give the claim as text" in str(r.exception)
    r = _claim(store_path, "-c", "homicide", "--value", "-1", "--from", "2016-03-01", "--to", "2016-03-31")
    assert isinstance(r.exception, ParameterError) and str(r.exception).startswith("--value: -1.0 is outside 0")
    r = _claim(store_path, SENTENCE, "--format", "xml")
    assert isinstance(r.exception, ParameterError) and "--format 'xml'" in str(r.exception)


# -- hotspots: a generated command whose category is an argument or an option, with aliases, an on/off
# flag, one format (no --format), its --out and --map, and --from-csv reading no store
MARCH = ["--from", "2016-03-01", "--to", "2016-03-31"]


def _hotspots(store_path, *args):
    return CliRunner().invoke(_app(), ["--store", str(store_path), "hotspots", *args])


def test_hotspots_counts_the_events_per_unit_and_writes_them(store_path, tmp_path):
    import pandas as pd

    out = tmp_path / "gi.csv"
    r = _hotspots(store_path, "homicide", *MARCH, "--units", "district", "--knn", "4", "--out", str(out))
    assert r.exit_code == 0, r.output
    # first what the figures count, then the units per bin, then the file
    assert r.stdout.startswith("# Homicide") and "\n# rule: homicide: iucr in" in r.stdout
    assert "; 10 events, 0 without coordinates, 0 outside the units." in r.stdout.replace("\n  ", " ")
    assert r.stdout.rstrip().endswith(f"written {out}")
    rows = pd.read_csv(out, comment="#")
    by_unit = dict(zip(rows["unit"].astype(int), rows["count"]))
    assert by_unit[7] == 6 and by_unit[11] == 4 and rows["count"].sum() == 10  # each record in its own district
    # the same command with the category as --category and the dates by their other names
    again = _hotspots(store_path, "-c", "homicide", "--start", "2016-03-01", "--end", "2016-03-31",
                      "--units", "district", "--knn", "4")
    assert again.exit_code == 0 and again.stdout == r.stdout.rsplit("written", 1)[0]


def test_hotspots_passes_its_options_on_and_reads_no_store_for_csv_extracts(store_path, tmp_path, monkeypatch):
    from crimescope.spatial import gistar, sample

    seen = {}
    real = gistar.hotspots

    def spy(ev, units, **kw):
        seen.update(kw)
        return real(ev, units, **kw)

    monkeypatch.setattr(gistar, "hotspots", spy)
    r = _hotspots(store_path, "homicide", *MARCH, "--units", "district", "--knn", "4", "--no-fdr")
    assert r.exit_code == 0, r.output
    assert seen["fdr"] is False and seen["knn"] == 4 and seen["band"] is None and seen["ring"] is None
    assert seen["label"] == "homicide, 2016-03-01 to 2016-03-31"

    def from_store_csv(category, start=None, end=None, *, store=None, from_csv=False, **kw):
        assert from_csv and store is None and (start, end) == ("2016-03-01", "2016-03-31")
        from crimescope.stats.events import load_events
        from crimescope.store import Store

        with Store(store_path, read_only=True) as s:  # stands in for the shared extracts
            return load_events(s, category, start, end)

    monkeypatch.setattr(sample, "category_events", from_store_csv)
    missing = tmp_path / "no-store.duckdb"
    r = _hotspots(missing, "homicide", *MARCH, "--units", "district", "--knn", "4", "--from-csv")
    assert r.exit_code == 0, r.output
    assert "10 events" in r.stdout and not missing.exists()  # the store was never opened


def test_hotspots_refuses_a_category_given_twice_or_not_at_all(store_path):
    from crimescope.errors import ParameterError

    r = _hotspots(store_path, "homicide", "-c", "shooting")
    assert isinstance(r.exception, ParameterError) and "category given twice: 'homicide' and --category" in str(
        r.exception)
    r = _hotspots(store_path, *MARCH)
    assert isinstance(r.exception, ParameterError) and str(r.exception).startswith("a category is needed: --category")
    r = _hotspots(store_path, "homicide", "--format", "csv")  # one format: there is no --format
    assert r.exit_code == 2 and "No such option" in r.output
