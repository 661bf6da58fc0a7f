"""Fault: the Temporal server is killed (SIGKILL) while 20 cities are mid-lifecycle and
restarted on its own database. Commands sent meanwhile either succeed once or answer
"unavailable" (and succeed once when retried with their update id); afterwards every
accepted command's events are stored exactly once, every chain verifies, the audit
passes."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from temporalio.service import RPCError

from domain import commands as c
from domain import events as e
from domain.city import city_key, city_stream
from infra.audit import Auditor
from infra.config import Settings
from infra.errors import Unavailable
from infra.eventstore.mapper import decode
from infra.eventstore.postgres import PostgresEventStore
from infra.standards import StandardsFolder
from infra.temporal_env import connect_client, start_dev_server, stop_dev_server
from infra.verify import verify_chains
from tests.factories import WWC_2022, answers
from tests.temporal import TrackedProgram, eventually, postgres_worker, program_clock

T = TypeVar("T")
CITIES = [f"Faultline {n}, NV" for n in range(20)]
CLAIMED = answers(WWC_2022, 25)


async def retried(call: Callable[[], Awaitable[T]], unavailable: list[str],
                  within: float = 120.0) -> T:
    """What a client does: on "unavailable", try again (with the same update id)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await call()
        except (Unavailable, RPCError) as error:
            unavailable.append(type(error).__name__)
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def lifecycle(program: TrackedProgram, name: str, unavailable: list[str]) -> None:
    key = city_key("US", name)
    steps: list[c.CityCommand] = [
        c.SubmitAssessment(answers=CLAIMED), c.AssignReviewer(reviewer="rfa"),
        c.RecordReviews(reviews=tuple(c.RecordCriterionReview(code=code, met=True)
                                      for code in CLAIMED.criteria)),
        c.CompleteReview(), c.Decide()]
    await retried(lambda: program.join(c.JoinNetwork(name=name, country="US",
                                                     population=50_000),
                                       update_id=f"{key}:join"), unavailable)
    for step, command in enumerate(steps):
        await retried(lambda command=command, step=step: program.send(  # type: ignore[misc]
            key, command, update_id=f"{key}:{step}"), unavailable)


async def test_a_killed_temporal_server_loses_and_duplicates_nothing(
    pool: asyncpg.Pool[Any], tmp_path: Path
) -> None:
    task_queue = f"fault-{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=tmp_path, task_queue=task_queue)
    server = start_dev_server(tmp_path)
    port = int(server.address.rpartition(":")[2])
    client = await connect_client(settings, server.address)
    program = TrackedProgram(client, task_queue,
                             catalog=StandardsFolder(tmp_path / "standards").load(),
                             clock=program_clock(date(2023, 1, 2), ms_per_day=60_000),
                             command_timeout=20)
    store = PostgresEventStore(pool)
    unavailable: list[str] = []
    try:
        async with postgres_worker(client, pool, task_queue):
            running = [asyncio.create_task(lifecycle(program, name, unavailable))
                       for name in CITIES]

            async def stored() -> int:
                return int(await pool.fetchval("SELECT count(*) FROM wwc_events"))

            await eventually(stored, lambda n: n >= 60, within=120)
            os.kill(server.pid, signal.SIGKILL)
            await asyncio.sleep(2)
            server = await asyncio.to_thread(start_dev_server, tmp_path, port=port)
            await asyncio.wait_for(asyncio.gather(*running), timeout=240)

            for name in CITIES:
                kinds = Counter(type(decode(r)) for r in await store.read_stream(
                    city_stream(city_key("US", name))))
                assert kinds == Counter({
                    e.CityJoined: 1, e.ApplicationOpened: 1, e.AssessmentSubmitted: 1,
                    e.ReviewerAssigned: 1, e.CriterionReviewed: 25, e.ReviewCompleted: 1,
                    e.CertificationDecided: 1}), name
            async with pool.acquire() as conn:
                assert (await verify_chains(conn)).first_break is None
            assert await Auditor(program, pool).run() == []
    finally:
        await asyncio.to_thread(stop_dev_server, tmp_path)
    print(f"commands answered 'unavailable' during the outage, then retried: "
          f"{len(unavailable)}")
