"""Gun Violence Archive (GVA) incidents in Chicago, as source ``gva``: one row per victim.

GVA collects shootings from news and police reports; it is a second, independent count
of people shot, and a news-based one that **undercounts** the official figures. The
export has one row per incident with ``n_killed`` and ``n_injured``; the importer
stores one row per person killed (``iucr`` ``GVAK``, primary type ``GVA SHOT - KILLED``)
and per person injured (``GVAI``, ``GVA SHOT - INJURED``) - crimescope's codes for GVA
victim rows, not CPD IUCR codes - so the categories ``people_shot``,
``people_shot_killed`` and ``people_shot_injured`` (unit: victims) count them. An
incident with no one hit holds no victims and is not stored. Ids are
``<incident_id>:k<n>`` / ``:i<n>``; ``case_number`` is the GVA incident id.

GVA gives a date (no time): ``occurred_local`` is that date at 00:00. Coordinates are
WGS84; ``x``/``y`` are projected to EPSG:3435 with pyproj and the police district and
community area are those whose boundary (shared boundaries) contains the point (NULL
without coordinates or outside the city). The export has no update time, so a re-ingest
changes nothing and no earlier vintage can be reproduced. Place-based only: participant
columns are not stored.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import IngestError
from ..store import Batch, Store
from ..store.upsert import upsert_staged
from ._files import read_header

__all__ = ["SOURCE", "ingest_file", "victims_count"]

SOURCE = "gva"
REQUIRED = ["incident_id", "date", "n_killed", "n_injured", "latitude", "longitude"]
KILLED, INJURED = "GVAK", "GVAI"
UNIT_CATEGORY = {"people shot": "people_shot", "people killed": "people_shot_killed",
                 "people injured": "people_shot_injured"}


def _staged_frame(path: Path, data_dir=None):
    import numpy as np
    import pandas as pd

    from ..spatial.grid import CHICAGO_CRS, LONLAT_CRS, transform_xy
    from ..spatial.units import AreaUnits
    from ..store.schema import INCIDENT_COLUMN_NAMES

    raw = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=lambda c: c in set(REQUIRED) | {
        "address", "location_description"})
    date = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    k = pd.to_numeric(raw["n_killed"], errors="coerce")
    i = pd.to_numeric(raw["n_injured"], errors="coerce")
    lat = pd.to_numeric(raw["latitude"].replace("", None), errors="coerce")
    lon = pd.to_numeric(raw["longitude"].replace("", None), errors="coerce")
    reason = pd.Series([None] * len(raw), dtype=object)
    reason[raw["incident_id"].str.strip() == ""] = "empty incident_id"
    reason[reason.isna() & date.isna()] = "unparseable date: " + raw["date"]
    bad_n = k.isna() | i.isna() | (k < 0) | (i < 0)
    reason[reason.isna() & bad_n] = "n_killed/n_injured not a count: " + raw["n_killed"] + "/" + raw["n_injured"]
    x, y = transform_xy(lon.to_numpy(float), lat.to_numpy(float), LONLAT_CRS, CHICAGO_CRS)
    has = np.isfinite(x) & np.isfinite(y)
    dist = AreaUnits.load("district", data_dir)
    ca = AreaUnits.load("community_area", data_dir)
    di, ci = dist.locate(x, y), ca.locate(x, y)
    district = [int(dist.unit_ids[j]) if j >= 0 else None for j in di]
    area = [int(ca.unit_ids[j]) if j >= 0 else None for j in ci]
    rows = []
    for n in range(len(raw)):
        base = dict.fromkeys(INCIDENT_COLUMN_NAMES)
        base.update(source=SOURCE, case_number=raw["incident_id"].iat[n], block=raw["address"].iat[n] or None,
                    location_description=(raw["location_description"].iat[n] or None)
                    if "location_description" in raw else None,
                    district=district[n], community_area=area[n],
                    x=float(x[n]) if has[n] else None, y=float(y[n]) if has[n] else None,
                    crs=CHICAGO_CRS if has[n] else None,
                    lon=None if pd.isna(lon.iat[n]) else float(lon.iat[n]),
                    lat=None if pd.isna(lat.iat[n]) else float(lat.iat[n]),
                    has_location=bool(has[n] and district[n] is not None),
                    _line=n + 2, _raw=None, _reason=reason.iat[n])
        if reason.iat[n] is not None:
            rows.append({**base, "id": f"{raw['incident_id'].iat[n]}:?", "_raw": ",".join(raw.iloc[n].tolist())})
            continue
        for code, label, count in ((KILLED, "KILLED", int(k.iat[n])), (INJURED, "INJURED", int(i.iat[n]))):
            for v in range(1, count + 1):
                rows.append({**base, "id": f"{raw['incident_id'].iat[n]}:{code[-1].lower()}{v}",
                             "occurred_local": date.iat[n].to_pydatetime(), "iucr": code,
                             "primary_type": f"GVA SHOT - {label}", "description": f"person shot and {label.lower()}"})
    df = pd.DataFrame(rows, columns=[*INCIDENT_COLUMN_NAMES, "_line", "_raw", "_reason"])
    return df, len(raw)


def ingest_file(store: Store, path: str | Path, *, data_dir=None) -> Batch:
    """Load one GVA export (one transaction; refused whole if it is not this format)."""
    path = Path(path)
    header = read_header(path)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise IngestError(str(path), f"not a Gun Violence Archive export: lacks {', '.join(missing)}")
    df, _n_lines = _staged_frame(path, data_dir)
    origin = str(path.resolve())
    con = store.con
    with store.transaction():
        batch = store.new_batch(SOURCE, "file", origin)
        con.register("_gva_df", df)
        try:
            con.execute("""CREATE OR REPLACE TEMP TABLE _staged AS SELECT * REPLACE (
                occurred_local::TIMESTAMP AS occurred_local,
                timezone('America/Chicago', occurred_local::TIMESTAMP) AS occurred_utc,
                updated_at::TIMESTAMP AS updated_at, batch_id::INTEGER AS batch_id,
                loaded_at::TIMESTAMPTZ AS loaded_at, arrest::BOOLEAN AS arrest, domestic::BOOLEAN AS domestic,
                beat::INTEGER AS beat, district::INTEGER AS district, ward::INTEGER AS ward,
                community_area::INTEGER AS community_area, x::DOUBLE AS x, y::DOUBLE AS y,
                lon::DOUBLE AS lon, lat::DOUBLE AS lat, fbi_code::VARCHAR AS fbi_code,
                iucr::VARCHAR AS iucr, primary_type::VARCHAR AS primary_type, description::VARCHAR AS description,
                block::VARCHAR AS block, location_description::VARCHAR AS location_description,
                crs::VARCHAR AS crs, _raw::VARCHAR AS _raw, _reason::VARCHAR AS _reason) FROM _gva_df""")
        finally:
            con.unregister("_gva_df")
        upsert_staged(store, "_staged", batch, origin)
        store.finish_batch(batch)
        con.execute("DROP TABLE IF EXISTS _staged")
    return batch


def victims_count(store, unit: str, start, end, *, district: int | None = None):
    """``(value, name, detail)``: GVA's count of ``unit`` (people shot / killed / injured) from
    ``start`` to ``end`` when the store holds GVA for the whole period, else None."""
    from ..stats import count
    from ..store import coverage

    cat = UNIT_CATEGORY.get(unit)
    if cat is None:
        return None
    try:
        has = store.con.execute("SELECT count(*) FROM batches WHERE source = ?", [SOURCE]).fetchone()[0]
    except Exception:
        return None
    if not has or not coverage.check(store, SOURCE, cat, start, end).full:
        return None
    by = ["district"] if district is not None else []
    r = count(store, cat, start, end, by, source=SOURCE)
    t = r.table
    value = int(t.loc[t["district"] == district, "count"].sum()) if district is not None else int(r.meta["total"])
    name = f"Gun Violence Archive {unit} ({cat})"
    detail = ("news-based count of victims (killed + injured) - an undercount of the official figure; it "
              "includes accidental, self-inflicted and police shootings"
              + ("; district from the incident's coordinates" if district is not None else ""))
    return value, name, detail


def ingest_files(store: Store, paths, *, on_file=None) -> list:
    """Ingest several GVA exports, one transaction each (the importer the gva profile names).

    Returns, per path in order, its Batch or the IngestError; ``on_file(path, result)`` is
    called after each.
    """
    from ._files import ingest_each

    return ingest_each(lambda path: ingest_file(store, path), paths, on_file=on_file)
