"""Named locks that hold across every process on the database (the API's, a `wwc`
command's): PostgreSQL advisory locks, each held by a transaction on a connection of the
pool, so it is let go when the block ends, or when the process or its connection dies.

Waiters for one name in one process wait in the process first (`KeyLocks`), holding no
connection; and fewer blocks than the pool has connections hold one at a time, so a
holder whose block needs a connection of its own (a query of the same pool) always finds
one: holders can never take the whole pool and wait for each other."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from infra.platform.keylocks import KeyLocks


class AdvisoryLocks:
    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool
        self._here = KeyLocks()
        self._holders = asyncio.Semaphore(max(1, pool.get_max_size() - 1))

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        """`name` held until the block exits, by no one else in any process meanwhile."""
        async with (self._here.hold(name), self._holders, self._pool.acquire() as conn,
                    conn.transaction()):
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", name)
            yield
