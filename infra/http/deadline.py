"""Every request answered within `WWC_REQUEST_TIMEOUT` (10 s): a request still waiting
then on PostgreSQL or Temporal is answered 503 with Retry-After and a detail saying what
did not answer, never after the driver's own minute.

The request's handler runs in a task of its own and is *left* when its time is up, not
awaited: cancelling a query on a frozen server waits for the server (the cancel request,
the rollback, the connection's return to the pool), so a cancelled handler may finish
only once the server is back. Its late answer is dropped. What it had asked of a
workflow may still complete there: the retry with the same Idempotency-Key reaches the
same update, which runs once.

A second before the deadline the dependencies are checked (the checks `/readyz` runs,
shared with it), so the answer names the one that does not answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.errors import ErrorKind
from infra.health import WAITING, Health, Verdict, Waiting
from infra.http.problems import API_PREFIXES, RETRY_AFTER_UNAVAILABLE, answer, problem

log = structlog.get_logger("wwc.http")
NAMES = {"postgres": "PostgreSQL", "temporal": "Temporal"}
PAGE_RENDER_WITHIN = 0.5  # seconds the portal's error page may take, else problem+json
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _Answer:
    """A request's way out: the handler's answer, until the deadline's 503 replaces it."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False  # the handler's answer is under way (it cannot be replaced)
        self.replaced = False

    async def __call__(self, message: Message) -> None:
        if self.replaced:  # the 503 is the answer; the handler's late one goes nowhere
            return
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


class Deadline:
    def __init__(self, app: ASGIApp, *, limit: float, health_of: Callable[[], Health]) -> None:
        self.app = app
        self.limit = limit
        self._health_of = health_of  # the process's Health, made when the server starts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answer = _Answer(send)
        waiting = Waiting()
        token = WAITING.set(waiting)  # the handler's task starts with it in its context
        try:
            handler: asyncio.Task[None] = asyncio.ensure_future(self.app(scope, receive, answer))
        finally:
            WAITING.reset(token)
        try:
            diagnosis = await self._late(handler, answer)
            if diagnosis is None:
                await handler
                return
        except asyncio.CancelledError:  # the server stops: so does the handler
            handler.cancel()
            raise
        answer.replaced = True
        handler.cancel()
        handler.add_done_callback(_finished)
        # Bounded: each of the diagnosis's checks waits at most its second.
        detail = unanswered(scope["method"], self.limit, waiting, await diagnosis)
        log.warning("request timed out", method=scope["method"], path=scope["path"],
                    seconds=self.limit, waiting_on=waiting.on, detail=detail)
        await _answer_503(scope, receive, send, detail)

    async def _late(self, handler: asyncio.Task[None],
                    answer: _Answer) -> asyncio.Task[dict[str, Verdict]] | None:
        """None when the handler answers (or starts to) within the limit; else the check
        of the dependencies, started a second before the limit, for the 503's detail."""
        health = self._health_of()
        probe = min(health.within, self.limit / 2)
        done, _ = await asyncio.wait({handler}, timeout=self.limit - probe)
        if done:
            return None
        diagnosis = asyncio.create_task(health.dependencies(probe))
        done, _ = await asyncio.wait({handler}, timeout=probe)
        if done or answer.started:
            diagnosis.cancel()
            return None
        return diagnosis


def unanswered(method: str, limit: float, waiting: Waiting,
               verdicts: dict[str, Verdict]) -> str:
    """Why a request got no answer within `limit` seconds, and what the caller can do."""
    down = {NAMES[name]: verdicts[name].said for name in NAMES
            if name in verdicts and not verdicts[name].ok}
    if down:
        why = "; ".join(f"{name}: {said}" for name, said in down.items())
        what = f"{' and '.join(down)} did not answer within {limit:g} s ({why})"
    elif waiting.on == "workflow":
        what = (f"no worker answered within {limit:g} s (is `wwc up` or `wwc worker` "
                "running for this task queue?)")
    else:
        what = f"the request was not answered within {limit:g} s"
    if method in SAFE_METHODS:
        return f"{what}; try again shortly"
    return (f"{what}; retry with the same Idempotency-Key (the command runs at most once; "
            "it may still complete meanwhile)")


async def _answer_503(scope: Scope, receive: Receive, send: Send, detail: str) -> None:
    headers = {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)}
    kind = ErrorKind.UNAVAILABLE.value
    response: Any = problem(503, detail, kind=kind, headers=headers)
    if not scope["path"].startswith(API_PREFIXES):
        # A page: the portal's error page, if it renders in time (it may want the
        # caller's session from the database that does not answer).
        page = asyncio.create_task(answer(Request(scope, receive), 503, detail, kind=kind,
                                          headers=headers))
        done, _ = await asyncio.wait({page}, timeout=PAGE_RENDER_WITHIN)
        if done and page.exception() is None:
            response = page.result()
        else:
            page.cancel()
            page.add_done_callback(_finished)
    await response(scope, receive, send)


def _finished(task: asyncio.Task[Any]) -> None:
    """A handler left at its deadline ended (once its server answered again)."""
    if not task.cancelled() and task.exception() is not None:
        log.debug("abandoned request ended", error=type(task.exception()).__name__)
