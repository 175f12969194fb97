"""Done-when checks of the data foundation on the real shared files."""

from __future__ import annotations

import shutil

import pytest

from crimescope.sources.chicago import ingest_files
from crimescope.store import Store

from _shared import CRIME_FILES, HOMICIDES, requires_shared

pytestmark = [requires_shared, pytest.mark.shared]

PER_YEAR = {2012: 335_921, 2013: 307_030, 2014: 275_200, 2015: 263_929, 2016: 268_813, 2017: 267_792}


def test_six_files_give_every_record_once(chicago_store):
    con = chicago_store.con
    assert con.execute("SELECT count(*) FROM incidents").fetchone() == (1_718_685,)
    assert con.execute("SELECT count(*) FROM rejected").fetchone() == (0,)
    assert con.execute("SELECT count(DISTINCT id) FROM incidents").fetchone() == (1_718_685,)
    # each file holds one calendar year of `Date`
    by_year = dict(con.execute("SELECT year(occurred_local), count(*) FROM incidents GROUP BY 1").fetchall())
    assert by_year == PER_YEAR
    per_file = con.execute("SELECT origin, inserted FROM batches ORDER BY origin").fetchall()
    assert [n for _, n in per_file] == [PER_YEAR[y] for y in sorted(PER_YEAR)]
    # about 1% lack coordinates; none of those is marked as located
    (no_xy, located_without) = con.execute(
        "SELECT count(*) FILTER (WHERE x IS NULL), count(*) FILTER (WHERE x IS NULL AND has_location) FROM incidents"
    ).fetchone()
    assert 0.005 * 1_718_685 < no_xy < 0.02 * 1_718_685 and located_without == 0
    # IUCR codes are 4 characters, districts integers
    assert con.execute("SELECT count(*) FROM incidents WHERE length(iucr) <> 4").fetchone() == (0,)


def test_reingest_changes_nothing_and_later_extract_revises(chicago_store_path, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(chicago_store_path, path)
    with Store(path) as store:
        before = store.con.execute("SELECT count(*), sum(hash(id, updated_at, iucr)) FROM incidents").fetchone()
        again = ingest_files(store, CRIME_FILES[-2:])
        assert all(b.inserted == 0 and b.updated == 0 and b.unchanged == b.rows_read for b in again)
        assert store.con.execute("SELECT count(*), sum(hash(id, updated_at, iucr)) FROM incidents").fetchone() == before

        # independent count: ids of the later extract not yet in the store
        (n_new_ids,) = store.con.execute(
            f"SELECT count(*) FROM read_csv('{HOMICIDES}', all_varchar = true) h "
            "WHERE h.ID NOT IN (SELECT id FROM incidents)"
        ).fetchone()
        (hom,) = ingest_files(store, [HOMICIDES])
        assert hom.rows_read == 8_922 and hom.rejected == 0
        assert hom.inserted + hom.updated + hom.unchanged == 8_922
        # ids not seen before are inserted (homicides before 2012, and 28 records of 2012-2017
        # that the 2018 extract did not have); the others carry newer versions and replace theirs
        assert hom.inserted == n_new_ids
        assert hom.updated == 8_922 - n_new_ids
        (n_hist, n_ids) = store.con.execute(
            "SELECT count(*), count(DISTINCT id) FROM incident_history WHERE superseded_by_batch = ?", [hom.batch_id]
        ).fetchone()
        assert n_hist == n_ids == hom.updated
        # every archived version is older than the one that replaced it
        assert store.con.execute(
            """SELECT count(*) FROM incident_history h JOIN incidents i USING (source, id)
               WHERE h.updated_at >= i.updated_at"""
        ).fetchone() == (0,)
        assert store.con.execute("SELECT count(*) - count(DISTINCT id) FROM incidents").fetchone() == (0,)
