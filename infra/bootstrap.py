"""The composition root: the one place that builds the program service and what runs it
(the worker, the API) from the settings, with their adapters. `wwc up`, `wwc serve`,
`wwc worker`, the CLI's commands, the demo, the benchmarks and the tests all build
through here, so a new adapter is wired once.

The worker's and the web's modules are imported by the functions that run them: every
other `wwc` command starts without them (about half its start-up time)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from temporalio.client import Client

from activities.ports import AppendResult, NewEvent, ReviewerAccounts
from domain.accounts import ReviewerStanding
from domain.catalog import StandardCatalog
from domain.clock import ProgramClock
from domain.documents import MB
from domain.rules import ProgramRules
from infra.application.drafts import DraftLog, Drafts
from infra.application.service import ProgramService
from infra.eventstore.model import RecordedEvent
from infra.identity.reviewers import ReadModelReviewers
from infra.platform.clockfile import load_clock
from infra.platform.config import Settings
from infra.postgres.eventstore import PostgresEventStore
from infra.postgres.service_database import open_pool
from infra.standards.folder import StandardsFolder
from infra.temporal.environment import connect_client, service_temporal_address

if TYPE_CHECKING:
    from temporalio.worker import Worker

log = structlog.get_logger("wwc")


def load_standards(settings: Settings) -> StandardCatalog:
    """The shipped standards and the operator's own (a file that cannot be used is
    skipped, with a warning: `wwc status --service` lists it)."""
    standards = StandardsFolder(settings.effective_standards_dir)
    for skipped in standards.problems():
        log.warning("standard file skipped", file=skipped.file, problem=skipped.problem)
    return standards.load()


def operator_rules(settings: Settings) -> ProgramRules:
    """The program's rules as the operator's settings give them (the rest, defaults)."""
    return ProgramRules(document_max_bytes=settings.document_limit_mb * MB,
                        city_documents_max_bytes=settings.city_documents_limit_mb * MB)


def build_program(settings: Settings, client: Client, *, store: DraftLog | None = None,
                  reviewers: ReviewerAccounts | None = None,
                  catalog: StandardCatalog | None = None, clock: ProgramClock | None = None,
                  rules: ProgramRules | None = None) -> ProgramService:
    """The program service over these adapters, on the deployment's program clock (or
    `clock`). Without a `store` it saves no drafts (the demo, the benchmarks: their
    submissions carry their answers); without `reviewers` the workflow alone checks a
    reviewer's standing."""
    catalog = catalog if catalog is not None else load_standards(settings)
    return ProgramService(client, settings.task_queue, catalog=catalog,
                          clock=clock or load_clock(settings.data_dir),
                          rules=rules or operator_rules(settings),
                          command_timeout=settings.command_timeout,
                          drafts=Drafts(store, catalog) if store is not None else None,
                          reviewers=reviewers)


class _StoreOnDemand:
    """The event store, connected the first time a command needs it: most CLI commands
    only talk to Temporal, and should not wait for (or fail on) PostgreSQL."""

    def __init__(self, settings: Settings, exits: AsyncExitStack) -> None:
        self._settings = settings
        self._exits = exits
        self._store: PostgresEventStore | None = None
        self._reviewers: ReadModelReviewers | None = None

    async def _open(self) -> PostgresEventStore:
        if self._store is None:
            pool = await self._exits.enter_async_context(
                open_pool(self._settings, run_migrations=False, size=2))
            self._store = PostgresEventStore(pool)
            self._reviewers = ReadModelReviewers(pool)
        return self._store

    async def standing(self, email: str) -> ReviewerStanding | None:
        """A reviewer as the accounts say (`activities.ports.ReviewerAccounts`)."""
        await self._open()
        assert self._reviewers is not None
        return await self._reviewers.standing(email)

    async def last_event(self, stream_id: str) -> RecordedEvent | None:
        return await (await self._open()).last_event(stream_id)

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        return await (await self._open()).read_stream(stream_id, from_version)

    async def append(self, stream_id: str, expected_version: int,
                     events: list[NewEvent]) -> AppendResult:
        return await (await self._open()).append(stream_id, expected_version, events)


@asynccontextmanager
async def open_program(settings: Settings) -> AsyncIterator[ProgramService]:
    """The program service of the running deployment `settings` describe, for a front
    door of its own (a CLI command). Raises `Unavailable` when the service is not
    running."""
    client = await connect_client(settings, await service_temporal_address(settings))
    catalog = StandardsFolder(settings.effective_standards_dir).load()
    async with AsyncExitStack() as exits:
        on_demand = _StoreOnDemand(settings, exits)
        yield build_program(settings, client, store=on_demand, reviewers=on_demand,
                            catalog=catalog)


def program_on_pool(settings: Settings, client: Client, pool: asyncpg.Pool[Any],
                    catalog: StandardCatalog | None = None) -> ProgramService:
    """The program service of a process that holds a pool of its own (the API, the
    demo)."""
    return build_program(settings, client, store=PostgresEventStore(pool),
                         reviewers=ReadModelReviewers(pool), catalog=catalog)


@asynccontextmanager
async def running_worker(settings: Settings, client: Client | None = None,
                         task_queue: str | None = None, *,
                         graceful_shutdown: timedelta | None = None,
                         ) -> AsyncIterator[Worker]:
    """The production worker: over PostgreSQL (one pool, made here in the running loop),
    the read models, the standards folder and the mail server, running in this process
    until the block exits."""
    from infra.mail.postbox import PostgresPostbox
    from infra.mail.smtp import SmtpServer
    from infra.readside.announcements import ReadModelAwaitingAnnouncement
    from infra.temporal.worker import GRACEFUL_SHUTDOWN, build_worker

    client = client or await connect_client(settings)
    async with open_pool(settings) as pool:
        worker = build_worker(
            client, task_queue=task_queue or settings.task_queue,
            store=PostgresEventStore(pool), awaiting=ReadModelAwaitingAnnouncement(pool),
            standards=StandardsFolder(settings.effective_standards_dir),
            reviewers=ReadModelReviewers(pool),
            postbox=PostgresPostbox(
                pool, server=SmtpServer.from_url(settings.smtp_url) if settings.smtp_url
                else None, sender=settings.mail_from, portal_url=settings.effective_portal_url),
            # Never more activities at once than connections to run them on.
            max_concurrent_activities=settings.db_pool_size,
            graceful_shutdown=graceful_shutdown or GRACEFUL_SHUTDOWN)
        async with worker:
            yield worker


async def serve_worker(settings: Settings) -> None:
    """`wwc worker`: run until SIGINT or SIGTERM, then finish in-flight work and exit."""
    from infra.platform import metrics
    from infra.platform.heap import freeze_startup_heap
    from infra.temporal.environment import namespace
    from infra.temporal.worker import ensure_digest

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if settings.metrics_address:
        metrics.serve_metrics(settings.metrics_address)
    async with running_worker(settings) as worker:
        await ensure_digest(worker.client, worker.task_queue, load_clock(settings.data_dir))
        log.info("worker started", task_queue=worker.task_queue, namespace=namespace(settings))
        freeze_startup_heap()
        await stop.wait()
        log.info("worker stopping", task_queue=worker.task_queue)
    log.info("worker stopped")


@asynccontextmanager
async def running_api(settings: Settings, client: Client, *,
                      graceful_shutdown: int = 10) -> AsyncIterator[str]:
    """The API and the portal served at `settings.http_address` until the block exits;
    its base URL. Requests still in flight when it stops get `graceful_shutdown` seconds
    to finish."""
    from infra.blobs.configured import blob_store
    from infra.ops.health import Health
    from infra.postgres.service_database import database_url
    from infra.web.server import serving
    from infra.web.services import HttpServices

    health = Health(await database_url(settings), client, within=settings.readiness_timeout)
    try:
        async with open_pool(settings) as pool:
            program = program_on_pool(settings, client, pool)
            services = HttpServices.build(program, pool, settings, health=health,
                                          secure_cookies=settings.secure_cookies,
                                          blobs=blob_store(settings))
            async with serving(services, graceful_shutdown=graceful_shutdown) as url:
                yield url
    finally:
        health.close()
