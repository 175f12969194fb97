"""`pace`: the seasonal year-end estimate equals an independent computation on hand-built
data; the store path counts the spans right; bad input and too few years are refused."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import statistics

import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from crimescope.errors import CoverageError, ParameterError
from crimescope.stats.pace import pace, seasonal_pace
from crimescope.store import Store
from stats_fixtures import add_batch, insert, row
from test_counting_cli import make_app

PACE_COLUMNS = ["category", "district", "as_of", "ytd", "prior_years", "seasonal_share", "pace", "low_80",
                "high_80", "low_95", "high_95", "straight_line", "sd", "sd_counting", "sd_seasonal", "dispersion"]


def independent(ytd, prior_ytd, prior_tot, phi, level):
    """The method of docs/counting.md written out again, line by line, without crimescope."""
    n = len(prior_ytd)
    s = sum(prior_ytd) / sum(prior_tot)
    est = ytd / s
    shares = [a / t for a, t in zip(prior_ytd, prior_tot)]
    tau2 = max(0.0, statistics.variance(shares) - statistics.mean([v * (1 - v) / t for v, t in zip(shares, prior_tot)]))
    var = phi * est * (1 - s) / s + (ytd / s ** 2) ** 2 * (tau2 * (1 + 1 / n) + s * (1 - s) / sum(prior_tot))
    q = stats.t.ppf((1 + level) / 2, n - 1)
    sd = math.sqrt(var)
    return est, max(ytd, est * math.exp(-q * sd / est)), max(ytd, est * math.exp(q * sd / est))


@pytest.mark.parametrize("case", [
    # (ytd, prior ytd, prior totals, phi): shares vary (tau2 > 0), barely vary (tau2 = 0), victims (phi > 1)
    (120, [100, 90, 130, 110], [700, 650, 720, 690], 1.0),
    (50, [40, 40, 40], [400, 401, 399], 1.0),
    (113, [80, 60, 47, 57, 110], [515, 431, 429, 502, 790], 1.11),
])
def test_pace_equals_independent_computation(case):
    ytd, py, pt, phi = case
    p = seasonal_pace(ytd, py, pt, phi, days_elapsed=67, days_in_year=365)
    for level in (0.8, 0.95):
        est, lo, hi = independent(ytd, py, pt, phi, level)
        assert p.estimate == pytest.approx(est, rel=1e-12)
        assert p.intervals[level] == pytest.approx((lo, hi), rel=1e-12)
    assert p.straight_line == pytest.approx(ytd * 365 / 67)
    assert p.sd ** 2 == pytest.approx(p.sd_counting ** 2 + p.sd_seasonal ** 2)


def test_pace_hand_numbers():
    """Three prior years with exactly a quarter of the year by the date: s = 1/4, tau2 = 0
    (binomial noise exceeds the shares' spread of 0), so the interval is counting noise plus
    the share's binomial uncertainty only."""
    p = seasonal_pace(30, [25, 25, 25], [100, 100, 100], 1.0)
    assert p.share == 0.25 and p.estimate == 120 and p.tau2 == 0
    var = 120 * 0.75 / 0.25 + (30 / 0.0625) ** 2 * (0.25 * 0.75 / 300)
    assert p.sd == pytest.approx(math.sqrt(var))
    q = stats.t.ppf(0.9, 2)
    assert p.intervals[0.8][1] == pytest.approx(120 * math.exp(q * math.sqrt(var) / 120))
    # the seasonal part grows with the year-to-year spread of the share
    wide = seasonal_pace(30, [15, 25, 35], [100, 100, 100], 1.0)
    assert wide.tau2 > 0 and wide.sd > p.sd and wide.estimate == p.estimate


def test_pace_refuses():
    with pytest.raises(ParameterError, match="at least 3 prior years"):
        seasonal_pace(10, [5, 5], [50, 50])
    with pytest.raises(ParameterError, match="at least 3"):
        seasonal_pace(10, [5, 5, 0], [50, 50, 0])  # a year with no record is not a covered year
    with pytest.raises(ParameterError, match="exceeds"):
        seasonal_pace(10, [60, 5, 5], [50, 50, 50])
    with pytest.raises(ParameterError, match="dispersion"):
        seasonal_pace(10, [5, 5, 5], [50, 50, 50], dispersion=0.5)


def test_pace_year_complete():
    p = seasonal_pace(500, [100, 90, 80], [100, 90, 80])
    assert p.estimate == 500 and p.intervals[0.95] == (500.0, 500.0)


def _pace_store(path):
    """Homicide victims (one row each, own case number) on chosen days of 2013-2017:
    each year 2013-2016: ``k`` rows on Feb 1 and ``m`` rows on Jul 1; 2016 adds one on
    Feb 29 (inside the span to Mar 1 in a leap year); 2017: 9 rows on Feb 1; district 1,
    except that the Jul rows of 2015 are in district 2."""
    plan = {2013: (10, 30), 2014: (12, 28), 2015: (8, 35), 2016: (11, 31)}
    rows, i = [], 0
    for y, (k, m) in plan.items():
        for _ in range(k):
            i += 1
            rows.append(row(i, f"{y}-02-01 12:00", "0110", case_number=f"C{i}"))
        for _ in range(m):
            i += 1
            rows.append(row(i, f"{y}-07-01 12:00", "0110", case_number=f"C{i}", district=2 if y == 2015 else 1))
    i += 1
    rows.append(row(i, "2016-02-29 12:00", "0110", case_number=f"C{i}"))
    for _ in range(9):
        i += 1
        rows.append(row(i, "2017-02-01 12:00", "0110", case_number=f"C{i}"))
    with Store(path) as s:
        add_batch(s, 1, "crimes.csv", "2018-01-10 12:00:00+00", covers=("2013-01-01", None))
        insert(s, rows)
    return plan


def test_pace_from_store_and_cli(tmp_path):
    path = tmp_path / "pace.duckdb"
    _pace_store(path)
    with Store(path, read_only=True) as s:
        r = pace(s, "homicide", "2017-03-01")
    t = r.table
    assert list(t.columns) == PACE_COLUMNS
    # prior YTD (Jan 1-Mar 1): 10, 12, 8, 11 + 1 (Feb 29 2016); totals 40, 40, 43, 43
    est, lo, hi = independent(9, [10, 12, 8, 12], [40, 40, 43, 43], 1.0, 0.8)
    assert t.at[0, "pace"] == pytest.approx(est, abs=0.05)
    assert (t.at[0, "low_80"], t.at[0, "high_80"]) == pytest.approx((lo, hi), abs=0.05)
    assert t.at[0, "prior_years"] == "2013-2016" and t.at[0, "ytd"] == 9
    assert [p["ytd"] for p in r.meta["prior"]] == [10, 12, 8, 12]
    assert "on pace for" in r.meta["sentence"]
    for key in ("unit", "rule", "source", "vintage"):
        assert r.meta[key]
    runner = CliRunner()
    app = make_app()
    from crimescope.cli import pace as pace_cli

    pace_cli.register(app)
    res = runner.invoke(app, ["--store", str(path), "pace", "-c", "homicide", "--as-of", "2017-03-01", "--format", "csv"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(io.StringIO(res.output), comment="#")
    assert list(df.columns) == PACE_COLUMNS
    for key in ("# unit: victims", "# rule: homicide", "# source:", "# data vintage:", "# note: on pace for",
                "# note: method:"):
        assert key in res.output, key
    res = runner.invoke(app, ["--store", str(path), "pace", "-c", "homicide", "--as-of", "2017-03-01", "--format", "json"])
    doc = json.loads(res.output)
    assert list(doc["rows"][0]) == PACE_COLUMNS and doc["meta"]["method"]
    res = runner.invoke(app, ["--store", str(path), "pace", "-c", "homicide", "--as-of", "2017-03-01"])
    assert res.exit_code == 0 and "low_80" in res.output and "on pace for" in res.output
    # district 2 has records in 2015 only: refused, not answered from zeros (the years are covered,
    # so it is the method's limit, a ParameterError, not a coverage refusal)
    with Store(path, read_only=True) as s, pytest.raises(ParameterError, match="at least 3"):
        pace(s, "homicide", "2017-03-01", district=2)
    # no 2012 data: as of 2015 only 2013-2014 are covered before it
    with Store(path, read_only=True) as s, pytest.raises(CoverageError, match="2013, 2014"):
        pace(s, "homicide", "2015-03-01")


def test_pace_cli_refusal_is_one_line(tmp_path):
    from crimescope.cli.main import main

    path = tmp_path / "pace.duckdb"
    _pace_store(path)
    import contextlib

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(["--store", str(path), "pace", "-c", "homicide", "--as-of", "2015-03-01"])
    assert rc == 2
    assert err.getvalue().count("\n") == 1 and err.getvalue().startswith("error: pace needs at least 3")


def test_pace_quantile_is_student_t_ppf():
    """``_z`` (scipy.special.stdtrit, kept per level and df) equals ``scipy.stats.t.ppf`` bit for bit."""
    from scipy import stats

    from crimescope.stats import pace as pc

    for df in range(1, 60):
        for level in (0.8, 0.95):
            assert pc._z(level, df) == float(stats.t.ppf(0.5 + level / 2, df))
    assert pc._z(0.95) == float(stats.norm.ppf(0.975))
