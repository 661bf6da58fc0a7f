"""Every request answered within `WWC_REQUEST_TIMEOUT` (10 s): a request still waiting
then on PostgreSQL or Temporal is answered 503 with Retry-After and a detail saying what
did not answer, never after the driver's own minute.

At the deadline the 503 is sent from a task of its own and the request's handler is
cancelled but *not waited for*: cancelling a query on a frozen server waits for the
server (the cancel request, the rollback, the connection's return to the pool), so the
handler may finish only once the server is back. Its late answer is dropped. What it had
asked of a workflow may still complete there: the retry with the same Idempotency-Key
reaches the same update, which runs once.

A second before the deadline the dependencies are checked (the checks `/readyz` runs,
shared with it), so the answer names the one that does not answer. A request answered in
time costs a timer and nothing else (the handler runs in the request's own task: a task
per request cost 40-60 us, a tenth of a cheap read).

A document upload streams its body to its route (`uploads.py`): its deadline runs from
the last byte of the body that arrived, so a large file on a slow link is not cut off
while it comes, and a request waiting on the database or a workflow after it still is."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.ops.health import Health, Verdict
from infra.platform.errors import ErrorKind
from infra.platform.waiting import WAITING, Waiting
from infra.web.problems import API_PREFIXES, RETRY_AFTER_UNAVAILABLE, answer, problem
from infra.web.uploads import streamed_upload

log = structlog.get_logger("wwc.http")
NAMES = {"postgres": "PostgreSQL", "temporal": "Temporal"}
DIAGNOSIS_AT_LEAST = 0.25  # seconds
PAGE_RENDER_WITHIN = 0.5  # seconds the portal's error page may take, else problem+json
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _Answer:
    """A request's way out: the handler's answer, until the deadline's 503 replaces it."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False  # the handler's answer is under way (it cannot be replaced)
        self.finished = False  # the handler returned (or raised)
        self.replaced = False

    async def __call__(self, message: Message) -> None:
        if self.replaced:  # the 503 is the answer; the handler's late one goes nowhere
            return
        self.started = self.started or message["type"] == "http.response.start"
        await self.send(message)

    @property
    def replaceable(self) -> bool:
        return not (self.started or self.finished or self.replaced)


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
        token = WAITING.set(waiting)  # what the handler waits on, for the 503's detail
        request = asyncio.current_task()
        assert request is not None
        probe = min(self._health_of().within, self.limit / 2)
        loop = asyncio.get_running_loop()

        def arm() -> asyncio.TimerHandle:
            return loop.call_later(self.limit - probe, self._late, request, answer, scope,
                                   receive, waiting, loop.time() + self.limit)

        timer = arm()
        streamed = receive
        if streamed_upload(scope):
            async def streamed() -> Message:
                nonlocal timer
                message = await receive()
                timer.cancel()  # the deadline counts from the latest byte that came
                timer = arm()
                return message
        try:
            await self.app(scope, streamed, answer)
        except asyncio.CancelledError:
            if not answer.replaced:
                raise  # the server stops
            request.uncancel()  # the deadline's own cancelling: the 503 was the answer
        finally:
            answer.finished = True
            timer.cancel()
            WAITING.reset(token)

    def _late(self, request: asyncio.Task[Any], answer: _Answer, scope: Scope,
              receive: Receive, waiting: Waiting, deadline: float) -> None:
        """A second before the deadline, a request not answered yet: check the
        dependencies, and answer 503 at the deadline unless the handler answers first."""
        if answer.replaceable:
            _keep(asyncio.create_task(
                self._give_up(request, answer, scope, receive, waiting, deadline)))

    async def _give_up(self, request: asyncio.Task[Any], answer: _Answer, scope: Scope,
                       receive: Receive, waiting: Waiting, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        # Bounded: each check waits at most the time left before the deadline (a little
        # more if this task started late on a busy loop: a check given no time would
        # blame a dependency that is fine).
        verdicts = await self._health_of().dependencies(
            max(deadline - loop.time(), DIAGNOSIS_AT_LEAST))
        await asyncio.sleep(deadline - loop.time())  # the handler may still answer
        if not answer.replaceable:
            return
        answer.replaced = True
        detail = unanswered(scope["method"], self.limit, waiting, verdicts)
        log.warning("request timed out", method=scope["method"], path=scope["path"],
                    seconds=self.limit, waiting_on=waiting.on, detail=detail)
        try:
            await _answer_503(scope, receive, answer.send, detail)
        finally:
            request.cancel()


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
            _keep(page)
    await response(scope, receive, send)


_RUNNING: set[asyncio.Task[Any]] = set()


def _keep(task: asyncio.Task[Any]) -> None:
    """Hold a task of ours until it ends (the loop keeps only weak references), and
    retrieve its error then, so none is reported as never retrieved."""
    _RUNNING.add(task)
    task.add_done_callback(_ended)


def _ended(task: asyncio.Task[Any]) -> None:
    _RUNNING.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("answering a request that ran out of time failed",
                    error=type(task.exception()).__name__)
