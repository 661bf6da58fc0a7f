"""Fault: the Temporal server is killed (SIGKILL) while 50 cities are mid-lifecycle and
restarted on its own database. Commands sent meanwhile either succeed once or answer
"unavailable" (and succeed once when retried with their update id); afterwards every
accepted command's events are stored exactly once, every chain verifies, the audit
passes."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg

from infra.platform.config import Settings
from infra.standards.folder import StandardsFolder
from infra.temporal.environment import connect_client, start_dev_server, stop_dev_server
from tests.faults.harness import city_names, survive
from tests.temporal import TrackedProgram, postgres_worker, program_clock


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

    async def kill_and_restart() -> None:
        nonlocal server
        os.kill(server.pid, signal.SIGKILL)
        await asyncio.sleep(2)
        server = await asyncio.to_thread(start_dev_server, tmp_path, port=port)

    try:
        async with postgres_worker(client, pool, task_queue):
            await survive("Temporal server SIGKILLed, restarted on its database", program,
                          pool, city_names("Faultline"), kill_and_restart)
    finally:
        await asyncio.to_thread(stop_dev_server, tmp_path)
