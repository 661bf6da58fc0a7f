"""The embedded stack: PostgreSQL and the Temporal dev server (with its web UI) kept in the
data directory, each started only when no external one is configured."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from infra.platform.config import Settings
from infra.platform.errors import Refused
from infra.platform.private import private_folder, tighten
from infra.platform.processes import create_time, live_process
from infra.postgres.db import postmaster_pid, stop_embedded_server
from infra.postgres.service_database import database_url, redact
from infra.temporal.environment import (
    DevServer,
    cluster_config,
    recorded_dev_server,
    start_dev_server,
    stop_dev_server,
)
from infra.temporal.ui import UI_PATH


@dataclass(frozen=True)
class Stack:
    settings: Settings  # with the database URL filled in
    temporal_address: str
    dev_server: DevServer | None
    embedded_postgres: bool
    # Every dev server started for this stack (a supervisor adds those it restarts): all
    # are stopped with it, whatever `temporal.json` says by then.
    dev_servers: list[DevServer] = field(default_factory=list)

    def describe(self) -> list[str]:
        lines = [f"PostgreSQL:   {redact(self.settings.database_url or '')}"
                 + ("  (embedded)" if self.embedded_postgres else "")]
        lines.append(f"Temporal:     {self.temporal_address}"
                     + ("  (embedded dev server)" if self.dev_server else ""))
        if self.dev_server:
            lines.append(f"Temporal UI:  http://{self.settings.http_address}{UI_PATH}/  "
                         "(operators, signed in; payloads are sealed)")
        lines.append(f"Data dir:     {self.settings.data_dir.resolve()}")
        return lines


# `wwc up` (and `wwc demo`) own the embedded stack of a data directory: the one holding
# an exclusive lock on `up.lock` for its life (the kernel drops it when the process ends,
# however it ends). `up.pid` tells others who that is: its pid and its start time, so a
# pid reused after a `wwc up` was killed is not taken for a running service.
LOCK_FILE = "up.lock"
PID_FILE = "up.pid"
OWNER_COMMANDS = ("up", "demo")


@dataclass(frozen=True)
class UpRecord:
    pid: int
    started: float | None  # psutil's create time; None in a file from an older `wwc`
    command: str = "up"


def _read_record(data_dir: Path) -> UpRecord | None:
    try:
        data = json.loads((data_dir / PID_FILE).read_text())
    except (OSError, ValueError):
        return None
    if isinstance(data, int):
        return UpRecord(data, None)
    if isinstance(data, dict) and isinstance(data.get("pid"), int):
        started = data.get("started")
        return UpRecord(data["pid"], float(started) if started is not None else None,
                        str(data.get("command", "up")))
    return None


def _is_owner_command(cmdline: list[str]) -> bool:
    """A `wwc up` or `wwc demo` process (run as `.venv/bin/wwc up`, `python wwc up`...)."""
    return any(Path(part).name == "wwc" for part in cmdline[:2]) and \
        any(command in cmdline[1:] for command in OWNER_COMMANDS)


def running_up(data_dir: Path) -> int | None:
    """The pid of the `wwc up` (or `wwc demo`) serving this data directory, if one runs:
    the process `up.pid` names is alive, started when the file says, and is such a command.
    A stale file is left for the next `wwc up` (or `wwc down`) to clean up, under the lock."""
    record = _read_record(data_dir)
    if record is None:
        return None
    alive = live_process(record.pid, started=record.started, looks_like=_is_owner_command)
    return record.pid if alive else None


@dataclass
class UpClaim:
    """The lock on a data directory's embedded stack, held until `release_up`."""

    fd: int
    # What the claim found: a `wwc up` killed before it could clean up (its pid), if any.
    stale_pid: int | None


def claim_up(data_dir: Path, command: str = "up") -> UpClaim:
    """Take the data directory's stack for this process, or refuse (exit 4) when another
    `wwc up` or `wwc demo` holds it."""
    private_folder(data_dir)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        holder = _read_record(data_dir)
        who = f" (`wwc {holder.command}`, pid {holder.pid})" if holder else ""
        raise Refused(f"the service is already running for {data_dir}{who}; stop it with "
                      "Ctrl-C in its terminal, or `wwc down`") from None
    stale = _read_record(data_dir)
    record = {"pid": os.getpid(), "started": create_time(os.getpid()), "command": command}
    temporary = data_dir / f"{PID_FILE}.{os.getpid()}"
    temporary.write_text(json.dumps(record))
    temporary.replace(data_dir / PID_FILE)
    return UpClaim(fd, stale.pid if stale is not None else None)


def release_up(data_dir: Path, claim: UpClaim) -> None:
    (data_dir / PID_FILE).unlink(missing_ok=True)
    os.close(claim.fd)  # drops the lock


def take_over(data_dir: Path, *, temporal: bool = True, postgres: bool = True) -> list[str]:
    """What a `wwc up` (holding the lock) does with servers it finds running for its data
    directory, which no live `wwc up` owns: a `wwc up` killed before it could stop them
    left them (or a `wwc worker` started a dev server).

    The dev server is stopped, so the one `wwc up` starts is its own child: it can wait on
    it, learn how it ended and restart it. PostgreSQL is adopted: it is never a child of
    ours anyway (`pg_ctl` detaches it), so it is watched by its `postmaster.pid` whoever
    started it, and stopping it would break a read command using it right now."""
    said = []
    server = recorded_dev_server(data_dir) if temporal else None
    if server is not None:
        stop_dev_server(data_dir)
        said.append(f"stopped the Temporal dev server left running (pid {server.pid}, "
                    f"{server.address}); starting a new one")
    if postgres and (pid := postmaster_pid(data_dir / "postgres")) is not None:
        said.append(f"PostgreSQL is already running on {data_dir / 'postgres'} (pid {pid}): "
                    "using it, and stopping it with the rest")
    return said


def stop_leftovers(data_dir: Path) -> list[str]:
    """`wwc down` with no `wwc up` running: stop the servers left running for the data
    directory. What was stopped, one line each."""
    said = []
    server = recorded_dev_server(data_dir)
    if stop_dev_server(data_dir) and server is not None:
        said.append(f"stopped the Temporal dev server (pid {server.pid}, {server.address})")
    pid = postmaster_pid(data_dir / "postgres")
    if stop_embedded_server(data_dir / "postgres"):
        said.append(f"stopped PostgreSQL (pid {pid}) on {data_dir / 'postgres'}")
    return said


@asynccontextmanager
async def embedded_stack(settings: Settings) -> AsyncIterator[Stack]:
    """Start what is not configured; stop it on the way out."""
    data_dir = private_folder(settings.data_dir.resolve())
    tighten(data_dir)  # what an older version left readable by others
    embedded_pg = not settings.database_url
    cluster = cluster_config(settings)
    server = None
    stack: Stack | None = None
    try:
        url = await database_url(settings)
        if cluster is None:
            server = await asyncio.to_thread(start_dev_server, data_dir)
        address = server.address if server else str(cluster["target_host"] if cluster else "")
        stack = Stack(settings.model_copy(update={"database_url": url, "data_dir": data_dir}),
                      address, server, embedded_pg, [server] if server else [])
        yield stack
    finally:
        # Both at once, each in bounded time (`wwc up` must be gone within seconds).
        stops = []
        if cluster is None:
            stops.append(asyncio.to_thread(stop_dev_server, data_dir, patience=1.5,
                                           started=stack.dev_servers if stack else ()))
        if embedded_pg:
            stops.append(asyncio.to_thread(stop_embedded_server, data_dir / "postgres",
                                           patience=2.0))
        await asyncio.gather(*stops)
