"""Serving the application over HTTP: request size limits answered in the one error shape.

A request whose URL or headers are too long gets an answer, never a dropped connection:

- up to :data:`MAX_HEAD_BYTES` of request line and headers reach the application, where
  :class:`LimitRequestSize` answers a URL over :data:`MAX_URL_BYTES` with 414 and headers
  over :data:`MAX_HEADER_BYTES` with 431;
- a head longer than that never becomes a request (uvicorn's h11 parser refuses it);
  :func:`protocol_class` answers it with 414 (the request line alone is too long) or 431
  (the headers are) instead of uvicorn's plain 400, then reads and discards what the
  client is still sending for a moment before closing, so the client reads the answer
  rather than a TCP reset.

:func:`run` is what ``crimescope serve`` calls; tests start the same server on 127.0.0.1.
"""

from __future__ import annotations

import json

__all__ = ["MAX_URL_BYTES", "MAX_HEADER_BYTES", "MAX_HEAD_BYTES", "LimitRequestSize", "protocol_class",
           "uvicorn_config", "run"]

#: longest request target (path and query string) answered; longer ones get 414
MAX_URL_BYTES = 8 * 1024
#: largest total of header names and values answered; larger ones get 431
MAX_HEADER_BYTES = 16 * 1024
#: the HTTP parser's bound on a request head (request line and headers), above both limits
MAX_HEAD_BYTES = 64 * 1024
#: seconds a refused connection is drained before it is closed
LINGER_SECONDS = 2.0


def _error_bytes(status: int, type_: str, message: str) -> bytes:
    from .errors import error_body

    return json.dumps(error_body(status, type_, message)).encode("utf-8")


class LimitRequestSize:
    """ASGI middleware: a URL longer than ``max_url`` bytes is answered 414, headers larger than
    ``max_headers`` bytes 431, both in the one error shape and before any other work."""

    def __init__(self, app, *, max_url: int = MAX_URL_BYTES, max_headers: int = MAX_HEADER_BYTES):
        self.app = app
        self.max_url = max_url
        self.max_headers = max_headers

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            url = len(scope.get("raw_path") or scope["path"].encode("utf-8")) + len(scope.get("query_string", b""))
            heads = sum(len(k) + len(v) for k, v in scope.get("headers", ()))
            if url > self.max_url:
                await self._refuse(send, 414, "URITooLong",
                                   f"the URL is {url} bytes long; at most {self.max_url} are answered")
                return
            if heads > self.max_headers:
                await self._refuse(send, 431, "HeadersTooLarge",
                                   f"the request headers are {heads} bytes; at most {self.max_headers} are answered")
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(send, status: int, type_: str, message: str) -> None:
        body = _error_bytes(status, type_, message)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


_PROTOCOL = None


def protocol_class():
    """uvicorn's h11 protocol, answering a request head its parser refuses for length with 414 or
    431 (JSON, the one error shape) and draining the connection before closing it."""
    global _PROTOCOL
    if _PROTOCOL is not None:
        return _PROTOCOL
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class CrimescopeH11Protocol(H11Protocol):
        _draining = False
        _parse_error: "h11.RemoteProtocolError | None" = None
        _head = b""

        def connection_made(self, transport):
            super().connection_made(transport)
            next_event = self.conn.next_event

            def recording_next_event():
                try:
                    return next_event()
                except h11.RemoteProtocolError as exc:
                    self._parse_error = exc
                    raise

            self.conn.next_event = recording_next_event

        def data_received(self, data: bytes) -> None:
            if self._draining:
                return  # read and dropped: the answer is already sent
            if self.cycle is None or self.cycle.response_complete:
                if len(self._head) < MAX_URL_BYTES + 2:  # enough to tell a long request line from long headers
                    self._head += data[:MAX_URL_BYTES + 2]
            super().data_received(data)

        def on_response_complete(self) -> None:
            self._head = b""
            super().on_response_complete()

        def send_400_response(self, msg: str) -> None:
            err = self._parse_error
            if err is None or getattr(err, "error_status_hint", 400) != 431:
                super().send_400_response(msg)
                return
            if b"\r\n" not in self._head and b"\n" not in self._head:
                status, type_, reason = 414, "URITooLong", b"URI Too Long"
                message = f"the request line is longer than {MAX_HEAD_BYTES} bytes"
            else:
                status, type_, reason = 431, "HeadersTooLarge", b"Request Header Fields Too Large"
                message = f"the request line and headers are longer than {MAX_HEAD_BYTES} bytes"
            body = _error_bytes(status, type_, message)
            self.logger.warning("refused a request head over %d bytes: %d", MAX_HEAD_BYTES, status)
            head = (f"HTTP/1.1 {status} ".encode() + reason + b"\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode())
            # written raw: h11's state machine is in ERROR and sends nothing more
            self.transport.write(head + body)
            self._draining = True
            self.flow.resume_reading()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)

    _PROTOCOL = CrimescopeH11Protocol
    return _PROTOCOL


def uvicorn_config(app, host: str = "127.0.0.1", port: int = 8000, **kw):
    """The uvicorn Config of ``crimescope serve`` (h11 parser with the head bound above, quiet log);
    ``create_app`` installs :class:`LimitRequestSize` itself."""
    import uvicorn

    kw.setdefault("log_level", "warning")
    return uvicorn.Config(app, host=host, port=port, http=protocol_class(),
                          h11_max_incomplete_event_size=MAX_HEAD_BYTES, lifespan="on", **kw)


def run(app, host: str = "127.0.0.1", port: int = 8000, **kw) -> None:
    """Serve ``app`` until interrupted (what ``crimescope serve`` runs)."""
    import uvicorn

    uvicorn.Server(uvicorn_config(app, host, port, **kw)).run()
