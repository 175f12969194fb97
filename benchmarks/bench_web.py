"""Load benchmark of the dashboard and API (not a test): 50 concurrent clients on loopback.

    python benchmarks/bench_web.py --store PATH [--clients 50] [--requests 1000] [--seconds 60]

Point it at a store with the six shared crime files ingested (1.7M rows;
``crimescope ingest chicago ../shared/data/chicago/crimes/*.csv.gz``). First, in this
process and without HTTP, it times the first computation of a trend per community area
for a few categories (the first area of a category pays for the work its areas share).
Then it starts the app as ``crimescope serve`` does (uvicorn, one process, read-only store,
but without warming) on a free loopback port in a subprocess, measures the first (uncached)
answer of each endpoint, then runs ``--clients`` concurrent keep-alive connections (a minimal
asyncio client) against each endpoint in turn until ``--requests`` answers or ``--seconds``
have passed (the last endpoint cycles through 77 distinct queries, the first of each
computed on the spot), and prints the command, the machine, and p50 / p95 / max latency
and throughput per endpoint. Every answer must be 200; any other status is counted and
reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import command, describe  # noqa: E402

AS_OF = "2017-12-31"
#: distinct queries: the first request of each computes (1.7M rows), later ones are cached
DISTINCT = ("API trends, 77 areas", [f"/api/trends.json?category=battery&area_kind=community_area&area={i}"
                                     f"&end={AS_OF}" for i in range(1, 78)])
ENDPOINTS = [
    ("overview page", f"/?as_of={AS_OF}"),
    ("API compstat JSON", f"/api/compstat.json?as_of={AS_OF}&category=shooting"),
    ("API trends JSON", f"/api/trends.json?category=shooting&end={AS_OF}"),
    ("API map CSV", f"/api/map.csv?category=shooting&kind=beat&start=2017-01-01&end={AS_OF}"),
]


#: categories whose trends are timed in process, one community area after another
IN_PROCESS = ("battery", "theft", "robbery")


def _in_process(store: Path) -> None:
    """First computations of a weekly trend per community area, without HTTP (``views.trends``)."""
    import datetime as dt

    from crimescope.web import views
    from crimescope.web._context import WebContext

    ctx = WebContext(store)
    try:
        end = dt.date.fromisoformat(AS_OF)
        # one-time set-up shared by every category: Ibis backend, as-of date, boundaries, data vintage
        views.trends(ctx, "homicide", "community_area", 1, None, end, "week")
        print(f"\n{'first trend computations':26s} {'area 1 ms':>10s} {'areas 2-77: median ms':>22s} {'CPU ms':>8s}")
        for cat in IN_PROCESS:
            t0 = time.perf_counter()
            views.trends(ctx, cat, "community_area", 1, None, end, "week")
            first = time.perf_counter() - t0
            wall, c0 = [], time.process_time()
            for area in range(2, 78):
                t0 = time.perf_counter()
                views.trends(ctx, cat, "community_area", area, None, end, "week")
                wall.append(time.perf_counter() - t0)
            cpu = (time.process_time() - c0) / len(wall)
            print(f"{cat:26s} {1000 * first:10.1f} {1000 * statistics.median(wall):22.2f} {1000 * cpu:8.2f}")
    finally:
        ctx.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux /proc)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q / 100 * len(xs) + 0.5)) - 1))]


async def _load(host: str, port: int, paths, clients: int, total: int, seconds: float):
    """``clients`` keep-alive HTTP/1.1 connections, each sending GETs one after another.

    A minimal asyncio client (status line, headers, Content-Length body): it costs far
    less CPU per request than httpx, so on a small machine the figures measure the
    server rather than the load generator.
    """
    lat: list[float] = []
    bad: dict[int, int] = {}
    sent = 0
    stop_at = time.perf_counter() + seconds
    paths = [paths] if isinstance(paths, str) else list(paths)
    requests = [(f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/html,application/json\r\n"
                 f"Connection: keep-alive\r\n\r\n").encode("latin-1") for p in paths]

    async def client():
        nonlocal sent
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while sent < total and time.perf_counter() < stop_at:
                request = requests[sent % len(requests)]
                sent += 1
                t = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                lat.append(time.perf_counter() - t)
                if status != 200:
                    bad[status] = bad.get(status, 0) + 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return lat, bad, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True, type=Path)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=1000, help="answers per endpoint (bound)")
    ap.add_argument("--seconds", type=float, default=60.0, help="time per endpoint (bound)")
    args = ap.parse_args()
    import httpx

    print(f"command: {command()}")
    print(f"machine: {describe()}")
    print(f"load average at start (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    _in_process(args.store)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # what `crimescope serve` runs (uvicorn, one process, the store read-only)
    launcher = ("import sys, uvicorn; from crimescope.web import create_app; "
                "uvicorn.run(create_app(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]), log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", launcher, str(args.store), str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        t0 = time.perf_counter()
        while True:
            try:
                httpx.get(base + "/api/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.perf_counter() - t0 > 120:
                    print(proc.stderr.read().decode()[-2000:])
                    return 1
                time.sleep(0.2)
        print(f"server up in {time.perf_counter() - t0:.1f} s")
        print(f"\n{'endpoint':22s} {'first (uncached)':>16s}")
        for name, path in ENDPOINTS:
            t = time.perf_counter()
            r = httpx.get(base + path, timeout=300)
            print(f"{name:22s} {time.perf_counter() - t:13.3f} s  (status {r.status_code}, {len(r.content):,} bytes)")
        print(f"\n{args.clients} concurrent clients, up to {args.requests} requests or {args.seconds:g} s per endpoint")
        print(f"{'endpoint':22s} {'n':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'req/s':>8s}  non-200")
        for name, path in ENDPOINTS + [DISTINCT]:
            s0, c0 = _cpu(proc.pid), time.process_time()
            lat, bad, wall = asyncio.run(_load("127.0.0.1", port, path, args.clients, args.requests, args.seconds))
            s1, c1 = _cpu(proc.pid), time.process_time()
            ms = [x * 1000 for x in lat]
            print(f"{name:22s} {len(ms):6d} {statistics.median(ms):8.1f} {_pct(ms, 95):8.1f} {max(ms):8.1f} "
                  f"{len(ms) / wall:8.1f}  {bad or '-'}   CPU ms/request: server {1000 * (s1 - s0) / len(ms):.2f}, "
                  f"load client {1000 * (c1 - c0) / len(ms):.2f}")
        print(f"load average at end (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
