"""Connecting a front door to the running service: the Temporal client, the standards,
the deployment's program clock and (on first use) the event store, from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from activities.ports import AppendResult, NewEvent
from domain.accounts import ReviewerStanding
from infra.application.drafts import Drafts
from infra.application.service import ProgramService
from infra.clockfile import load_clock
from infra.config import Settings
from infra.eventstore.model import RecordedEvent
from infra.eventstore.postgres import PostgresEventStore
from infra.identity.reviewers import ReadModelReviewers
from infra.service_database import open_pool
from infra.standards import StandardsFolder
from infra.temporal_env import connect_client, service_temporal_address


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

    async def append(self, stream_id: str, expected_version: int,
                     events: list[NewEvent]) -> AppendResult:
        return await (await self._open()).append(stream_id, expected_version, events)


@asynccontextmanager
async def open_program(settings: Settings | None = None) -> AsyncIterator[ProgramService]:
    """The program service of the deployment `settings` describe (from the environment by
    default). Raises `Unavailable` when the service is not running."""
    settings = settings or Settings.from_env()
    client = await connect_client(settings, await service_temporal_address(settings))
    catalog = StandardsFolder(settings.effective_standards_dir).load()
    async with AsyncExitStack() as exits:
        on_demand = _StoreOnDemand(settings, exits)
        yield ProgramService(client, settings.task_queue, catalog=catalog,
                             clock=load_clock(settings.data_dir),
                             command_timeout=settings.command_timeout,
                             drafts=Drafts(on_demand, catalog), reviewers=on_demand)
