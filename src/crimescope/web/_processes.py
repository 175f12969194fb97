"""Serving from several processes on one port: each its own interpreter, so each its own core.

The views are computed in Python, and one process's threads share one interpreter lock: a
burst of distinct views keeps one core busy while the others idle. ``crimescope serve
--processes N`` starts N server processes instead (default: the setting ``web_processes``,
one per core up to 4), each a whole server as :func:`crimescope.web.create_app` builds it,
and this process watches them:

- **one port, the kernel shares the connections**: each process listens on its own socket
  bound with ``SO_REUSEPORT``, and the kernel spreads new connections over the listening
  sockets evenly (a single shared socket would let whichever process wakes first take most
  of a burst). Where the option does not exist, one process serves.
- **one response cache**: each process keeps its own in-memory cache of answers, backed by a
  shared folder (:class:`crimescope.web._cache.SharedResponses`, keyed by the snapshot file's
  identity), so an answer computed once is not computed again by the others.
- **one snapshot**: this process publishes a snapshot first when the store has none or a
  stale one, so the servers start on the same file rather than racing to publish; each then
  follows newer snapshots on its own, as a single server does.
- **watched**: a process that dies is started again (a crash loop stops the server with the
  error); on SIGINT or SIGTERM every process is stopped and the shared folder removed. A
  server process whose parent disappears stops itself.

The processes are started with the ``spawn`` method (fresh interpreters: no thread, store
connection or lock is inherited through a fork).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

__all__ = ["reuse_port_supported", "serve_processes", "listening_socket"]

#: a process that dies within this many seconds of its start counts towards a crash loop
EARLY_EXIT_SECONDS = 30.0
#: early exits in a row after which the server stops instead of starting the process again
MAX_EARLY_EXITS = 3


def reuse_port_supported() -> bool:
    """Whether this system lets several sockets listen on one port, connections shared among them."""
    return hasattr(socket, "SO_REUSEPORT") and sys.platform.startswith("linux")


def listening_socket(host: str, port: int, *, listen: bool = True) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT`` (and listening, unless not ``listen``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets whose
    # protocol says TCP, and the connections accepted inherit it. With 0, an answer written as two
    # segments (head, then body) waited for the client's delayed ACK: about 40 ms per cached answer.
    s = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, port))
    if listen:
        s.listen(2048)
    s.set_inheritable(False)
    return s


def _watch_parent(parent: int) -> None:
    """Stop this process when the one that started it is gone (killed without stopping us)."""
    def watch():
        while True:
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(1.0)

    threading.Thread(target=watch, name="crimescope-parent-watch", daemon=True).start()


def _serve_one(store_path: str, host: str, port: int, index: int, count: int, shared_folder: str,
               parent: int, app_kw: dict) -> None:
    """One server process: its own socket on the shared port, its own application."""
    from . import create_app
    from ._server import uvicorn_config

    _watch_parent(parent)
    sock = listening_socket(host, port)
    app = create_app(store_path, shared_responses=shared_folder, process=(index, count), **app_kw)
    import uvicorn

    server = uvicorn.Server(uvicorn_config(app, host, port))
    server.run(sockets=[sock])


def serve_processes(store_path, *, host: str = "127.0.0.1", port: int = 8000, processes: int = 2,
                    ready=None, **app_kw) -> int:
    """Serve the store from ``processes`` server processes on ``host:port`` until SIGINT or SIGTERM.

    ``app_kw`` goes to :func:`crimescope.web.create_app` in each process. ``ready(port)`` is
    called once the processes are started (the port is the one bound: ``port=0`` picks a free
    one). Returns the exit status: 0 after a stop asked for, 1 after a crash loop."""
    import multiprocessing as mp

    from ..reference import require_reference
    from ..store.snapshot import open_for_reading

    require_reference(data_dir=app_kw.get("shared_dir"))  # a setup error is said once, here, not by each process
    reader, _ = open_for_reading(store_path, publish=True)  # one publisher, before the servers start
    reader.close()
    # bound, never listening: holds the port (and learns it, for port 0) while the servers bind it too
    holder = listening_socket(host, port, listen=False)
    port = holder.getsockname()[1]
    shared = tempfile.mkdtemp(prefix="crimescope-responses-")
    spawn = mp.get_context("spawn")
    stopping = threading.Event()
    procs: list = [None] * processes
    early: list[int] = [0] * processes
    started: list[float] = [0.0] * processes

    def start(i: int) -> None:
        p = spawn.Process(target=_serve_one, name=f"crimescope-serve-{i}",
                          args=(str(store_path), host, port, i, processes, shared, os.getpid(), app_kw))
        p.start()
        procs[i], started[i] = p, time.monotonic()

    def stop(*_):
        stopping.set()

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        for i in range(processes):
            start(i)
        if ready is not None:
            ready(port)
        while not stopping.is_set():
            stopping.wait(0.5)
            for i, p in enumerate(procs):
                if stopping.is_set() or p.is_alive():
                    continue
                quick = time.monotonic() - started[i] < EARLY_EXIT_SECONDS
                early[i] = early[i] + 1 if quick else 0
                if early[i] >= MAX_EARLY_EXITS:
                    print(f"crimescope: server process {i} keeps exiting (exit code {p.exitcode}); stopping",
                          file=sys.stderr)
                    status = 1
                    stopping.set()
                    break
                print(f"crimescope: server process {i} exited (exit code {p.exitcode}); starting it again",
                      file=sys.stderr)
                start(i)
    finally:
        for p in procs:
            if p is not None and p.is_alive():
                p.terminate()  # uvicorn stops on SIGTERM: open requests are finished first
        deadline = time.monotonic() + 30
        for p in procs:
            if p is not None:
                p.join(timeout=max(0.1, deadline - time.monotonic()))
                if p.is_alive():
                    p.kill()
                    p.join(timeout=5)
        holder.close()
        shutil.rmtree(shared, ignore_errors=True)
        for s, h in old.items():
            signal.signal(s, h)
    return status
