from pathlib import Path

from crimescope.store.schema import HISTORY_EXTRA, INCIDENT_COLUMNS


def test_schema_page_names_every_column():
    text = (Path(__file__).parents[2] / "docs" / "schema.md").read_text()
    for name, _, _ in INCIDENT_COLUMNS + HISTORY_EXTRA:
        assert f"`{name}`" in text, name

