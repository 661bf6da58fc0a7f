"""Faults of the event store while 50 cities are mid-lifecycle: PostgreSQL frozen
(SIGSTOP) for 10 s then resumed, and PostgreSQL stopped and started again. Appends that
hang or fail are retried by Temporal (a timed-out attempt may still land later, so the
retry must find its events already stored); afterwards every accepted command's events
are stored exactly once, every chain verifies and the audit passes.

In the freeze, the commands answered "unavailable" are retried as an operator would:
`wwc ... --request-id ID` with the id of their first attempt (their first attempts go
through the Python client, so 50 lifecycles cost no more than before; a `wwc` process
costs a couple of seconds of CPU to start)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from infra.standards.folder import load_catalog
from tests.faults.harness import CliRetries, city_names, survive
from tests.faults.postgres import PrivatePostgres, private_postgres
from tests.temporal import TrackedProgram, postgres_worker, program_clock, terminate

FREEZE_SECONDS = 10
OUTAGE_SECONDS = 3


def tracked(temporal_env: WorkflowEnvironment, task_queue: str, *,
            command_timeout: float = 20) -> TrackedProgram:
    return TrackedProgram(temporal_env.client, task_queue, catalog=load_catalog(),
                          clock=program_clock(date(2023, 1, 2), ms_per_day=60_000),
                          command_timeout=command_timeout)


async def test_postgres_frozen_for_ten_seconds_loses_and_duplicates_nothing(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    task_queue = f"pgfreeze-{uuid.uuid4().hex[:8]}"
    # Clients give up on a command well before the freeze ends: the commands in flight
    # are answered "unavailable" and sent again with `wwc ... --request-id`, and must
    # still run once each.
    program = tracked(temporal_env, task_queue, command_timeout=FREEZE_SECONDS / 3)
    async with private_postgres(tmp_path) as pg:

        async def freeze() -> None:
            frozen = pg.freeze()
            try:
                await asyncio.sleep(FREEZE_SECONDS)
            finally:
                PrivatePostgres.thaw(frozen)

        try:
            async with postgres_worker(temporal_env.client, pg.pool, task_queue):
                report = await survive(
                    f"PostgreSQL frozen (SIGSTOP) for {FREEZE_SECONDS} s", program, pg.pool,
                    city_names("Frostburg"), freeze,
                    retries=lambda report: CliRetries(program, pg.url, tmp_path, report))
            assert report.unavailable, "no command was in flight during the freeze"
            assert report.by_cli, "no command was retried with the CLI"
        finally:
            await terminate(temporal_env.client, program.touched)


async def test_postgres_stopped_and_restarted_loses_and_duplicates_nothing(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    task_queue = f"pgrestart-{uuid.uuid4().hex[:8]}"
    program = tracked(temporal_env, task_queue)
    async with private_postgres(tmp_path) as pg:

        async def restart() -> None:
            await pg.stop()
            await asyncio.sleep(OUTAGE_SECONDS)
            await pg.start()

        try:
            async with postgres_worker(temporal_env.client, pg.pool, task_queue):
                await survive(f"PostgreSQL stopped, started again {OUTAGE_SECONDS} s later",
                              program, pg.pool, city_names("Restartville"), restart)
        finally:
            await terminate(temporal_env.client, program.touched)
