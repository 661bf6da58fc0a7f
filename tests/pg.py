"""PostgreSQL for tests: the embedded server (or WWC_TEST_DATABASE_URL's), one migrated
template database per run, and a fresh database per test made from it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from infra.postgres.db import create_pool, embedded_server_url, stop_embedded_server, with_database
from infra.postgres.migrate import migrate_url


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("WWC_TEST_DATABASE_URL")
    if external:
        yield external
        return
    pgdata = Path(tmp_path_factory.mktemp("embedded-pg")) / "data"
    yield embedded_server_url(pgdata)
    stop_embedded_server(pgdata)


@pytest.fixture(scope="session")
async def pg_template(pg_admin_url: str) -> AsyncIterator[str]:
    name = f"wwc_template_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await migrate_url(with_database(pg_admin_url, name))
    yield name
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def db_url(pg_admin_url: str, pg_template: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    name = f"wwc_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield with_database(pg_admin_url, name)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    pool = await create_pool(db_url, size=20)
    yield pool
    await pool.close()
