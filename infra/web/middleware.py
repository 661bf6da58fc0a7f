"""ASGI middleware: access logs (with request ids and the headers every answer carries)
and body-size limits. Pure ASGI (no BaseHTTPMiddleware), so streaming and background
tasks behave. (Idempotent POSTs are kept after the guard: `idempotency.py`.)"""

from __future__ import annotations

import json
import re
import time
from contextlib import nullcontext
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.platform import metrics, tracing
from infra.web.routing import REQUEST_ID_HEADER, new_request_id
from infra.web.uploads import streamed_upload

log = structlog.get_logger("wwc.http.access")
MAX_BODY_BYTES = 1_000_000
# A caller's X-Request-ID is kept beside ours (logged, echoed back) when it is this plain.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CALLER_REQUEST_ID_HEADER = "X-Caller-Request-ID"
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_NO_STORE = (b"cache-control", b"no-store")
_NO_SPAN = nullcontext()
_TIMERS: dict[tuple[str, str, int], Any] = {}


def _timer(template: str, method: str, status: int) -> Any:
    """The request-time histogram's child for a route, method and status, looked up
    once (the client's `labels()` takes a lock and builds a key on every call). Route
    templates, not paths, so the table stays as small as the route table."""
    found = _TIMERS.get((template, method, status))
    if found is None:
        found = _TIMERS[(template, method, status)] = metrics.HTTP_REQUESTS.labels(
            template, method, str(status))
    return found


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


async def _send_problem(send: Send, status: int, title: str, detail: str,
                        extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status,
                       "detail": detail, **(extra or {})}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _answer_headers(headers: list[tuple[bytes, bytes]], rid: bytes, given: bytes,
                    public: bool) -> list[tuple[bytes, bytes]]:
    """What every answer carries: our request id (and the caller's, echoed back),
    nosniff, and for every answer but a public route's `Cache-Control: no-store`."""
    names = {name.lower() for name, _ in headers}
    out = [(name, value) for name, value in headers
           if public or name.lower() != b"cache-control"]
    out.append((REQUEST_ID_HEADER.encode(), rid))
    if given:
        out.append((CALLER_REQUEST_ID_HEADER.encode(), given))
    if _NOSNIFF[0] not in names:
        out.append(_NOSNIFF)
    if not public:
        out.append(_NO_STORE)
    return out


class AccessLog:
    """One structured line per request: method, path (no query string), status, time, the
    request id (ours, echoed in X-Request-ID; a caller's own X-Request-ID is logged as
    `caller_request_id` and echoed in X-Caller-Request-ID). Never a header, a cookie or a
    body. Every answer gets `X-Content-Type-Options: nosniff`, and every answer that is
    not a public route's `Cache-Control: no-store` (the guard marks the public ones)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, REQUEST_ID_HEADER.lower().encode())
        given = given if _REQUEST_ID.match(given) else ""
        rid = new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = _answer_headers(
                    list(message.get("headers", [])), rid.encode(), given.encode(),
                    bool(state.get("public")))
            await send(message)

        with (tracing.request_span(scope["method"], scope["path"], scope.get("headers", []))
              if tracing.tracing_on() else _NO_SPAN) as span:
            try:
                await self.app(scope, receive, sending)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", "unmatched")
                _timer(template, scope["method"], status).observe(time.perf_counter() - started)
                if span is not None:  # named by its route, not by a city's key
                    span.update_name(f"{scope['method']} {template}")
                    span.set_attribute("http.response.status_code", status)
                    span.set_attribute("wwc.request_id", rid)
            client = scope.get("client")
            log.info("request", method=scope["method"], path=scope["path"], status=status,
                     ms=round((time.perf_counter() - started) * 1000, 1), request_id=rid,
                     client=client[0] if client else None,
                     **({"caller_request_id": given} if given else {}))


class BodyLimit:
    """413 for a body over the limit, declared (Content-Length) or streamed; 400 for a NUL
    character in the path or query. A document upload's body is its route's to limit
    (`uploads.py`)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            # No key, filter or date has one, and PostgreSQL cannot take one.
            await _send_problem(send, 400, "Bad request",
                                "the path or query holds a NUL character")
            return
        if streamed_upload(scope):
            await self.app(scope, receive, send)
            return
        declared = chunked = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = value
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _send_problem(send, 413, "Request too large",
                                f"the body may have at most {self.limit:,} bytes")
            return
        if chunked is None:
            # Without chunked encoding the HTTP parser delivers at most the declared
            # length (none: no body), so only a chunked body needs counting as it comes.
            await self.app(scope, receive, send)
            return
        seen = 0
        started = over = False

        async def receiving() -> Message:
            # Past the limit the 413 is sent at once and the app is told the client left:
            # an exception here would reach FastAPI's body reader, which answers any error
            # while reading as 400 (a streamed body too large was answered 400 so).
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                over = True
                if not started:
                    await _send_problem(send, 413, "Request too large",
                                        f"the body may have at most {self.limit:,} bytes")
                return {"type": "http.disconnect"}
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if over:  # the 413 is the answer; what the app makes of the disconnect is not
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        except Exception:
            if not over:
                raise
