"""Hand-made rows in the Chicago portal's CSV format, for importer tests.

The first rows are real records copied from ../shared/data/chicago/crimes/2016.csv.gz
(ids 10364665, 10364671); the others are edited copies made to exercise one rule each.
"""

HEADER20 = ("ID,Case Number,Date,Block,IUCR,Primary Type,Description,Location Description,Arrest,"
            "Domestic,Beat,District,Ward,Community Area,FBI Code,X Coordinate,Y Coordinate,Updated On,"
            "Latitude,Longitude")
HEADER22 = ("ID,Case Number,Date,Block,IUCR,Primary Type,Description,Location Description,Arrest,"
            "Domestic,Beat,District,Ward,Community Area,FBI Code,X Coordinate,Y Coordinate,Year,Updated On,"
            "Latitude,Longitude,Location")

R1 = ("10364665,HZ100012,01/01/2016 12:01:00 AM,014XX S AVERS AVE,1310,CRIMINAL DAMAGE,TO PROPERTY,"
      "APARTMENT,false,false,1011,010,24,29,14,1150945,1892794,02/10/2018 03:50:01 PM,41.861717546,-87.721386272")
R2 = ("10364671,HZ100018,01/01/2016 12:20:00 AM,050XX N SHERIDAN RD,0460,BATTERY,SIMPLE,SIDEWALK,"
      "false,false,2024,020,46,3,08B,1168720,1933829,02/10/2018 03:50:01 PM,41.97395366,-87.654945865")


def row(id_="1", case="HZ1", date="07/04/2016 11:30:00 PM", iucr="041A", ptype="BATTERY",
        desc="AGGRAVATED: HANDGUN", arrest="false", domestic="false", beat="0611", district="006",
        ward="17", ca="71", fbi="04B", x="1170000", y="1850000", updated="02/10/2018 03:50:01 PM",
        lat="41.75", lon="-87.65", block="080XX S HALSTED ST", loc="STREET") -> str:
    return (f"{id_},{case},{date},{block},{iucr},{ptype},{desc},{loc},{arrest},{domestic},{beat},"
            f"{district},{ward},{ca},{fbi},{x},{y},{updated},{lat},{lon}")


def row22(**kw) -> str:
    """The same row in the 22-column layout (Year after Y Coordinate, Location at the end)."""
    parts = row(**kw).split(",")
    year = kw.get("date", "07/04/2016 11:30:00 PM")[6:10]
    lat, lon = parts[18], parts[19]
    loc = f'"({lat}, {lon})"' if lat else ""
    return ",".join(parts[:17] + [year] + parts[17:] + [loc])
