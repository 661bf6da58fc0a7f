"""The service's database: which one (the configured URL or the embedded server), brought
to the current schema, and pooled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from infra.platform.config import Settings
from infra.platform.errors import Unavailable
from infra.postgres.db import (
    EMBEDDED_DATABASE,
    create_pool,
    embedded_server_url,
    ensure_database,
    with_database,
)
from infra.postgres.migrate import migrate_url


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


async def database_url(settings: Settings) -> str:
    """The configured URL, or the embedded server's (started if need be) `wwc` database."""
    if settings.database_url:
        return settings.database_url
    pgdata = (settings.data_dir / "postgres").resolve()
    admin = await asyncio.to_thread(embedded_server_url, pgdata)
    await ensure_database(admin, EMBEDDED_DATABASE)
    return with_database(admin, EMBEDDED_DATABASE)


_UNREACHABLE = (OSError, asyncpg.CannotConnectNowError, asyncpg.InvalidCatalogNameError,
                asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidPasswordError,
                TimeoutError)


@asynccontextmanager
async def open_pool(settings: Settings, *, run_migrations: bool = True,
                    size: int | None = None) -> AsyncIterator[asyncpg.Pool[Any]]:
    url = await database_url(settings)
    try:
        if run_migrations:
            await migrate_url(url)
        pool = await create_pool(url, size=size or settings.db_pool_size)
    except _UNREACHABLE as error:
        raise Unavailable(f"cannot reach PostgreSQL at {redact(url)}: {error}") from None
    try:
        yield pool
    finally:
        await pool.close()
