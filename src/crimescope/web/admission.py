"""Admission by route: cheap, bounded requests never wait behind expensive uncomputed views.

Request handlers are synchronous and run on AnyIO's worker threads, all sharing one
interpreter lock. Without admission a burst of distinct views (40-60 ms of CPU each) fills
every worker thread and the queue in front of them, and a claim check (5-15 ms of CPU) that
arrives with them waits for all of those before it. :class:`Admission` gives each request a
lane by its path before it enters the application:

- ``light``: claim checks (``/claim``, ``/api/claim.*``), what the server says about itself
  (``/api/snapshot.json``, ``/api/cities.json``), the category list, map boundaries, the
  OpenAPI schema and its browser, static files. At most ``light`` of them run at once.
- ``heavy``: every other route (the Overview, CompStat, trends, maps, hot spots, forecasts,
  plans, evaluations, the data table). At most ``heavy`` of them run at once.

A request over its lane's cap waits, first come first served, without holding a thread:
none is refused or dropped. The caps are the settings ``web_heavy_workers`` (default: the
machine's cores, at least 2 and at most 8; ``CRIMESCOPE_WEB_HEAVY``, ``serve --heavy-workers``) and
``web_light_workers`` (default 4; ``CRIMESCOPE_WEB_LIGHT``, ``serve --light-workers``). The worker threads number ``heavy + light`` (set at start-up by
``create_app``), so a light request always finds a thread, whatever the heavy lane holds.
Answers already in the response cache are served before admission (they need no thread), so
they never wait either. Only scheduling changes: the handlers and their answers are the same.

On two cores a small heavy cap costs the burst no throughput: two views already use both
cores, and more threads only share the interpreter lock more finely (docs/benchmarks/web.md).
"""

from __future__ import annotations

import asyncio

__all__ = ["LIGHT_PREFIXES", "LIGHT_PATHS", "Admission", "Lanes", "lane_of"]

#: paths (exact) answered in the light lane
LIGHT_PATHS = frozenset({"/claim", "/api/snapshot.json", "/api/cities.json", "/api/openapi.json", "/api/docs",
                         "/favicon.ico"})
#: path prefixes answered in the light lane (claim checks in every format, boundaries, files)
LIGHT_PREFIXES = ("/api/claim.", "/api/categories.", "/api/geometry/", "/static/")


def lane_of(path: str) -> str:
    """``"light"`` or ``"heavy"``: the lane of a request for ``path``."""
    if path in LIGHT_PATHS or path.startswith(LIGHT_PREFIXES):
        return "light"
    return "heavy"


class _Lane:
    """A first-come-first-served cap on requests running at once, with what it saw: ``running``
    now, ``waiting`` now, ``peak`` running, ``admitted`` in all."""

    def __init__(self, cap: int):
        self.cap = cap
        self.running = 0
        self.waiting = 0
        self.peak = 0
        self.admitted = 0
        self._sem: asyncio.Semaphore | None = None
        self._loop = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # one per event loop (a test client may run several in turn)
            self._sem, self._loop = asyncio.Semaphore(self.cap), loop
        return self._sem

    async def run(self, call):
        sem = self._semaphore()
        self.waiting += 1
        try:
            await sem.acquire()  # asyncio's semaphore wakes its waiters in order (FIFO)
        finally:
            self.waiting -= 1
        self.running += 1
        self.admitted += 1
        self.peak = max(self.peak, self.running)
        try:
            return await call()
        finally:
            self.running -= 1
            sem.release()

    def describe(self) -> dict:
        return {"cap": self.cap, "running": self.running, "waiting": self.waiting, "peak": self.peak,
                "admitted": self.admitted}


class Lanes:
    """The two lanes of a server, ``heavy`` and ``light`` (their caps, each at least 1), shared by
    its :class:`Admission` middleware and whoever reports on them (``app.state.lanes``)."""

    def __init__(self, heavy: int, light: int):
        if int(heavy) < 1 or int(light) < 1:
            from ..errors import ParameterError

            raise ParameterError(f"heavy and light workers must be at least 1 (got {heavy} and {light})")
        self.heavy, self.light = _Lane(int(heavy)), _Lane(int(light))

    @property
    def threads(self) -> int:
        """The worker threads the lanes need together (``create_app`` sets AnyIO's limiter to it)."""
        return self.heavy.cap + self.light.cap

    def of(self, path: str) -> _Lane:
        return self.light if lane_of(path) == "light" else self.heavy

    def describe(self) -> dict:
        return {"heavy": self.heavy.describe(), "light": self.light.describe()}


class Admission:
    """ASGI middleware: each HTTP request waits for room in its lane (:func:`lane_of`), then runs."""

    def __init__(self, app, *, lanes: Lanes):
        self.app = app
        self.lanes = lanes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.lanes.of(scope["path"]).run(lambda: self.app(scope, receive, send))
