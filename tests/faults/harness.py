"""What every fault test shares: cities (30 in `make test`; `WWC_FAULT_CITIES`) driven
through their lifecycle as a client would drive them (a command answered "unavailable"
is sent again under the same request id, through the Python client or, as an operator
would, through `wwc ... --request-id ID`: `CliRetries`), a fault injected while they are
mid-lifecycle, and the checks afterwards.

The checks are the issue's: every accepted command's events are stored exactly once (an
exact count of each event type per city, so a duplicate or a loss fails), every hash chain
verifies (`wwc verify`), and the workflows, their streams and the read models agree
(`wwc audit`). A command is never half-done: it either completes once or is refused as
unavailable and completes once on its retry."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import yaml
from temporalio.service import RPCError

from domain import commands as c
from domain import events as e
from domain.streams import city_key, city_stream
from infra.application import ProgramService
from infra.application.service import command_update_id
from infra.eventstore.mapper import decode
from infra.ops.audit import Auditor
from infra.platform.clockfile import save_clock
from infra.platform.errors import Unavailable
from infra.postgres.eventstore import PostgresEventStore
from infra.postgres.verify import verify_chains
from tests.factories import WWC_2022, answers
from tests.temporal import REVIEWER, TEST_PAYLOAD_KEYS, WWC, eventually, reviewer_account

T = TypeVar("T")
# 30 keep `make test` within CI's time; the README's fault table was measured with 50
# (`WWC_FAULT_CITIES=50 .venv/bin/pytest tests/faults`).
CITY_COUNT = int(os.environ.get("WWC_FAULT_CITIES", "30"))
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
    fault_started: bool = False
    events_before_fault: int = 0
    unavailable: list[str] = field(default_factory=list)
    by_cli: int = 0  # retries sent with `wwc ... --request-id`
    seconds: float = 0.0

    def line(self) -> str:
        return (f"FAULT {self.fault}: {self.cities} cities, fault after "
                f"{self.events_before_fault} events, {len(self.unavailable)} commands "
                f"answered 'unavailable' and retried ({self.by_cli} with the CLI), all done "
                f"in {self.seconds:.1f} s; events lost 0, duplicated 0")


# A retry of `command` for the city `key` under the request id of its first attempt.
Retry = Callable[[str, c.CityCommand, str], Awaitable[object]]


async def retried(call: Callable[[], Awaitable[T]], report: FaultReport,
                  within: float = 180.0) -> T:
    """What a client does: on "unavailable", try again with the same request id."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await call()
        except (Unavailable, RPCError) as error:
            report.unavailable.append(type(error).__name__)
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


def python_retries(program: ProgramService) -> Retry:
    """Retries through the Python client, with the first attempt's update id."""

    async def retry(key: str, command: c.CityCommand, request_id: str) -> object:
        update_id = command_update_id(request_id, key, type(command).__name__)
        if isinstance(command, c.JoinNetwork):
            return await program.join(command, update_id=update_id)
        return await program.send(key, command, update_id=update_id)

    return retry


class CliRetries:
    """Retries as an operator sends them: `wwc COMMAND ... --request-id ID` as a process,
    on the deployment the test runs (its Temporal server, task queue, PostgreSQL and
    program clock), for the commands answered "unavailable" once the fault began.

    Each `wwc` costs a couple of seconds of CPU to start, on a machine of two cores that
    also runs the worker, Temporal and PostgreSQL. So at most `at_once` run together, and
    the first `budget` retries go through the CLI, the rest (and those before the fault,
    which a loaded machine may cause) through the Python client: it is the same request
    id either way, and the suite's time stays what CI affords."""

    def __init__(self, program: ProgramService, database_url: str, folder: Path,
                 report: FaultReport, *, at_once: int = 4, budget: int = 16) -> None:
        self.python = python_retries(program)
        self.budget = budget
        save_clock(folder, program.clock)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WWC_")} | {
            "WWC_DATA_DIR": str(folder), "WWC_DATABASE_URL": database_url,
            "WWC_TASK_QUEUE": program.task_queue, "WWC_LOG_FORMAT": "json",
            "WWC_TEMPORAL_ADDRESS": program.client.service_client.config.target_host,
            "WWC_PAYLOAD_KEYS": TEST_PAYLOAD_KEYS}
        self.assessment = folder / "assessment.yaml"
        self.assessment.write_text(yaml.safe_dump({
            "standard": WWC_2022.id, "outcomes": dict(CLAIMED.outcomes),
            "criteria": {code: {"met": a.met, "evidence": list(a.evidence)}
                         for code, a in CLAIMED.criteria.items()}}))
        self.sheet = folder / "sheet.yaml"
        self.sheet.write_text(yaml.safe_dump({code: True for code in CLAIMED.criteria}))
        self.report = report
        self.slots = asyncio.Semaphore(at_once)

    def args(self, key: str, command: c.CityCommand) -> list[str]:
        match command:
            case c.JoinNetwork():
                return ["join", "--name", command.name, "--country", command.country,
                        "--population", str(command.population)]
            case c.SubmitAssessment():
                return ["assessment", "submit", key, str(self.assessment)]
            case c.AssignReviewer():
                return ["review", "assign", key, command.reviewer]
            case c.RecordReviews():
                return ["review", "record", key, "--sheet", str(self.sheet)]
            case c.CompleteReview():
                return ["review", "complete", key]
            case c.Decide():
                return ["decide", key]
        raise AssertionError(f"no wwc command for {command!r}")

    async def __call__(self, key: str, command: c.CityCommand, request_id: str) -> object:
        if not self.report.fault_started or self.budget <= 0:
            return await self.python(key, command, request_id)
        self.budget -= 1
        async with self.slots:
            process = await asyncio.create_subprocess_exec(
                WWC, *self.args(key, command), "--request-id", request_id, env=self.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(process.communicate(), timeout=150)
        self.report.by_cli += 1
        if process.returncode == 5:
            raise Unavailable(err.decode().strip())  # retried again, with the same id
        assert process.returncode == 0, (command, err.decode())
        return out


async def lifecycle(program: ProgramService, name: str, report: FaultReport,
                    retry: Retry | None = None) -> None:
    """Join, submit, assign, review every claimed criterion, complete, decide: each command
    under a request id of its own, sent first through the Python client, then, while it
    is answered "unavailable", by `retry` with the same id, so it runs at most once."""
    key = city_key("US", name)
    again = retry or python_retries(program)
    steps: list[c.CityCommand] = [
        c.JoinNetwork(name=name, country="US", population=50_000),
        c.SubmitAssessment(answers=CLAIMED), c.AssignReviewer(reviewer=REVIEWER),
        c.RecordReviews(reviews=tuple(c.RecordCriterionReview(code=code, met=True)
                                      for code in CLAIMED.criteria)),
        c.CompleteReview(), c.Decide()]
    first = python_retries(program)
    for command in steps:
        request_id = uuid.uuid4().hex
        try:
            await first(key, command, request_id)
            continue
        except (Unavailable, RPCError) as error:
            report.unavailable.append(type(error).__name__)
        await asyncio.sleep(0.5)
        await retried(lambda command=command, request_id=request_id: again(  # type: ignore[misc]
            key, command, request_id), report)


async def events_stored(pool: asyncpg.Pool[Any]) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM wwc_events"))


async def survive(fault_name: str, program: ProgramService, pool: asyncpg.Pool[Any],
                  names: list[str], fault: Callable[[], Awaitable[None]],
                  retries: Callable[[FaultReport], Retry] | None = None) -> FaultReport:
    """Run `names` through their lifecycles, inject `fault` once a third of their events
    are stored, wait for every lifecycle, then check that nothing was lost or doubled.
    `retries` makes the retry of a command answered "unavailable" (default: the Python
    client's)."""
    report = FaultReport(fault_name, len(names))
    retry = retries(report) if retries is not None else None
    already = await events_stored(pool)  # an earlier fault's cities, on a shared store
    await reviewer_account(pool)
    started = time.perf_counter()
    running = [asyncio.create_task(lifecycle(program, name, report, retry))
               for name in names]
    try:
        total = len(names) * EVENTS_PER_CITY
        report.events_before_fault = await eventually(
            lambda: events_stored(pool), lambda n: n - already >= total // 3,
            within=120) - already
        assert report.events_before_fault < total, "the lifecycles finished before the fault"
        report.fault_started = True
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
