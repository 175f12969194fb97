"""Fixtures of the web tests.

``web_store_path``: a small store cut from the shared data at test time: every 8th
row of the shared Chicago exports 2016.csv.gz and 2017.csv.gz (about 67,000 rows),
plus two lines with impossible dates appended to the 2017 cut so that the importer rejects
them (the Data page shows rejected rows). Built once per session (a few seconds).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from _shared import CRIMES, SHARED
from _webtests import AS_OF  # noqa: F401  (re-exported for convenience)

EVERY = 8


def _cut(src: Path, dst: Path, extra: list[str]) -> None:
    with gzip.open(src, "rt", encoding="utf-8", newline="") as fin, \
            gzip.open(dst, "wt", encoding="utf-8", newline="") as fout:
        fout.write(fin.readline())
        for i, line in enumerate(fin):
            if i % EVERY == 0:
                fout.write(line)
        for line in extra:
            fout.write(line + "\n")


@pytest.fixture(scope="session")
def web_store_path(tmp_path_factory) -> Path:
    if SHARED is None or not (CRIMES / "2017.csv.gz").is_file():
        pytest.skip("../shared/data not present")
    from crimescope.sources.chicago import ingest_files
    from crimescope.store import Store

    d = tmp_path_factory.mktemp("webstore")
    files = []
    for year, extra in (("2016", []), ("2017", ["99999999,XX0,not a date,,,,,,,,,,,,,,,,,",
                                                  "99999998,XX1,13/45/2017 10:00:00 AM,,0110,,,,,,,,,,,,,,,"])):
        dst = d / f"{year}-cut.csv.gz"
        _cut(CRIMES / f"{year}.csv.gz", dst, extra)
        files.append(dst)
    path = d / "web.duckdb"
    with Store(path) as store:
        results = ingest_files(store, files)
    assert all(hasattr(r, "batch_id") for r in results), results
    return path


@pytest.fixture(scope="session")
def web_store(web_store_path):
    from crimescope.store import Store

    store = Store(web_store_path, read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="session")
def web_app(web_store_path, web_store):
    from crimescope.web import create_app

    return create_app(web_store_path)


@pytest.fixture(scope="session")
def client(web_app):
    from fastapi.testclient import TestClient

    with TestClient(web_app, raise_server_exceptions=False) as c:
        yield c
