"""Calibration: the citywide level, totals of registry models, backtest ratios and reliability bins;
seed averaging and the time-of-year features of leading_indicators; Bowers' distance unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crimescope.errors import ParameterError
from crimescope.forecast.backtest import backtest, reliability_bins, weekly_origins
from crimescope.forecast.base import citywide_level, make_model, registry
from crimescope.forecast.hotspot import ProspectiveHotspot
from crimescope.forecast.leading import LeadingIndicators
from crimescope.forecast.naive import NaiveCounts
from crimescope.spatial.grid import Grid

from forecast_synth import START, planted

GRID = Grid.regular(0.0, 0.0, 20, 20, 500.0)


# ------------------------------------------------------------------ the level
def test_level_by_hand():
    # as_of = day 800; recent 56 days (744..800) hold 28 events: 0.5 a day.
    # year 1 back: origin 436; [436, 443) holds 14 events, [380, 436) holds 56 -> ratio 14/56 * 56/7 = 2.
    # year 2 back: origin 72; [16, 72) is inside the history (first event at day 0): [72, 79) 0, [16, 72) 56.
    t = np.concatenate([[0.0], np.linspace(16, 71.9, 56), np.linspace(380, 435.9, 56), np.linspace(436, 442.9, 14),
                        np.linspace(744, 799.9, 28)])
    lvl = citywide_level(np.sort(t), 800.0, 7.0)
    factor = (14 + 0) / (56 + 56) * 56 / 7
    assert lvl == pytest.approx(0.5 * factor * 7)
    # one year back only
    assert citywide_level(np.sort(t), 800.0, 7.0, years=1) == pytest.approx(0.5 * 2 * 7)


def test_level_without_earlier_years_or_recent_events():
    t = np.array([10.0, 20.0, 30.0, 40.0])
    # history of 40 days (from the first event) < 56: the recent rate is over that span, no seasonal factor
    assert citywide_level(t, 50.0, 7.0) == pytest.approx(4 / 40 * 7)
    # nothing in the last 56 days: the all-history rate (4 events over 190 days)
    assert citywide_level(t, 200.0, 7.0) == pytest.approx(4 / 190 * 7)
    assert citywide_level(np.empty(0), 200.0, 7.0) == 0.0


def test_level_recovers_a_seasonal_rate():
    # rate 1 + 0.5 sin(season): the level for a week equals that week's expected count within 3%
    # (thinning a rate-200 homogeneous process); Poisson noise of the level ~2%, tolerance 6%
    rng = np.random.default_rng(5)
    days = 6 * 364
    t = np.sort(rng.uniform(0, days, rng.poisson(200 * days)))
    t = t[rng.random(t.size) < (1 + 0.5 * np.sin(2 * np.pi * t / 364)) / 1.5]
    for as_of in (5 * 364 + 50.0, 5 * 364 + 150.0, 5 * 364 + 280.0):
        want = 200 / 1.5 * (7 + 0.5 * 364 / (2 * np.pi) * (np.cos(2 * np.pi * as_of / 364)
                                                         - np.cos(2 * np.pi * (as_of + 7) / 364)))
        assert citywide_level(t[t < as_of], as_of, 7.0) == pytest.approx(want, rel=0.06)


@pytest.mark.parametrize("name", sorted(registry()))
def test_every_registry_model_totals_the_level(name):
    ev = planted(n=1500, days=800, seed=7)
    as_of = START + pd.Timedelta(days=760)
    m = make_model(name)
    if name == "learned":
        m.set_params(n_origins=6, max_iter=20)
    if name.startswith("leading_"):
        m.set_params(n_origins=10, max_iter=20, min_samples_leaf=20)
    m.fit(ev, as_of, grid=GRID)
    ref = make_model("naive_all").fit(ev, as_of, grid=GRID)
    for h in (1, 7, 28):
        # the ensembles' members are calibrated, so they are; shifted grids may lose a few edge events
        rel = 0.03 if name == "smooth_counts_avg4" else 1e-9
        assert m.predict(h).expected.sum() == pytest.approx(ref.level(h), rel=rel)
    assert m.clone().rescale_to_level is True


def test_a_class_built_directly_keeps_its_own_total():
    ev = planted(n=1500, days=800, seed=7)
    as_of = START + pd.Timedelta(days=760)
    raw = NaiveCounts(window_days=None).fit(ev, as_of, grid=GRID)
    assert raw.rescale_to_level is False and raw.clone().rescale_to_level is False
    n_before = int(((ev["occurred_local"] < as_of)).sum())
    assert raw.predict(7).expected.sum() == pytest.approx(n_before / raw.span_days_ * 7)


# ------------------------------------------------------- reliability bins
def test_reliability_bins_by_hand():
    e = np.array([4.0, 0.0, 3.0, 2.0, 1.0])
    o = np.array([5.0, 1.0, 1.0, 2.0, 0.0])
    # sorted 4, 3, 2, 1, 0 (total 10): midpoints of the running sum 2, 5.5, 8, 9.5, 10 -> bins of 5 ->
    # 0, 1, 1, 1, last (zero expected)
    cells, exp, obs = reliability_bins(e, o, n_bins=2)
    np.testing.assert_allclose(cells, [1, 4])
    np.testing.assert_allclose(exp, [4, 6])
    np.testing.assert_allclose(obs, [5, 4])
    cells, exp, obs = reliability_bins(np.zeros(3), np.array([1.0, 0, 2]), n_bins=4)
    np.testing.assert_allclose(cells, [0, 0, 0, 3])
    np.testing.assert_allclose(obs, [0, 0, 0, 3])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 50), st.integers(0, 5)), min_size=1, max_size=60))
def test_reliability_bins_preserve_totals(cells):
    e = np.array([c[0] for c in cells])
    o = np.array([c[1] for c in cells], dtype=float)
    n, exp, obs = reliability_bins(e, o)
    assert n.sum() == e.size
    assert exp.sum() == pytest.approx(e.sum(), abs=1e-9)
    assert obs.sum() == pytest.approx(o.sum())
    if e.sum() > 0:  # no bin holds much more than a tenth of the mass plus its largest cell
        assert np.all(exp <= e.sum() / 10 + e.max() + 1e-9)


def test_backtest_calibration_of_a_true_intensity_and_a_doubled_one():
    # planted: a known Poisson intensity per cell; its forecast is calibrated, a doubled one reads 0.5
    rng = np.random.default_rng(3)
    lam = rng.gamma(0.3, 1.0, GRID.n_cells) * 0.2  # events per day per cell (~24 a day in all)
    days = 500
    counts = rng.poisson(lam * days)
    cell = np.repeat(np.arange(GRID.n_cells), counts)
    cx, cy = GRID.centroids()
    t = rng.uniform(0, days, cell.size)
    ev = pd.DataFrame({"occurred_local": START + pd.to_timedelta(t, unit="D"), "x": cx[cell], "y": cy[cell]})

    class Oracle(NaiveCounts):
        def _predict(self, horizon_days):
            return lam * horizon_days * self.window_days  # window_days is used as the multiplier

    origins = weekly_origins(START + pd.Timedelta(days=200), START + pd.Timedelta(days=480))
    res = backtest(ev, GRID, {"oracle": Oracle(window_days=1.0), "double": Oracle(window_days=2.0)},
                   origins, horizons=[7], coverages=["5%"])
    cal = res.calibration("all").set_index("model")
    n_obs = cal.loc["oracle", "observed"]
    assert cal.loc["oracle", "expected"] == pytest.approx(lam.sum() * 7 * len(origins))
    # Poisson total over 40 weeks: sd of the ratio ~ 1/sqrt(n_obs) (~2.5%); 4 sd tolerance
    assert cal.loc["oracle", "ratio"] == pytest.approx(1.0, abs=4 / np.sqrt(n_obs))
    assert cal.loc["double", "ratio"] == pytest.approx(2.0, abs=8 / np.sqrt(n_obs))
    assert bool(cal.loc["oracle", "within_10pct"]) and not bool(cal.loc["double", "within_10pct"])
    tab = res.reliability_table("oracle", 7)
    assert list(tab["bin"]) == list(range(1, 11))
    ok = tab["observed"] > 100  # bins with enough events to judge
    assert ok.sum() >= 5
    np.testing.assert_allclose(tab.loc[ok, "ratio"], 1.0, atol=4 / np.sqrt(tab.loc[ok, "observed"].min()))
    dbl = res.reliability_table("double", 7)
    np.testing.assert_allclose(dbl.loc[ok, "ratio"], 0.5, atol=2 / np.sqrt(tab.loc[ok, "observed"].min()))
    by_year = res.calibration("year")
    assert set(by_year["year"]) == {pd.Timestamp(o).year for o in origins}
    win = res.calibration("window")
    assert len(win) == 2 * len(origins)
    with pytest.raises(ParameterError, match="^invalid by="):
        res.calibration("month")


# ------------------------------------------------- leading_indicators additions
def _leading_events():
    ev = planted(n=1500, days=400, seed=4)
    ev["category"] = "target"
    rel = planted(n=3000, days=400, seed=5).assign(category="rel")
    return pd.concat([ev, rel], ignore_index=True)


def test_seed_average_is_the_mean_of_single_seed_models():
    ev = _leading_events()
    as_of = START + pd.Timedelta(days=390)
    kw = dict(related=("rel",), target_category="target", n_origins=8, max_iter=20, min_samples_leaf=20)
    avg = LeadingIndicators(n_seeds=3, random_state=4, **kw).fit(ev, as_of, grid=GRID).predict(7).expected
    singles = [LeadingIndicators(random_state=s, **kw).fit(ev, as_of, grid=GRID).predict(7).expected
               for s in (4, 5, 6)]
    np.testing.assert_allclose(avg, np.mean(singles, axis=0), rtol=1e-10, atol=1e-12)
    assert not np.allclose(singles[0], singles[1])  # the seeds do differ
    with pytest.raises(ParameterError, match="^invalid n_seeds=0"):
        LeadingIndicators(n_seeds=0).fit(ev, as_of, grid=GRID)
    with pytest.raises(ParameterError, match="^invalid season='yes'"):
        LeadingIndicators(season="yes").fit(ev, as_of, grid=GRID)


def test_time_of_year_features_by_hand():
    ev = _leading_events()
    as_of = pd.Timestamp("2016-01-25")  # day 16825 since 1970-01-01
    m = LeadingIndicators(related=("rel",), target_category="target", n_origins=4, max_iter=5,
                          min_samples_leaf=5, season=True)
    ev = ev.assign(occurred_local=ev["occurred_local"] + (pd.Timestamp("2015-02-01") - START))
    m.fit(ev, as_of, grid=GRID)
    assert m.feature_names_[-2:] == ["season_sin", "season_cos"]
    doy = 2 * np.pi * ((16825 + 3) % 365.25) / 365.25
    np.testing.assert_allclose(m._x_now[:, -2], np.sin(doy))
    np.testing.assert_allclose(m._x_now[:, -1], np.cos(doy))


def test_bowers_distance_unit_by_hand():
    g = Grid.regular(0, 0, 3, 1, 500.0)  # centroids at x = 250, 750, 1250
    ev = pd.DataFrame({"occurred_local": pd.to_datetime(["2016-12-20"]), "x": [250.0], "y": [250.0]})
    p = ProspectiveHotspot(bandwidth=1000.0, distance_unit=250.0).fit(ev, "2017-01-01", grid=g)
    # 0, 500 and 1000 ft away = 0, 2, 4 units; the event is 1 whole week old
    np.testing.assert_allclose(p.surface_, np.array([1.0, 1 / 3, 1 / 5]) / 2)
    with pytest.raises(ParameterError, match="^invalid distance_unit=0"):
        ProspectiveHotspot(distance_unit=0).fit(ev, "2017-01-01", grid=g)


def test_report_shows_calibration_and_reliability(tmp_path):
    from crimescope.forecast.report import calibration_frame, write_report

    ev = planted(n=3000, days=800, seed=9)
    origins = weekly_origins(START + pd.Timedelta(days=700), START + pd.Timedelta(days=790))
    res = backtest(ev, GRID, ["naive_all", "naive_52w", "smooth_counts"], origins, horizons=[7],
                   coverages=["1%", "5%"])
    rows = res.records.drop_duplicates(["model", "origin"])
    # each record's expected total is the registry model's level at that origin
    o = rows["origin"].iloc[3]
    want = make_model("naive_all").fit(ev, o, grid=GRID).level(7)
    assert rows[(rows["model"] == "naive_all") & (rows["origin"] == o)]["expected"].iloc[0] == pytest.approx(want)
    frame = calibration_frame(res, 7).set_index("model")
    cal = res.calibration("all").set_index("model")
    for m in res.models:
        assert frame.loc[m, "all windows"] == pytest.approx(cal.loc[m, "ratio"])
        sel = rows[rows["model"] == m]
        assert cal.loc[m, "ratio"] == pytest.approx(sel["expected"].sum() / sel["n_events"].sum())
    text = write_report(res, tmp_path / "r.html", data_dir=tmp_path).read_text()
    assert "Calibration (7 days)" in text and "reliability by deciles of expected mass" in text


def test_report_per_year_table(tmp_path):
    from crimescope.forecast.report import per_year_frame, write_report

    ev = planted(n=4000, days=800, seed=12)
    origins = weekly_origins("2016-12-05", "2017-01-23")  # origins in two calendar years
    ev["occurred_local"] += pd.Timestamp("2015-01-01") - START
    res = backtest(ev, GRID, ["naive_all", "naive_52w", "smooth_counts"], origins, horizons=[7], coverages=["1%"])
    t = per_year_frame(res, 7, "1%")
    assert set(t["year"]) == {2016, 2017}
    r = res.records
    for (y, m), g in t.groupby(["year", "model"]):
        sel = r[(pd.to_datetime(r["origin"]).dt.year == y) & (r["model"] == m)]
        assert g["hit_rate"].iloc[0] == pytest.approx(sel["hit_rate"].mean())
        assert g["windows"].iloc[0] == len(sel)
    assert t["beats"].notna().sum() == 2 * 2  # two non-baseline models a year get the paired test
    assert "Per year (7 days, 1%)" in write_report(res, tmp_path / "r.html", data_dir=tmp_path).read_text()
