"""What a request is waiting on (a workflow, the database), noted by whoever waits, so the
answer of a request that ran out of time can say it (`infra.web.deadline`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Waiting:
    on: str | None = None


WAITING: ContextVar[Waiting | None] = ContextVar("wwc_waiting", default=None)


@contextlib.contextmanager
def waiting_on(what: str) -> Iterator[None]:
    """Note, for the request this runs in, what it waits on (`WAITING` holds the
    request's own `Waiting`, shared with its middleware, which reads it on timeout)."""
    waiting = WAITING.get()
    if waiting is None:
        yield
        return
    before, waiting.on = waiting.on, what
    try:
        yield
    finally:
        waiting.on = before
