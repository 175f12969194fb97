"""The dashboard's analyses in crimescope.app.dashboard: the library's period keys, the forecast
layer flagged as the backtest flags, and the generated counting twins agreeing with the library."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from chicago_rows import HEADER20, row  # noqa: E402

D = dt.date


def test_period_keys_by_hand():
    from crimescope.stats._coverage import period_keys, period_of_group, year_earlier_key

    # Wednesday 2017-01-04 .. Monday 2017-01-16: three weeks, each given by its Monday
    assert period_keys("week", D(2017, 1, 4), D(2017, 1, 16)) == [D(2017, 1, 2), D(2017, 1, 9), D(2017, 1, 16)]
    assert period_keys("month", D(2016, 11, 30), D(2017, 2, 1)) == ["2016-11", "2016-12", "2017-01", "2017-02"]
    assert period_keys("week", D(2017, 1, 2), D(2017, 1, 2)) == [D(2017, 1, 2)]
    assert year_earlier_key("week", D(2017, 1, 2)) == D(2016, 1, 4)  # 52 weeks: a Monday again
    assert year_earlier_key("month", "2017-03") == "2016-03"
    assert period_of_group("month", "2016-02") == (D(2016, 2, 1), D(2016, 2, 29))
    assert period_of_group("week", D(2017, 1, 9)) == (D(2017, 1, 9), D(2017, 1, 15))
    with pytest.raises(ValueError):
        period_keys("year", D(2017, 1, 1), D(2017, 2, 1))


@pytest.mark.shared
def test_forecast_layer_flags_as_the_backtest_does(chicago_store, chicago_store_path, tmp_path):
    """The listed cells are those flag_fraction gives a share of 1% of the area by expected count
    per unit area (the backtest's rule, so the PAI shown is of this flagging); the forecast is fitted
    on all history, so its citywide total is the one `crimescope forecast` writes."""
    from crimescope.app import dashboard
    from crimescope.datasets import Dataset
    from crimescope.forecast import make_model
    from crimescope.forecast.metrics import flag_fraction
    from crimescope.spatial.grid import Grid
    from crimescope.stats.events import load_events

    ds = Dataset(chicago_store)
    res = dashboard.forecast(ds, category="homicide", as_of=D(2017, 6, 5), cell=2000, model="naive_all",
                             store_path=Path("/nonexistent/none.duckdb"))
    g = Grid.chicago(2000.0)
    ev = load_events(chicago_store, "homicide", None, "2017-06-04")
    fc = make_model("naive_all").fit(ev, np.datetime64("2017-06-05"), grid=g).predict("7d")
    area = np.asarray(g.area, dtype=float)
    frac = flag_fraction(fc.expected / area, area, 0.01 * area.sum())
    assert (frac * area).sum() == pytest.approx(0.01 * area.sum(), rel=1e-9)  # exactly 1% of the area
    ids = np.asarray(g.cell_ids)
    want = set(ids[(frac > 0) & (fc.expected > 0)].tolist())
    assert set(res.table["cell_id"].tolist()) == want and len(want) > 0
    assert res.meta["expected_in_flagged_cells"] == pytest.approx(float((frac * fc.expected).sum()), abs=0.01)
    assert res.table["rank"].is_monotonic_increasing
    assert any("flag_fraction" in n for n in res.meta["notes"])
    assert res.meta["pai"] is None and res.meta["pai_text"].startswith("not available")
    assert res.meta["expected_total_city"] == pytest.approx(float(fc.expected.sum()), abs=0.01)
    from crimescope.cli.main import app

    out = tmp_path / "fc.csv"
    r = CliRunner().invoke(app, ["--store", str(chicago_store_path), "forecast", "--model", "naive_all",
                                 "--category", "homicide", "--as-of", "2017-06-05", "--cell", "2000ft",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    cli_total = sum(float(ln.split(",")[8]) for ln in out.read_text().splitlines()[1:] if ln and ln[0] != "#"
                    and not ln.startswith("cell_id"))
    assert res.meta["expected_total_city"] == pytest.approx(cli_total, abs=0.01)


def test_an_unreadable_ranking_is_an_error_not_a_silent_default(tmp_path):
    from crimescope.app.dashboard import forecast_model
    from crimescope.errors import ParameterError
    from crimescope.forecast.backtest import ranking_path

    store = tmp_path / "s.duckdb"
    name, notes = forecast_model(store, "shooting", D(2017, 6, 5))
    assert name == "naive_52w" and "no backtest ranking" in notes[0]  # no ranking: the documented default, said
    ranking_path(store, "shooting").write_text("{not json", encoding="utf-8")
    with pytest.raises(ParameterError, match="readable ranking"):
        forecast_model(store, "shooting", D(2017, 6, 5))
    with pytest.raises(ParameterError, match="not one of best"):
        forecast_model(store, "shooting", D(2017, 6, 5), "sepp")


# -- the generated count / ytd / rates twins on 10 hand-made homicide rows (districts 7 and 11) --
ROWS = [(7, "03/01/2016"), (7, "03/02/2016"), (7, "03/02/2016"), (11, "04/10/2016"), (11, "05/20/2016"),
        (7, "03/01/2017"), (11, "03/03/2017"), (11, "03/04/2017"), (11, "06/01/2017"), (7, "07/04/2017")]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from crimescope.sources.chicago import ingest_files
    from crimescope.store import Store

    d = tmp_path_factory.mktemp("dash")
    lines = [HEADER20] + [row(id_=str(500 + i), case=f"HD{i}", date=f"{day} 10:00:00 PM", iucr="0110",
                              ptype="HOMICIDE", desc="FIRST DEGREE MURDER", fbi="01A", arrest="false",
                              district=f"{dist:03d}") for i, (dist, day) in enumerate(ROWS)]
    (d / "h.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = d / "s.duckdb"
    with Store(path) as s:
        assert [b.inserted for b in ingest_files(s, [d / "h.csv"])] == [10]
    return path


def _app():
    from crimescope.cli import counting
    from crimescope.cli.context import State

    app = typer.Typer()

    @app.callback()
    def _root(ctx: typer.Context, store: Path = typer.Option(...)) -> None:
        ctx.obj = State(store_path=store)

    counting.register(app)
    return app


def test_count_cli_api_and_library_agree(store_path):
    from fastapi.testclient import TestClient

    from crimescope.stats import count
    from crimescope.store import Store
    from crimescope.web.app import create_app

    r = CliRunner().invoke(_app(), ["--store", str(store_path), "count", "-c", "homicide", "--from", "2016-01-01",
                                    "--to", "2016-12-31", "--by", "district", "--format", "json"])
    assert r.exit_code == 0, r.output
    cli = json.loads(r.output)
    params = {"category": "homicide", "start": "2016-01-01", "end": "2016-12-31", "by": "district"}
    with TestClient(create_app(store_path, response_cache_mb=0)) as c:
        api = c.get("/api/count.json", params=params).json()
        csv_text = c.get("/api/count.csv", params=params).text
        bad = c.get("/api/count.json", params={**params, "by": "colour"})
        vintage = c.get("/api/count.json", params={**params, "vintage": "2030-01-01"}).json()
    with Store(store_path, read_only=True) as s:
        lib = json.loads(count(s, "homicide", "2016-01-01", "2016-12-31", ["district"]).to_json())
        lib_v = json.loads(count(s, "homicide", "2016-01-01", "2016-12-31", ["district"],
                                 vintage="2030-01-01").to_json())
    assert cli["rows"] == api["rows"] == lib["rows"]
    assert {r["district"]: r["count"] for r in lib["rows"]} == {7: 3, 11: 2}  # by hand from ROWS
    for key in ("unit", "rule", "source", "vintage"):
        assert cli["meta"][key] == api["meta"][key] == lib["meta"][key]
    assert "# rule: homicide: iucr in" in csv_text
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "ParameterError"
    assert vintage["rows"] == lib_v["rows"] and vintage["meta"]["vintage"] == lib_v["meta"]["vintage"]


def test_ytd_twins_agree(store_path):
    from fastapi.testclient import TestClient

    from crimescope.web.app import create_app

    r = CliRunner().invoke(_app(), ["--store", str(store_path), "ytd", "-c", "homicide", "--as-of", "2017-03-31",
                                    "--years", "1", "--format", "json"])
    assert r.exit_code == 0, r.output
    cli = json.loads(r.output)
    with TestClient(create_app(store_path, response_cache_mb=0)) as c:
        api = c.get("/api/ytd.json", params={"category": "homicide", "as_of": "2017-03-31", "years": 1}).json()
    assert cli["rows"] == api["rows"]
    # Jan 1 - Mar 31: 2016 has the three March rows, 2017 the March 1, 3 and 4 rows
    assert {r["year"]: r["count"] for r in cli["rows"]} == {2016: 3, 2017: 3}


def test_yearly_stability_is_the_library_call_the_cli_prints():
    """concentration's year-to-year stability is computed by the library (spatial.concentration),
    not by the command: two years of events in 4 units, by hand."""
    import pandas as pd

    from crimescope.spatial.concentration import top_stability, yearly_stability

    class Placed:  # what assign_units returns: the unit of each event (-1: none), counts per unit
        unit_index = np.array([0, 0, 1, 2, -1, 0, 3, 3, 3])
        counts = np.array([3, 1, 1, 3])

    ev = pd.DataFrame({"occurred_local": pd.to_datetime(
        ["2016-01-01", "2016-02-01", "2016-03-01", "2016-04-01", "2016-05-01",
         "2017-01-01", "2017-02-01", "2017-03-01", "2017-04-01"])})
    st = yearly_stability(ev, Placed, top=0.25)  # top 1 of 4 units: unit 0 in 2016, unit 3 in 2017
    ref = top_stability({2016: np.array([2, 1, 1, 0]), 2017: np.array([1, 0, 0, 3])}, 0.25)
    assert st.table.to_dict("records") == ref.table.to_dict("records")
    assert st.table.loc[0, "overlap"] == 0.0
    one_year = ev[ev["occurred_local"].dt.year == 2016]

    class Placed16:
        unit_index = Placed.unit_index[:5]
        counts = Placed.counts

    assert yearly_stability(one_year, Placed16) is None


def test_backtest_headline_settings():
    from crimescope.forecast.backtest import BacktestResult

    def res(h, c):
        return BacktestResult(records=None, models=[], horizons=h, coverages=c, cell_totals={}, equity_coverage="1%",
                              grid=None)

    assert res([1.0, 7.0, 28.0], ["0.5%", "1%", "5%"]).headline() == (7, "1%")
    assert res([28.0, 1.0], ["5%", "0.5%"]).headline() == (28.0, "5%")


def _units_table_by_merge(t, key, kind, ids):
    """The map's table as map_counts built it with pandas merge / isin / concat (the reference)."""
    import pandas as pd

    t = t.copy()
    codes = [None if pd.isna(v) else str(int(v)) for v in t[key]]
    t.insert(0, "unit", codes)
    t = t.drop(columns=[key])
    placed = pd.DataFrame({"unit": list(ids)}).merge(t[t["unit"].notna()], on="unit", how="left")
    placed["count"] = placed["count"].fillna(0).astype("int64")
    other = t[t["unit"].isna() | ~t["unit"].isin(ids)]
    table = pd.concat([placed, other], ignore_index=True)
    table.insert(0, "kind", kind)
    return table


@pytest.mark.parametrize("case", ["some", "empty", "no unit only", "unknown code", "masked", "every unit",
                                  "with a rate"])
def test_units_table_is_the_merge_table(case):
    """map_counts' table (every known unit in order, 0 without records, then the rows without a unit
    or with a code the boundaries lack) is the frame the pandas merge gave: values, dtypes, index."""
    import pandas as pd

    from crimescope.app.dashboard import _units_table

    ids = ("111", "112", "113", "2535")
    t = {"some": pd.DataFrame({"beat": [112.0, 2535.0, np.nan], "count": np.array([3, 7, 2], "int64")}),
         "empty": pd.DataFrame({"beat": pd.Series([], dtype="int32"), "count": pd.Series([], dtype="int64")}),
         "no unit only": pd.DataFrame({"beat": [np.nan], "count": np.array([4], "int64")}),
         "unknown code": pd.DataFrame({"beat": [111.0, 9999.0], "count": np.array([1, 5], "int64")}),
         "masked": pd.DataFrame({"beat": pd.array([113, None], dtype="Int64"), "count": np.array([2, 9], "int64")}),
         "every unit": pd.DataFrame({"beat": np.array([111, 112, 113, 2535], "int32"),
                                     "count": np.array([1, 2, 3, 4], "int64")}),
         "with a rate": pd.DataFrame({"beat": [112.0], "count": np.array([3], "int64"), "rate": [1.5]}),
         }[case]
    got, want = _units_table(t, "beat", "beat", ids), _units_table_by_merge(t, "beat", "beat", ids)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert json.dumps(got.to_dict(orient="records")) == json.dumps(want.to_dict(orient="records"))


def test_kept_cell_boxes_and_band_weights_are_those_computed_each_time():
    """The grid's WGS84 boxes and centroids (converted once, kept on the grid) are pyproj's of the
    cells asked for; the band weights kept per band are grid_band_weights' matrix."""
    from crimescope.app.dashboard import _cell_boxes, _lonlat
    from crimescope.spatial.gistar import grid_band_weights
    from crimescope.spatial.grid import LONLAT_CRS, Grid, transform_xy

    g = Grid.regular(1_100_000.0, 1_830_000.0, 40, 30, 1000.0)
    idx = np.array([0, 7, 599, 1199])
    x0, y0, x1, y1 = (np.asarray(b)[idx] for b in g.bounds())
    want = transform_xy(x0, y0, g.crs, LONLAT_CRS) + transform_xy(x1, y1, g.crs, LONLAT_CRS)
    for _ in range(2):
        assert all(np.array_equal(a, b) for a, b in zip(_cell_boxes(g, idx), want))
    lon, lat = g.centroids_lonlat()
    assert np.array_equal(_lonlat(g)[0], lon) and np.array_equal(_lonlat(g)[1], lat)
    w = g.band_weights(3000.0)
    assert g.band_weights(3000) is w
    assert (w != grid_band_weights(g, 3000.0)).nnz == 0 and w.nnz == grid_band_weights(g, 3000.0).nnz
    assert (g.band_weights(2000.0) != grid_band_weights(g, 2000.0)).nnz == 0
