"""Per-application state: what the server reads, a cursor per thread, a result cache.

The server reads the store's published snapshot (``crimescope.store.snapshot``), so
``crimescope ingest`` and ``crimescope sync`` can write the store while it serves.
What it reads is a *generation*: one read-only DuckDB connection to one snapshot file
(or to the store itself when no snapshot can be published). When a writer publishes
a new snapshot, the next request (the file is looked at at most every
``check_interval`` seconds) opens it as a new generation. Requests that started
before keep the generation they started with (``acquire``/``release``, done by the
application's middleware); the old connection is closed when the last of them ends.

DuckDB allows many readers in one process through one connection: every worker
thread gets its own cursor of the generation (``Store.cursor()``), wrapped in a
:class:`StoreView` that has the attributes the library functions use (``con``,
``ibis()``, ``path``). Within a generation nothing changes, so results are cached
per (generation, view, parameters) in a bounded LRU, and a result is computed once
even when many clients ask for it at the same moment. A new generation empties the
cache and calls the ``on_swap`` callbacks (the response cache empties itself).
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Hashable

from ..store import Store
from ..store.snapshot import (Snapshot, SnapshotReader, open_for_reading, publish_if_behind, published_snapshot,
                              snapshot_is_stale)

__all__ = ["StoreView", "WebContext", "Generation"]

log = logging.getLogger("crimescope.web")

#: the generation a request was pinned to (set by the middleware, seen by the handler's thread)
_PINNED: contextvars.ContextVar["Generation | None"] = contextvars.ContextVar("crimescope_generation", default=None)
#: the city (profile key) of a request's ``source`` query parameter (set by the route dependency)
_SOURCE: contextvars.ContextVar["str | None"] = contextvars.ContextVar("crimescope_source", default=None)


#: what a request says about the data it reads (``WebContext.data_status`` when it started; None: current)
_STATUS: contextvars.ContextVar["str | None"] = contextvars.ContextVar("crimescope_data_status", default=None)


def request_data_status() -> "str | None":
    """``WebContext.data_status()`` as it was when this request started (set by the middleware)."""
    return _STATUS.get()


def set_request_source(source: "str | None") -> contextvars.Token:
    """Make ``source`` (a profile key, validated) the city of this request (its threads inherit it)."""
    from ..datasets import get_profile

    return _SOURCE.set(None if source is None else get_profile(source).key)
_IDS = itertools.count(1)


class StoreView:
    """A read-only view of a :class:`Store` through one cursor (one per thread)."""

    def __init__(self, store: "Store | SnapshotReader", aggregates=None):
        self.path = store.path
        self.read_only = True
        self.con = store.cursor()
        self._ibis = None
        #: the generation's count tables (``stats._aggregate``): counts are summed from them
        self.aggregates = aggregates

    def ibis(self):
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def close(self) -> None:
        try:
            self.con.close()
        except Exception:  # noqa: BLE001 - closing at shutdown; nothing useful to report
            pass


class Generation:
    """One opened file the server reads: ``store`` (read-only), ``snapshot`` (None: the store itself)."""

    def __init__(self, store: "Store | SnapshotReader", snapshot: Snapshot | None, *, aggregates: bool = True):
        self.id = next(_IDS)
        self.store = store
        self.snapshot = snapshot
        self.users = 0
        self.retired = False
        self.closed = False
        self.views: list[StoreView] = []
        from ..stats._aggregate import Aggregates

        #: per-category counts by day and area of this file, shared by its threads (built on first use)
        self.aggregates = Aggregates(store) if aggregates else None

    @property
    def identity(self) -> tuple:
        """What identifies the file read, the same in every process that opens it (the snapshot's
        device, inode, modification time and size; the store's path when it is read itself)."""
        if self.snapshot is not None:
            return ("snapshot", *self.snapshot.identity)
        return ("store", str(Path(self.store.path).resolve()))

    def describe(self) -> dict:
        """What is served, for the ``/api/snapshot.json`` answer and the ``X-Crimescope-Data`` header."""
        if self.snapshot is None:
            return {"reads": "store", "file": Path(self.store.path).name, "published_at": None}
        return {"reads": "snapshot", **self.snapshot.as_dict()}

    def close(self) -> None:
        for v in self.views:
            v.close()
        self.views.clear()
        self.store.close()
        self.closed = True


class WebContext:
    """What the route handlers share: the generation served, thread-local views, cache, settings.

    ``publish``: publish a snapshot at startup when there is none or the store is newer
    than it (``serve`` does; ``report``, which reads once, does not). ``check_interval``:
    seconds between two looks at the snapshot file (0 looks at every request).
    """

    def __init__(self, store_path: str | Path, *, shared_dir: str | Path | None = None,
                 cache_size: int = 512, publish: bool = False, check_interval: float = 2.0,
                 source: str | None = None, aggregates: bool = True):
        from ..datasets import get_profile

        self.store_path = Path(store_path)
        #: the city a request reads when it gives no ``source`` (the serve/report ``--source``)
        self.default_source = get_profile(source).key
        self.shared_dir = Path(shared_dir) if shared_dir else None
        self.check_interval = float(check_interval)
        store, snap = open_for_reading(self.store_path, publish=publish)
        self.use_aggregates = bool(aggregates)
        self._current = Generation(store, snap, aggregates=self.use_aggregates)
        self._gen_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._next_check = time.monotonic() + self.check_interval
        self._on_swap: list[Callable[[], None]] = []
        self._local = threading.local()
        self._views: list[StoreView] = []
        self._views_lock = threading.Lock()
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._cache_size = int(cache_size)
        self._cache_lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        #: publish a snapshot that is behind the store while serving (see ``_look_behind``)
        self.auto_publish = bool(publish)
        self.behind = False
        #: True while the start-up warming (``create_app(warm=True)``) runs
        self.warming = False
        self._publisher: threading.Thread | None = None
        #: set by :meth:`close`: background work (warming, publishing) stops at its next step
        self.closing = False
        self._background: list[threading.Thread] = []
        self._next_publish = 0.0
        self._look_behind(snap)

    # -- generations ------------------------------------------------------------
    @property
    def store(self) -> "Store | SnapshotReader":
        """The read-only connection of the current generation."""
        return self._current.store

    @property
    def generation(self) -> Generation:
        """The generation of this request (pinned by the middleware), else the current one."""
        return _PINNED.get() or self._current

    def on_swap(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after each switch to a newer snapshot (to empty other caches)."""
        self._on_swap.append(callback)

    def acquire(self) -> Generation:
        """The current generation (after a look for a newer snapshot), counted as in use until ``release``."""
        self.refresh()
        with self._gen_lock:
            gen = self._current
            gen.users += 1
            return gen

    def release(self, gen: Generation) -> None:
        with self._gen_lock:
            gen.users -= 1
            done = gen.retired and gen.users == 0 and not gen.closed
        if done:
            self._close_generation(gen)

    def pin(self, gen: Generation) -> contextvars.Token:
        """Make ``gen`` the generation of this request (its handler threads inherit it)."""
        return _PINNED.set(gen)

    def unpin(self, token: contextvars.Token) -> None:
        _PINNED.reset(token)

    def refresh(self, *, force: bool = False) -> bool:
        """Switch to a newer published snapshot, if there is one; True when it switched.

        Looks at the file at most every ``check_interval`` seconds unless ``force``. A
        snapshot that does not open is logged and skipped: the current one stays served.
        """
        now = time.monotonic()
        if not force and now < self._next_check:
            return False
        if not self._refresh_lock.acquire(blocking=False):
            return False  # another thread is looking; this request uses the current generation
        try:
            self._next_check = now + self.check_interval
            snap = published_snapshot(self.store_path)
            cur = self._current.snapshot
            if snap is None or (cur is not None and snap.identity == cur.identity):
                self._look_behind(cur)
                return False
            try:
                store = SnapshotReader(snap.path)
            except Exception:  # noqa: BLE001 - keep serving the current generation; the log says why
                log.warning("cannot open the new snapshot %s; still serving the previous data", snap.path,
                            exc_info=True)
                return False
            new = Generation(store, snap, aggregates=self.use_aggregates)
            with self._gen_lock:
                old, self._current = self._current, new
                old.retired = True
                close_old = old.users == 0
            with self._cache_lock:
                self._cache.clear()
            for cb in self._on_swap:
                cb()
            if close_old:
                self._close_generation(old)
            log.info("now serving %s (published %s)", snap.path.name, snap.published_at.isoformat())
            self._look_behind(snap)
            return True
        finally:
            self._refresh_lock.release()

    # -- a snapshot behind the store ------------------------------------------------
    def _look_behind(self, snap: Snapshot | None) -> None:
        """Note whether the snapshot served is behind the store (a writer is writing, or one was
        stopped after its commit and before its publish) and, when this context publishes
        (``serve``), publish the store's data in a background thread: a killed writer then does
        not leave the server on old data. A writer still holding the store publishes itself."""
        behind = snap is not None and snapshot_is_stale(self.store_path, snap)
        self.behind = behind
        if not behind or not self.auto_publish:
            return
        if self._publisher is not None and self._publisher.is_alive():
            return
        if time.monotonic() < self._next_publish:
            return

        def publish():
            try:
                new = publish_if_behind(self.store_path)
            except Exception:  # noqa: BLE001 - keep serving the published data; the log says why
                log.warning("the snapshot is behind the store and publishing it failed", exc_info=True)
                self._next_publish = time.monotonic() + 60.0  # do not retry a failing copy every request
                return
            if new is not None:
                log.info("published %s: the snapshot was behind the store", new.path.name)
                self._next_check = 0.0  # the next request opens it
            else:
                self._next_publish = time.monotonic() + self.check_interval  # a writer holds the store

        self._publisher = self.start_background(publish, "crimescope-publish")

    def data_status(self) -> str | None:
        """``"data as of ..., newer data is being published"`` while the snapshot served is behind
        the store, else None (pages show it as a banner, JSON answers in ``meta``)."""
        snap = self._current.snapshot
        if not self.behind or snap is None:
            return None
        return (f"data as of {snap.published_at:%Y-%m-%d %H:%M:%S} UTC (snapshot {snap.path.name}), "
                f"newer data is being published")

    def _close_generation(self, gen: Generation) -> None:
        with self._gen_lock:
            if gen.closed:
                return
            gen.closed = True
        with self._views_lock:
            self._views = [v for v in self._views if v not in gen.views]
        gen.close()

    # -- store ------------------------------------------------------------------
    def view(self) -> StoreView:
        """This thread's view of this request's generation (created on first use)."""
        gen = self.generation
        views = getattr(self._local, "views", None)
        if views is None:
            views = self._local.views = {}
        v = views.get(gen.id)
        if v is None:
            for gid in [g for g in views if g != gen.id]:
                del views[gid]  # a retired generation's views are closed with it
            v = StoreView(gen.store, gen.aggregates)
            views[gen.id] = v
            with self._views_lock:
                gen.views.append(v)
                self._views.append(v)
        return v

    # -- the city -----------------------------------------------------------------
    @property
    def source(self) -> str:
        """The city of this request: its ``source`` parameter, else the context's default."""
        return _SOURCE.get() or self.default_source

    @property
    def profile(self):
        from ..datasets import get_profile

        return get_profile(self.source)

    def dataset(self):
        """This thread's view of the store, read as this request's city (a Dataset)."""
        from ..datasets import Dataset

        return Dataset(self.view(), self.source)

    # -- cache ------------------------------------------------------------------
    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per ``key``, city and generation (bounded LRU; errors are not cached)."""
        gen = self.generation
        key = (gen.id, self.source, key)
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            with self._cache_lock:
                if key in self._cache:
                    return self._cache[key]
            try:
                value = compute()
            finally:
                with self._cache_lock:
                    self._key_locks.pop(key, None)
            with self._cache_lock:
                if gen is self._current:  # a result of a retired generation is not kept
                    self._cache[key] = value
                    while len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
            return value

    def start_background(self, target, name: str, *args) -> threading.Thread:
        """Run ``target(*args)`` in a thread that :meth:`close` waits for. Not a daemon: a daemon
        thread still inside DuckDB when the interpreter exits aborts the process ("terminate called
        without an active exception"); the work checks :attr:`closing` between its steps."""
        t = threading.Thread(target=target, args=args, name=name, daemon=False)
        with self._gen_lock:
            self._background = [b for b in self._background if b.is_alive()] + [t]
        t.start()
        return t

    def close(self) -> None:
        self.closing = True
        with self._gen_lock:
            running = list(self._background)
        for t in running:
            if t is not threading.current_thread():
                t.join(timeout=120)
        with self._gen_lock:
            gen = self._current
        self._close_generation(gen)
