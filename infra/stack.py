"""The embedded stack: PostgreSQL and the Temporal dev server (with its web UI) kept in the
data directory, each started only when no external one is configured."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.config import Settings
from infra.db import stop_embedded_server
from infra.errors import Refused
from infra.private import private_folder, tighten
from infra.service_database import database_url, redact
from infra.temporal_env import DevServer, cluster_config, start_dev_server, stop_dev_server

PID_FILE = "up.pid"


@dataclass(frozen=True)
class Stack:
    settings: Settings  # with the database URL filled in
    temporal_address: str
    dev_server: DevServer | None
    embedded_postgres: bool

    def describe(self) -> list[str]:
        lines = [f"PostgreSQL:   {redact(self.settings.database_url or '')}"
                 + ("  (embedded)" if self.embedded_postgres else "")]
        lines.append(f"Temporal:     {self.temporal_address}"
                     + ("  (embedded dev server)" if self.dev_server else ""))
        if self.dev_server:
            lines.append(f"Temporal UI:  {self.dev_server.ui_url}")
        lines.append(f"Data dir:     {self.settings.data_dir.resolve()}")
        return lines


def running_up(data_dir: Path) -> int | None:
    """The pid of a `wwc up` serving this data directory, if one runs."""
    path = data_dir / PID_FILE
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    try:
        os.kill(pid, 0)
    except OSError:
        path.unlink(missing_ok=True)
        return None
    return pid


@asynccontextmanager
async def embedded_stack(settings: Settings) -> AsyncIterator[Stack]:
    """Start what is not configured; stop what was started here on the way out."""
    data_dir = private_folder(settings.data_dir.resolve())
    tighten(data_dir)  # what an older version left readable by others
    embedded_pg = not settings.database_url
    url = await database_url(settings)
    server = None
    cluster = cluster_config(settings)
    if cluster is None:
        server = await asyncio.to_thread(start_dev_server, data_dir)
    address = server.address if server else str(cluster["target_host"] if cluster else "")
    stack = Stack(settings.model_copy(update={"database_url": url, "data_dir": data_dir}),
                  address, server, embedded_pg)
    try:
        yield stack
    finally:
        if server is not None:
            await asyncio.to_thread(stop_dev_server, data_dir)
        if embedded_pg:
            await asyncio.to_thread(stop_embedded_server, data_dir / "postgres")


def claim_up(data_dir: Path) -> None:
    if (pid := running_up(data_dir)) is not None:
        raise Refused(f"the service is already running for {data_dir} (pid {pid}); stop it "
                      "with Ctrl-C in its terminal")
    private_folder(data_dir)
    (data_dir / PID_FILE).write_text(str(os.getpid()))


def release_up(data_dir: Path) -> None:
    (data_dir / PID_FILE).unlink(missing_ok=True)
