"""Reaching Temporal the SDK's way: a profile or TEMPORAL_* variables name a cluster (with
its TLS and API key); our WWC_* settings override address and namespace; nothing at all
means the embedded dev server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.service import TLSConfig

from infra.platform.config import Settings
from infra.temporal.environment import cluster_config, connect_failure

TEMPORAL_VARIABLES = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY",
                      "TEMPORAL_PROFILE", "TEMPORAL_TLS")


@pytest.fixture(autouse=True)
def no_temporal_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in TEMPORAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "absent.toml"))


def test_nothing_configured_means_the_embedded_dev_server() -> None:
    assert cluster_config(Settings()) is None


def test_an_api_key_from_the_environment_turns_tls_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "ns.acct.tmprl.cloud:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "ns.acct")
    monkeypatch.setenv("TEMPORAL_API_KEY", "secret-key")

    config = cluster_config(Settings())

    assert config == {"target_host": "ns.acct.tmprl.cloud:7233", "namespace": "ns.acct",
                      "api_key": "secret-key", "tls": True}


def test_a_profile_from_the_config_file(monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    toml = tmp_path / "temporal.toml"
    toml.write_text('[profile.prod]\naddress = "temporal.internal:7233"\n'
                    'namespace = "certification"\n')
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(toml))
    monkeypatch.setenv("TEMPORAL_PROFILE", "prod")

    config = cluster_config(Settings())

    assert config is not None
    assert (config["target_host"], config["namespace"]) == ("temporal.internal:7233",
                                                            "certification")


def test_our_own_settings_take_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "from-env:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "env-ns")

    config = cluster_config(Settings(temporal_address="ours:7233", temporal_namespace="ours"))

    assert config is not None
    assert (config["target_host"], config["namespace"]) == ("ours:7233", "ours")


def test_the_demo_ignores_temporal_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "from-env:7233")
    assert cluster_config(Settings(read_temporal_env_config=False)) is None


TLS_TO_OURS = {"target_host": "temporal:7233",
               "tls": TLSConfig(client_cert=b"cert", client_private_key=b"key")}
TLS_WITHOUT_CERTIFICATE = {"target_host": "temporal:7233", "tls": TLSConfig()}


@pytest.mark.parametrize(("config", "error", "says"), [
    # Temporal's own frontend (Go, requireClientAuth) refuses in the handshake.
    (TLS_TO_OURS, "Failed client connect: `get_system_info` call error after connection: "
                  "Status { code: Unknown, message: \"transport error\", source: Some(... "
                  "error: \"received fatal alert: BadCertificate\" }))) }",
     " over TLS: it refused our client certificate (is it signed by a CA the cluster trusts"),
    (TLS_WITHOUT_CERTIFICATE, "... error: \"received fatal alert: CertificateRequired\" ...",
     " over TLS: it requires a client certificate and none is configured: set "
     "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH"),
    (TLS_TO_OURS, "Server connection error: ... InvalidCertificate(Expired) ...",
     " over TLS: its TLS certificate has expired"),
    (TLS_TO_OURS, "Server connection error: ... InvalidCertificate(NotValidForName) ...",
     " over TLS: its TLS certificate is not trusted: TEMPORAL_TLS_SERVER_CA_CERT_PATH"),
    ({"target_host": "ns.acct.tmprl.cloud:7233", "tls": True, "api_key": "k"},
     "Status { code: Unauthenticated, message: \"Request unauthorized.\" ...",
     " over TLS: it refused our API key"),
    ({"target_host": "temporal:7233"}, "... GoAway(b\"\", FRAME_SIZE_ERROR, Library) ...",
     ": it closed the connection or answered other than in gRPC: does it require TLS?"),
    ({"target_host": "temporal:7233"}, "Server connection error: ... Connection refused\n...",
     ": Server connection error: ... Connection refused ..."),
])
def test_a_failed_connection_says_what_to_check(config: dict[str, Any], error: str,
                                                says: str) -> None:
    message = str(connect_failure(config, RuntimeError(error)))

    assert message.startswith(f"cannot reach Temporal at {config['target_host']}{says}")
    assert "\n" not in message
