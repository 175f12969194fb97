"""Load benchmark of the dashboard and API (not a test): 50 concurrent clients on loopback.

    python benchmarks/bench_web.py --store PATH [--clients 50] [--requests 1000] [--seconds 60]
    python benchmarks/bench_web.py load --store PATH [--clients 200] [--per-client 3] [--seed 16]
           [--compare]
    python benchmarks/bench_web.py cpu --store PATH [--per-route 6]
    python benchmarks/bench_web.py claims --store PATH [--per-kind 5]
    python benchmarks/bench_web.py routes --store PATH [--per-route 8]
    python benchmarks/bench_web.py mix --store PATH [--n 200] [--routes "API trends,API map"]

``routes``: CPU per distinct request through the whole application in this process (the app
as ``serve`` builds it, warmed, without its response cache; middleware, handler, rendering and
encoding, no sockets), the load mix's URLs, per route and weighted over the mix.

``load`` (issue 16): ``--clients`` concurrent httpx clients, each asking ``--per-client``
distinct views that nobody asked before (random dates, areas and categories from a seeded
generator: Overview page and JSON, CompStat, trends, map counts, hot spots, map pages with
their layers, claim pages), against a real uvicorn server on 127.0.0.1 in a subprocess (the
app as ``serve`` builds it; the burst starts once its start-up warming is done: the default Overview,
the area codes, the snapshot's count tables). Then the same clients ask again views already
answered (the cached figure), and ``--light-clients`` minimal asyncio clients (default 50,
issue 6's setting) ask the same repeated views once more: 200 httpx clients on the same two
cores measure their own CPU more than the server's cached latency. It prints p50 / p95 / max
and requests/s overall and per route, the claims' maximum, and the cached p95s. ``--compare`` runs the same URLs first on a
server without the per-snapshot aggregate (``create_app(aggregates=False)``: every count a
store query) and then on the normal one, in one run.

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
    """CPU seconds (user + system) used so far by process ``pid`` and the processes it started
    (a server of several processes: all of them; Linux /proc)."""
    def stat(p):
        return open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()

    try:
        fields = stat(pid)
    except (OSError, IndexError, ValueError):
        return float("nan")
    total = int(fields[11]) + int(fields[12])
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != pid:
            try:
                f = stat(d)
                if int(f[1]) == pid:
                    total += int(f[11]) + int(f[12])
            except (OSError, IndexError, ValueError):
                continue
    return total / os.sysconf("SC_CLK_TCK")


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


# ------------------------------------------------------------------------------ load mode
#: what a load URL may ask for (the mix of issue 16 item 4)
LOAD_CATEGORIES = ("shooting", "homicide", "robbery", "battery", "assault", "burglary", "motor_vehicle_theft",
                   "theft", "criminal_damage")
LOAD_KINDS = {"district": 25, "community_area": 77, "ward": 50}
#: how often each route is drawn in the load mix
LOAD_WEIGHTS = {"overview page": 1, "API overview": 1, "API compstat": 1, "API trends": 3, "API map": 2,
                "API hotspots": 1, "map page": 1, "claim page": 1}
CLAIM_NOUNS = (("murders", 300, 800), ("homicides", 300, 800), ("shootings", 1500, 4500), ("robberies", 7000, 12000))


def load_urls(seed: int, n: int, first_day: str = "2013-01-01", last_day: str = AS_OF) -> list[tuple[str, str]]:
    """``n`` distinct ``(route, url)`` from a seeded generator, in the mix of issue 16 item 4."""
    import datetime as dt
    import random

    from crimescope.stats.claims import parse_claim  # noqa: F401 - the claim texts below must parse

    rng = random.Random(seed)
    d0, d1 = dt.date.fromisoformat(first_day), dt.date.fromisoformat(last_day)
    span = (d1 - d0).days

    def day(lo: int = 0) -> dt.date:
        return d0 + dt.timedelta(days=rng.randint(lo, span))

    def cat() -> str:
        return rng.choice(LOAD_CATEGORIES)

    def map_span():
        e = day(60)
        return e - dt.timedelta(days=rng.randint(28, 364)), e

    makers = {
        "overview page": lambda: f"/?as_of={day(40)}",
        "API overview": lambda: f"/api/overview.json?as_of={day(40)}",
        "API compstat": lambda: f"/api/compstat.json?as_of={day(40)}&category=shooting",
        "API trends": lambda: (lambda k: f"/api/trends.json?category={cat()}&area_kind={k}"
                                         f"&area={rng.randint(1, LOAD_KINDS[k])}&end={day(365)}"
                                         f"&interval={rng.choice(['week', 'month'])}")(rng.choice(list(LOAD_KINDS))),
        "API map": lambda: (lambda s, e: f"/api/map.json?category={cat()}&kind={rng.choice(['beat', *LOAD_KINDS])}"
                                         f"&start={s}&end={e}")(*map_span()),
        "API hotspots": lambda: (lambda s, e: f"/api/hotspots.json?category={cat()}&start={s}&end={e}"
                                              f"&cell={rng.choice([1000, 2000])}")(*map_span()),
        "map page": lambda: (lambda s, e: f"/map?category={cat()}&kind={rng.choice(list(LOAD_KINDS))}"
                                          f"&start={s}&end={e}")(*map_span()),
        "claim page": lambda: (lambda noun, lo, hi: f"/claim?text={rng.randint(lo, hi)}+{noun}+in+"
                                                    f"{rng.randint(2012, 2017)}")(*rng.choice(CLAIM_NOUNS)),
    }
    weights = LOAD_WEIGHTS
    names = [k for k in makers for _ in range(weights[k])]
    seen, out = set(), []
    while len(out) < n:
        route = rng.choice(names)
        url = makers[route]()
        if url not in seen:
            seen.add(url)
            out.append((route, url))
    return out


async def _load_httpx(base: str, urls: list[tuple[str, str]], clients: int, timeout: float):
    """``clients`` httpx.AsyncClient connections, all started together, sharing the list: each
    takes the next URL when its previous answer is in. Returns [(route, url, seconds, status)] and
    the wall time."""
    import httpx

    import ssl

    out: list[tuple[str, str, float, int]] = []
    it = iter(urls)
    tls = ssl.create_default_context()  # one for all clients (plain HTTP; each would load the CA bundle)

    async def client():
        async with httpx.AsyncClient(base_url=base, timeout=timeout, headers={"Accept": "text/html,application/json"},
                                     limits=httpx.Limits(max_connections=1), verify=tls) as c:
            for route, url in it:
                t = time.perf_counter()
                try:
                    r = await c.get(url)
                    status = r.status_code
                except httpx.HTTPError:
                    status = 599
                out.append((route, url, time.perf_counter() - t, status))

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return out, time.perf_counter() - t0


def _summary(name: str, lat: list[float], wall: float | None, statuses: list[int]) -> str:
    ms = [x * 1000 for x in lat]
    bad = {s: statuses.count(s) for s in sorted(set(statuses)) if s != 200}
    rate = f"{len(ms) / wall:8.1f}" if wall else f"{'':8s}"
    return (f"{name:22s} {len(ms):6d} {statistics.median(ms):8.0f} {_pct(ms, 95):8.0f} {max(ms):8.0f} "
            f"{rate}  {bad or '-'}")


def _start_server(store: Path, env: dict, aggregates: bool = True, processes: int = 1):
    """``crimescope serve`` as it runs (uvicorn with its config; ``processes`` server processes on one
    port), warming at start, in a subprocess on a free port."""
    port = _free_port()
    launcher = ("import sys; from crimescope.web import create_app; from crimescope.web._server import run; "
                "from crimescope.web._processes import serve_processes; "
                "store, port, agg, n = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1', int(sys.argv[4]); "
                "sys.exit(serve_processes(store, port=port, processes=n, warm=True, aggregates=agg)) if n > 1 else "
                "run(create_app(store, aggregates=agg, warm=True), port=port)")
    proc = subprocess.Popen([sys.executable, "-c", launcher, str(store), str(port), "1" if aggregates else "0",
                             str(processes)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, port


def _wait_up(proc, base: str) -> float:
    """Seconds until the server answers and has finished warming (as ``serve`` warms: the default
    Overview, the area codes, and the snapshot's count tables), in every one of its processes."""
    import httpx

    t0 = time.perf_counter()
    warm: dict[int, bool] = {}
    while True:
        try:
            doc = httpx.get(base + "/api/snapshot.json", timeout=30).json()  # a new connection each time
            server = doc.get("server", {"process": 0, "processes": 1})
            warm[server["process"]] = not doc.get("warming")
            if len(warm) == server["processes"] and all(warm.values()):
                return time.perf_counter() - t0
            time.sleep(0.2)
        except httpx.TransportError:
            if proc.poll() is not None or time.perf_counter() - t0 > 180:
                raise RuntimeError(proc.stderr.read().decode()[-2000:])
            time.sleep(0.2)


def _stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        proc.kill()


def load_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench_web.py load", description="issue 16 item 4: distinct uncomputed views")
    ap.add_argument("--store", required=True, type=Path)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--per-client", type=int, default=3, help="distinct views per client")
    ap.add_argument("--cached-per-client", type=int, default=5, help="repeated (cached) views per client")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--light-clients", type=int, default=50,
                    help="then the same repeated views from this many minimal asyncio clients (the issue 6 "
                         "setting: the server's cached latency, not the httpx clients' CPU)")
    ap.add_argument("--compare", action="store_true", help="first the same URLs without the aggregate")
    ap.add_argument("--processes", type=int, default=None,
                    help="server processes (default: as `serve` starts, the setting web_processes)")
    args = ap.parse_args(argv)
    import random

    sys.stdout.reconfigure(line_buffering=True)  # progress shows when the output is a file

    print(f"command: {command()}")
    print(f"machine: {describe()}")
    from crimescope import settings

    processes = settings.get("web_processes", args.processes)
    print(f"server processes: {processes}")
    urls = load_urls(args.seed, args.clients * args.per_client)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    runs = [("store queries (no aggregate)", False)] if args.compare else []
    runs.append(("per-snapshot aggregate", True))
    for label, agg in runs:
        print(f"\n== {label}: {args.clients} clients, {len(urls)} distinct views never asked before "
              f"(seed {args.seed}), then {args.clients * args.cached_per_client} repeated ones")
        print(f"load average at start (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        proc, port = _start_server(args.store, env, agg, processes)
        base = f"http://127.0.0.1:{port}"
        try:
            print(f"server up in {_wait_up(proc, base):.1f} s")
            c0 = _cpu(proc.pid)
            res, wall = asyncio.run(_load_httpx(base, urls, args.clients, args.timeout))
            c1 = _cpu(proc.pid)
            rng = random.Random(args.seed + 1)
            answered = [(r, u) for r, u, _, st in res if st == 200] or urls  # in the response cache now
            cached = [rng.choice(answered) for _ in range(args.clients * args.cached_per_client)]
            c2, k2 = _cpu(proc.pid), time.process_time()
            cres, cwall = asyncio.run(_load_httpx(base, cached, args.clients, args.timeout))
            c3, k3 = _cpu(proc.pid), time.process_time()
            light = asyncio.run(_load("127.0.0.1", port, [u for _, u in cached], args.light_clients,
                                      len(cached), 60.0)) if args.light_clients else None
        finally:
            _stop(proc)
        print(f"{'route':22s} {'n':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'req/s':>8s}  non-200")
        print(_summary("all distinct views", [x[2] for x in res], wall, [x[3] for x in res]))
        for route in dict.fromkeys(r for r, _ in urls):
            sel = [x for x in res if x[0] == route]
            if sel:
                print(_summary(f"  {route}", [x[2] for x in sel], None, [x[3] for x in sel]))
        print(_summary("cached (repeated)", [x[2] for x in cres], cwall, [x[3] for x in cres]))
        if light is not None:
            lat, bad, lwall = light
            statuses = [200] * (len(lat) - sum(bad.values())) + [k for k, v in bad.items() for _ in range(v)]
            print(_summary(f"cached, {args.light_clients} light", lat, lwall, statuses)
                  + f"   (minimal asyncio clients, the same repeated views, right after)")
        over5 = sum(1 for x in res if x[2] > 5)
        claims = [x[2] for x in res if x[0] == "claim page"]
        print(f"requests over 5 s: {over5}; claims over 1 s: {sum(1 for c in claims if c > 1)} of {len(claims)}; "
              f"server CPU {c1 - c0:.1f} s for the distinct views ({1000 * (c1 - c0) / len(res):.0f} ms/request)")
        print(f"cached answers: server CPU {1000 * (c3 - c2) / len(cres):.2f} ms/request, the httpx clients "
              f"{1000 * (k3 - k2) / len(cres):.2f} ms/request (same machine)")
        print(f"load average at end (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


def _view_call(ctx, route: str, url: str):
    """Call the view function behind one load URL (``views.*``), in process."""
    import datetime as dt
    from urllib.parse import parse_qs, urlsplit

    from crimescope.web import views

    u = urlsplit(url)
    q = {k: v[0] for k, v in parse_qs(u.query).items()}
    day = lambda k: dt.date.fromisoformat(q[k]) if k in q else None  # noqa: E731
    if route in ("overview page", "API overview"):
        views.overview(ctx, day("as_of"), [])
        if route == "overview page":
            views.compstat(ctx, day("as_of"), [])
    elif route == "API compstat":
        views.compstat(ctx, day("as_of"), [], q.get("category"))
    elif route == "API trends":
        views.trends(ctx, q["category"], q["area_kind"], int(q["area"]), None, day("end"), q["interval"])
    elif route == "API map":
        views.map_counts(ctx, q["category"], q["kind"], day("start"), day("end"), "count")
    elif route == "API hotspots":
        views.hotspots(ctx, q["category"], day("start"), day("end"), int(q["cell"]))
    elif route == "map page":
        views.map_counts(ctx, q["category"], q["kind"], day("start"), day("end"), "count")
        views.hotspots(ctx, q["category"], day("start"), day("end"), 1000)
        views.forecast(ctx, q["category"], day("end") + dt.timedelta(days=1), 1000, "best")
    elif route == "claim page":
        views.claim(ctx, q["text"], None, None, None, None, None, None, None, None)


def cpu_main(argv: list[str]) -> int:
    """CPU per distinct view, in process and one at a time (no HTTP): the old path (every count a
    store query) and the per-snapshot aggregate, the same URLs, alternately per route."""
    ap = argparse.ArgumentParser(prog="bench_web.py cpu", description="CPU per distinct view, old vs new path")
    ap.add_argument("--store", required=True, type=Path)
    ap.add_argument("--per-route", type=int, default=6)
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    from crimescope.categories.taxonomy import taxonomy_for
    from crimescope.web import views
    from crimescope.web._context import WebContext

    print(f"command: {command()}")
    print(f"machine: {describe()}")
    print(f"load average at start (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    urls = load_urls(args.seed, 4000)
    ctxs, gens = {}, {}
    for label, agg in (("store queries", False), ("aggregate", True)):
        ctx = WebContext(args.store, aggregates=agg)
        gen = ctx.acquire()
        ctx.pin(gen)
        t0, c0 = time.perf_counter(), time.process_time()
        views.as_of_default(ctx)
        for kind in LOAD_KINDS:
            views.area_ids(ctx, kind)
        if gen.aggregates is not None:  # what `serve` builds at start, in the background
            for cat in taxonomy_for(ctx.profile).values():
                gen.aggregates.table("chicago", cat)
        print(f"{label}: set-up {time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU"
              + (f"; count tables of {len(list(taxonomy_for(ctx.profile).values()))} categories "
                 f"{gen.aggregates.nbytes / 2**20:.0f} MiB" if gen.aggregates is not None else ""))
        ctxs[label] = ctx
        gens[label] = gen  # pinned around each call below: the pin is one context variable for all contexts
    # one warm-up per route and path (first grid, boundaries, model set-up), not counted
    routes = list(dict.fromkeys(r for r, _ in urls))
    print(f"\n{'route':16s} {'store queries: CPU ms median':>29s} {'aggregate: CPU ms median':>25s} {'ratio':>6s}")
    for route in routes:
        sel = [u for r, u in urls if r == route][: args.per_route + 2]
        cpu = {k: [] for k in ctxs}
        for i, url in enumerate(sel):
            for label, ctx in ctxs.items():
                token = ctx.pin(gens[label])
                c0 = time.process_time()
                try:
                    _view_call(ctx, route, url)
                except Exception as exc:  # noqa: BLE001 - a refused view (e.g. no coverage) still costs
                    if i == 0:
                        print(f"  ({route}: {type(exc).__name__}: {str(exc)[:80]})")
                finally:
                    ctx.unpin(token)
                if i >= 2:
                    cpu[label].append(1000 * (time.process_time() - c0))
        a, b = statistics.median(cpu["store queries"]), statistics.median(cpu["aggregate"])
        print(f"{route:16s} {a:29.0f} {b:25.0f} {a / b:6.1f}")
    print(f"load average at end (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


def claims_main(argv: list[str]) -> int:
    """CPU per claim check in process (``dashboard.claim``, as the claim page calls it): the store
    path (a plain read-only store: one query of every version of every id in the claim, then
    pandas) and the snapshot path (the same file with a per-snapshot aggregate, as ``serve``
    reads it: ``stats._claim_index``), the same claims alternately; and what the snapshot's claim
    structures cost to build, once per snapshot (CPU, memory)."""
    import datetime as dt
    import random

    ap = argparse.ArgumentParser(prog="bench_web.py claims", description="CPU per claim check, store vs snapshot path")
    ap.add_argument("--store", required=True, type=Path)
    ap.add_argument("--per-kind", type=int, default=5, help="claims timed per kind (after one warm-up)")
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    from crimescope.app import dashboard
    from crimescope.categories import get_category
    from crimescope.datasets import as_dataset
    from crimescope.stats import _claim_index
    from crimescope.stats._aggregate import Aggregates
    from crimescope.stats.change_claims import ChangeClaim
    from crimescope.stats.claims import Claim, parse_claim
    from crimescope.store import Store

    print(f"command: {command()}")
    print(f"machine: {describe()}")
    print(f"load average at start (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    plain, fast = Store(args.store, read_only=True), Store(args.store, read_only=True)
    agg = fast.aggregates = Aggregates(fast)
    cats = ["murder", "homicide", "shooting", "robbery"]
    for name in cats:  # what `serve` builds at start: the count tables
        agg.table("chicago", get_category(name))
    print("\nclaim structures of the snapshot, built once (on the first claim that needs them):")
    c0 = time.process_time()
    rev = _claim_index.revisions(agg, fast, "chicago")
    print(f"  {'revised ids: versions':24s} {1000 * (time.process_time() - c0):6.0f} ms CPU "
          f"{rev.nbytes / 2**20:6.1f} MiB  ({rev.c.n:,} versions)")
    for name in cats:
        c0 = time.process_time()
        rows = _claim_index.category_rows(agg, fast, "chicago", get_category(name))
        print(f"  {name + ': current rows':24s} {1000 * (time.process_time() - c0):6.0f} ms CPU "
              f"{rows.nbytes / 2**20:6.1f} MiB  ({rows.c.n:,} rows)")
    rng = random.Random(args.seed)
    nouns = [("murders", 300, 800), ("homicides", 300, 800), ("shootings", 1500, 4500), ("robberies", 7000, 12000)]

    def sentence():
        noun, lo, hi = rng.choice(nouns)
        return parse_claim(f"{rng.randint(lo, hi)} {noun} in {rng.randint(2012, 2017)}")

    def year(first: int = 2012, last: int = 2017) -> dict:  # a whole calendar year
        y = rng.randint(first, last)
        return {"start": dt.date(y, 1, 1), "end": dt.date(y, 12, 31)}

    kinds = {
        "load mix (a year, citywide)": sentence,
        "by district": lambda: Claim(rng.choice(cats), rng.randint(0, 900), **year(), district=rng.randint(1, 25)),
        "by community area": lambda: Claim(rng.choice(cats), rng.randint(0, 300), **year(),
                                           community_area=rng.randint(1, 77)),
        "homicides 2001-2011": lambda: Claim("homicide", rng.randint(300, 800), **year(2001, 2011)),
        "refused (coverage)": lambda: Claim("robbery", rng.randint(7000, 12000), **year(2001, 2011)),
        "about change": lambda: ChangeClaim("shooting", float(rng.randint(-50, 50)), start=dt.date(2017, 1, 1),
                                            end=dt.date(2017, 1, 1) + dt.timedelta(days=rng.randint(30, 360))),
    }
    print(f"\n{'claim kind':28s} {'store path: CPU ms median':>26s} {'snapshot path':>14s} {'ratio':>6s}")
    for kind, make in kinds.items():
        cpu: dict[str, list[float]] = {"store": [], "snapshot": []}
        for i in range(args.per_kind + 1):
            c = make()
            for label, store in (("store", plain), ("snapshot", fast)):
                t0 = time.process_time()
                dashboard.claim(as_dataset(store), claims=[c])
                if i:
                    cpu[label].append(1000 * (time.process_time() - t0))
        a, b = statistics.median(cpu["store"]), statistics.median(cpu["snapshot"])
        print(f"{kind:28s} {a:26.0f} {b:14.1f} {a / b:6.0f}")
    print(f"load average at end (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    plain.close()
    fast.close()
    return 0


async def _asgi_get(app, url: str) -> tuple[int, int]:
    """One GET through the whole ASGI application in this process (middleware, routing, the
    handler on its worker thread, rendering, encoding): (status, body bytes)."""
    from urllib.parse import urlsplit

    u = urlsplit(url)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": u.path, "raw_path": u.path.encode(), "root_path": "",
             "query_string": u.query.encode("latin-1"), "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
             "headers": [(b"host", b"127.0.0.1"), (b"accept", b"text/html,application/json")]}
    out = {"status": 0, "bytes": 0}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["bytes"] += len(message.get("body", b""))

    await app(scope, receive, send)
    return out["status"], out["bytes"]


def routes_main(argv: list[str]) -> int:
    """CPU per distinct request through the whole application, in process and one at a time (no
    sockets): the app as ``serve`` builds it (warmed, the response cache off so every URL is
    computed), the load mix's URLs (seed 16), medians per route after two warm-ups."""
    ap = argparse.ArgumentParser(prog="bench_web.py routes", description="CPU per distinct request, whole app")
    ap.add_argument("--store", required=True, type=Path)
    ap.add_argument("--per-route", type=int, default=8)
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    from crimescope.web import create_app

    print(f"command: {command()}")
    print(f"machine: {describe()}")
    print(f"load average at start (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    urls = load_urls(args.seed, 4000)
    app = create_app(args.store, warm=True, response_cache_mb=0)

    async def run():
        import contextlib

        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(app.router.lifespan_context(app))
            t0, c0 = time.perf_counter(), time.process_time()
            while app.state.ctx.warming:
                await asyncio.sleep(0.2)
            print(f"start-up warming: {time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU")
            agg = app.state.ctx.generation.aggregates
            if agg is not None and hasattr(agg, "held_bytes"):
                held = agg.held_bytes()
                print("held per snapshot (MiB): " + ", ".join(f"{k} {v / 2**20:.1f}" for k, v in held.items() if v))
            print(f"\n{'route':16s} {'n':>3s} {'CPU ms median':>14s} {'CPU ms mean':>12s} {'KiB':>6s}  statuses")
            total, n_all = 0.0, 0
            for route in dict.fromkeys(r for r, _ in urls):
                sel = [u for r, u in urls if r == route][: args.per_route + 2]
                cpu, sizes, statuses = [], [], []
                for i, url in enumerate(sel):
                    c0 = time.process_time()
                    status, size = await _asgi_get(app, url)
                    if i >= 2:
                        cpu.append(1000 * (time.process_time() - c0))
                        sizes.append(size)
                        statuses.append(status)
                total += statistics.mean(cpu) * LOAD_WEIGHTS[route]
                n_all += LOAD_WEIGHTS[route]
                print(f"{route:16s} {len(cpu):3d} {statistics.median(cpu):14.1f} {statistics.mean(cpu):12.1f} "
                      f"{statistics.median(sizes) / 1024:6.0f}  {dict((s, statuses.count(s)) for s in set(statuses))}")
            print(f"mean CPU per distinct view over the load mix (weights {LOAD_WEIGHTS}): {total / n_all:.1f} ms")

    asyncio.run(run())
    print(f"load average at end (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


def mix_main(argv: list[str]) -> int:
    """CPU of each request of the load mix (``load_urls(seed, n)``, the routes asked for), through the
    whole application in this process, one at a time, cache off: per route the mean and total, and
    the total (after three warm-up requests per route from further down the mix)."""
    ap = argparse.ArgumentParser(prog="bench_web.py mix", description="CPU per request over the load mix")
    ap.add_argument("--store", required=True, type=Path)
    ap.add_argument("--n", type=int, default=200, help="the first N URLs of the mix")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--routes", default=",".join(LOAD_WEIGHTS), help="comma list of load routes")
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    import crimescope
    from crimescope.web import create_app

    routes = [r for r in args.routes.split(",") if r]
    urls = [(r, u) for r, u in load_urls(args.seed, args.n) if r in routes]
    more = load_urls(args.seed, 4000)[args.n:]
    warm = [(r, u) for r in routes for u in [u for rr, u in more if rr == r][:3]]
    print(f"command: {command()}")
    print(f"machine: {describe()}")
    print(f"code: {Path(crimescope.__file__).parent}")
    print(f"load average at start (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    app = create_app(args.store, warm=True, response_cache_mb=0)

    async def run():
        import contextlib

        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(app.router.lifespan_context(app))
            while app.state.ctx.warming:
                await asyncio.sleep(0.2)
            for _, u in warm:
                await _asgi_get(app, u)
            cpu: dict[str, list[float]] = {r: [] for r in routes}
            for r, u in urls:
                c0 = time.process_time()
                await _asgi_get(app, u)
                cpu[r].append(1000 * (time.process_time() - c0))
            print(f"{'route':16s} {'n':>4s} {'CPU ms mean':>12s} {'median':>8s} {'total s':>8s}")
            for r in routes:
                if cpu[r]:
                    print(f"{r:16s} {len(cpu[r]):4d} {statistics.mean(cpu[r]):12.2f} {statistics.median(cpu[r]):8.2f} "
                          f"{sum(cpu[r]) / 1000:8.2f}")
            print(f"{'all':16s} {len(urls):4d} {'':12s} {'':8s} {sum(map(sum, cpu.values())) / 1000:8.2f}")

    asyncio.run(run())
    print(f"load average at end (1/5/15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "mix":
        return mix_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "routes":
        return routes_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "load":
        return load_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "cpu":
        return cpu_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "claims":
        return claims_main(sys.argv[2:])
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
