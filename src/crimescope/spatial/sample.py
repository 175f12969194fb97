"""Events read straight from the shared Chicago CSV extracts (for tests, benchmarks and a store-less CLI run).

The normal path is ``crimescope.stats.events.load_events(store, category, ...)``;
this reader gives the same columns from ``<shared data>/chicago/crimes/*.csv.gz``
with DuckDB, for an IUCR code list, without building a store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ParameterError

__all__ = ["read_chicago_csv", "category_events", "GUN_VIOLENCE_IUCR"]

#: homicide, shootings (aggravated battery with a firearm, incl. against officers)
GUN_VIOLENCE_IUCR = ("0110", "0130", "0141", "0142", "041A", "041B", "0450", "0451", "0480", "0481", "0488", "0489")


def read_chicago_csv(iucr: Any = GUN_VIOLENCE_IUCR, start: Any = None, end: Any = None,
                     data_dir: str | Path | None = None, primary_type: str | None = None, fbi: Any = None):
    """DataFrame ``id, occurred_local, x, y, lon, lat, beat, district, ward, community_area, has_location``.

    ``start``/``end`` are inclusive local dates. Rows are de-duplicated by ``ID``.
    """
    import duckdb

    from .. import settings

    base = Path(data_dir) if data_dir else settings.shared_data_dir()
    if base is None or not (base / "chicago" / "crimes").is_dir():
        raise ParameterError("shared Chicago crime extracts not found (set CRIMESCOPE_SHARED_DATA)")
    files = sorted(str(p) for p in (base / "chicago" / "crimes").glob("*.csv.gz"))
    # files are named by the year of the incident date: skip years outside the period
    y0 = int(str(start)[:4]) if start is not None else None
    y1 = int(str(end)[:4]) if end is not None else None
    files = [f for f in files if not Path(f).name[:4].isdigit()
             or ((y0 is None or int(Path(f).name[:4]) >= y0) and (y1 is None or int(Path(f).name[:4]) <= y1))]
    if not files:
        raise ParameterError(f"no crime extract covers {start} to {end}")
    where, params = [], []
    match = []
    if iucr:
        codes = [str(c).zfill(4) for c in iucr]
        match.append(f"lpad(\"IUCR\", 4, '0') IN ({', '.join('?' for _ in codes)})")
        params += codes
    if fbi:
        fcodes = [str(c) for c in fbi]
        match.append(f"\"FBI Code\" IN ({', '.join('?' for _ in fcodes)})")
        params += fcodes
    if match:
        where.append("(" + " OR ".join(match) + ")")
    if primary_type is not None:
        where.append("\"Primary Type\" = ?")
        params.append(primary_type)
    sql_t = "strptime(\"Date\", '%m/%d/%Y %I:%M:%S %p')"
    if start is not None:
        where.append(f"{sql_t} >= CAST(? AS DATE)")
        params.append(str(start))
    if end is not None:
        where.append(f"{sql_t} < CAST(? AS DATE) + INTERVAL 1 DAY")
        params.append(str(end))
    sql = f"""
        SELECT "ID" AS id, {sql_t} AS occurred_local,
               TRY_CAST("X Coordinate" AS DOUBLE) AS x, TRY_CAST("Y Coordinate" AS DOUBLE) AS y,
               TRY_CAST("Longitude" AS DOUBLE) AS lon, TRY_CAST("Latitude" AS DOUBLE) AS lat,
               CAST("Beat" AS VARCHAR) AS beat, CAST("District" AS VARCHAR) AS district,
               CAST("Ward" AS VARCHAR) AS ward, CAST("Community Area" AS VARCHAR) AS community_area,
               strptime("Updated On", '%m/%d/%Y %I:%M:%S %p') AS _updated
        FROM read_csv({files!r}, header=true, all_varchar=true, union_by_name=true)
        {('WHERE ' + ' AND '.join(where)) if where else ''}
    """
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        df = con.execute(sql, params).df()
    finally:
        con.close()
    # one row per ID: the latest revision (de-duplicated here: DuckDB 1.5 trips on QUALIFY + window)
    df = df.sort_values(["id", "_updated"]).drop_duplicates("id", keep="last").drop(columns="_updated")
    df = df.sort_values(["occurred_local", "id"], kind="stable")
    # X/Y of 0 appear in some exports for "no location"
    bad = (df["x"] <= 0) | (df["y"] <= 0)
    df.loc[bad, ["x", "y"]] = float("nan")
    df["has_location"] = df["x"].notna() & df["y"].notna()
    df["occurred_local"] = df["occurred_local"].astype("datetime64[ns]")
    return df.reset_index(drop=True)


def category_events(category: Any, start: Any = None, end: Any = None, *, store: Any = None,
                    from_csv: bool = False, data_dir: str | Path | None = None):
    """Events of a category (a taxonomy name or a Category, e.g. from a user file): from the
    store (``load_events``) or, with ``from_csv``, straight from the shared CSV extracts
    using the category's IUCR/FBI codes."""
    if from_csv:
        from ..categories import get_category

        cat = get_category(category)
        return read_chicago_csv(iucr=sorted(cat.iucr), fbi=sorted(cat.fbi), start=start, end=end,
                                data_dir=data_dir)
    if store is None:
        raise ParameterError("no store given: open one or read the shared CSVs (from_csv=True)")
    from ..stats.events import load_events

    return load_events(store, category, start, end)
