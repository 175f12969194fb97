"""The one Result type: provenance() and the five renderers, on hand-made tables and a tiny store.

Expectations are written out by hand: the tiny store (tests/stats/stats_fixtures.py) has one
batch finished 2018-01-10 12:00 UTC and every row updated 2018-01-10 12:00.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from crimescope.errors import ParameterError
from crimescope.result import PROVENANCE_KEYS, Result, provenance, read_parquet_meta


def test_provenance_of_a_category_count(tiny):
    m = provenance(tiny, "homicide", per="beat", title="t", period="2016", extra_key=3, notes=["n1"])
    assert m["title"] == "t" and m["period"] == "2016" and m["extra_key"] == 3 and m["notes"] == ["n1"]
    assert m["category"] == "homicide" and m["category_file"] is None
    assert m["unit"] == "victims (the portal has one HOMICIDE row per victim) per beat"
    assert m["rule"].startswith("homicide: iucr in (0110, 0130, 0141, 0142")
    assert m["source"].startswith("City of Chicago Data Portal")
    v = m["vintage"]
    assert v["source"] == "chicago" and v["max_updated_at"] == "2018-01-10 12:00:00"
    assert v["latest_batch_at"] == "2018-01-10 12:00:00 UTC" and v["batches"] == 1
    # no notes given: no notes key; an explicit unit/rule wins over the category's
    m2 = provenance(tiny, "homicide", unit="u", rule="r")
    assert "notes" not in m2 and m2["unit"] == "u" and m2["rule"] == "r"
    # the counting results are built by it (base_meta is provenance)
    from crimescope.stats import count

    res = count(tiny, "homicide", "2016-01-01", "2016-12-31")
    expected = provenance(tiny, "homicide")
    assert {k: res.meta[k] for k in PROVENANCE_KEYS} == {k: expected[k] for k in PROVENANCE_KEYS}


def _res():
    meta = {"title": "Demo", "unit": "records", "rule": "demo: iucr in (0110)", "source": "hand-made",
            "vintage": {"max_updated_at": "2018-01-10 12:00:00", "latest_batch_at": "2018-01-10 12:00:00 UTC"},
            "notes": ["a note"]}
    df = pd.DataFrame({"name": ["a", "b"], "count": [3, 0], "share": [0.75, float("nan")],
                       "lon": [-87.6, -87.7], "lat": [41.8, 41.9]})
    return Result(df, meta)


def test_csv_has_provenance_lines_then_the_table():
    text = _res().to_csv()
    lines = text.splitlines()
    assert lines[:6] == ["# Demo", "# unit: records", "# rule: demo: iucr in (0110)", "# source: hand-made",
                         "# data vintage: max updated_at 2018-01-10 12:00:00, latest batch 2018-01-10 12:00:00 UTC",
                         "# note: a note"]
    assert lines[6] == "name,count,share,lon,lat" and lines[7] == "a,3,0.75,-87.6,41.8"
    back = pd.read_csv(io.StringIO(text), comment="#")
    assert back["count"].tolist() == [3, 0] and np.isnan(back["share"].iloc[1])


def test_json_and_geojson_carry_meta():
    r = _res()
    d = json.loads(r.to_json())
    assert d["meta"]["rule"] == "demo: iucr in (0110)" and d["rows"][1] == {
        "name": "b", "count": 0, "share": None, "lon": -87.7, "lat": 41.9}
    g = json.loads(r.render("geojson"))
    assert g["type"] == "FeatureCollection" and g["meta"]["unit"] == "records"
    assert [f["geometry"] for f in g["features"]] == [{"type": "Point", "coordinates": [-87.6, 41.8]},
                                                      {"type": "Point", "coordinates": [-87.7, 41.9]}]
    assert g["features"][0]["properties"]["count"] == 3
    # no geometry: a clear error, no file written
    bare = Result(pd.DataFrame({"count": [1]}), {"unit": "u"})
    with pytest.raises(ParameterError, match="no geometry"):
        bare.to_geojson()


def test_parquet_keeps_provenance_in_file_metadata(tmp_path):
    p = _res().write(tmp_path / "sub" / "r.parquet")
    assert pd.read_parquet(p)["count"].tolist() == [3, 0]
    m = read_parquet_meta(p)
    assert m["rule"] == "demo: iucr in (0110)" and m["vintage"]["latest_batch_at"].endswith("UTC")
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(plain)
    assert read_parquet_meta(plain) == {}


def test_write_by_suffix_and_bad_suffix(tmp_path):
    r = _res()
    for suf in (".csv", ".json", ".geojson", ".txt"):
        text = r.write(tmp_path / f"r{suf}").read_text()
        assert "demo: iucr in (0110)" in text and "hand-made" in text, suf
    with pytest.raises(ParameterError, match="must end in one of"):
        r.write(tmp_path / "r.xlsx")
    assert not (tmp_path / "r.xlsx").exists()
    with pytest.raises(ParameterError, match="not one of"):
        r.render("xml")


def test_old_result_names_are_results():
    from crimescope.forecast.backtest import BacktestResult
    from crimescope.forecast.base import Forecast
    from crimescope.spatial import concentration as conc
    from crimescope.spatial.emerging import EmergingResult
    from crimescope.spatial.gistar import GiStarResult
    from crimescope.spatial.kde import KDEResult
    from crimescope.spatial.knox import KnoxResult
    from crimescope.stats.claims import ClaimCheck, ClaimReport
    from crimescope.stats.provenance import StatResult

    for cls in (StatResult, ClaimReport, ClaimCheck, GiStarResult, KDEResult, EmergingResult, KnoxResult,
                conc.ConcentrationResult, conc.StabilityResult, Forecast, BacktestResult):
        assert issubclass(cls, Result), cls
    # the counting result keeps its constructor and attributes
    s = StatResult(pd.DataFrame({"count": [1]}), {"unit": "u"})
    assert s.table["count"].iloc[0] == 1 and s.meta == {"unit": "u"} and "count" in s.to_csv()
    # a dataclass result starts with an empty meta, one per instance
    c1, c2 = conc.concentration([1, 2, 3]), conc.concentration([3, 3])
    c1.meta["x"] = 1
    assert c2.meta == {} and c1.frame()["measure"].iloc[0].startswith("share of events")


def test_spatial_result_carries_the_events_provenance(tiny, tmp_path):
    from crimescope.result import read_parquet_meta as rpm
    from crimescope.spatial.gistar import hotspots
    from crimescope.spatial.grid import Grid
    from crimescope.stats.events import load_events

    ev = load_events(tiny, "homicide", "2016-01-01", "2017-12-31")
    assert len(ev) == 7  # homicide codes: ids 1, 2, 3, 4 (0142), 6, 8, 9; id 13 is in 2015
    g = Grid.regular(1_170_000, 1_895_000, 6, 6, 2000.0)
    res = hotspots(ev, g, band=4000.0)
    assert res.meta["unit"] == "victims (the portal has one HOMICIDE row per victim) per 2000 ft cell"
    assert res.meta["vintage"]["max_updated_at"] == "2018-01-10 12:00:00"
    assert res.meta["period"].startswith("2016-01-01 to 2017-12-31")
    assert int(res.values.sum()) == 7 and res.values[2 * 6 + 3] == 7  # all at x 1176000, y 1900000
    for suf in (".csv", ".geojson", ".json"):
        text = res.write(tmp_path / f"gi{suf}").read_text()
        assert "per 2000 ft cell" in text and "City of Chicago Data Portal" in text, suf
    assert rpm(res.write(tmp_path / "gi.parquet"))["rule"].startswith("homicide: iucr in (")
