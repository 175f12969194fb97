"""The query layer is plain Ibis: the same expressions compile for engines other than
DuckDB (Spark SQL via the Databricks dialect, Trino), so the Spark issue can run them."""

from __future__ import annotations

import ibis
import pytest

from crimescope.store.schema import HISTORY_EXTRA, INCIDENT_COLUMNS
from crimescope.stats.query import (arrests_expr, count_expr, daily_expr, events_expr, incidents_table,
                                    ytd_expr)

TYPES = {"VARCHAR NOT NULL": "string", "VARCHAR": "string", "TIMESTAMP": "timestamp",
         "TIMESTAMPTZ": "timestamp('UTC')", "BOOLEAN": "boolean", "INTEGER": "int32", "DOUBLE": "float64"}


class UnboundBackend:
    """Stands in for a backend: ``table(name)`` gives an unbound Ibis table of the store schema."""

    def table(self, name):
        cols = INCIDENT_COLUMNS + (HISTORY_EXTRA if name == "incident_history" else [])
        return ibis.table({c: TYPES[t] for c, t, _ in cols}, name=name)


@pytest.mark.parametrize("dialect", ["databricks", "trino", "duckdb"])
@pytest.mark.parametrize("vintage", [None, "2018-01-01"])
def test_expressions_compile_for_other_engines(dialect, vintage):
    t = incidents_table(UnboundBackend(), vintage=vintage)
    exprs = [
        (count_expr(t, "homicide", "2017-01-01", "2017-03-08", ["district", "week", "dow", "month", "hour"]), "0142"),
        (ytd_expr(t, "shooting", "2016-02-29", 5, ["district"]), "041A"),
        (daily_expr(t, ["murder", "violent_index"], [("2017-01-01", "2017-03-08"), ("2016-01-01", "2016-03-08")],
                    ["district"]), "04B"),
        (arrests_expr(t, "robbery", "2017-01-01", "2017-12-31", ["community_area"]), "0312"),
        (events_expr(t, "gun_violence", "2017-01-01", None), "0489"),
    ]
    for e, code in exprs:
        sql = ibis.to_sql(e, dialect=dialect)
        assert "incidents" in sql and f"'{code}'" in sql
        assert ("incident_history" in sql) == (vintage is not None)
