"""Per-application state: the read-only store, a cursor per thread, a result cache.

DuckDB allows many readers in one process through one connection: every worker
thread gets its own cursor (``Store.cursor()``), wrapped in a :class:`StoreView`
that has the attributes the library functions use (``con``, ``ibis()``, ``path``).
The store is opened read-only, so a computed result never goes stale while the
server runs: results are cached per (view, parameters) in a bounded LRU, and a
result is computed once even when many clients ask for it at the same moment.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Hashable

from ..store import Store

__all__ = ["StoreView", "WebContext"]


class StoreView:
    """A read-only view of a :class:`Store` through one cursor (one per thread)."""

    def __init__(self, store: Store):
        self.path = store.path
        self.read_only = True
        self.con = store.cursor()
        self._ibis = None

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


class WebContext:
    """What the route handlers share: store, thread-local views, cache, settings."""

    def __init__(self, store_path: str | Path, *, shared_dir: str | Path | None = None,
                 cache_size: int = 512):
        self.store_path = Path(store_path)
        self.store = Store(self.store_path, read_only=True)
        self.shared_dir = Path(shared_dir) if shared_dir else None
        self._local = threading.local()
        self._views: list[StoreView] = []
        self._views_lock = threading.Lock()
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._cache_size = int(cache_size)
        self._cache_lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    # -- store ------------------------------------------------------------------
    def view(self) -> StoreView:
        """This thread's view of the store (created on first use)."""
        v = getattr(self._local, "view", None)
        if v is None:
            v = StoreView(self.store)
            self._local.view = v
            with self._views_lock:
                self._views.append(v)
        return v

    # -- cache ------------------------------------------------------------------
    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per ``key`` (bounded LRU; errors are not cached)."""
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
                self._cache[key] = value
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            return value

    def close(self) -> None:
        with self._views_lock:
            for v in self._views:
                v.close()
            self._views.clear()
        self.store.close()
