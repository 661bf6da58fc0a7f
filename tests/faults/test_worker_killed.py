"""Fault: the worker process is SIGKILLed while 50 cities are mid-lifecycle (updates and
activities in flight) and a new one takes over. Every city completes with exactly its
events, none lost or doubled; a cohort then announces all of them."""

from __future__ import annotations

import os
import signal
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain import commands as c
from infra.standards.folder import load_catalog
from tests.faults.harness import city_names, survive
from tests.temporal import (
    TEST_PAYLOAD_KEYS,
    TrackedProgram,
    program_clock,
    start_worker,
    terminate,
)


async def test_a_killed_worker_loses_and_duplicates_nothing(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool[Any], db_url: str, tmp_path: Path,
) -> None:
    task_queue = f"crash-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "WWC_DATABASE_URL": db_url, "WWC_TASK_QUEUE": task_queue,
           "WWC_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
           "WWC_PAYLOAD_KEYS": TEST_PAYLOAD_KEYS,
           "WWC_DATA_DIR": str(tmp_path), "WWC_LOG_FORMAT": "json"}
    log = tmp_path / "worker.log"
    program = TrackedProgram(temporal_env.client, task_queue, catalog=load_catalog(),
                             clock=program_clock(date(2023, 1, 2), ms_per_day=60_000),
                             command_timeout=20)
    workers = [start_worker(env, log)]

    async def kill_and_replace() -> None:
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        workers.append(start_worker(env, log))

    names = city_names("Crashburg")
    try:
        await survive("worker SIGKILLed, a new one started", program, pool, names,
                      kill_and_replace)
        await program.create_cohort(c.CreateCohort(
            cohort_id="after-crash", announce_on=program.program_today() + timedelta(days=1)))
        announced = await program.announce_cohort("after-crash")
        assert len(announced.cities) == len(names), announced.skipped
        workers[-1].send_signal(signal.SIGTERM)
        assert workers[-1].wait(timeout=60) == 0, "the worker did not shut down gracefully"
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        await terminate(temporal_env.client, program.touched)
