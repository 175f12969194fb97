"""A response cache for a read-only store (ASGI middleware).

The store is opened read-only, so the answer to a GET of a given path and query
never changes while the server runs. Successful (200) answers up to
``max_item_bytes`` are kept in a bounded LRU (``max_bytes`` in total) keyed by
path and the sorted query; a hit is answered without entering the application
(no thread, no template, no serialisation). Errors are never cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from urllib.parse import parse_qsl, urlencode

__all__ = ["ResponseCache"]


class ResponseCache:
    def __init__(self, app, *, max_bytes: int = 64 * 2**20, max_item_bytes: int = 4 * 2**20):
        self.app = app
        self.max_bytes = int(max_bytes)
        self.max_item_bytes = int(max_item_bytes)
        self._items: OrderedDict[tuple, tuple[list, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _key(scope) -> tuple:
        q = scope.get("query_string", b"").decode("latin-1")
        return scope["path"], urlencode(sorted(parse_qsl(q, keep_blank_values=True)))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") \
                or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        key = self._key(scope)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                self.hits += 1
        if hit is not None:
            headers, body = hit
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
            return
        self.misses += 1
        state = {"status": None, "headers": None, "chunks": [], "size": 0, "ok": scope["method"] == "GET"}

        async def capture(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body" and state["ok"]:
                state["chunks"].append(message.get("body", b""))
                state["size"] += len(message.get("body", b""))
                if state["size"] > self.max_item_bytes:
                    state["ok"] = False
                    state["chunks"] = []
                elif not message.get("more_body", False) and state["status"] == 200:
                    self._store(key, state["headers"], b"".join(state["chunks"]))
            await send(message)

        await self.app(scope, receive, capture)

    def _store(self, key, headers, body: bytes) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (headers, body)
            self._size += len(body)
            while self._size > self.max_bytes and self._items:
                _, (_, old) = self._items.popitem(last=False)
                self._size -= len(old)

    def clear(self) -> None:
        """Forget every stored answer (e.g. when the data served changes)."""
        with self._lock:
            self._items.clear()
            self._size = 0
