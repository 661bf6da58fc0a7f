"""Errors as RFC 9457 problem details (`application/problem+json`), each carrying the
kind of error and, for refusals, the domain's stable code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from domain.errors import DomainError
from domain.validation import validation_code
from infra.identity.throttle import Throttled
from infra.platform.errors import ErrorKind, ServiceError, classify, describe
from infra.web.access import Denied

log = structlog.get_logger("wwc.http")
PROBLEM_TYPE = "application/problem+json"
RETRY_AFTER_UNAVAILABLE = 5  # seconds: a restarting server or worker is usually back


class Problem(BaseModel):
    """What every error answers (RFC 9457), with our `code` for refusals and the facts
    the refusal is about (an extension member: the criterion, the stage, a date...), from
    which the portal says it in the reader's language (infra/i18n/refusals.py)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str | None = None
    kind: str | None = None
    facts: dict[str, str | int] | None = None


_TITLES = {400: "Bad request", 401: "Sign-in required", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Refused", 412: "Precondition failed",
           413: "Request too large", 415: "Unsupported media type",
           422: "Invalid input", 428: "Precondition required", 429: "Too many requests",
           500: "Internal error", 503: "Service unavailable"}


def problem(status: int, detail: str, *, code: str | None = None, kind: str | None = None,
            headers: dict[str, str] | None = None,
            facts: dict[str, str | int] | None = None) -> JSONResponse:
    body = Problem(title=_TITLES.get(status, "Error"), status=status, detail=detail,
                   code=code, kind=kind, facts=facts or None)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM_TYPE, headers=headers)


# A page (not the API) may answer its errors in HTML: the portal installs the renderer.
PageErrors = Callable[[Request, Problem, dict[str, str] | None], Awaitable[Response]]
API_PREFIXES = ("/api/", "/codec/", "/healthz", "/readyz", "/metrics", "/openapi.json",
                "/docs")


# Files for programs (open data, lists, badges): a harvester or a script asking for one
# gets the problem as JSON; a browser (which asks for HTML) still gets the page.
DATA_FILES = (".csv", ".json", ".atom", ".svg", ".xml")


def _wants_a_page(request: Request) -> bool:
    path = request.url.path
    if path.startswith(API_PREFIXES):
        return False
    return not (path.endswith(DATA_FILES)
                and "text/html" not in request.headers.get("accept", ""))


async def answer(request: Request, status: int, detail: str, *, code: str | None = None,
                 kind: str | None = None, headers: dict[str, str] | None = None,
                 facts: dict[str, str | int] | None = None) -> Response:
    """The error as problem+json, or as the portal's error page for a page request."""
    app = request.scope.get("app")
    render: PageErrors | None = getattr(app.state, "page_errors", None) if app else None
    if render is not None and _wants_a_page(request):
        return await render(request, Problem(title=_TITLES.get(status, "Error"),
                                             status=status, detail=detail, code=code,
                                             kind=kind, facts=facts or None), headers)
    return problem(status, detail, code=code, kind=kind, headers=headers, facts=facts)


async def error_answer(request: Request, error: Exception) -> Response:
    """The answer to `error` (the app's exception handlers, and the idempotency keeper,
    which keeps the answer a refused request got)."""
    if isinstance(error, Denied):
        headers = {"WWW-Authenticate": 'Bearer realm="wwc"'} if error.status == 401 else None
        return await answer(request, error.status, error.message, headers=headers,
                            code=error.code)
    if isinstance(error, Throttled):
        return await answer(request, 429, str(error), code="throttled",
                            headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, RequestValidationError):
        errors = error.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return await answer(request, 400, "the body is not valid JSON",
                                kind=ErrorKind.USAGE.value)
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: "
                          f"{str(e['msg']).removeprefix('Value error, ')}" for e in errors)
        code, facts = validation_code(errors) or (None, None)
        return await answer(request, 422, where, kind=ErrorKind.INVALID_INPUT.value,
                            code=code, facts=facts)
    if isinstance(error, StarletteHTTPException):
        return await answer(request, error.status_code, str(error.detail),
                            headers=dict(error.headers) if error.headers else None)
    return await any_error(request, error)


_ANSWERED = (Denied, Throttled, RequestValidationError, StarletteHTTPException)


def is_unexpected(error: Exception) -> bool:
    """A bug rather than an answer: a 500, logged with its traceback."""
    return not isinstance(error, _ANSWERED) and classify(error) is ErrorKind.UNEXPECTED


def install(app: FastAPI) -> None:
    # Each kind by its class: Starlette hands a handler of bare `Exception` to its
    # outermost middleware, which answers and then re-raises (a reset connection).
    for known in (*_ANSWERED, ServiceError, DomainError, ValidationError, ConnectionError,
                  TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, RPCError):
        app.add_exception_handler(known, error_answer)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        return await any_error(request, error)


async def any_error(request: Request, error: Exception) -> Response:
    kind = classify(error)
    if kind is ErrorKind.UNEXPECTED:
        log.exception("unexpected error", path=request.url.path)
        return await answer(request, 500, "an unexpected error; it has been logged",
                       kind=kind.value)
    code = getattr(error, "code", None)
    facts = getattr(error, "facts", None) if code else None
    if isinstance(error, ValidationError):  # e.g. a draft's link, met in a handler
        code, facts = validation_code(error.errors()) or (None, None)
    headers = ({"Retry-After": str(RETRY_AFTER_UNAVAILABLE)}
               if kind is ErrorKind.UNAVAILABLE else None)
    message = describe(error)
    if code and message.endswith(f" [{code}]"):
        message = message.removesuffix(f" [{code}]")
    return await answer(request, kind.http_status, message, code=code, kind=kind.value,
                        headers=headers, facts=facts if isinstance(facts, dict) else None)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": _TITLES[status],
             "content": {PROBLEM_TYPE: {"schema": Problem.model_json_schema()}}}
    for status in (400, 401, 403, 404, 409, 413, 422, 429, 503)
}
