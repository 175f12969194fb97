"""Area names declared in the city profile (issue 16): Chicago's police districts by number, its
community areas from the boundary file; the map geometry and the pages read them from there."""

from __future__ import annotations

import json

import pytest

from crimescope.datasets import get_profile, profile_from_dict
from crimescope.datasets.profile import register_profile
from crimescope.errors import SetupError

MINIMAL = {"key": "namesville", "name": "Namesville", "publisher": "Namesville Police",
           "citation": "Namesville open data", "timezone": "America/Chicago", "crs": "EPSG:3435",
           "code_columns": ["fbi_code"], "taxonomy": "tax.yaml",
           "importer": "crimescope.sources.canonical:ingest_files",
           "extent": [0, 0, 1000, 1000]}


def test_chicago_names_its_districts_and_reads_community_names_from_the_boundaries():
    chi = get_profile("chicago")
    d = chi.area_names("district")
    # the CPD's 22 station districts; 31 (airport and lake) has no station and no name
    assert len(d) == 22 and d["11"] == "Harrison" and d["1"] == "Central" and d["25"] == "Grand Central"
    assert "31" not in d and "13" not in d
    assert chi.area_kind("community_area").name_property == "community"
    # the file's names are title-cased; the two that come out wrong are named in the profile
    assert chi.area_names("community_area") == {"59": "McKinley Park", "76": "O'Hare"}
    assert chi.area_names("beat") == {} and chi.area_names("no_such_kind") == {}
    assert "Police Department" in chi.area_kind("district").names_source
    assert get_profile("nyc_shootings").area_names("precinct") == {}  # NYC's precincts: numbers only


def test_geometry_names_come_from_the_profile():
    from crimescope.web.geometry import geojson_bytes, unit_names

    names = unit_names("community_area")
    assert names["25"] == "Austin" and names["8"] == "Near North Side" and len(names) == 77
    assert names["76"] == "O'Hare" and names["59"] == "McKinley Park" and names["60"] == "Bridgeport"
    assert unit_names("district")["7"] == "Englewood"
    feats = {f["properties"]["unit"]: f["properties"] for f in json.loads(geojson_bytes("district"))["features"]}
    assert feats["11"]["name"] == "Harrison" and "name" not in feats["31"]
    source = json.loads(geojson_bytes("district"))["source"]
    assert "district names as the Chicago Police Department gives them" in source


@pytest.fixture
def registered():
    """Register profiles for one test only: a profile left registered (with a taxonomy file that
    exists only here) would be listed by every later test's app, schema and commands."""
    from crimescope.datasets import profile as profile_mod

    keys = []

    def reg(prof):
        keys.append(prof.key)
        return register_profile(prof, replace=True)

    yield reg
    for k in keys:
        profile_mod._REGISTRY.pop(k, None)


def test_another_city_names_its_units_in_its_own_profile(registered):
    from crimescope.web.geometry import area_choices, geojson_bytes

    doc = {**MINIMAL, "area_kinds": {"district": {
        "label": "district", "column": "district", "boundary": "chicago/boundaries/police_districts.geojson",
        "code_property": "dist_num", "names": {11: "Eleven", "012": "Twelve"}, "names_source": "made up for a test"}}}
    prof = registered(profile_from_dict(doc))
    assert prof.area_names("district") == {"11": "Eleven", "12": "Twelve"}  # codes as the store's: no zeros
    feats = {f["properties"]["unit"]: f["properties"] for f in
             json.loads(geojson_bytes("district", None, "namesville"))["features"]}
    assert feats["11"]["name"] == "Eleven" and feats["12"]["name"] == "Twelve" and "name" not in feats["1"]
    assert json.loads(geojson_bytes("district", None, "namesville"))["source"].endswith("; made up for a test")
    assert dict(area_choices("district", None, "namesville"))["11"] == "District 11 (Eleven)"


@pytest.mark.parametrize("kind, message", [
    ({"column": "district", "names": ["Central"]}, "names must be a mapping"),
    ({"column": "district", "names": {1: ""}}, "names must be a mapping"),
    ({"column": "district", "name_property": "name"}, "needs a boundary"),
])
def test_bad_names_are_refused(kind, message):
    with pytest.raises(SetupError, match=message):
        profile_from_dict({**MINIMAL, "area_kinds": {"district": kind}})
