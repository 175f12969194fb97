"""The leading-indicators model: decayed counts, the cell kernel, related categories, backtest wiring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crimescope.errors import ParameterError
from crimescope.forecast.backtest import backtest, split_target, weekly_origins
from crimescope.forecast.base import make_model
from crimescope.forecast.leading import (LeadingIndicators, cell_kernel, decayed_cell_counts,
                                         decayed_cell_counts_numpy)
from crimescope.spatial.grid import Grid

from forecast_synth import START


def test_decayed_counts_by_hand():
    t = np.array([0.0, 1.0, 3.0])
    cell = np.array([0, 1, 0])
    got = decayed_cell_counts(t, cell, np.array([2.0, 4.0]), 3, half_life_days=1.0)
    # origin 2: cell 0 has an event 2 days old (1/4), cell 1 one 1 day old (1/2)
    # origin 4: cell 0: 4 days (1/16) + 1 day (1/2); cell 1: 3 days (1/8)
    np.testing.assert_allclose(got, [[0.25, 0.5625], [0.5, 0.125], [0.0, 0.0]])
    plain = decayed_cell_counts(t, cell, np.array([2.0, 4.0]), 3, half_life_days=None)
    np.testing.assert_array_equal(plain, [[1, 2], [1, 1], [0, 0]])
    # an event exactly at an origin is not before it
    np.testing.assert_array_equal(decayed_cell_counts(t, cell, np.array([1.0]), 3, None), [[1], [0], [0]])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.integers(0, 4)), max_size=40),
       st.lists(st.floats(0, 120), min_size=1, max_size=6), st.sampled_from([None, 3.0, 30.0]))
def test_decayed_counts_match_the_direct_sum(evs, origins, hl):
    t = np.array(sorted(e[0] for e in evs), dtype=float)
    cell = np.array([e[1] for e in sorted(evs, key=lambda e: e[0])], dtype=np.int64)
    o = np.array(sorted(origins))
    got = decayed_cell_counts(t, cell, o, 5, hl)
    for k, ok in enumerate(o):
        before = t < ok
        w = np.ones(before.sum()) if hl is None else np.exp2(-(ok - t[before]) / hl)
        np.testing.assert_allclose(got[:, k], np.bincount(cell[before], weights=w, minlength=5),
                                   rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 400), st.integers(0, 6)), max_size=300),
       st.lists(st.floats(-5, 450), min_size=0, max_size=30), st.sampled_from([None, 0.5, 7.0, 30.0, 365.0]),
       st.booleans())
def test_decayed_counts_kernel_equals_the_numpy_loop_bit_for_bit(evs, origins, hl, on_origins):
    # the Numba kernel against the NumPy loop it replaces: ties, events exactly at origins, empty
    # segments, origins before any event, empty inputs
    t = np.array(sorted(e[0] for e in evs), dtype=float)
    cell = np.array([e[1] for e in sorted(evs, key=lambda e: e[0])], dtype=np.int64)
    o = np.array(sorted(origins), dtype=float)
    if on_origins and t.size:
        o = np.unique(np.r_[o, t[:: max(1, t.size // 5)]])
    got = decayed_cell_counts(t, cell, o, 7, hl)
    ref = decayed_cell_counts_numpy(t, cell, o, 7, hl)
    assert got.shape == ref.shape == (7, o.size) and got.flags.c_contiguous
    np.testing.assert_array_equal(got, ref)


def test_decayed_counts_kernel_on_long_histories_equals_the_numpy_loop():
    rng = np.random.default_rng(4)
    t = np.sort(rng.uniform(0, 2000, 50_000))
    cell = rng.integers(0, 3000, t.size)
    o = np.arange(1200.0, 2001.0, 7.0)
    for hl in (None, 7, 14, 30, 90, 365):
        np.testing.assert_array_equal(decayed_cell_counts(t, cell, o, 3000, hl),
                                      decayed_cell_counts_numpy(t, cell, o, 3000, hl))


def test_decayed_counts_refuse_a_cell_outside_the_grid():
    with pytest.raises(ParameterError, match="invalid cell="):
        decayed_cell_counts(np.array([1.0, 2.0]), np.array([0, 3]), np.array([5.0]), 3, 7.0)
    with pytest.raises(ParameterError, match="invalid cell="):
        decayed_cell_counts(np.array([1.0]), np.array([-1]), np.array([5.0]), 3, None)


def test_cell_kernel_shares_each_cell_within_the_bandwidth():
    g = Grid.regular(0.0, 0.0, 5, 5, 100.0)
    m = cell_kernel(g, 150.0)
    np.testing.assert_allclose(np.asarray(m.sum(axis=0)).ravel(), 1.0)
    centre = 12  # row 2, col 2
    col = m[:, centre].toarray().ravel()
    # reach 150: itself (d=0, k=1) and the 4 rook neighbours (d=100, k=(1-(100/150)^2)^2); diagonals are 141 away
    k_rook = (1 - (100 / 150) ** 2) ** 2
    k_diag = (1 - (100 * np.sqrt(2) / 150) ** 2) ** 2
    total = 1 + 4 * k_rook + 4 * k_diag
    assert col[centre] == pytest.approx(1 / total)
    assert col[centre + 1] == pytest.approx(k_rook / total)
    assert col[centre + 6] == pytest.approx(k_diag / total)
    assert np.count_nonzero(col) == 9
    assert cell_kernel(g, 150.0) is m  # cached


def _spots(seed: int):
    """Background targets everywhere; eight spots where an indicator and extra targets go
    together; a ninth spot (S9) with the indicator only; nothing else marks S9."""
    rng = np.random.default_rng(seed)
    days = 500.0
    rows = []

    def add(n, x, y, sd, cat):
        t = rng.uniform(0, days, n)
        rows.append(pd.DataFrame({"occurred_local": START + pd.to_timedelta(t, unit="D"),
                                  "x": x + rng.normal(0, sd, n), "y": y + rng.normal(0, sd, n), "category": cat}))

    add(600, 0.0, 0.0, 0.0, "target")
    rows[-1]["x"] = rng.uniform(0, 10_000, 600)  # background: uniform over the square
    rows[-1]["y"] = rng.uniform(0, 10_000, 600)
    spots = [(1250, 1250), (1250, 5250), (1250, 8750), (5250, 1250), (8750, 1250), (8750, 5250),
             (8750, 8750), (5250, 8750)]
    for x, y in spots:
        add(600, x, y, 60, "drugs")
        add(12, x, y, 60, "target")
    s9 = (5250.0, 5250.0)
    add(600, *s9, 60, "drugs")
    ev = pd.concat(rows, ignore_index=True)
    return ev, START + pd.Timedelta(days=days), s9


def test_related_category_lifts_a_place_with_only_the_indicator():
    g = Grid.regular(0.0, 0.0, 20, 20, 500.0)
    lifts = []
    for seed in (0, 1, 2):
        ev, as_of, s9 = _spots(seed)
        c9 = int(g.locate(np.array([s9[0]]), np.array([s9[1]]))[0])
        far = np.hypot(g.centroids()[0] - 5250, g.centroids()[1] - 5250)
        ring = (far > 1500) & (far < 2600)  # background cells around S9, away from every spot
        m = LeadingIndicators(related=("drugs",), target_category="target", n_origins=40, max_iter=40,
                              min_samples_leaf=20, random_state=seed)
        with_ind = m.fit(ev, as_of, grid=g).predict(7).expected
        without = m.clone().fit(ev[ev.category == "target"], as_of, grid=g).predict(7).expected
        lifts.append((with_ind[c9] / with_ind[ring].mean(), without[c9] / without[ring].mean()))
    # the indicator alone marks S9 as riskier than its surroundings; without it S9 looks like them
    for w, wo in lifts:
        assert w > 1.3 * wo, lifts
    assert np.mean([w for w, _ in lifts]) > 2.0 > np.mean([wo for _, wo in lifts]), lifts


def test_only_target_rows_are_forecast():
    g = Grid.regular(0.0, 0.0, 20, 20, 500.0)
    ev, as_of, _ = _spots(4)
    n_target_week = (ev.category == "target").sum() / 500 * 7
    m = LeadingIndicators(related=("drugs",), target_category="target", n_origins=30, max_iter=30)
    total = m.fit(ev, as_of, grid=g).predict(7).expected.sum()
    assert 0.6 * n_target_week < total < 1.5 * n_target_week  # drugs (6x more rows) are not targets
    # target_category None: every row not in `related` is a target
    m2 = LeadingIndicators(related=("drugs",), n_origins=30, max_iter=30).fit(ev, as_of, grid=g)
    np.testing.assert_allclose(m2.predict(7).expected, m.predict(7).expected)


def test_for_target_and_settings():
    m = make_model("leading_indicators").for_target("narcotics")
    assert m.target_category == "narcotics" and "narcotics" not in m.related_categories()
    assert "weapons_violation" in m.related_categories()
    assert make_model("naive_all").for_target("narcotics").related_categories() == ()
    g = Grid.regular(0.0, 0.0, 4, 4, 500.0)
    ev = pd.DataFrame({"occurred_local": [START], "x": [100.0], "y": [100.0]})
    for bad in ({"target_category": "battery", "related": ("battery",)}, {"target_features": ((0, 100),)},
                {"related_features": ()}, {"zero_sample": 0}, {"related": "battery"}):
        with pytest.raises(ParameterError, match="invalid "):
            LeadingIndicators(**bad).fit(ev, START + pd.Timedelta(days=1), grid=g)


def test_backtest_gives_related_rows_only_to_models_that_read_them():
    g = Grid.regular(0.0, 0.0, 20, 20, 500.0)
    ev, as_of, _ = _spots(5)
    origins = weekly_origins(as_of - pd.Timedelta(days=28), as_of)
    fast = LeadingIndicators(related=("drugs",), n_origins=20, max_iter=20)
    mixed = backtest(ev, g, {"naive_all": make_model("naive_all"), "li": fast}, origins,
                     coverages=("5%",), target_category="target")
    target_only = backtest(split_target(ev, "target"), g, ["naive_all"], origins, coverages=("5%",))
    a = mixed.records[mixed.records.model == "naive_all"].reset_index(drop=True)
    b = target_only.records.reset_index(drop=True)
    timing = ["fit_seconds", "fit_cpu_seconds"]
    pd.testing.assert_frame_equal(a.drop(columns=timing), b.drop(columns=timing))
    # scored on target events only
    tt = pd.to_datetime(ev.occurred_local[ev.category == "target"])
    o0 = pd.Timestamp(origins[0])
    assert a.loc[0, "n_events"] == ((tt >= o0) & (tt < o0 + pd.Timedelta(days=7))).sum()
    li = mixed.records[mixed.records.model == "li"]
    assert len(li) == len(origins) and li.hit_rate.notna().all()


@pytest.mark.shared
def test_load_categories_tags_every_category_completely(chicago_store):
    from crimescope.stats.events import load_categories, load_events

    df = load_categories(chicago_store, ["gun_violence", "homicide", "gun_violence"], "2017-01-01", "2017-01-31")
    assert set(df["category"]) == {"gun_violence", "homicide"}
    for name in ("gun_violence", "homicide"):
        own = load_events(chicago_store, name, "2017-01-01", "2017-01-31")
        assert sorted(df.loc[df.category == name, "id"]) == sorted(own["id"])
    # a homicide is also gun violence: it appears once under each name
    hom = set(df.loc[df.category == "homicide", "id"])
    assert hom and hom <= set(df.loc[df.category == "gun_violence", "id"])
    assert df["occurred_local"].is_monotonic_increasing


@pytest.mark.shared
def test_cli_forecast_with_leading_indicators(chicago_store_path, tmp_path):
    from typer.testing import CliRunner

    from crimescope.cli.main import app

    out = tmp_path / "f.csv"
    r = CliRunner().invoke(app, ["--store", str(chicago_store_path), "forecast", "--model", "leading_indicators",
                                 "--category", "gun_violence", "--as-of", "2017-07-03", "--horizon", "7d",
                                 "--cell", "2000ft", "--out", str(out)])
    assert r.exit_code == 0, r.output
    f = pd.read_csv(out, comment="#")
    assert len(f) > 1000 and (f["expected"] >= 0).all() and f["rank"].min() == 1
    # about a week of Chicago gun violence (50-90 located events in the summer of 2017)
    assert 30 < f["expected"].sum() < 150
