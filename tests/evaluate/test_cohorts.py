"""Cohorts files: parsing, errors, shifting by months, the shipped SDSC dates."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from crimescope.errors import ParameterError
from crimescope.evaluate.base import treatment_index
from crimescope.evaluate.cohorts import Cohorts, read_cohorts, sdsc

from evaluate_fixtures import synthetic_panel


def test_read_cohorts_text_and_file(tmp_path):
    c = read_cohorts("# from a test\narea,start,note\n7,2017-02-01,Englewood\n011,2017-02-15,\n")
    assert c.starts == {"7": dt.date(2017, 2, 1), "11": dt.date(2017, 2, 15)}
    assert c.notes["7"] == "Englewood" and c.provenance == ["from a test"]
    f = tmp_path / "c.csv"
    f.write_text("area,start\n1713,2016-05-01\n", encoding="utf-8")
    assert read_cohorts(f).starts == {"1713": dt.date(2016, 5, 1)}


@pytest.mark.parametrize("text, msg", [
    ("area,when\n7,2017-02-01\n", "area,start"),
    ("area,start\n7,2017-02-01\n7,2017-03-01\n", "twice"),
    ("area,start\n7,Feb 2017\n", "not a date"),
    ("area,start\n,2017-02-01\n", "both needed"),
])
def test_bad_cohorts_are_refused(text, msg):
    with pytest.raises(ParameterError, match=msg):
        read_cohorts(text)


def test_missing_file_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="cohorts file"):
        read_cohorts(tmp_path / "nope.csv")


def test_shift_by_months_clips_to_month_end():
    c = Cohorts({"1": "2017-01-31", "2": "2016-12-15"})
    assert c.shifted(1).starts == {"1": dt.date(2017, 2, 28), "2": dt.date(2017, 1, 15)}
    assert c.shifted(-1).starts == {"1": dt.date(2016, 12, 31), "2": dt.date(2016, 11, 15)}


def test_sdsc_file_has_the_six_districts_and_its_sources():
    c = sdsc()
    assert set(c.starts) == {"6", "7", "9", "10", "11", "15"}
    assert c.starts["7"] == c.starts["11"] == dt.date(2017, 2, 1)
    assert c.starts["6"] == c.starts["10"] == dt.date(2017, 10, 1)
    assert any("press reports" in line for line in c.provenance)
    assert any("differ" in line for line in c.provenance)


def test_treatment_index_is_the_period_containing_the_start():
    p = synthetic_panel(n_units=4, n_periods=24)
    g = treatment_index(p, {"1": "2013-03-15", "2": "2020-01-01"})  # 2 starts after the panel: untreated
    assert list(g) == [14, -1, -1, -1]
    with pytest.raises(ParameterError, match="before the panel"):
        treatment_index(p, {"1": "2011-01-01"})
    with pytest.raises(ParameterError, match="fewer than 2 periods"):
        treatment_index(p, {"1": "2012-02-01"})
    with pytest.raises(ParameterError, match="no area of the panel is treated"):
        treatment_index(p, {"1": "2020-01-01"})
    with pytest.raises(ParameterError, match="every area"):
        treatment_index(p, {str(i): "2013-01-01" for i in range(1, 5)})
    assert np.all(treatment_index(p, Cohorts({"3": "2013-01-01"})) == [-1, -1, 12, -1])
