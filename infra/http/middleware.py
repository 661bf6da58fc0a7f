"""ASGI middleware: access logs, body-size limits and idempotent POSTs. Pure ASGI (no
BaseHTTPMiddleware), so streaming and background tasks behave."""

from __future__ import annotations

import hashlib
import json
import re
import time
from contextlib import nullcontext
from typing import Any

import asyncpg
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra import metrics, tracing
from infra.http.capture import Captured
from infra.http.routing import REQUEST_ID_HEADER, SESSION_COOKIE, new_request_id

log = structlog.get_logger("wwc.http.access")
MAX_BODY_BYTES = 1_000_000
# A caller's X-Request-ID is kept when it is this plain; anything else gets one of ours.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
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


class AccessLog:
    """One structured line per request: method, path (no query string), status, time, the
    request id (echoed in X-Request-ID). Never a header, a cookie or a body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, REQUEST_ID_HEADER.lower().encode())
        rid = given if _REQUEST_ID.match(given) else new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (REQUEST_ID_HEADER.encode(), rid.encode())]
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
                     client=client[0] if client else None)


class BodyLimit:
    """413 for a body over the limit, declared (Content-Length) or streamed; 400 for a NUL
    character in the path or query."""

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


class Idempotency:
    """A POST with an `Idempotency-Key` header answers a retry with the first answer and
    records nothing new. Keys are per caller (the credentials' digest); the same key with
    another request is refused (422). Server errors are not kept: a retry runs again."""

    def __init__(self, app: ASGIApp, pool_of: Any) -> None:
        self.app = app
        self._pool_of = pool_of  # () -> asyncpg.Pool, resolved per request (made at start)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else ""
        if not key or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if len(key) > 200:
            await _send_problem(send, 400, "Bad request",
                                "Idempotency-Key may have at most 200 characters")
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                # The client left, or BodyLimit cut the body off and answered 413: a part
                # of a body is no request to run, nor an answer to keep for the key.
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        credentials = (_header(scope, b"authorization") or
                       _cookie(_header(scope, b"cookie"), SESSION_COOKIE) or "anonymous")
        caller = hashlib.sha256(credentials.encode()).hexdigest()
        fingerprint = hashlib.sha256(scope["path"].encode() + b"\n" + body).digest()
        pool: asyncpg.Pool[Any] = self._pool_of()
        stored = await pool.fetchrow(
            "SELECT request, status, body FROM wwc_idempotency WHERE caller = $1 AND key = $2",
            caller, key)
        if stored is not None:
            if bytes(stored["request"]) != fingerprint:
                await _send_problem(send, 422, "Invalid input",
                                    "this Idempotency-Key was used for another request",
                                    {"code": "idempotency_key_reused"})
                return
            replay = bytes(stored["body"])
            await send({"type": "http.response.start", "status": stored["status"],
                        "headers": [(b"content-type", b"application/json"),
                                    (b"idempotent-replayed", b"true"),
                                    (b"content-length", str(len(replay)).encode())]})
            await send({"type": "http.response.body", "body": replay})
            return

        delivered = False

        async def replay_body() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        # The answer is kept before it is sent: a client that retries the moment it has
        # the first answer must find it (sending first lost that race under load).
        answer = Captured()
        await self.app(scope, replay_body, answer)
        body_sent = answer.body
        if answer.status < 500:
            await pool.execute(
                "INSERT INTO wwc_idempotency (caller, key, request, status, body) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                caller, key, fingerprint, answer.status, body_sent)
        await send(answer.start)
        await send({"type": "http.response.body", "body": body_sent})


def _cookie(header: str, name: str) -> str:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""
