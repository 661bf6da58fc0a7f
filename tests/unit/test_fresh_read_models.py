"""Concurrent readers share catch-ups, and never get one that started before they came."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from infra.eventstore.model import LogCursor
from infra.readside.projections.base import Projector
from infra.readside.projections.fresh import FreshReadModels


class CountingProjector:
    def __init__(self) -> None:
        self.runs: list[int] = []  # the "log position" each run started at
        self.log = 0

    async def catch_up(self, name: str, progress: Any = None) -> int:
        self.runs.append(self.log)
        await asyncio.sleep(0.01)
        self.applied_up_to = self.log
        return 0

    async def checkpoint(self, name: str) -> LogCursor:
        return LogCursor(0, self.applied_up_to)

    applied_up_to = 0


async def test_many_concurrent_readers_share_a_run_or_two() -> None:
    counting = CountingProjector()
    fresh = FreshReadModels(cast(Projector, counting))

    await asyncio.gather(*(fresh.current("registry") for _ in range(32)))

    assert 1 <= len(counting.runs) <= 2


async def test_a_reader_gets_a_run_that_started_after_its_write() -> None:
    counting = CountingProjector()
    fresh = FreshReadModels(cast(Projector, counting))
    first = asyncio.create_task(fresh.current("registry"))
    await asyncio.sleep(0.001)  # the first run is under way, at log position 0
    counting.log = 1  # a write lands ...
    await fresh.current("registry")  # ... and its reader must see it
    await first

    assert counting.runs == [0, 1]


async def test_each_run_reports_the_checkpoint_it_reached() -> None:
    # What retires kept answers: the checkpoint, even when this process applied nothing
    # (another process caught the read model up first).
    counting = CountingProjector()
    seen: list[dict[str, int]] = []
    fresh = FreshReadModels(cast(Projector, counting), seen.append)
    counting.log = 7
    await fresh.current("registry")
    assert seen == [{"registry": 7}]
