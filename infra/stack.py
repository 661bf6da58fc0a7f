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
from infra.service_database import database_url, redact
from infra.temporal.keys import ensure_embedded_keys
from infra.temporal.ui import UI_PATH, dev_server_ui_flags
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
            lines.append(f"Temporal UI:  http://{self.settings.http_address}{UI_PATH}/  "
                         "(operators, signed in; payloads are sealed)")
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
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    embedded_pg = not settings.database_url
    url = await database_url(settings)
    server = None
    cluster = cluster_config(settings)
    if cluster is None:
        ensure_embedded_keys(settings.model_copy(update={"data_dir": data_dir}))
        server = await asyncio.to_thread(start_dev_server, data_dir,
                                          extra_args=dev_server_ui_flags())
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
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / PID_FILE).write_text(str(os.getpid()))


def release_up(data_dir: Path) -> None:
    (data_dir / PID_FILE).unlink(missing_ok=True)
