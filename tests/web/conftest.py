"""The web in process: the app (`infra.web.app.build_app`) over its real services on a
real PostgreSQL database (identity, sessions, tokens, the event store and the read
models), with the program port played by `InMemoryProgram` instead of Temporal, called
through httpx's ASGI transport. No server, no port, no `wwc up`: a route's test costs
milliseconds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast
from unittest.mock import MagicMock

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from domain.accounts import CreateAccount, Role
from domain.clock import ProgramClock
from infra.identity import passwords
from infra.identity.directory import Account
from infra.identity.reviewers import ReadModelReviewers
from infra.ops.health import Flight, Health
from infra.platform.config import Settings
from infra.postgres.db import create_pool, with_database
from infra.postgres.eventstore import PostgresEventStore
from infra.readside.announcements import ReadModelAwaitingAnnouncement
from infra.temporal.codec import EncryptionCodec
from infra.temporal.keys import new_key_line, parse_keys
from infra.web.app import build_app
from infra.web.routing import ACCESS_KEY, CSRF_HEADER, SESSION_COOKIE, api_routes
from infra.web.services import HttpServices
from tests.factories import CATALOG
from tests.web.program import InMemoryProgram
from workflows.actors import SERVER_OPERATOR

PASSWORD = "a long enough password for tests"
BASE_URL = "http://testserver"


@dataclass
class Browser:
    """A signed-in browser: its session cookie, and the CSRF token sent on every change."""

    http: httpx.AsyncClient
    csrf: str

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {CSRF_HEADER: self.csrf, **kwargs.pop("headers", {})}
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.send("POST", path, **kwargs)


@dataclass
class Web:
    app: FastAPI
    services: HttpServices
    program: InMemoryProgram
    pool: asyncpg.Pool[Any]

    def client(self, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                 base_url=BASE_URL, headers=headers)

    @property
    def today(self) -> date:
        return self.program.program_today()

    async def account(self, email: str, role: Role, *, password: str | None = PASSWORD,
                      **extra: Any) -> Account:
        """An account made as `wwc accounts create` makes it (not through the API)."""
        account, _ = await self.services.directory.create(
            CreateAccount(email=email, display_name=email.split("@")[0], role=role, **extra),
            password, SERVER_OPERATOR, self.today)
        return account

    async def token(self, account: Account) -> dict[str, str]:
        """The Authorization header of a fresh API token of `account`."""
        _, token = await self.services.directory.issue_token(
            account.account_id, "tests", 30, SERVER_OPERATOR, self.today)
        return {"Authorization": f"Bearer {token}"}

    async def session(self, account: Account) -> dict[str, str]:
        """The headers of a browser signed in as `account` (its cookie, its CSRF token),
        opened without checking a password (the sign-in's own tests do that)."""
        opened = await self.services.sessions.open(account.account_id)
        return {"Cookie": f"{SESSION_COOKIE}={opened.session_id}",
                CSRF_HEADER: opened.csrf_token}

    async def sign_in(self, email: str, password: str = PASSWORD) -> Browser:
        """Signed in through `POST /api/session`, as a browser does."""
        http = self.client()
        signed = await http.post("/api/session", json={"email": email, "password": password})
        assert signed.status_code == 200, signed.text
        return Browser(http, signed.json()["csrf_token"])


def route_table() -> list[tuple[str, str, str]]:
    """(method, path, rule) of every route the app serves (the API's and the portal's),
    read from its own table."""
    return sorted((method, route.path, (route.openapi_extra or {}).get(ACCESS_KEY, ""))
                  for route in api_routes(build_app(MagicMock()).routes)
                  for method in route.methods or ())


async def _temporal_serving() -> None:
    """The in-memory program is always there (what /readyz asks of Temporal)."""


@asynccontextmanager
async def running_web(database_url: str, data_dir: Path) -> AsyncIterator[Web]:
    """The app over `database_url`, as the composition root builds it (`running_api`),
    with the in-memory program in Temporal's place."""
    settings = Settings(data_dir=data_dir, database_url=database_url)
    pool = await create_pool(database_url, size=10)
    # The program's date, frozen for the module: no test meets a midnight.
    now = datetime.now(UTC)
    program = InMemoryProgram(
        PostgresEventStore(pool), catalog=CATALOG,
        clock=ProgramClock(origin_real=now, origin_program=now, speed=0),
        reviewers=ReadModelReviewers(pool), awaiting=ReadModelAwaitingAnnouncement(pool),
        payload_codec=EncryptionCodec(parse_keys(new_key_line(), source="tests")))
    health = Health(database_url, cast(Any, None), within=settings.readiness_timeout)
    health.temporal = Flight(_temporal_serving)
    services = HttpServices.build(program, pool, settings, health=health)
    try:
        yield Web(app=build_app(services), services=services, program=program, pool=pool)
    finally:
        health.close()
        await pool.close()


@pytest.fixture(scope="module", autouse=True)
def cheap_passwords() -> Iterator[None]:
    """Argon2 at its cheapest for these tests: the real hasher and the real checks, without
    the third of a second of CPU per hash that production spends on purpose (a module of
    accounts and sign-ins would spend most of its time there)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_HASHER",
                      PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        passwords._decoy.cache_clear()
        yield
    passwords._decoy.cache_clear()  # the decoy made with the cheap hasher goes with it


@pytest.fixture(scope="module")
async def web_database(pg_admin_url: str, pg_template: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one module of tests."""
    name = f"wwc_web_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
        yield with_database(pg_admin_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
async def web(web_database: str, tmp_path_factory: pytest.TempPathFactory
              ) -> AsyncIterator[Web]:
    async with running_web(web_database, tmp_path_factory.mktemp("wwc-web")) as found:
        yield found
