"""What every fault test shares: 50 cities driven through their lifecycle as a client would
drive them (a command answered "unavailable" is sent again with the same update id), a
fault injected while they are mid-lifecycle, and the checks afterwards.

The checks are the issue's: every accepted command's events are stored exactly once (an
exact count of each event type per city, so a duplicate or a loss fails), every hash chain
verifies (`wwc verify`), and the workflows, their streams and the read models agree
(`wwc audit`). A command is never half-done: it either completes once or is refused as
unavailable and completes once on its retry."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
from temporalio.service import RPCError

from domain import commands as c
from domain import events as e
from domain.city import city_key, city_stream
from infra.application import ProgramService
from infra.audit import Auditor
from infra.errors import Unavailable
from infra.eventstore.mapper import decode
from infra.eventstore.postgres import PostgresEventStore
from infra.verify import verify_chains
from tests.factories import WWC_2022, answers
from tests.temporal import REVIEWER, eventually, reviewer_account

T = TypeVar("T")
CITY_COUNT = 50
CLAIMED = answers(WWC_2022, 25)
# One lifecycle's events, each exactly once.
EXPECTED = Counter({e.CityJoined: 1, e.ApplicationOpened: 1, e.AssessmentSubmitted: 1,
                    e.ReviewerAssigned: 1, e.CriterionReviewed: len(CLAIMED.criteria),
                    e.ReviewCompleted: 1, e.CertificationDecided: 1})
EVENTS_PER_CITY = sum(EXPECTED.values())
# Every lifecycle done this long after the fault began, or the test fails (never hangs).
RECOVERY_WITHIN = 300.0


def city_names(prefix: str) -> list[str]:
    return [f"{prefix} {n}, NV" for n in range(CITY_COUNT)]


@dataclass
class FaultReport:
    """What a fault run saw, printed for the README's reliability table."""

    fault: str
    cities: int
    events_before_fault: int = 0
    unavailable: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (f"FAULT {self.fault}: {self.cities} cities, fault after "
                f"{self.events_before_fault} events, {len(self.unavailable)} commands "
                f"answered 'unavailable' and retried, all done in {self.seconds:.1f} s; "
                f"events lost 0, duplicated 0")


async def retried(call: Callable[[], Awaitable[T]], report: FaultReport,
                  within: float = 180.0) -> T:
    """What a client does: on "unavailable", try again with the same update id."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await call()
        except (Unavailable, RPCError) as error:
            report.unavailable.append(type(error).__name__)
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def lifecycle(program: ProgramService, name: str, report: FaultReport) -> None:
    """Join, submit, assign, review every claimed criterion, complete, decide: each command
    with an update id of its own, so its retries run it at most once."""
    key = city_key("US", name)
    steps: list[c.CityCommand] = [
        c.SubmitAssessment(answers=CLAIMED), c.AssignReviewer(reviewer=REVIEWER),
        c.RecordReviews(reviews=tuple(c.RecordCriterionReview(code=code, met=True)
                                      for code in CLAIMED.criteria)),
        c.CompleteReview(), c.Decide()]
    await retried(lambda: program.join(c.JoinNetwork(name=name, country="US",
                                                     population=50_000),
                                       update_id=f"{key}:join"), report)
    for step, command in enumerate(steps):
        await retried(lambda command=command, step=step: program.send(  # type: ignore[misc]
            key, command, update_id=f"{key}:{step}"), report)


async def events_stored(pool: asyncpg.Pool[Any]) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM wwc_events"))


async def survive(fault_name: str, program: ProgramService, pool: asyncpg.Pool[Any],
                  names: list[str], fault: Callable[[], Awaitable[None]]) -> FaultReport:
    """Run `names` through their lifecycles, inject `fault` once a third of their events
    are stored, wait for every lifecycle, then check that nothing was lost or doubled."""
    report = FaultReport(fault_name, len(names))
    await reviewer_account(pool)
    started = time.perf_counter()
    running = [asyncio.create_task(lifecycle(program, name, report)) for name in names]
    try:
        total = len(names) * EVENTS_PER_CITY
        report.events_before_fault = await eventually(
            lambda: events_stored(pool), lambda n: n >= total // 3, within=120)
        assert report.events_before_fault < total, "the lifecycles finished before the fault"
        await fault()
        await asyncio.wait_for(asyncio.gather(*running), timeout=RECOVERY_WITHIN)
    finally:
        for task in running:
            task.cancel()
    report.seconds = time.perf_counter() - started
    await assert_nothing_lost_or_doubled(program, pool, names)
    print(report.line())
    return report


async def assert_nothing_lost_or_doubled(program: ProgramService, pool: asyncpg.Pool[Any],
                                         names: list[str]) -> None:
    store = PostgresEventStore(pool)
    for name in names:
        kinds = Counter(type(decode(r)) for r in await store.read_stream(
            city_stream(city_key("US", name))))
        assert kinds == EXPECTED, name
    async with pool.acquire() as conn:
        assert (await verify_chains(conn)).first_break is None
    assert await Auditor(program, pool).run() == []
