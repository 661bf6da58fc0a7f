"""Read models brought up to date for a read, without every concurrent reader doing it.

A read must see every event recorded before it started (an announcement, then the public
registry). Catching up per request gives that, but 32 readers at once would run 32
catch-ups, one after another behind the projection's lock. Here the readers of one
process share runs: a reader waits for a catch-up that *started after it arrived*, and
one such run serves every reader that arrived before it began."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from infra.readside.projections.base import Projector


@dataclass
class _Runs:
    asked: int = 0  # readers that arrived
    served: int = 0  # readers whose arrival came before the start of a finished run
    runner: asyncio.Task[None] | None = None
    done: asyncio.Condition = field(default_factory=asyncio.Condition)


class FreshReadModels:
    def __init__(self, projector: Projector,
                 moved: Callable[[dict[str, int]], None] | None = None) -> None:
        self._projector = projector
        self._runs: dict[str, _Runs] = {}
        # Told the checkpoint after each run, e.g. to retire kept answers.
        self._moved = moved or (lambda positions: None)

    async def current(self, *names: str) -> None:
        """Return once each named read model holds every event recorded before the call."""
        for name in names:
            await self._current(name)

    async def _current(self, name: str) -> None:
        runs = self._runs.setdefault(name, _Runs())
        runs.asked += 1
        mine = runs.asked
        if runs.runner is None or runs.runner.done():
            runs.runner = asyncio.create_task(self._run(name, runs))
        async with runs.done:
            await runs.done.wait_for(lambda: runs.served >= mine or runs.runner is None)
        if runs.served < mine:  # the runner failed: say why to this reader too
            await self._projector.catch_up(name)

    async def _run(self, name: str, runs: _Runs) -> None:
        try:
            while runs.served < runs.asked:
                covered = runs.asked  # everyone who arrived before this run starts
                await self._projector.catch_up(name)
                # The checkpoint, not the count applied here: another process may have
                # applied this caller's events already.
                self._moved({name: (await self._projector.checkpoint(name)).position})
                async with runs.done:
                    runs.served = covered
                    runs.done.notify_all()
        finally:
            async with runs.done:
                runs.runner = None
                runs.done.notify_all()
