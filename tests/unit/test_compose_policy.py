"""docker-compose.yml's exposure policy, checked on the parsed file (Docker cannot run on
our build machines): only the API publishes a port, on loopback; PostgreSQL and Temporal
sit on an internal network; Temporal requires mutual TLS and every client presents a
certificate; no password is written anywhere; every secret it names is one `make secrets`
makes, copied to the container that reads it. A change that publishes 5432 fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.ops.deploy_secrets import make_secrets

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
BACKEND_ONLY = ("postgres", "temporal-db", "temporal", "temporal-search-attributes")
OUR_SERVICES = ("worker", "api")
SECRET_PATH = re.compile(r"/run/secrets/([\w-]+)/([\w.-]+)")

Stack = dict[str, Any]


@pytest.fixture(scope="module")
def stack() -> Stack:
    parsed = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(parsed, dict)
    return parsed


def services(stack: Stack) -> dict[str, dict[str, Any]]:
    return dict(stack["services"])


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping, so it can be checked"
    return {k: str(v) for k, v in env.items()}


@pytest.fixture(scope="module")
def made_by_make_secrets(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    folder = tmp_path_factory.mktemp("secrets")
    make_secrets(folder)
    return {p.name for p in folder.iterdir()}


def test_only_the_api_publishes_a_port_and_only_on_the_hosts_loopback(stack: Stack) -> None:
    published = {name: s["ports"] for name, s in services(stack).items() if s.get("ports")}

    assert list(published) == ["api"]
    assert all(str(port).startswith("127.0.0.1:") for port in published["api"])
    for name, service in services(stack).items():
        assert service.get("network_mode") in (None, "none"), name


def test_postgresql_and_temporal_live_on_an_internal_network_alone(stack: Stack) -> None:
    assert stack["networks"]["backend"] == {"internal": True}
    for name in BACKEND_ONLY:
        assert services(stack)[name]["networks"] == ["backend"], name


def test_the_temporal_ui_is_started_only_for_operators_and_never_published(
        stack: Stack) -> None:
    ui = services(stack)["temporal-ui"]
    assert ui["profiles"] == ["operator"]
    assert "ports" not in ui


def test_no_password_is_written_in_the_stack_or_the_image(stack: Stack) -> None:
    for name, service in services(stack).items():
        assert not [k for k in environment(service)
                    if re.search(r"PASSWORD$|PWD$|^PGPASSWORD", k)], name
    for path in (COMPOSE, REPO / "Dockerfile"):
        text = path.read_text()
        assert not re.search(r"postgres(ql)?://[^/@\s]+:[^@\s]*@", text), path
        # A password variable is only ever set from a secret file.
        assert not re.search(r"(PASSWORD|_PWD)\s*[:=]\s*(?!\"\$\$\(cat /run/secrets/)\S",
                             text), path
        assert "wwc:wwc" not in text, path
        assert "temporal:temporal" not in text, path


def test_each_database_reads_a_generated_password_file(stack: Stack) -> None:
    for name, secret in (("postgres", "wwc-db-password"),
                         ("temporal-db", "temporal-db-password")):
        service = services(stack)[name]
        assert service["secrets"] == [secret]
        assert environment(service)["POSTGRES_PASSWORD_FILE"] == f"/run/secrets/{secret}"
        assert stack["secrets"][secret] == {"file": f"./deploy/secrets/{secret}"}
    for name in OUR_SERVICES:
        env = environment(services(stack)[name])
        assert env["WWC_DATABASE_URL"] == "postgresql://wwc@postgres:5432/wwc"
        assert env["PGPASSFILE"] == "/run/secrets/wwc/wwc.pgpass"


def test_temporal_requires_mutual_tls_on_its_frontend_and_between_its_nodes(
        stack: Stack) -> None:
    env = environment(services(stack)["temporal"])

    assert env["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] == "true"
    for variable in ("TEMPORAL_TLS_FRONTEND_CERT", "TEMPORAL_TLS_FRONTEND_KEY",
                     "TEMPORAL_TLS_CLIENT1_CA_CERT", "TEMPORAL_TLS_CLIENT2_CA_CERT",
                     "TEMPORAL_TLS_SERVER_CERT", "TEMPORAL_TLS_SERVER_KEY",
                     "TEMPORAL_TLS_SERVER_CA_CERT"):
        assert env[variable].startswith("/run/secrets/temporal/"), variable
    assert env["TEMPORAL_TLS_FRONTEND_DISABLE_HOST_VERIFICATION"] == "false"
    assert env["TEMPORAL_TLS_INTERNODE_DISABLE_HOST_VERIFICATION"] == "false"
    assert env["TEMPORAL_TLS_FRONTEND_SERVER_NAME"] == "temporal"
    assert env["TEMPORAL_TLS_INTERNODE_SERVER_NAME"] == "temporal"


def test_every_temporal_client_presents_a_certificate_and_checks_the_servers(
        stack: Stack) -> None:
    for name in OUR_SERVICES:  # the Python SDK's variables (temporalio.envconfig)
        env = environment(services(stack)[name])
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
        assert env["TEMPORAL_TLS_SERVER_NAME"] == "temporal"
        assert env["TEMPORAL_TLS_SERVER_CA_CERT_PATH"] == "/run/secrets/wwc/ca.pem"
        assert env["TEMPORAL_TLS_CLIENT_CERT_PATH"] == "/run/secrets/wwc/wwc.pem"
        assert env["TEMPORAL_TLS_CLIENT_KEY_PATH"] == "/run/secrets/wwc/wwc.key"
        assert not any(k.startswith("WWC_TEMPORAL_ADDRESS") for k in env)
    for name in ("temporal-ui", "temporal-search-attributes", "temporal"):  # Go clients
        env = environment(services(stack)[name])
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
        assert env["TEMPORAL_TLS_SERVER_NAME"] == "temporal"
        for variable in ("TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"):
            assert env[variable].startswith("/run/secrets/"), (name, variable)
    assert environment(services(stack)["temporal-ui"])[
        "TEMPORAL_TLS_ENABLE_HOST_VERIFICATION"] == "true"


def test_our_cookies_are_secure_behind_the_tls_proxy(stack: Stack) -> None:
    assert environment(services(stack)["api"])["WWC_SECURE_COOKIES"] == "true"


def test_every_secret_named_is_made_by_make_secrets_and_copied_to_its_reader(
        stack: Stack, made_by_make_secrets: set[str]) -> None:
    job = services(stack)["secrets"]
    script = "\n".join(job["command"])
    copied = {volume: set(files.split()) for _, volume, files in
              re.findall(r"^put (\d+) ([\w-]+) (.+)$", script, re.MULTILINE)}
    assert set(copied) == {"wwc", "temporal", "operator"}
    assert all(files <= made_by_make_secrets for files in copied.values())
    assert "./deploy/secrets:/from:ro" in job["volumes"]

    for name, service in services(stack).items():
        if name == "secrets":
            continue
        mounts = {m.split(":")[1]: m for m in service.get("volumes", [])
                  if m.split(":")[1].startswith("/run/secrets/")}
        for volume, file in SECRET_PATH.findall(yaml.safe_dump(service)):
            if f"/run/secrets/{volume}" not in mounts:  # a compose secret, not a volume
                assert f"{volume}" in service.get("secrets", []), (name, volume)
                continue
            assert mounts[f"/run/secrets/{volume}"] == (
                f"{volume}-secrets:/run/secrets/{volume}:ro"), name
            assert file in copied[volume], (name, volume, file)


def test_the_worker_and_the_api_seal_payloads_with_the_same_keys(stack: Stack) -> None:
    """Without keys our service refuses to start on a cluster of its own (README,
    Security); both must read the one file `make secrets` makes."""
    files = {environment(services(stack)[name]).get("WWC_PAYLOAD_KEYS_FILE")
             for name in OUR_SERVICES}
    assert files == {"/run/secrets/wwc/payload.keys"}


def test_the_cas_key_never_leaves_the_operators_folder() -> None:
    assert "ca.key" not in COMPOSE.read_text()
