"""``routes._common.result_doc`` (the JSON answers' and pages' ``{meta, rows}``) equals ``to_dict()``.

It converts each table cell with the common cases first; the document must be the same as
``Result.to_dict`` gives, for the dashboard's results on the test store and for a table of
every awkward value (NaN, infinities, NA, NaT, dates, timestamps, NumPy scalars in an object
column, booleans, None).
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from _shared import requires_shared


def _same(result):
    from crimescope.web.routes._common import doc_json, result_doc

    got, want = result_doc(result), result.to_dict()
    assert got == want
    # and the same JSON text (types included: 1 and 1.0 and True compare equal in Python)
    text = json.dumps(want, default=str, allow_nan=False)
    assert json.dumps(got, default=str, allow_nan=False) == text
    # the answers' text, written column by column (twice: the second reads the kept float texts)
    assert doc_json(result) == text
    assert doc_json(result) == text
    return got


def test_awkward_values():
    from crimescope.result import Result

    t = pd.DataFrame({
        "f": [1.5, float("nan"), float("inf"), -float("inf"), 0.0],
        "i": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        "n": np.arange(5, dtype="int64"),
        "b": [True, False, True, False, True],
        "o": [np.int64(7), np.float64(2.5), None, "x", np.bool_(True)],
        "d": [dt.date(2017, 1, 1), None, dt.date(2016, 2, 29), pd.NaT, dt.date(2015, 3, 1)],
        "ts": pd.to_datetime(["2017-01-01 10:00", None, "2016-02-29 00:00", "2015-01-01 23:59", "2014-12-31 00:00"]),
        "s": pd.array(["a", None, "c", "d", "e"], dtype="string"),
        "s2": pd.Series(["a", None, "c", float("nan"), "e"], dtype="str"),
        "f32": np.array([1.25, np.nan, np.inf, 2.0, -0.5], dtype="float32"),
        "u8": np.arange(5, dtype="uint8"),
    })
    doc = _same(Result(t, {"title": "x", "value": float("nan"), "when": dt.date(2017, 1, 1), "n": np.int64(3)}))
    assert doc["rows"][1]["f"] is None and doc["rows"][2]["f"] is None and doc["rows"][0]["o"] == 7
    assert doc["rows"][1]["s2"] is None and doc["rows"][3]["s2"] is None and doc["rows"][2]["f32"] is None


def test_doc_json_writes_what_json_dumps_writes():
    """The column-wise JSON text: negative zero, non-ASCII and quotes in strings and names,
    a meta hook, repeated names (the records path) and a result class with its own to_dict."""
    from crimescope.result import Result
    from crimescope.web.routes._common import doc_json

    t = pd.DataFrame({
        "z": [0.0, -0.0, 1e-05, 1e16, 2.5],
        'na"me é': ["é", 'a"b', "\\n", None, "x"],
        "i": pd.array([None, -1, 2**40, 0, 5], dtype="Int64"),
        "fl": pd.array([0.1, None, -0.0, 3.0, 1e300], dtype="Float64"),
        "bo": pd.array([True, None, False, True, False], dtype="boolean"),
        "ob": [[1, 2.5], {"k": np.int64(3)}, np.datetime64("2017-01-01"), np.float64("nan"), object()],
    })
    r = Result(t, {"title": "é", "x": [1, -0.0]})
    want = r.to_dict()
    want["meta"]["data_status"] = "behind"
    text = json.dumps(want, default=str, allow_nan=False)
    hook = lambda meta: meta.__setitem__("data_status", "behind")  # noqa: E731
    assert doc_json(r, hook) == text
    assert doc_json(r, hook) == text
    dup = Result(pd.DataFrame([[1, 2]], columns=["a", "a"]), {})
    with pytest.warns(UserWarning, match="not unique"):  # to_dict's records keep the last "a"
        assert doc_json(dup) == json.dumps(dup.to_dict(), default=str, allow_nan=False)

    class Own(Result):
        def to_dict(self):
            return {"meta": {}, "rows": [{"own": True}]}

    assert doc_json(Own(t, {})) == '{"meta": {}, "rows": [{"own": true}]}'


def test_texts_written_ahead_change_no_answer(monkeypatch):
    """keep_float_texts (the server's warming) and the bound on the kept texts: the answers' text is
    json.dumps' before, after and across a clearing; zeros keep their sign."""
    from crimescope.result import Result
    from crimescope.web.routes import _common

    monkeypatch.setattr(_common, "_FLOAT_TEXT", {})
    monkeypatch.setattr(_common, "_FLOAT_KEPT", {})
    monkeypatch.setattr(_common, "_FLOAT_TEXT_MAX", 50)
    rng = np.random.default_rng(3)
    _common.keep_float_texts(np.round(rng.uniform(-88, -87, 40), 6), np.array([0.0, -0.0, 1e-7]))
    assert 0.0 not in _common._FLOAT_KEPT and len(_common._FLOAT_KEPT) == 41
    for _ in range(4):  # 60 new numbers each: the bound clears the others, the kept ones come back
        t = pd.DataFrame({"x": np.round(rng.uniform(-88, -87, 60), 6), "z": [-0.0, 0.0] * 30})
        r = Result(t, {})
        assert _common.doc_json(r) == json.dumps(r.to_dict(), default=str, allow_nan=False)
        assert set(_common._FLOAT_KEPT) <= set(_common._FLOAT_TEXT) or len(_common._FLOAT_TEXT) > 50


def test_an_empty_table_and_a_table_without_columns():
    from crimescope.result import Result

    _same(Result(pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": pd.Series([], dtype="str")}), {"t": 1}))
    _same(Result(pd.DataFrame(index=range(3)), {"t": 1}))


@requires_shared
@pytest.mark.parametrize("what", ["overview", "compstat", "hotspots", "map", "rate", "trends", "forecast"])
def test_dashboard_results(web_store, what):
    from crimescope.app import dashboard
    from crimescope.datasets import as_dataset
    from crimescope.stats import compstat

    ds = as_dataset(web_store, None)
    a = dt.date(2017, 6, 30)
    r = {"overview": lambda: dashboard.overview(ds, as_of=a),
         "compstat": lambda: compstat(ds, a),
         "hotspots": lambda: dashboard.hotspots(ds, category="battery", start=dt.date(2017, 1, 1), end=a, cell=1000),
         "map": lambda: dashboard.map_counts(ds, category="theft", kind="beat", start=dt.date(2017, 1, 1), end=a),
         "rate": lambda: dashboard.map_counts(ds, category="robbery", kind="community_area",
                                              start=dt.date(2017, 1, 1), end=a, measure="rate"),
         "trends": lambda: dashboard.trends(ds, category="assault", area_kind="district", area=7,
                                            start=dt.date(2016, 1, 1), end=a, interval="week"),
         "forecast": lambda: dashboard.forecast(ds, category="shooting", as_of=a, model="naive_52w"),
         }[what]()
    doc = _same(r)
    assert len(doc["rows"]) > 0
    assert not any(isinstance(v, float) and not math.isfinite(v) for row in doc["rows"] for v in row.values())
