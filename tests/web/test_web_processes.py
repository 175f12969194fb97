"""``serve --processes N``: several server processes on one port, one response cache among them.

The shared cache is tested first on its own (a folder of answers, what each process writes and
removes), then through the response cache middleware of two "processes" in one test (two
applications), then for real: ``crimescope serve --processes 2`` on the web test store, where
connections reach both processes, an answer one computed is served by the other from the
shared folder, a killed process is started again, and a stop leaves no process and no folder.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crimescope.web._cache import ResponseCache, SharedResponses
from crimescope.web._processes import reuse_port_supported

from _live import free_port

# ---------------------------------------------------------------------------- the shared folder


def test_shared_responses_round_trip(tmp_path):
    a = SharedResponses(tmp_path)
    headers = [(b"content-type", b"application/json"), (b"x-odd", "caf\u00e9".encode("latin-1"))]
    a.put(("k", 1), headers, b'{"n": 1}')
    b = SharedResponses(tmp_path)  # another process: another object over the same folder
    assert b.get(("k", 1)) == (headers, b'{"n": 1}')
    assert b.hits == 1
    assert b.get(("k", 2)) is None and b.hits == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_torn_or_foreign_file_is_a_miss(tmp_path):
    s = SharedResponses(tmp_path)
    s.put(("k",), [], b"body")
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"\x01")  # shorter than its own header
    assert s.get(("k",)) is None
    path.write_bytes(b"\x05\x00\x00\x00{not json")
    assert s.get(("k",)) is None


def test_each_process_removes_what_it_wrote_beyond_its_bound(tmp_path):
    mine = SharedResponses(tmp_path, max_bytes=250)
    other = SharedResponses(tmp_path, max_bytes=250)
    other.put(("theirs",), [], b"x" * 100)
    for i in range(4):
        mine.put(("mine", i), [], b"y" * 100)  # 400 bytes written, 250 allowed: the two oldest go
    assert mine.get(("mine", 0)) is None and mine.get(("mine", 1)) is None
    assert mine.get(("mine", 2)) is not None and mine.get(("mine", 3)) is not None
    assert mine.get(("theirs",)) is not None  # never removes another's
    mine.clear()
    assert len(list(tmp_path.iterdir())) == 1 and other.get(("theirs",)) is not None


def test_a_removed_folder_costs_the_sharing_not_the_answer(tmp_path):
    s = SharedResponses(tmp_path / "gone")
    s.put(("k",), [], b"body")  # no error
    assert s.get(("k",)) is None


# ------------------------------------------------------------- two caches over one folder


def _counting_app(status: int = 200):
    calls = []

    async def app(scope, receive, send):
        calls.append(scope["path"])
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": f"answer {len(calls)}".encode()})

    return app, calls


def _get(app, path: str, query: bytes = b""):
    out = {}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(m):
        if m["type"] == "http.response.start":
            out["status"] = m["status"]
        else:
            out["body"] = out.get("body", b"") + m.get("body", b"")

    asyncio.run(app({"type": "http", "method": "GET", "path": path, "query_string": query, "headers": []},
                    receive, send))
    return out["status"], out["body"]


def test_an_answer_computed_by_one_process_is_served_by_the_other(tmp_path):
    inner1, calls1 = _counting_app()
    inner2, calls2 = _counting_app()
    one = ResponseCache(inner1, shared=SharedResponses(tmp_path))
    two = ResponseCache(inner2, shared=SharedResponses(tmp_path))
    assert _get(one, "/api/x.json", b"b=2&a=1") == (200, b"answer 1")
    assert _get(two, "/api/x.json", b"a=1&b=2") == (200, b"answer 1")  # the same query, in another order
    assert calls2 == [] and two.shared.hits == 1
    assert _get(two, "/api/x.json", b"a=1&b=2") == (200, b"answer 1")  # now in its own memory
    assert two.shared.hits == 1 and two.hits == 1
    assert _get(two, "/api/y.json") == (200, b"answer 1") and calls2 == ["/api/y.json"]


def test_errors_are_not_shared(tmp_path):
    inner1, _ = _counting_app(status=404)
    inner2, calls2 = _counting_app(status=404)
    one = ResponseCache(inner1, shared=SharedResponses(tmp_path))
    two = ResponseCache(inner2, shared=SharedResponses(tmp_path))
    _get(one, "/api/x.json")
    assert list(tmp_path.iterdir()) == []
    _get(two, "/api/x.json")
    assert calls2 == ["/api/x.json"]


def test_the_shared_key_names_the_file_read_not_the_process_number(web_store_path, tmp_path):
    """Two applications over one snapshot number their generations differently; the answers they
    share are keyed by the snapshot file's identity, so each finds the other's."""
    from fastapi.testclient import TestClient

    from crimescope.web import create_app

    url = "/api/overview.json?as_of=2017-03-08"
    a = create_app(web_store_path, shared_responses=tmp_path, process=(0, 2))
    b = create_app(web_store_path, shared_responses=tmp_path, process=(1, 2))
    with TestClient(a) as ca, TestClient(b) as cb:
        assert ca.app.state.ctx.generation.id != cb.app.state.ctx.generation.id
        ra = ca.get(url)
        assert ra.status_code == 200
        before = cb.get("/api/snapshot.json").json()
        rb = cb.get(url)
        after = cb.get("/api/snapshot.json").json()
    assert rb.content == ra.content
    assert before["server"] == {"process": 1, "processes": 2}
    assert before["response_cache"] == {"hits": 0, "misses": 0, "shared_hits": 0}
    assert after["response_cache"] == {"hits": 0, "misses": 0, "shared_hits": 1}


# ------------------------------------------------------------------------- serve --processes 2

needs_reuse_port = pytest.mark.skipif(not reuse_port_supported(), reason="SO_REUSEPORT is Linux's")


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("CRIMESCOPE_") or k == "CRIMESCOPE_SHARED_DATA"}


def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                out.append(int(d))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _servers(pid: int) -> list[int]:
    """The server processes of the server ``pid`` (its spawned children, not the resource tracker)."""
    return [c for c in _children(pid)
            if "resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")]


def _snapshot(base: str) -> dict:
    import httpx

    return httpx.get(base + "/api/snapshot.json", timeout=30).json()  # a new connection each time


def _until(cond, what: str, timeout: float = 120.0, server=None):
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = cond()
            if got:
                return got
        except Exception:  # noqa: BLE001 - not up yet
            pass
        if server is not None and server.poll() is not None:
            raise AssertionError(f"serve exited: {server.communicate()}")
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.2)


@needs_reuse_port
def test_accepted_connections_send_without_nagle_delay():
    """A server process's connections have TCP_NODELAY, as uvicorn's own sockets do: asyncio sets it
    only where the socket's protocol says TCP. Without it an answer written as head then body
    waited for the client's delayed ACK (cached answers at a median of 44 ms instead of 7 ms on two processes)."""
    import socket

    from crimescope.web._processes import listening_socket

    async def main():
        sock = listening_socket("127.0.0.1", 0)
        assert sock.proto == socket.IPPROTO_TCP
        seen = asyncio.get_running_loop().create_future()

        def accepted(reader, writer):
            raw = writer.get_extra_info("socket")
            seen.set_result(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=sock)
        try:
            _, w = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
            assert await asyncio.wait_for(seen, 5) != 0
            w.close()
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(main())


@needs_reuse_port
def test_serve_with_two_processes(web_store_path):
    import httpx

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "crimescope.cli.main", "--store", str(web_store_path), "serve",
                               "--port", str(port), "--processes", "2"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env())
    try:
        # both processes answer on the one port: new connections are spread over them
        seen: dict[int, dict] = {}

        def both_warm():
            doc = _snapshot(base)
            seen[doc["server"]["process"]] = doc
            return len(seen) == 2 and not any(d["warming"] for d in seen.values())

        _until(both_warm, "both processes answer, warmed", server=server)
        assert {d["server"]["processes"] for d in seen.values()} == {2}
        assert len({d["published_at"] for d in seen.values()}) == 1  # the same snapshot
        first, second = sorted(_servers(server.pid))[:2]

        # an answer one process computed is read by the other from the shared folder
        url = "/api/compstat.json?as_of=2017-03-08&category=shooting"
        with httpx.Client(base_url=base, timeout=60) as c:
            computed_by = c.get("/api/snapshot.json").json()["server"]["process"]
            body = c.get(url).content
        other = 1 - computed_by

        def on_other():
            c = httpx.Client(base_url=base, timeout=60)
            if c.get("/api/snapshot.json").json()["server"]["process"] == other:
                return c  # kept open: the next requests reach the same process
            c.close()

        c = _until(on_other, "a connection reaches the other process")
        try:
            shared_before = c.get("/api/snapshot.json").json()["response_cache"]["shared_hits"]
            r = c.get(url)
            after = c.get("/api/snapshot.json").json()
        finally:
            c.close()
        assert r.status_code == 200 and r.content == body
        assert after["server"]["process"] == other and after["response_cache"]["shared_hits"] == shared_before + 1

        # a server process killed is started again, and the port keeps answering meanwhile
        os.kill(first, signal.SIGKILL)
        _until(lambda: first not in _servers(server.pid) and len(_servers(server.pid)) == 2,
               "the killed process is replaced", server=server)
        assert httpx.get(base + "/api/snapshot.json", timeout=60).status_code == 200
        restarted = _until(lambda: [p for p in _servers(server.pid) if p != second], "the new process")
        assert first not in restarted
    finally:
        children = _servers(server.pid)
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=90)
    assert server.returncode == 0, err
    assert "from 2 processes" in err and "exited (exit code -9); starting it again" in err
    assert len(children) == 2
    _until(lambda: not [c for c in children if _alive(c)], "no server process is left", 10)


@needs_reuse_port
def test_stopping_serve_removes_its_shared_folder(web_store_path, tmp_path):
    port = free_port()
    env = dict(_env(), TMPDIR=str(tmp_path))  # its folder of shared answers is made here
    server = subprocess.Popen([sys.executable, "-m", "crimescope.cli.main", "--store", str(web_store_path), "serve",
                               "--port", str(port), "--processes", "2"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    try:
        _until(lambda: list(tmp_path.glob("crimescope-responses-*")), "the shared folder exists", server=server)
        _until(lambda: _snapshot(f"http://127.0.0.1:{port}")["server"]["processes"] == 2, "serve answers",
               server=server)
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        server.communicate(timeout=90)
    assert list(tmp_path.glob("crimescope-responses-*")) == []
