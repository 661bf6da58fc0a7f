"""The worker: one asyncpg pool (made inside the running loop), the activities over it,
both workflows, structured logs carrying workflow id, run id and activity, and a graceful
shutdown on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.announce import AnnouncementActivities
from activities.catalog import CatalogActivities
from activities.notify import send_notification
from activities.scoring import score_application
from activities.store import StoreActivities
from infra.config import Settings
from infra.eventstore.postgres import PostgresEventStore
from infra.runtime import open_pool
from infra.temporal_env import connect_client
from workflows.city import CityWorkflow
from workflows.cohort import CohortWorkflow

WORKFLOWS: Sequence[type] = (CityWorkflow, CohortWorkflow)
log = structlog.get_logger("wwc.worker")


def workflow_runner() -> SandboxedWorkflowRunner:
    # Our domain and the activity contracts are deterministic, pure Python: load them once,
    # outside the sandbox, instead of re-importing them for every workflow run.
    restrictions = SandboxRestrictions.default.with_passthrough_modules(
        "domain", "activities", "pydantic", "pydantic_core", "annotated_types")
    return SandboxedWorkflowRunner(restrictions=restrictions)


class _BindLogContext(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityLogContext(next)


class _ActivityLogContext(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        with structlog.contextvars.bound_contextvars(
            workflow_id=info.workflow_id, run_id=info.workflow_run_id,
            activity=info.activity_type, attempt=info.attempt,
        ):
            return await super().execute_activity(input)


def build_worker(client: Client, pool: asyncpg.Pool[Any], settings: Settings,
                 task_queue: str | None = None) -> Worker:
    store = StoreActivities(PostgresEventStore(pool))
    catalog = CatalogActivities(settings.effective_standards_dir)
    announcements = AnnouncementActivities(pool)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=list(WORKFLOWS),
        activities=[store.append_events, score_application, send_notification,
                    catalog.load_standards, announcements.awaiting_announcement],
        # Never more activities at once than connections to run them on.
        max_concurrent_activities=settings.db_pool_size,
        workflow_runner=workflow_runner(),
        interceptors=[_BindLogContext()],
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


@asynccontextmanager
async def running_worker(settings: Settings, client: Client | None = None,
                         task_queue: str | None = None) -> AsyncIterator[Worker]:
    """A worker running in this process until the block exits (then shut down cleanly)."""
    client = client or await connect_client(settings)
    async with open_pool(settings) as pool:
        worker = build_worker(client, pool, settings, task_queue)
        async with worker:
            yield worker


async def serve(settings: Settings) -> None:
    """`wwc worker`: run until SIGINT or SIGTERM, then finish in-flight work and exit."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running_worker(settings) as worker:
        log.info("worker started", task_queue=worker.task_queue,
                 namespace=settings.temporal_namespace)
        await stop.wait()
        log.info("worker stopping", task_queue=worker.task_queue)
    log.info("worker stopped")
