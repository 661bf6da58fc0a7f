"""Mutual TLS between the service and its Temporal cluster, as docker-compose.yml runs it,
on a real TLS server: certificates made by our own command (`make secrets`), nginx
(Debian's package) in front of the Temporal dev server as a gRPC gateway that requires
client certificates signed by our CA, and the service configured as an operator
configures it (TEMPORAL_TLS_* variables, or a profile). The dev server speaks no TLS of
its own; the gateway is the TLS-terminating server between it and us.

Temporal's own frontend refuses a client certificate during the handshake rather than
with a gRPC status; a bare OpenSSL server (Python's ssl module) doing the same checks
that our error says so too."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.streams import city_key, city_stream
from infra.bootstrap import running_worker
from infra.platform.config import Settings
from infra.platform.errors import Unavailable
from infra.platform.net import free_port
from infra.temporal.environment import cluster_config, connect_client
from tests.temporal import TEST_PAYLOAD_KEYS, WWC, terminate

pytestmark = pytest.mark.integration

# The name Temporal's certificate carries, as in docker-compose.yml (its service name).
SERVER_NAME = "temporal"


def nginx_binary() -> str | None:
    named = os.environ.get("WWC_TEST_NGINX")
    return named or shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def make_secrets(folder: Path) -> Path:
    """Our command, as `make secrets` runs it."""
    subprocess.run([sys.executable, "-m", "infra.ops.deploy_secrets", str(folder)],
                   check=True, capture_output=True, timeout=60)
    return folder


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_secrets(tmp_path_factory.mktemp("deploy") / "secrets")


@pytest.fixture(scope="module")
def foreign_secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another deployment's: a CA of its own, and certificates it signed."""
    return make_secrets(tmp_path_factory.mktemp("elsewhere") / "secrets")


@dataclass(frozen=True)
class Gateway:
    address: str
    access_log: Path

    def lines(self) -> list[str]:
        """Each call: the client certificate's check and subject, the method, the status."""
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []


NGINX_CONF = """\
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
  log_format tls '$ssl_client_verify "$ssl_client_s_dn" $request_uri $status';
  access_log {dir}/access.log tls;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl http2;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate {secrets}/temporal.pem;
    ssl_certificate_key {secrets}/temporal.key;
    ssl_client_certificate {secrets}/ca.pem;
    ssl_verify_client on;
    # Workers' long polls last about a minute; any request body size, as Temporal's own.
    grpc_read_timeout 300s;
    grpc_send_timeout 300s;
    client_max_body_size 0;
    keepalive_requests 100000;
    # No certificate (496) or one our CA did not sign (495): a gRPC status, not HTML.
    error_page 495 496 = @refused;
    location @refused {{
      default_type application/grpc;
      add_header grpc-status 16 always;
      add_header grpc-message "client certificate missing or not signed by the cluster CA"
                 always;
      return 204;
    }}
    location / {{ grpc_pass grpc://{upstream}; }}
  }}
}}
"""


def _wait_for_port(address: str, process: subprocess.Popen[bytes], log: Path) -> None:
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=0.5).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"nginx did not start:\n{log.read_text() if log.exists() else ''}")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def gateway(temporal_env: WorkflowEnvironment, secrets: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    nginx = nginx_binary()
    if nginx is None:
        pytest.skip("nginx is not installed: `make test` installs it as root (apt-get "
                    "install nginx); elsewhere install it or set WWC_TEST_NGINX")
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(
        dir=folder, port=port, secrets=secrets,
        upstream=temporal_env.client.service_client.config.target_host))
    error_log = folder / "error.log"
    process = subprocess.Popen([nginx, "-p", str(folder), "-c", str(conf), "-e", str(error_log)],
                               stdout=(folder / "nginx.out").open("wb"),
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_for_port(f"127.0.0.1:{port}", process, error_log)
        yield Gateway(f"127.0.0.1:{port}", folder / "access.log")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class HandshakeRefuser:
    """A TLS server that requires and verifies client certificates during the handshake
    (OpenSSL, through Python's ssl module), as Temporal's frontend with
    requireClientAuth does. It serves nothing after: only refusals are tried on it."""

    def __init__(self, secrets: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(secrets / "temporal.pem", secrets / "temporal.key")
        self.context.load_verify_locations(secrets / "ca.pem")
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.context.set_alpn_protocols(["h2"])
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.refusals: list[str] = []
        self._refused = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(5)
            try:
                self.context.wrap_socket(connection, server_side=True).close()
            except (ssl.SSLError, OSError) as error:
                with self._refused:
                    self.refusals.append(str(error))
                    self._refused.notify_all()
            finally:
                connection.close()

    def refused_more_than(self, count: int, *, within: float = 10) -> bool:
        """Whether the server refused a handshake after its first `count` refusals (its
        thread may record it after our client has already seen the alert)."""
        with self._refused:
            return self._refused.wait_for(lambda: len(self.refusals) > count, within)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()


@pytest.fixture(scope="module")
def handshake_refuser(secrets: Path) -> Iterator[HandshakeRefuser]:
    server = HandshakeRefuser(secrets)
    yield server
    server.close()


def tls_variables(address: str, *, trust: Path, client: Path | None) -> dict[str, str]:
    """An operator's TEMPORAL_* variables: the CA file from `trust`, the client
    certificate and key from `client` (none when None)."""
    variables = {"TEMPORAL_ADDRESS": address, "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
                 "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(trust / "ca.pem")}
    if client is not None:
        variables |= {"TEMPORAL_TLS_CLIENT_CERT_PATH": str(client / "wwc.pem"),
                      "TEMPORAL_TLS_CLIENT_KEY_PATH": str(client / "wwc.key")}
    return variables


@pytest.fixture
def temporal_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """This process's TEMPORAL_* variables cleared (no profile file either)."""
    for name in [n for n in os.environ if n.startswith("TEMPORAL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "absent.toml"))
    return monkeypatch


def operator_shell(data_dir: Path, **variables: str) -> dict[str, str]:
    """This process's environment without any WWC_ or TEMPORAL_ setting, plus these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WWC_", "TEMPORAL_"))}
    # A cluster of its own wants the deployment's payload keys (the tests' here).
    return env | {"WWC_DATA_DIR": str(data_dir), "WWC_LOG_FORMAT": "json",
                  "WWC_PAYLOAD_KEYS": TEST_PAYLOAD_KEYS,
                  "TEMPORAL_CONFIG_FILE": str(data_dir / "absent.toml"), **variables}


async def run_wwc(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """`wwc` as an operator runs it, without blocking this loop (a worker runs in it)."""
    process = await asyncio.create_subprocess_exec(
        WWC, *args, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_service_works_over_mutual_tls_configured_as_an_operator_would(
        gateway: Gateway, secrets: Path, db_url: str, tmp_path: Path,
        temporal_environment: pytest.MonkeyPatch) -> None:
    """The worker (the production composition) and the `wwc` CLI reach Temporal only
    through the gateway, each with our client certificate: a city joins through the
    worker (TEMPORAL_TLS_* variables), and its status is read (a profile)."""
    variables = tls_variables(gateway.address, trust=secrets, client=secrets)
    for name, value in variables.items():
        temporal_environment.setenv(name, value)
    settings = Settings(database_url=db_url, data_dir=tmp_path,
                        payload_keys=TEST_PAYLOAD_KEYS, task_queue=f"mtls-{uuid.uuid4().hex[:8]}")
    config = cluster_config(settings)
    assert config is not None
    assert config["target_host"] == gateway.address

    shell = operator_shell(tmp_path, WWC_DATABASE_URL=db_url,
                           WWC_TASK_QUEUE=settings.task_queue)
    profile = tmp_path / "temporal.toml"
    profile.write_text(
        f'[profile.production]\naddress = "{gateway.address}"\nnamespace = "default"\n'
        f'[profile.production.tls]\nserver_name = "{SERVER_NAME}"\n'
        f'server_ca_cert_path = "{secrets / "ca.pem"}"\n'
        f'client_cert_path = "{secrets / "wwc.pem"}"\n'
        f'client_key_path = "{secrets / "wwc.key"}"\n')
    name = f"Mutual {uuid.uuid4().hex[:6]}, VT"
    key = city_key("US", name)
    logged_before = len(gateway.lines())
    async with running_worker(settings) as worker:
        try:
            code, out, err = await run_wwc(
                "join", "--name", name, "--country", "US", "--population", "52000", "--json",
                env=shell | variables)
            assert code == 0, err
            assert json.loads(out)["city_key"] == key
            code, out, err = await run_wwc("status", key, "--json", env=shell | {
                "TEMPORAL_CONFIG_FILE": str(profile), "TEMPORAL_PROFILE": "production"})
            assert code == 0, err
            assert json.loads(out)["name"] == name
        finally:
            await terminate(worker.client, {city_stream(key)})

    # Every call went through the gateway, each with our certificate, and none was refused.
    calls = gateway.lines()[logged_before:]
    for method in ("PollWorkflowTaskQueue", "RespondWorkflowTaskCompleted",  # the worker
                   "ExecuteMultiOperation", "QueryWorkflow"):  # the join, the status
        assert any(f".WorkflowService/{method} " in call for call in calls), method
    assert all(call.startswith('SUCCESS "CN=wwc-service,') for call in calls), calls


@dataclass(frozen=True)
class Client:
    """What a refused client has: whose CA it trusts, whose client certificate (if any)."""

    trusts: str  # "ours" or "foreign"
    certificate: str | None

    def variables(self, address: str, ours: Path, foreign: Path) -> dict[str, str]:
        def pick(whose: str) -> Path:
            return ours if whose == "ours" else foreign

        return tls_variables(address, trust=pick(self.trusts), client=(
            pick(self.certificate) if self.certificate else None))


NO_CERTIFICATE = Client(trusts="ours", certificate=None)
FOREIGN_CERTIFICATE = Client(trusts="ours", certificate="foreign")
FOREIGN_SERVER = Client(trusts="foreign", certificate="ours")


@pytest.mark.parametrize(("client", "says"), [
    (NO_CERTIFICATE, "it requires a client certificate and none is configured: set "
                     "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH;"),
    (FOREIGN_CERTIFICATE, "it refused our client certificate (is it signed by a CA the "
                          "cluster trusts, and still valid?"),
    (FOREIGN_SERVER, "its TLS certificate is not trusted: TEMPORAL_TLS_SERVER_CA_CERT_PATH "
                     "must name the CA that signed it"),
], ids=["no client certificate", "a client certificate from another CA",
        "a server certificate it does not trust"])
async def test_a_client_the_gateway_does_not_accept_is_refused_clearly(
        client: Client, says: str, gateway: Gateway, secrets: Path, foreign_secrets: Path,
        tmp_path: Path, temporal_environment: pytest.MonkeyPatch) -> None:
    for name, value in client.variables(gateway.address, secrets, foreign_secrets).items():
        temporal_environment.setenv(name, value)

    with pytest.raises(Unavailable) as refused:
        await connect_client(Settings(data_dir=tmp_path, payload_keys=TEST_PAYLOAD_KEYS),
                             patience=5)

    message = str(refused.value)
    assert message.startswith(f"cannot reach Temporal at {gateway.address} over TLS: {says}")
    assert "\n" not in message


async def test_a_client_without_tls_is_asked_whether_the_cluster_wants_it(
        gateway: Gateway, tmp_path: Path, temporal_environment: pytest.MonkeyPatch) -> None:
    temporal_environment.setenv("TEMPORAL_ADDRESS", gateway.address)

    with pytest.raises(Unavailable, match=r"does it require TLS\? Then set TEMPORAL_TLS_"):
        await connect_client(Settings(data_dir=tmp_path, payload_keys=TEST_PAYLOAD_KEYS),
                             patience=5)


@pytest.mark.parametrize(("client", "says"), [
    (NO_CERTIFICATE, "it requires a client certificate and none is configured"),
    # An alert, or (when it comes after our first write) the connection closed.
    (FOREIGN_CERTIFICATE, "(it refused|it closed the connection during the TLS handshake, "
                          "probably refusing) our client certificate"),
], ids=["no client certificate", "a client certificate from another CA"])
async def test_a_refusal_during_the_handshake_is_explained_too(
        client: Client, says: str, handshake_refuser: HandshakeRefuser, secrets: Path,
        foreign_secrets: Path, tmp_path: Path,
        temporal_environment: pytest.MonkeyPatch) -> None:
    """Temporal's frontend refuses in the handshake itself, not with a gRPC status: the
    error names the certificate all the same."""
    variables = client.variables(handshake_refuser.address, secrets, foreign_secrets)
    for name, value in variables.items():
        temporal_environment.setenv(name, value)
    refused_before = len(handshake_refuser.refusals)

    with pytest.raises(Unavailable) as refused:
        await connect_client(Settings(data_dir=tmp_path, payload_keys=TEST_PAYLOAD_KEYS),
                             patience=5)

    message = str(refused.value)
    assert re.match(f"cannot reach Temporal at {handshake_refuser.address} over TLS: {says}",
                    message), message
    assert "\n" not in message
    assert await asyncio.to_thread(handshake_refuser.refused_more_than, refused_before)


def test_the_cli_says_so_in_one_line_and_exits_5(gateway: Gateway, secrets: Path,
                                                tmp_path: Path) -> None:
    env = operator_shell(tmp_path, **NO_CERTIFICATE.variables(gateway.address, secrets,
                                                              secrets))

    done = subprocess.run([WWC, "status", "us-anywhere-xx"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)

    assert done.returncode == 5, done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"wwc: error: cannot reach Temporal at {gateway.address} over TLS: "
                           "it requires a client certificate and none is configured"), line
