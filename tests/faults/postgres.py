"""A PostgreSQL of the fault test's own (the embedded server in the test's folder), so it
can be frozen or stopped without touching the server the rest of the suite shares."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from infra.postgres.db import create_pool, embedded_server_url, stop_embedded_server, with_database
from infra.postgres.migrate import migrated_database


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])


def postgres_processes(pgdata: Path) -> list[int]:
    """The postmaster and every process it forked (backends, checkpointer, WAL writer...):
    freezing the postmaster alone would leave the open connections' backends answering."""
    postmaster = postmaster_pid(pgdata)
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
        if int(stat.rpartition(")")[2].split()[1]) == postmaster:
            children.append(int(entry))
    return [postmaster, *children]


@dataclass
class PrivatePostgres:
    pgdata: Path
    url: str
    pool: asyncpg.Pool[Any]

    def freeze(self) -> list[int]:
        """SIGSTOP every process of the server: connections stay open, nothing answers."""
        frozen = postgres_processes(self.pgdata)
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        return frozen

    @staticmethod
    def thaw(frozen: list[int]) -> None:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    async def stop(self) -> None:
        """A fast shutdown (SIGINT to the postmaster): open transactions are rolled back
        and every connection is closed, as when an operator restarts the server."""
        await asyncio.to_thread(_stop_and_wait, postmaster_pid(self.pgdata))

    async def start(self) -> None:
        url = await asyncio.to_thread(embedded_server_url, self.pgdata)
        assert with_database(url, "faults") == self.url, "the server came back elsewhere"


def _stop_and_wait(pid: int) -> None:
    os.kill(pid, signal.SIGINT)
    while Path(f"/proc/{pid}").exists():
        time.sleep(0.05)


@contextlib.asynccontextmanager
async def private_postgres(folder: Path) -> AsyncIterator[PrivatePostgres]:
    pgdata = folder / "pg"
    admin = await asyncio.to_thread(embedded_server_url, pgdata)
    try:
        url = await migrated_database(admin, "faults")
        pool = await create_pool(url, size=20)
        try:
            yield PrivatePostgres(pgdata, url, pool)
        finally:
            await pool.close()
    finally:
        await asyncio.to_thread(stop_embedded_server, pgdata)
