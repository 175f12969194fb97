"""City profiles, the Dataset and the shipped reference data."""

from __future__ import annotations

import hashlib
import json
import lzma
from pathlib import Path

import pytest

from _shared import SHARED, requires_shared
from crimescope.datasets import Dataset, as_dataset, get_profile, profile_from_dict, profiles
from crimescope.errors import CategoryError, CategoryWarning, ParameterError, SetupError
from crimescope.reference import REFERENCE_ROOT, iucr_codes, missing_reference, require_reference

MINIMAL = {"key": "testville", "name": "Testville", "publisher": "Testville Police",
           "citation": "Testville open data", "timezone": "Europe/Paris", "crs": "EPSG:32631",
           "code_columns": ["fbi_code"], "taxonomy": "tax.yaml", "importer": "crimescope.sources.canonical:ingest_files",
           "extent": [0, 0, 1000, 1000]}


def test_shipped_profiles():
    ps = profiles()
    assert list(ps)[:2] == ["chicago", "nyc_shootings"]
    chi, nyc = ps["chicago"], ps["nyc_shootings"]
    assert chi.timezone == "America/Chicago" and nyc.timezone == "America/New_York"
    assert chi.crs == "EPSG:3435" and nyc.crs == "EPSG:2263"
    # both State Plane systems are in US survey feet: read from pyproj, not assumed
    assert chi.linear_unit == nyc.linear_unit == "US survey foot"
    assert chi.metres_per_unit == pytest.approx(1200 / 3937, rel=1e-12)
    assert chi.length_text(500) == "500 ft"
    assert list(chi.area_kinds) == ["community_area", "district", "beat", "ward"]
    assert chi.mapped_kinds() == list(chi.area_kinds) and nyc.mapped_kinds() == []
    assert nyc.area_kinds["precinct"].column == "district"
    assert "NYPD" in nyc.citation and "Chicago" in chi.citation


def test_shipped_profiles_pass_the_crs_check_they_skip_at_load():
    """The shipped profiles are read without pyproj (a command that measures no length does not
    import it); their CRSs pass the check every other profile gets when it is read."""
    import subprocess
    import sys

    import yaml

    from crimescope.datasets import profile as profile_mod

    for name in profile_mod.BUILTIN_PROFILES:
        doc = yaml.safe_load((Path(profile_mod.__file__).parent / name).read_text("utf-8"))
        assert profile_from_dict(doc, name).crs == profiles()[doc["key"]].crs
    code = "import sys, crimescope.cli.main; from crimescope.datasets import profiles; profiles(); " \
           "print('pyproj' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_metre_crs_unit_and_default_cell():
    from crimescope.spatial.grid import default_cell_size

    p = profile_from_dict(MINIMAL)
    assert p.linear_unit == "metre" and p.unit_abbrev == "m" and p.metres_per_unit == 1.0
    # the 500 ft default, in metres: 500 * 1200/3937
    assert default_cell_size(p) == pytest.approx(152.400305, abs=1e-6)
    assert default_cell_size(get_profile("chicago")) == 500.0


@pytest.mark.parametrize("change, message", [
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"crs": "EPSG:4326"}, "not projected"),
    ({"code_columns": ["description"]}, "code_columns"),
    ({"extent": None}, "outline"),
    ({"extent": [5, 0, 1, 10]}, "x0 < x1"),
    ({"colour": "red"}, "unknown keys"),
    ({"area_kinds": {"zone": {"column": "zone"}}}, "column must be one of"),
    ({"key": "Bad-Key"}, "lower_case"),
])
def test_profile_validation(change, message):
    doc = {**MINIMAL, **change}
    doc = {k: v for k, v in doc.items() if v is not None}
    with pytest.raises(SetupError, match=message):
        profile_from_dict(doc)


def test_unknown_source_lists_the_known():
    with pytest.raises(ParameterError, match="chicago, nyc_shootings"):
        get_profile("atlantis")


def test_as_dataset_forms():
    from crimescope.store import Store

    with Store(":memory:") as store:
        ds = as_dataset(store)
        assert ds.key == "chicago" and ds.con is store.con
        assert as_dataset(ds) is ds
        nyc = as_dataset(ds, "nyc_shootings")
        assert nyc.key == "nyc_shootings" and nyc.store is store
        assert as_dataset(store, "nyc_shootings").profile is get_profile("nyc_shootings")
        assert isinstance(Dataset(nyc), Dataset) and Dataset(nyc).store is store
        assert not ds.has_records()


def test_profile_taxonomy_columns():
    from crimescope.categories.taxonomy import taxonomy_for

    nyc = taxonomy_for(get_profile("nyc_shootings"))
    assert set(nyc) == {"shooting_victims", "shooting_murder_victims", "nonfatal_shooting_victims"}
    assert nyc["shooting_victims"].fbi == frozenset({"01A", "04A"}) and not nyc["shooting_victims"].iucr
    assert "homicide" not in nyc  # Chicago's IUCR categories are not NYC's


def test_user_category_on_a_column_the_city_lacks(tmp_path):
    from crimescope.categories.taxonomy import taxonomy_for

    f = tmp_path / "mine.yaml"
    f.write_text("categories:\n  my_murders:\n    unit: victims\n    iucr: ['0110']\n", encoding="utf-8")
    with pytest.warns(CategoryWarning), pytest.raises(CategoryError, match="iucr, which this city's data does not have"):
        taxonomy_for(get_profile("nyc_shootings"), [f])
    f.write_text("categories:\n  fatal:\n    unit: victims\n    fbi: ['01A']\n", encoding="utf-8")
    tax = taxonomy_for(get_profile("nyc_shootings"), [f])
    assert tax["fatal"].origin == str(f) and tax["shooting_victims"].origin is None


def test_reference_files_present_and_small():
    assert missing_reference() == []
    require_reference()  # no error
    files = [p for p in REFERENCE_ROOT.rglob("*") if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts]
    assert files and all(p.stat().st_size < 2 * 2**20 for p in files)
    assert sum(p.stat().st_size for p in files) < 2.5 * 2**20


def test_missing_reference_is_a_setup_error(tmp_path):
    (tmp_path / "chicago" / "boundaries").mkdir(parents=True)
    missing = missing_reference("chicago", tmp_path)
    assert len(missing) == 7 and all(m.startswith("chicago: ") for m in missing)
    with pytest.raises(SetupError, match="police_beats.geojson") as exc:
        require_reference("chicago", tmp_path)
    assert exc.value.exit_code == 3 and exc.value.http_status == 503


def test_iucr_codes_zero_padded():
    df = iucr_codes()
    assert df["iucr"].str.len().eq(4).all()
    assert df.set_index("iucr").loc["0110", "primary"] == "HOMICIDE"


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@requires_shared
def test_reference_files_are_the_shared_files_unchanged():
    for p in REFERENCE_ROOT.glob("chicago/*/*"):
        rel = p.relative_to(REFERENCE_ROOT)
        data = lzma.decompress(p.read_bytes()) if p.suffix == ".xz" else p.read_bytes()
        shared = SHARED / (rel.with_suffix("") if p.suffix == ".xz" else rel)
        assert _sha(data) == _sha(Path(shared).read_bytes()), rel


def test_reference_command(tmp_path, monkeypatch, capsys):
    from crimescope.cli.main import main

    assert main(["reference", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert all(f["found"] for f in doc["files"] if f["city"] == "chicago")
    monkeypatch.setenv("CRIMESCOPE_SHARED_DATA", str(tmp_path))
    assert main(["reference"]) == 3
    assert "MISSING chicago/boundaries/community_areas.geojson" in capsys.readouterr().out
