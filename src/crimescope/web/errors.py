"""One error shape for every 4xx/5xx answer, and the handlers that produce it.

Every error is ``{"error": {"status": <int>, "type": <str>, "message": <str>}}``
(HTML pages show the same three fields). ``CrimescopeError`` subclasses give their
own ``http_status``; request validation errors are 400 ``ValidationError``; unknown
paths are 404 ``NotFound``; anything unexpected is 500 ``InternalError`` with a
fixed message - the traceback goes to the server log, never to the client.
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import CrimescopeError

__all__ = ["error_body", "install_error_handlers", "ERROR_SCHEMA"]

log = logging.getLogger("crimescope.web")

#: JSON schema of the error body (used in the OpenAPI document)
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "type", "message"],
            "properties": {
                "status": {"type": "integer", "description": "HTTP status code"},
                "type": {"type": "string", "description": "error class, e.g. ParameterError, NotFound"},
                "message": {"type": "string", "description": "what is wrong, in one sentence"},
            },
        }
    },
}

_REASONS = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed", 406: "NotAcceptable",
            409: "Conflict", 413: "TooLarge", 414: "URITooLong", 415: "UnsupportedMediaType", 422: "ValidationError",
            429: "TooManyRequests", 431: "HeadersTooLarge", 500: "InternalError", 502: "BadGateway",
            503: "Unavailable"}


def error_body(status: int, type_: str, message: str) -> dict:
    return {"error": {"status": int(status), "type": type_, "message": message}}


def _wants_html(request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def _respond(request, status: int, type_: str, message: str, headers: dict | None = None):
    from fastapi.responses import HTMLResponse, JSONResponse

    body = error_body(status, type_, message)
    if _wants_html(request):
        from ._context import request_data_status

        templates = request.app.state.templates
        # the banner of every page ("data as of ..., newer data is being published") on error pages too;
        # a 500 is answered outside the middleware that notes it, so it asks the server itself
        status_line = request_data_status()
        ctx = getattr(request.app.state, "ctx", None)
        if status_line is None and status >= 500 and ctx is not None:
            status_line = ctx.data_status()
        html = templates.get_template("error.html").render(request=request, error=body["error"], page="error",
                                                           city=None, city_qs="", source=None,
                                                           data_status=status_line)
        return HTMLResponse(html, status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc) -> str:
    parts = []
    for e in exc.errors()[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body"))
        parts.append(f"{loc or 'request'}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(CrimescopeError)
    async def _crimescope_error(request, exc: CrimescopeError):
        status = int(getattr(exc, "http_status", 400) or 400)
        if status >= 500:
            log.warning("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        return _respond(request, status, type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc: RequestValidationError):
        return _respond(request, 400, "ValidationError", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request, exc: StarletteHTTPException):
        status = exc.status_code
        type_ = _REASONS.get(status, "HTTPError")
        message = exc.detail if isinstance(exc.detail, str) else type_
        if status == 404 and message == "Not Found":
            message = f"no page or API route at {request.url.path}"
        if status == 405 and message == "Method Not Allowed":
            allow = (exc.headers or {}).get("Allow", "")
            message = f"{request.method} is not answered at {request.url.path}" + (f"; use {allow}" if allow else "")
        # the exception's headers are kept: Allow on 405 (RFC 9110 15.5.6), Retry-After, ...
        return _respond(request, status, type_, message, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _internal_error(request, exc: Exception):
        log.exception("internal error on %s", request.url.path)
        return _respond(request, 500, "InternalError",
                        "internal error: the server log has the details")
