"""Answers to the public's reads, kept until the read models behind them change.

The public registry, a certified city's page and the cohorts are the same for every
caller and change only when an announcement, a lapse or a withdrawal is projected. Each
answer is kept with the read models' generation it was computed at; any catch-up that
applies an event to those read models starts a new generation, so nothing stale is ever
served (the freshness is the read models', nothing lost to caching)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from infra.http.capture import Captured

PUBLIC_PREFIXES = ("/api/registry", "/api/cohorts")
PUBLIC_READ_MODELS = frozenset({"periods", "registry", "cohorts"})
MAX_ENTRIES = 2_000


class Generation:
    """Bumped whenever a catch-up applies events to a read model the public sees."""

    def __init__(self) -> None:
        self.value = 0

    def saw(self, counts: dict[str, int]) -> None:
        if any(counts.get(name, 0) for name in PUBLIC_READ_MODELS):
            self.value += 1


@dataclass(frozen=True)
class _Answer:
    generation: int
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class PublicCache:
    def __init__(self, app: ASGIApp, generation: Generation) -> None:
        self.app = app
        self._generation = generation
        self._answers: OrderedDict[tuple[str, bytes], _Answer] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "GET"
                or not scope["path"].startswith(PUBLIC_PREFIXES)):
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope.get("query_string", b""))
        now = self._generation.value
        kept = self._answers.get(key)
        if kept is not None and kept.generation == now:
            self._answers.move_to_end(key)
            await send({"type": "http.response.start", "status": kept.status,
                        "headers": kept.headers})
            await send({"type": "http.response.body", "body": kept.body})
            return
        answer = Captured(forward=send)
        await self.app(scope, receive, answer)
        if answer.status in (200, 404):
            self._answers[key] = _Answer(now, answer.status,
                                         list(answer.start.get("headers", [])), answer.body)
            if len(self._answers) > MAX_ENTRIES:
                self._answers.popitem(last=False)
