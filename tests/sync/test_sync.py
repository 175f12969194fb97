"""The live sync against a real SODA-shaped HTTP server on 127.0.0.1, with faults.

After every fault the store must equal the source: the same ids, each with the
source's latest version, no id twice. Backoff sleeps are recorded, not slept.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta

import httpx
import pytest

from crimescope.errors import ParameterError, SyncError
from crimescope.sources.chicago import RAW_COLUMNS
from crimescope.sources.socrata import SocrataClient, _retry_after_seconds
from crimescope.sources.sync import SYNC_FIELDS, records_to_table, sync_chicago
from crimescope.store import Store
from soda_server import Fault, SodaServer, SoQLError, parse_where
from sync_helpers import (
    assert_prefix_committed,
    assert_store_equals_source,
    key,
    requires_shared,
)

PAGE = 200


@pytest.fixture
def store():
    s = Store(":memory:")
    yield s
    s.close()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(server, sleeps, monkeypatch):
    monkeypatch.delenv("CRIMESCOPE_SOCRATA_TOKEN", raising=False)
    with SocrataClient(server.base_url, timeout=5.0, max_retries=4, sleep=sleeps.append,
                       random_state=7) as c:
        yield c


# -- without faults ---------------------------------------------------------------------


@pytest.mark.shared
@requires_shared
def test_fixture_has_ties_spanning_id_lengths(source):
    """The keyset tiebreak is exercised: an updated_on shared by more records than a
    page, among them ids of different digit counts (text order != numeric order)."""
    groups: dict[str, list[str]] = {}
    for r in source.records():
        groups.setdefault(r["updated_on"], []).append(r["id"])
    big = max(groups.values(), key=len)
    assert len(big) > 3 * PAGE
    assert len({len(i) for i in big}) >= 2


@pytest.mark.shared
@requires_shared
def test_full_sync_equals_source_and_pages_by_keyset(store, client, server, source):
    res = sync_chicago(store, client, page_size=PAGE)
    assert_store_equals_source(store, source)
    n = len(source)
    assert (res.rows_read, res.inserted, res.updated, res.unchanged, res.rejected) == (n, n, 0, 0, 0)
    assert res.pages == math.ceil(n / PAGE)
    last = max(source.records(), key=key)
    assert (res.watermark, res.watermark_id) == (key(last)[0], last["id"])
    st = store.con.execute(
        "SELECT watermark_updated_at, watermark_id, pages_committed, rows_committed, status, last_error "
        "FROM sync_state").fetchone()
    assert st == (key(last)[0], last["id"], res.pages, n, "done", None)
    assert res.requests == len(server.requests) == res.pages + 1  # the run ends at an empty page
    # every request is ordered, keyset-paged, never offset-paged
    for i, req in enumerate(server.requests):
        assert req.params["$order"] == "updated_on,id"
        assert "$offset" not in req.params
        assert req.params["$limit"] == str(PAGE)
        assert ("$where" in req.params) == (i > 0)
    # one batch per page, counted
    assert store.con.execute("SELECT count(*), sum(rows_read) FROM batches WHERE kind = 'sync'").fetchone() == (res.pages, n)


@pytest.mark.shared
@requires_shared
def test_server_capping_limit_does_not_end_the_sync_early(store, client, server, source):
    server.max_limit = 60  # the portal may return fewer rows than $limit asks for
    res = sync_chicago(store, client, page_size=PAGE)
    assert_store_equals_source(store, source)
    assert res.pages == math.ceil(len(source) / 60)


@pytest.mark.shared
@requires_shared
def test_second_sync_rereads_only_the_overlap(store, client, server, source):
    first = sync_chicago(store, client, page_size=PAGE)
    n_req = len(server.requests)
    wm = first.watermark
    in_overlap = [r for r in source.records() if key(r)[0] >= wm - timedelta(hours=1)]
    res = sync_chicago(store, client, page_size=PAGE, overlap_seconds=3600)
    assert res.started_from == wm - timedelta(hours=1)
    assert server.requests[n_req].params["$where"] == f"updated_on >= '{(wm - timedelta(hours=1)).isoformat()}.000'"
    assert (res.rows_read, res.unchanged, res.inserted, res.updated) == (len(in_overlap), len(in_overlap), 0, 0)
    assert res.requests == res.pages + 1 == len(server.requests) - n_req  # counted per run
    assert store.con.execute("SELECT count(*) FROM incident_history").fetchone() == (0,)
    assert_store_equals_source(store, source)


@pytest.mark.shared
@requires_shared
def test_incremental_sync_picks_up_revisions_and_new_records(store, client, source):
    sync_chicago(store, client, page_size=PAGE)
    ids = sorted(source.snapshot())[:3]
    olds = [source.revise(i, description="REVISED", arrest=True)[0] for i in ids]
    new = dict(source.records()[0], id="99000001", case_number="JZ000001")
    new["updated_on"] = (source.max_updated_on() + timedelta(seconds=5)).isoformat() + ".000"
    source.add(new)
    res = sync_chicago(store, client, page_size=PAGE, overlap_seconds=0)
    assert (res.inserted, res.updated, res.rows_read) == (1, 3, 4)
    assert_store_equals_source(store, source)
    hist = store.con.execute("SELECT id, updated_at, description FROM incident_history ORDER BY id").fetchall()
    assert hist == sorted((o["id"], key(o)[0], o.get("description")) for o in olds)


@pytest.mark.shared
@requires_shared
def test_occurred_since_and_since_bound_the_download(store, client, server, source):
    res = sync_chicago(store, client, page_size=PAGE, occurred_since="2017-01-03")
    want = {i for i, r in source.snapshot().items() if r["date"] >= "2017-01-03"}
    assert 0 < len(want) < len(source)
    got = {r[0] for r in store.con.execute("SELECT id FROM incidents").fetchall()}
    assert got == want and res.rows_read == len(want)
    assert all("date >= '2017-01-03T00:00:00.000'" in r.params["$where"] for r in server.requests)

    other = Store(":memory:")
    since = "2018-01-01"
    sync_chicago(other, client, page_size=PAGE, since=since)
    want = {i for i, r in source.snapshot().items() if r["updated_on"] >= since}
    assert 0 < len(want) < len(source)
    assert {r[0] for r in other.con.execute("SELECT id FROM incidents").fetchall()} == want
    other.close()


@pytest.mark.shared
@requires_shared
def test_bad_dates_are_parameter_errors(store, client):
    with pytest.raises(ParameterError, match="--since"):
        sync_chicago(store, client, since="last tuesday")
    with pytest.raises(ParameterError, match="--occurred-since"):
        sync_chicago(store, client, occurred_since="2017-13-01")
    with pytest.raises(ParameterError, match="page-size"):
        sync_chicago(store, client, page_size=0)


# -- faults -------------------------------------------------------------------------------


@pytest.mark.shared
@requires_shared
def test_429_honours_retry_after(store, client, server, source, sleeps):
    server.fault_at(2, Fault("status", status=429, retry_after="7"))
    server.fault_at(5, Fault("status", status=429))  # no Retry-After: backoff
    res = sync_chicago(store, client, page_size=PAGE)
    assert_store_equals_source(store, source)
    assert sleeps[0] == 7.0
    assert 0.5 <= sleeps[1] < 1.0  # first backoff: 1 s with jitter in [0.5, 1)
    assert res.retries == 2 and res.requests == res.pages + 1 + 2  # + the final empty page


@pytest.mark.shared
@requires_shared
def test_5xx_retried_with_exponential_backoff(store, client, server, source, sleeps):
    for n in (3, 4, 5):
        server.fault_at(n, Fault("status", status=500 if n != 4 else 503))
    sync_chicago(store, client, page_size=PAGE)
    assert_store_equals_source(store, source)
    assert len(sleeps) == 3
    for attempt, s in enumerate(sleeps, start=1):
        assert 2 ** (attempt - 1) * 0.5 <= s < 2 ** (attempt - 1)


@pytest.mark.shared
@requires_shared
def test_slow_response_times_out_and_is_retried(store, server, source, sleeps):
    # The margins are wide on purpose: an ordinary page must never pass the timeout,
    # even on a loaded CI machine, or a second retry is counted (seen at 0.4 s).
    server.fault_at(2, Fault("slow", seconds=6.0))
    with SocrataClient(server.base_url, timeout=2.0, max_retries=3, sleep=sleeps.append) as c:
        res = sync_chicago(store, c, page_size=PAGE)
    assert_store_equals_source(store, source)
    assert res.retries == 1 and len(sleeps) == 1


@pytest.mark.shared
@requires_shared
def test_connection_dropped_mid_body_is_retried(store, client, server, source):
    server.fault_at(2, Fault("drop"))
    server.fault_at(6, Fault("drop"))
    res = sync_chicago(store, client, page_size=PAGE)
    assert_store_equals_source(store, source)
    assert res.retries == 2


@pytest.mark.shared
@requires_shared
def test_truncated_json_is_retried(store, client, server, source):
    server.fault_at(3, Fault("truncate"))
    res = sync_chicago(store, client, page_size=PAGE)
    assert_store_equals_source(store, source)
    assert res.retries == 1


@pytest.mark.shared
@requires_shared
def test_record_revised_between_pages(store, client, server, source):
    order = server.query({"$order": "updated_on,id", "$limit": "100000"})
    read_early, read_late = order[5]["id"], order[len(order) - 150]["id"]
    revised = {}

    def revise():  # after pages 1 and 2 are committed, before page 3 is answered
        revised["early"] = source.revise(read_early, description="REVISED EARLY", primary_type="HOMICIDE")
        revised["late"] = source.revise(read_late, description="REVISED LATE")

    server.before(3, revise)
    res = sync_chicago(store, client, page_size=PAGE)
    assert revised, "the revision hook did not run"
    assert_store_equals_source(store, source)
    # the record read on page 1 is read again (new version); the other only once
    assert res.rows_read == len(source) + 1 and res.updated == 1
    old, new = revised["early"]
    hist = store.con.execute(
        "SELECT id, updated_at, description, primary_type FROM incident_history").fetchall()
    assert hist == [(read_early, key(old)[0], old["description"], old["primary_type"])]
    cur = store.con.execute("SELECT updated_at, description FROM incidents WHERE id = ?", [read_early]).fetchone()
    assert cur == (key(new)[0], "REVISED EARLY")


@pytest.mark.shared
@requires_shared
def test_repeated_failure_raises_keeps_committed_pages_and_resumes(store, client, server, source):
    server.fail_from(3, Fault("status", status=500))
    with pytest.raises(SyncError) as err:
        sync_chicago(store, client, page_size=PAGE)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg == (f"GET {server.base_url}/resource/ijzp-q8t2.json failed after 4 attempts; "
                   f"last problem: HTTP 500 Internal Server Error")
    assert len(server.requests) == 2 + 4
    assert store.con.execute("SELECT count(*) FROM incidents").fetchone() == (2 * PAGE,)
    st = store.con.execute("SELECT status, last_error, pages_committed FROM sync_state").fetchone()
    assert st == ("failed", msg, 2)
    wm = assert_prefix_committed(store, source)
    # the next run resumes after the committed pages
    server.heal()
    before = len(server.requests)
    res = sync_chicago(store, client, page_size=PAGE, overlap_seconds=0)
    assert server.requests[before].params["$where"] == (
        f"(updated_on > '{wm[0].isoformat()}.000' OR (updated_on = '{wm[0].isoformat()}.000' AND id > {wm[1]}))")
    assert res.inserted == len(source) - 2 * PAGE and res.unchanged == 0
    assert_store_equals_source(store, source)
    assert store.con.execute("SELECT status, last_error FROM sync_state").fetchone() == ("done", None)


@pytest.mark.shared
@requires_shared
def test_timeouts_exhausted_name_the_problem(store, server, source, sleeps):
    server.fail_from(1, Fault("slow", seconds=0.6))
    with SocrataClient(server.base_url, timeout=0.2, max_retries=2, sleep=sleeps.append) as c:
        with pytest.raises(SyncError, match=r"failed after 2 attempts; last problem: timed out after 0.2 s$"):
            sync_chicago(store, c, page_size=PAGE)
    assert store.con.execute("SELECT count(*) FROM incidents").fetchone() == (0,)


@pytest.mark.shared
@requires_shared
def test_client_error_is_not_retried(store, server, sleeps):
    with SocrataClient(server.base_url, dataset="nope-nope", sleep=sleeps.append) as c:
        with pytest.raises(SyncError, match=r"refused: HTTP 404: Dataset not found"):
            sync_chicago(store, c)
        assert c.requests_made == 1 and sleeps == []
    assert store.con.execute("SELECT status FROM sync_state").fetchone() == ("failed",)


def test_connection_refused_is_a_sync_error(store, sleeps):
    # a port nobody listens on: bind, read the port, close
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with SocrataClient(f"http://127.0.0.1:{port}", max_retries=3, sleep=sleeps.append) as c:
        with pytest.raises(SyncError, match=r"failed after 3 attempts; last problem: connection error \(ConnectError"):
            sync_chicago(store, c)
    assert len(sleeps) == 2


# -- token ----------------------------------------------------------------------------------


@pytest.mark.shared
@requires_shared
def test_app_token_only_from_environment(server, monkeypatch):
    monkeypatch.setenv("CRIMESCOPE_SOCRATA_TOKEN", "tok-123")
    with SocrataClient(server.base_url) as c:
        c.get_records({"$limit": "1", "$order": ":id"})
    monkeypatch.delenv("CRIMESCOPE_SOCRATA_TOKEN")
    with SocrataClient(server.base_url) as c:
        c.get_records({"$limit": "1", "$order": ":id"})
    assert server.requests[0].headers.get("x-app-token") == "tok-123"
    assert "x-app-token" not in server.requests[1].headers
    with pytest.raises(TypeError):
        SocrataClient(server.base_url, token="x")  # no way to pass a secret as an argument


# -- client units (MockTransport, no server) --------------------------------------------------


def test_injectable_transport_and_seeded_jitter():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(503)
        return httpx.Response(200, json=[{"id": "1"}])

    def run(seed):
        calls.clear()
        sl = []
        with SocrataClient("https://example.invalid", "abcd-1234", transport=httpx.MockTransport(handler),
                           sleep=sl.append, random_state=seed, max_retries=5) as c:
            assert c.get_records({"$limit": "5"}) == [{"id": "1"}]
        return sl

    a, b, other = run(1), run(1), run(2)
    assert a == b != other
    assert 0.5 <= a[0] < 1.0 and 1.0 <= a[1] < 2.0
    assert str(calls[0].url) == "https://example.invalid/resource/abcd-1234.json?%24limit=5"


def test_200_with_an_object_is_a_sync_error():
    t = httpx.MockTransport(lambda r: httpx.Response(200, json={"error": True, "message": "boom"}))
    with SocrataClient("https://x.invalid", "abcd-1234", transport=t) as c:
        with pytest.raises(SyncError, match="answered 200 with an object: boom instead of an array"):
            c.get_records({})


def test_retry_after_forms():
    assert _retry_after_seconds("12") == 12.0
    assert _retry_after_seconds(None) is None
    assert _retry_after_seconds("soon") is None
    assert _retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_bad_settings_are_parameter_errors():
    with pytest.raises(ParameterError, match="--base-url"):
        SocrataClient("ftp://x")
    with pytest.raises(ParameterError, match="--dataset"):
        SocrataClient("https://x.invalid", "a/b")


def test_sync_fields_are_the_raw_columns_without_location():
    assert SYNC_FIELDS == [c for c in RAW_COLUMNS if c != "location"]


def test_records_to_table_shapes_the_page():
    recs = [{"id": "5", "arrest": True, "domestic": False, "x_coordinate": "1180398",
             "updated_on": "2018-02-10T15:50:01.000", "beat": 1033},
            {"id": "6", "location": {"latitude": "41.8"}}]
    t = records_to_table(recs)
    assert t.column_names == SYNC_FIELDS + ["_line", "_raw"]
    d = t.to_pydict()
    assert d["arrest"] == ["true", None] and d["domestic"] == ["false", None]
    assert d["beat"] == ["1033", None] and d["_line"] == [1, 2]
    assert d["_raw"][1] == '{"id":"6","location":{"latitude":"41.8"}}'
    assert all(str(t.schema.field(c).type) == "string" for c in SYNC_FIELDS)


@pytest.mark.shared
@requires_shared
def test_rejected_record_is_kept_with_its_json(store, client, source):
    bad = dict(source.records()[0], id="99000002", date="not a date")
    bad["updated_on"] = (source.max_updated_on() + timedelta(seconds=1)).isoformat() + ".000"
    source.add(bad)
    res = sync_chicago(store, client, page_size=PAGE)
    assert res.rejected == 1 and res.inserted == len(source) - 1
    row = store.con.execute("SELECT origin, reason, raw FROM rejected").fetchone()
    assert row[0] == client.endpoint and "Date" in row[1] and '"id":"99000002"' in row[2]
    # the watermark moved past the rejected record: it is not fetched again and again
    assert store.con.execute("SELECT watermark_id FROM sync_state").fetchone() == ("99000002",)


# -- the test server itself ----------------------------------------------------------------------


@pytest.mark.shared
@requires_shared
def test_server_implements_offset_and_order(server, source):
    got = []
    for off in range(0, len(source) + PAGE, PAGE):
        got += server.query({"$order": ":id", "$limit": str(PAGE), "$offset": str(off)})
    assert [int(r["id"]) for r in got] == sorted(int(i) for i in source.snapshot())


def test_server_soql_types_like_the_portal():
    rec = {"id": "23060", "updated_on": "2018-02-10T15:50:01.000"}
    assert parse_where("updated_on = '2018-02-10T15:50:01' AND id > 9999")(rec)
    assert not parse_where("(updated_on > '2018-02-10T15:50:01.000' OR (updated_on = '2018-02-10T15:50:01.000' AND id > 23060))")(rec)
    with pytest.raises(SoQLError, match="Type mismatch"):
        parse_where("id > '100'")
    with pytest.raises(SoQLError, match="No such column"):
        parse_where("nope = 'x'")


@pytest.mark.shared
@requires_shared
def test_server_blocks_until_released(source):
    with SodaServer(source) as srv:
        release = threading.Event()
        srv.fault_at(1, Fault("block", release=release))
        out = {}
        th = threading.Thread(target=lambda: out.setdefault("r", httpx.get(
            f"{srv.base_url}/resource/ijzp-q8t2.json", params={"$limit": "2", "$order": ":id"}, timeout=10)))
        th.start()
        assert srv.wait_for_request(1, timeout=5)
        assert "r" not in out
        release.set()
        th.join(10)
        assert out["r"].status_code == 200 and len(out["r"].json()) == 2


@pytest.mark.shared
@requires_shared
def test_crash_inside_a_page_commits_neither_rows_nor_watermark(store, client, source, monkeypatch):
    import crimescope.sources.chicago as chicago

    real, calls = chicago.ingest_raw, []

    def ingest_then_crash(*args, **kwargs):
        batch = real(*args, **kwargs)  # the page's rows are upserted ...
        calls.append(batch.rows_read)
        if len(calls) == 3:
            raise RuntimeError("crash after upserting page 3")  # ... then the process "dies"
        return batch

    monkeypatch.setattr(chicago, "ingest_raw", ingest_then_crash)
    with pytest.raises(RuntimeError, match="page 3"):
        sync_chicago(store, client, page_size=PAGE)
    assert calls == [PAGE] * 3
    assert store.con.execute("SELECT count(*) FROM incidents").fetchone() == (2 * PAGE,)
    wm = assert_prefix_committed(store, source)
    second_page_last = sorted(source.records(), key=key)[2 * PAGE - 1]
    assert wm == key(second_page_last)
    assert store.con.execute("SELECT status, last_error, pages_committed FROM sync_state").fetchone() == (
        "failed", "crash after upserting page 3", 2)
    assert store.con.execute("SELECT count(*) FROM batches").fetchone() == (2,)


def test_progress_display_only_on_a_terminal(monkeypatch):
    import io

    from crimescope.cli.sync import _progress
    from crimescope.sources.sync import SyncResult

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", io.StringIO())
    update, stop = _progress()
    assert update is None
    stop()
    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    update, stop = _progress()
    update(SyncResult("chicago", "http://x", pages=3, rows_read=1234, inserted=1200, updated=34,
                      watermark=datetime(2018, 2, 10, 15, 50, 1)))
    stop()
    assert "1,234 rows" in tty.getvalue()


@pytest.mark.shared
@requires_shared
def test_default_client_comes_from_settings(store, server, source, monkeypatch):
    monkeypatch.setenv("CRIMESCOPE_SOCRATA_URL", server.base_url + "/")
    monkeypatch.setenv("CRIMESCOPE_PAGE_SIZE", "500")
    res = sync_chicago(store)
    assert res.endpoint == f"{server.base_url}/resource/ijzp-q8t2.json"
    assert res.pages == math.ceil(len(source) / 500)
    assert_store_equals_source(store, source)
    assert store.con.execute("SELECT base_url, dataset FROM sync_state").fetchone() == (server.base_url, "ijzp-q8t2")
