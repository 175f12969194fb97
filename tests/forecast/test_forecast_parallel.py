"""A backtest run in worker processes (``jobs``) gives the serial result, bit for bit.

The origins are scored in spawned worker processes and the parts added in the order of the
origins, so every record (in the same order), reliability bin, calibration row, equity total and
kept forecast must equal those of the same backtest run in this process (``jobs=1``). Only
``fit_seconds`` and ``fit_cpu_seconds`` are timings of the run and differ. The events, models and
grid are those of ``test_forecast_shared_work`` (synthetic, generated in code).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from crimescope.errors import ParameterError
from crimescope.forecast.backtest import backtest, resolve_jobs, weekly_origins
from crimescope.forecast.base import make_model

from forecast_synth import START
from test_forecast_shared_work import GRID, _events, _models

TIMINGS = ("fit_seconds", "fit_cpu_seconds")


def _run(ev, origins, models, jobs, progress=None):
    return backtest(ev, GRID, models, origins, horizons=[1, 7], coverages=["1%", "5%", "0.25sqmi"],
                    target_category="target", keep_forecasts=["naive_all", "leading_bagged"], jobs=jobs,
                    progress=progress)


def test_backtest_in_two_workers_equals_the_serial_run():
    ev = _events()
    origins = weekly_origins(START + pd.Timedelta(days=525), START + pd.Timedelta(days=560))  # 5 Mondays
    models = _models()
    serial = _run(ev, origins, models, jobs=1)
    seen: list[str] = []
    par = _run(ev, origins, models, jobs=2, progress=seen.append)
    assert len(serial.records) == len(origins) * len(models) * 2 * 3
    cols = [c for c in serial.records.columns if c not in TIMINGS]
    pd.testing.assert_frame_equal(par.records[cols], serial.records[cols], check_exact=True)
    assert (par.records[list(TIMINGS)].to_numpy() >= 0).all()
    pd.testing.assert_frame_equal(par.reliability, serial.reliability, check_exact=True)
    for by in ("year", "window"):
        pd.testing.assert_frame_equal(par.calibration(by), serial.calibration(by), check_exact=True)
    pd.testing.assert_frame_equal(par.summary().drop(columns="fit_seconds"),
                                  serial.summary().drop(columns="fit_seconds"), check_exact=True)
    assert par.cell_totals.keys() == serial.cell_totals.keys()
    for k, tot in serial.cell_totals.items():
        for part, arr in tot.items():
            np.testing.assert_array_equal(par.cell_totals[k][part], arr)
    assert par.forecasts.keys() == serial.forecasts.keys() and len(par.forecasts) == 4
    for k in serial.forecasts:
        np.testing.assert_array_equal(par.forecasts[k], serial.forecasts[k])
    for h in serial.observed:
        np.testing.assert_array_equal(par.observed[h], serial.observed[h])
    # one progress step per (origin, model), as in the serial run
    assert len(seen) == len(origins) * len(models)
    assert sorted(s.rsplit(" ", 1)[0] for s in seen) == sorted(
        f"{pd.Timestamp(o).date()} {m}" for o in origins for m in models)


def test_an_error_in_a_worker_is_raised_with_its_origin_and_model():
    ev = _events()
    origins = weekly_origins(START + pd.Timedelta(days=525), START + pd.Timedelta(days=540))
    bad = make_model("smooth_counts", bandwidth=-5.0)  # refused when fitted, i.e. in the worker
    with pytest.raises(ParameterError, match="bandwidth=-5.0") as info:
        _run(ev, origins, {"naive_all": make_model("naive_all"), "bad_smooth": bad}, jobs=2)
    notes = getattr(info.value, "__notes__", [])
    assert any("backtest worker" in n and "model bad_smooth" in n for n in notes), notes


def test_resolve_jobs():
    assert resolve_jobs(1, 52) == 1
    assert resolve_jobs(3, 52) == 3
    assert resolve_jobs(8, 2) == 2  # never more workers than origins
    assert resolve_jobs(0, 1000) == (os.cpu_count() or 1)
    assert resolve_jobs(0, 1) == 1
    for bad in (-1, 1.5, "2", True, None):
        with pytest.raises(ParameterError, match="invalid jobs="):
            resolve_jobs(bad, 10)


def test_cli_backtest_jobs_gives_the_serial_files(chicago_store_path, tmp_path):
    from typer.testing import CliRunner

    from crimescope.cli.main import app, main
    from crimescope.forecast.backtest import ranking_path

    rp = ranking_path(chicago_store_path, "gun_violence")
    before = rp.read_text() if rp.exists() else None
    args = ["--store", str(chicago_store_path), "backtest", "--category", "gun_violence",
            "--models", "naive_all,smooth_counts", "--start", "2016-06-06", "--end", "2016-06-27",
            "--horizons", "7", "--coverage", "1%,5%", "--cell", "2000ft"]
    try:
        runs = {j: CliRunner().invoke(app, [*args, "--out", str(tmp_path / f"j{j}"), "--jobs", str(j)])
                for j in (1, 2)}
        assert main([*args, "--out", str(tmp_path / "bad"), "--jobs", "-1"]) == 2  # refused: a ParameterError
    finally:
        if before is None:
            rp.unlink(missing_ok=True)
        else:
            rp.write_text(before)
    for r in runs.values():
        assert r.exit_code == 0, r.output
    a, b = (pd.read_csv(tmp_path / f"j{j}" / "records.csv", comment="#") for j in (1, 2))
    assert len(a) == 3 * 2 * 2
    cols = [c for c in a.columns if c not in TIMINGS]
    pd.testing.assert_frame_equal(a[cols], b[cols], check_exact=True)
    for name in ("calibration.csv", "reliability.csv"):
        assert (tmp_path / "j1" / name).read_text() == (tmp_path / "j2" / name).read_text()
    assert not (tmp_path / "bad").exists()
