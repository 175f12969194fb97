"""The NYPD shooting-incident importer (official export: BOM, quoted coordinates)."""

from __future__ import annotations

from datetime import datetime

import pytest

from crimescope.errors import IngestError
from crimescope.sources.nyc_shootings import ingest_file
from crimescope.store import Store

from _shared import SHARED, requires_shared

HEADER = ("\ufeffINCIDENT_KEY,OCCUR_DATE,OCCUR_TIME,BORO,PRECINCT,JURISDICTION_CODE,LOCATION_DESC,"
          "STATISTICAL_MURDER_FLAG,PERP_AGE_GROUP,PERP_SEX,PERP_RACE,VIC_AGE_GROUP,VIC_SEX,VIC_RACE,"
          "X_COORD_CD,Y_COORD_CD,Latitude,Longitude,New Georeferenced Column")
# the first row is copied from the shared Year-To-Date export; the second is a second victim of it
ROW1 = ('225601140,03/13/2021,03:50:00,BROOKLYN,90,0,BAR/NIGHT CLUB,false,18-24,M,BLACK HISPANIC,25-44,M,BLACK,'
        '"1,001,951","195,081",40.70211956100008,-73.93616159099997,POINT (-73.93616159099997 40.70211956100008)')
ROW2 = ROW1.replace(",false,", ",true,")


def test_bom_quoted_coordinates_and_victim_ids(tmp_path):
    p = tmp_path / "nyc.csv"
    p.write_text("\n".join([HEADER, ROW1, ROW2]) + "\n", encoding="utf-8")
    with Store(":memory:") as store:
        b = ingest_file(store, p)
        assert (b.inserted, b.rejected) == (2, 0)
        rows = store.con.execute(
            "SELECT id, case_number, occurred_local, district, x, y, crs, has_location, fbi_code, description "
            "FROM incidents ORDER BY id").fetchall()
        assert rows[0] == ("225601140:1", "225601140", datetime(2021, 3, 13, 3, 50), 90, 1001951.0, 195081.0,
                           "EPSG:2263", True, "04A", "NON-FATAL SHOOTING")
        assert rows[1][0] == "225601140:2" and rows[1][8:] == ("01A", "MURDER")
        again = ingest_file(store, p)
        assert (again.inserted, again.unchanged) == (0, 2)
        assert store.con.execute("SELECT count(*) FROM incidents").fetchone() == (2,)


def test_subset_without_ids_is_refused(tmp_path):
    p = tmp_path / "sub.csv"
    p.write_text("OCCUR_DATE,OCCUR_TIME,BORO\n5/27/2021,21:30:00,QUEENS\n")
    with Store(":memory:") as store, pytest.raises(IngestError, match="lacks INCIDENT_KEY"):
        ingest_file(store, p)


@requires_shared
def test_shared_year_to_date_export():
    with Store(":memory:") as store:
        b = ingest_file(store, SHARED / "nyc" / "NYPD_Shooting_Incident_Data__Year_To_Date_.csv")
        assert (b.rows_read, b.inserted, b.rejected) == (902, 902, 0)
        (n, first, last) = store.con.execute(
            "SELECT count(DISTINCT id), min(occurred_local)::DATE, max(occurred_local)::DATE FROM incidents").fetchone()
        assert n == 902 and str(first) == "2021-01-01" and str(last) == "2021-06-30"
