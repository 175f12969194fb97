"""A real ``crimescope serve`` server (uvicorn, the same config) on 127.0.0.1 in a thread, for tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(app):
    """Serve ``app`` as ``crimescope serve`` does; yields the base URL; stops the server at exit."""
    import uvicorn

    from crimescope.web._server import uvicorn_config

    port = free_port()
    server = uvicorn.Server(uvicorn_config(app, port=port))
    thread = threading.Thread(target=server.run, name="crimescope-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def raw_request(base: str, data: bytes, timeout: float = 10.0) -> bytes:
    """Send ``data`` on a fresh TCP connection and read until the server closes it.

    A reset (ConnectionResetError) propagates: the tests assert there is none."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as c:
        c.sendall(data)
        out = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                return out
            out += chunk
