"""Answers to the public's reads, kept until the read models behind them change.

The public registry, a certified city's page and the cohorts are the same for every
caller and change only when an announcement, a lapse or a withdrawal is projected. Each
answer is kept with the read models' generation it was computed at; a read model whose
checkpoint moves starts a new generation, so nothing stale is ever served (the freshness
is the read models', nothing lost to caching).

The open-data files are kept the same way. An answer that carries validators (an ETag, a
Last-Modified) is judged against the caller's If-None-Match or If-Modified-Since, kept or
not: a caller who holds it gets 304. The answer itself is always made without those
conditions, so it is kept however its callers ask. An answer that varies with a request
header (`Vary`: a page in the caller's language) is never kept: the key is the path and
query alone."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from infra.web.capture import Captured
from infra.web.conditional import CONDITIONS, header_map, headers_of_304, not_modified

PUBLIC_PREFIXES = ("/api/registry", "/api/cohorts", "/open-data/")
PUBLIC_READ_MODELS = frozenset({"periods", "registry", "cohorts"})
MAX_ENTRIES = 2_000


class Generations:
    """A number per read model that changes whenever its checkpoint moves, whoever moved
    it: this server's catch-ups (after a write, and its background loop), or another
    process's (the worker's announcement query, the CLI, another server), which this
    server's loop sees as a checkpoint it did not move. (Counting only the events this
    server applied missed those: an answer kept before another process caught a read
    model up was served until the next change.)"""

    def __init__(self) -> None:
        self._positions: dict[str, int] = {}
        self._changes: dict[str, int] = {}

    def saw(self, positions: Mapping[str, int]) -> None:
        """The checkpoint positions just read (after the catch-up that moved them)."""
        for name, position in positions.items():
            if self._positions.get(name) != position:
                self._positions[name] = position
                self._changes[name] = self._changes.get(name, 0) + 1

    def of(self, names: Iterable[str]) -> int:
        """Changes whenever any of `names` changes (a sum of counters that only grow)."""
        return sum(self._changes.get(name, 0) for name in names)


@dataclass(frozen=True)
class _Answer:
    generation: int
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class PublicCache:
    def __init__(self, app: ASGIApp, generations: Generations) -> None:
        self.app = app
        self._generations = generations
        self._answers: OrderedDict[tuple[str, bytes], _Answer] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "GET"
                or not scope["path"].startswith(PUBLIC_PREFIXES)):
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope.get("query_string", b""))
        now = self._generations.of(PUBLIC_READ_MODELS)
        kept = self._answers.get(key)
        if kept is not None and kept.generation == now:
            self._answers.move_to_end(key)
            scope.setdefault("state", {})["public"] = True  # as the route's guard says
            await _answer(scope, send, kept)
            return
        answer = Captured()
        asked = scope.get("headers", [])
        scope["headers"] = [(name, value) for name, value in asked if name not in CONDITIONS]
        try:
            await self.app(scope, receive, answer)
        finally:
            scope["headers"] = asked
        made = _Answer(now, answer.status, list(answer.start.get("headers", [])), answer.body)
        if made.status in (200, 404) and not any(name.lower() == b"vary"
                                                 for name, _ in made.headers):
            self._answers[key] = made
            if len(self._answers) > MAX_ENTRIES:
                self._answers.popitem(last=False)
        await _answer(scope, send, made)


async def _answer(scope: Scope, send: Send, answer: _Answer) -> None:
    """The answer, or 304 if the caller holds it already (by its validators)."""
    if answer.status == 200:
        mine = header_map(answer.headers)
        if not_modified(header_map(scope.get("headers", [])), mine.get("etag"),
                        mine.get("last-modified")):
            await send({"type": "http.response.start", "status": 304,
                        "headers": headers_of_304(answer.headers)})
            await send({"type": "http.response.body", "body": b""})
            return
    await send({"type": "http.response.start", "status": answer.status,
                "headers": answer.headers})
    await send({"type": "http.response.body", "body": answer.body})
