"""Backtest, forecast files and the CLI wiring on small synthetic data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crimescope.errors import ParameterError
from crimescope.forecast.backtest import backtest, best_model, ranking_path, weekly_origins
from crimescope.forecast.base import make_model
from crimescope.forecast.output import CSV_COLUMNS
from crimescope.spatial.grid import Grid

from forecast_synth import START, planted

GRID = Grid.regular(1_150_000.0, 1_880_000.0, 20, 20, 500.0)  # inside Chicago's State Plane extent


@pytest.fixture(scope="module")
def events():
    ev = planted(n=2000, days=500, seed=21)
    ev["x"] += 1_150_000.0
    ev["y"] += 1_880_000.0
    return ev


@pytest.fixture(scope="module")
def result(events):
    origins = weekly_origins(START + pd.Timedelta(days=420), START + pd.Timedelta(days=476))
    return backtest(events, GRID, ["naive_52w", "naive_all", "retro_hotspot", "stkde"], origins,
                    horizons=[1, 7], coverages=["1%", "5%", "0.05sqmi"])


def test_weekly_origins_are_mondays():
    o = weekly_origins("2017-01-01", "2018-01-01")
    assert len(o) == 52
    assert all(pd.Timestamp(v).weekday() == 0 for v in o)
    assert pd.Timestamp(o[0]) == pd.Timestamp("2017-01-02")
    with pytest.raises(ParameterError, match="^invalid end="):
        weekly_origins("2017-01-01", "2016-01-01")


def test_backtest_records_and_scores(result, events):
    r = result.records
    assert len(r) == 8 * 4 * 2 * 3  # origins x models x horizons x coverages
    assert set(r["coverage"]) == {"1%", "5%", "0.05sqmi"}
    # observed counts are the located events of [origin, origin + h)
    o = r["origin"].iloc[0]
    t = events["occurred_local"]
    n7 = int(((t >= o) & (t < o + pd.Timedelta(days=7))).sum())
    row = r[(r["origin"] == o) & (r["horizon_days"] == 7)].iloc[0]
    assert row["n_events"] == n7
    assert np.all((r["hits"] <= r["best_hits"] + 1e-9) & (r["best_hits"] <= r["n_events"] + 1e-9))
    s = result.summary()
    assert {"hit_rate_lo", "hit_rate_hi", "pai", "pei_star", "loglik"} <= set(s.columns)
    # the planted hot spot holds 30% of events in ~1 cell: at 5% coverage every model catches it
    five = s[(s["coverage"] == "5%") & (s["horizon_days"] == 7)]
    assert (five["hit_rate"] > 0.3).all()


def test_paired_comparison_and_ranking(result, tmp_path):
    c = result.compare("stkde", "naive_52w", 7, "1%")
    assert c["windows"] == 8 and np.isfinite(c["mean_diff"])
    assert c["ci_lo"] <= c["mean_diff"] <= c["ci_hi"]
    assert 0 <= c["wilcoxon_p"] <= 1
    same = result.compare("naive_all", "naive_all", 7, "1%")
    assert same["mean_diff"] == 0 and same["wilcoxon_p"] == 1.0
    rank = result.ranking(7, "1%")
    assert sorted(rank) == sorted(result.models)
    bvb = result.best_vs_baseline(7, "1%")
    assert bvb["baseline"] in ("naive_52w", "naive_all")
    store = tmp_path / "x.duckdb"
    result.save_ranking(ranking_path(store, "gun_violence"), 7, "1%")
    assert best_model(store, "gun_violence") == rank[0]
    # the saved ranking carries each model's mean PAI (the dashboard labels forecasts with it)
    import json

    doc = json.loads(ranking_path(store, "gun_violence").read_text())
    s = result.summary()
    s = s[(s["horizon_days"] == 7) & (s["coverage"] == doc["coverage"])]
    assert doc["pai"] == pytest.approx(dict(zip(s["model"], s["pai"])))
    with pytest.raises(ParameterError, match="^invalid model='best'"):
        best_model(store, "homicide")


def test_report_is_offline_html(result, tmp_path):
    from crimescope.forecast.report import write_report

    p = write_report(result, tmp_path / "r.html", data_dir=tmp_path)  # no community areas here
    text = p.read_text()
    assert text.startswith("<!doctype html>") and "data:image/png;base64," in text
    assert "http://" not in text and "https://" not in text.replace("https://data", "")
    assert "Responsible use" in text and "Community areas unavailable" in text


def test_equity_tables_by_hand(result, tmp_path, monkeypatch):
    from crimescope.forecast.report import equity_frame, equity_summary, equity_table, write_report

    # four community areas: columns 0-4, 5-9, 10-14, 15-19 of the 20 x 20 grid
    community = (GRID.cols // 5 + 1).astype(np.int64)
    tab = equity_table(result, "naive_all", 7, community)
    tot = result.cell_totals[("naive_all", 7.0)]
    for a in range(1, 5):
        m = community == a
        assert tab.loc[a, "flagged_share"] == pytest.approx(tot["flagged_area"][m].sum() / tot["flagged_area"].sum())
        assert tab.loc[a, "events_share"] == pytest.approx(tot["events"][m].sum() / tot["events"].sum())
    e = equity_summary(tab)
    assert e["dissimilarity"] == pytest.approx(0.5 * (tab.flagged_share - tab.events_share).abs().sum())
    assert e["areas"] == 4 and e["top5_flagged"] == pytest.approx(1.0) and e["top5_events"] == pytest.approx(1.0)
    fr = equity_frame(result, 7, community)
    assert set(fr.model) == set(result.models) and len(fr) == 4 * len(result.models)
    # a hand-made table: attention split evenly over two areas, victims half in a third
    hand = pd.DataFrame({"flagged_share": [0.5, 0.5, 0.0], "events_share": [0.25, 0.25, 0.5]}, index=[1, 2, 3])
    hs = equity_summary(hand)
    assert hs["dissimilarity"] == pytest.approx(0.5) and hs["areas_flagged"] == 2 and hs["areas"] == 3
    # the report lists every model in its summary of attention
    import crimescope.forecast.report as rep

    monkeypatch.setattr(rep, "cell_community_areas", lambda grid, data_dir=None: community)
    text = write_report(result, tmp_path / "r.html").read_text()
    assert "how closely attention follows victimization" in text
    assert all(m in text for m in result.models)


def test_forecast_csv_and_geojson(events, tmp_path):
    fc = make_model("stkde").fit(events, START + pd.Timedelta(days=500), grid=GRID).predict("7d")
    df = fc.to_frame()
    assert list(df.columns) == CSV_COLUMNS
    assert len(df) == GRID.n_cells and df["rank"].iloc[0] == 1
    assert df["expected"].is_monotonic_decreasing
    assert np.allclose(df["x_max"] - df["x_min"], 500.0) and np.allclose(df["area_sq_ft"], 250_000.0)
    assert df["lon"].between(-88.5, -87.0).all() and df["lat"].between(41.5, 42.3).all()
    fc.to_csv(tmp_path / "f.csv")
    back = pd.read_csv(tmp_path / "f.csv", comment="#")
    assert list(back.columns) == CSV_COLUMNS
    fc.to_geojson(tmp_path / "f.geojson")
    doc = json.loads((tmp_path / "f.geojson").read_text())
    assert len(doc["features"]) == GRID.n_cells
    top = doc["features"][0]
    assert top["properties"]["rank"] == 1 and top["geometry"]["type"] == "Polygon"
    lon, lat = np.array(top["geometry"]["coordinates"][0]).mean(axis=0)
    assert abs(lon - df["lon"].iloc[0]) < 0.01 and abs(lat - df["lat"].iloc[0]) < 0.01


def test_cli_models_lists_every_model():
    import typer
    from typer.testing import CliRunner

    from crimescope.cli.forecast import _cell, register
    from crimescope.forecast.base import registry

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    out = CliRunner().invoke(app, ["models"])
    assert out.exit_code == 0
    for name in registry():
        assert name in out.output
    assert _cell("500ft") == 500.0 and _cell("250") == 250.0
    with pytest.raises(ParameterError, match="^invalid cell="):
        _cell("big")


def test_forecast_map_png(events, tmp_path):
    from crimescope.forecast.output import plot_map

    fc = make_model("naive_all").fit(events, START + pd.Timedelta(days=500), grid=GRID).predict(7)
    plot_map(fc, tmp_path / "m.png")
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_best_uses_only_a_ranking_whose_backtest_ended_by_the_as_of(result, tmp_path):
    """No look-ahead in model choice: a ranking scored on weeks at or after the forecast's as-of
    is not used; the documented default is, and the provenance says why."""
    import json

    import pandas as pd

    from crimescope.forecast.backtest import DEFAULT_MODEL, choose_best

    store = tmp_path / "y.duckdb"
    result.save_ranking(ranking_path(store, "gun_violence"), 7, "1%")
    doc = json.loads(ranking_path(store, "gun_violence").read_text())
    win = doc["window"]
    o = pd.to_datetime(result.records["origin"])
    assert win["last_origin"] == str(o.max())[:19]
    until = pd.Timestamp(win["evaluated_until"])
    assert until == o.max() + pd.Timedelta(days=max(result.horizons))
    # a forecast starting inside the scored span: the ranking knows those weeks -> default
    name, why = choose_best(store, "gun_violence", o.min())
    assert name == DEFAULT_MODEL and not why["used"] and "knowledge of the weeks forecast" in why["reason"]
    # at the end of the scored span or later: the ranking is used and named
    name, why = choose_best(store, "gun_violence", until)
    assert name == result.ranking(7, "1%")[0] and why["used"]
    assert why["ranking_file"] == ranking_path(store, "gun_violence").name and "/" not in why["ranking_file"]
    # a ranking without a recorded window (older files) is not trusted
    del doc["window"]
    ranking_path(store, "gun_violence").write_text(json.dumps(doc))
    name, why = choose_best(store, "gun_violence", until)
    assert name == DEFAULT_MODEL and "records no backtest window" in why["reason"]
