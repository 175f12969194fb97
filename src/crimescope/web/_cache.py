"""A response cache for a read-only store (ASGI middleware).

The store is opened read-only, so the answer to a GET of a given path and query
never changes while the server runs. Successful (200) answers up to
``max_item_bytes`` are kept in a bounded LRU (``max_bytes`` in total) keyed by
path and the sorted query; a hit is answered without entering the application
(no thread, no template, no serialisation). Errors are never cached.

When ``serve`` runs several processes (:mod:`crimescope.web._processes`), each keeps its
own LRU and all of them share a :class:`SharedResponses` folder behind it: an answer one
process computed is read from there by the others instead of being computed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import threading
from collections import OrderedDict
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

__all__ = ["ResponseCache", "SharedResponses"]


class SharedResponses:
    """Answers shared by the processes of one server: a file per answer in ``folder``.

    A file is named by the SHA-256 of its key (which holds what identifies the data read, so
    that every process computes the same name) and holds the headers and the body. It is
    written to a temporary name and renamed into place, so a reader sees a whole answer or
    none. Each process removes what it wrote beyond ``max_bytes`` (oldest first) and, on
    :meth:`clear`, all it wrote; the server removes the folder when it stops."""

    _HEAD = struct.Struct("<I")

    def __init__(self, folder, *, max_bytes: int = 64 * 2**20):
        self.folder = Path(folder)
        self.max_bytes = int(max_bytes)
        self._written: OrderedDict[Path, int] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0

    def _path(self, key: tuple) -> Path:
        return self.folder / hashlib.sha256(repr(key).encode("utf-8")).hexdigest()

    def get(self, key: tuple) -> "tuple[list, bytes] | None":
        """The headers and body stored under ``key``, or None."""
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        if len(data) < self._HEAD.size:
            return None
        (n,) = self._HEAD.unpack_from(data)
        try:
            headers = [(k.encode("latin-1"), v.encode("latin-1"))
                       for k, v in json.loads(data[self._HEAD.size:self._HEAD.size + n])]
        except ValueError:
            return None
        self.hits += 1
        return headers, data[self._HEAD.size + n:]

    def put(self, key: tuple, headers: list, body: bytes) -> None:
        path = self._path(key)
        head = json.dumps([(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]).encode()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            tmp.write_bytes(self._HEAD.pack(len(head)) + head + body)
            os.replace(tmp, path)
        except OSError:  # a full disk or a removed folder costs the sharing, never the answer
            tmp.unlink(missing_ok=True)
            return
        with self._lock:
            self._size += len(body) - self._written.pop(path, 0)
            self._written[path] = len(body)
            old = []
            while self._size > self.max_bytes and self._written:
                p, n = self._written.popitem(last=False)
                self._size -= n
                old.append(p)
        for p in old:
            p.unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove every answer this process wrote (e.g. when the data served changes)."""
        with self._lock:
            old, self._written, self._size = list(self._written), OrderedDict(), 0
        for p in old:
            p.unlink(missing_ok=True)


class ResponseCache:
    def __init__(self, app, *, max_bytes: int = 64 * 2**20, max_item_bytes: int = 4 * 2**20,
                 shared: SharedResponses | None = None):
        self.app = app
        self.max_bytes = int(max_bytes)
        self.max_item_bytes = int(max_item_bytes)
        self.shared = shared
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
        if hit is None and self.shared is not None:
            shared_key = self._shared_key(scope, key)
            hit = self.shared.get(shared_key)
            if hit is not None:
                self._store(key, *hit, share=False)
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
                    self._store(key, state["headers"], b"".join(state["chunks"]), scope=scope)
            await send(message)

        await self.app(scope, receive, capture)

    def _shared_key(self, scope, key: tuple) -> tuple:
        """The key of an answer in the shared folder: the same in every process of the server
        (subclasses replace what only this process knows, such as its generation's number)."""
        return key

    def _store(self, key, headers, body: bytes, *, scope=None, share: bool = True) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (headers, body)
            self._size += len(body)
            while self._size > self.max_bytes and self._items:
                _, (_, old) = self._items.popitem(last=False)
                self._size -= len(old)
        if share and self.shared is not None and scope is not None:
            self.shared.put(self._shared_key(scope, key), headers, body)

    def clear(self) -> None:
        """Forget every stored answer (e.g. when the data served changes)."""
        with self._lock:
            self._items.clear()
            self._size = 0
        if self.shared is not None:
            self.shared.clear()
