"""`make secrets`: the production stack's private CA, its mutual-TLS certificates and
database passwords; files only their owner can read; runs again safely, renewing what
expires and keeping the rest."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from infra.ops.deploy_secrets import LEAF_VALIDITY, RENEW_WITHIN, main, make_secrets

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
SECRET_FILES = ["ca.key", "temporal.key", "wwc.key", "operator.key", "wwc-db-password",
                "temporal-db-password", "wwc.pgpass", "payload.keys"]
CERTIFICATES = ["ca.pem", "temporal.pem", "wwc.pem", "operator.pem"]


def certificate(folder: Path, name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((folder / name).read_bytes())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_it_makes_a_ca_three_certificates_and_two_passwords_readable_by_the_owner_alone(
        tmp_path: Path) -> None:
    folder = tmp_path / "secrets"

    outcomes = make_secrets(folder, now=NOW)

    assert {o.action for o in outcomes} == {"made"}
    assert mode(folder) == 0o700
    assert {name: mode(folder / name) for name in SECRET_FILES} == dict.fromkeys(
        SECRET_FILES, 0o600)
    assert {name: mode(folder / name) for name in CERTIFICATES} == dict.fromkeys(
        CERTIFICATES, 0o644)
    ca = certificate(folder, "ca.pem")
    for name in CERTIFICATES[1:]:
        certificate(folder, name).verify_directly_issued_by(ca)
    passwords = {(folder / n).read_text() for n in ("wwc-db-password", "temporal-db-password")}
    assert len(passwords) == 2
    assert all(len(p) >= 40 and p.isascii() and ":" not in p for p in passwords)
    wwc_password = (folder / "wwc-db-password").read_text()
    assert (folder / "wwc.pgpass").read_text() == f"*:*:wwc:wwc:{wwc_password}\n"


def test_temporal_certificate_names_its_compose_service_and_serves_and_calls(
        tmp_path: Path) -> None:
    make_secrets(tmp_path, now=NOW, extra_names=["temporal.internal"])

    server = certificate(tmp_path, "temporal.pem")
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["temporal", "localhost",
                                                       "temporal.internal"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    usages = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    # Temporal's nodes present this certificate to each other as clients too.
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    client = certificate(tmp_path, "wwc.pem")
    assert list(client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH]
    ca = certificate(tmp_path, "ca.pem")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert server.not_valid_after_utc == NOW + LEAF_VALIDITY


def test_running_it_again_keeps_everything(tmp_path: Path) -> None:
    make_secrets(tmp_path, now=NOW)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    outcomes = make_secrets(tmp_path, now=NOW + timedelta(days=30))

    assert {o.action for o in outcomes} == {"kept"}
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_certificates_about_to_expire_are_renewed_and_the_ca_and_passwords_kept(
        tmp_path: Path) -> None:
    make_secrets(tmp_path, now=NOW)
    ca, key = (tmp_path / "ca.pem").read_bytes(), (tmp_path / "wwc.key").read_bytes()
    password = (tmp_path / "wwc-db-password").read_bytes()
    later = NOW + LEAF_VALIDITY - RENEW_WITHIN + timedelta(days=1)

    outcomes = make_secrets(tmp_path, now=later)

    assert {o.file: o.action for o in outcomes} == {
        "ca.pem": "kept", "temporal.pem": "renewed", "wwc.pem": "renewed",
        "operator.pem": "renewed", "wwc-db-password": "kept", "temporal-db-password": "kept",
        "payload.keys": "kept"}
    assert (tmp_path / "ca.pem").read_bytes() == ca
    assert (tmp_path / "wwc.key").read_bytes() != key  # a new key with a new certificate
    assert (tmp_path / "wwc-db-password").read_bytes() == password
    assert certificate(tmp_path, "wwc.pem").not_valid_after_utc == later + LEAF_VALIDITY
    assert mode(tmp_path / "wwc.key") == 0o600


def test_a_new_ca_reissues_every_certificate_and_keeps_the_passwords(tmp_path: Path) -> None:
    make_secrets(tmp_path, now=NOW)
    old_ca = certificate(tmp_path, "ca.pem")
    password = (tmp_path / "temporal-db-password").read_bytes()

    outcomes = make_secrets(tmp_path, now=NOW, new_ca=True)

    assert [o.action for o in outcomes if o.file.endswith(".pem")] == ["renewed"] * 4
    new_ca = certificate(tmp_path, "ca.pem")
    assert new_ca.public_key() != old_ca.public_key()
    for name in CERTIFICATES[1:]:
        certificate(tmp_path, name).verify_directly_issued_by(new_ca)
    assert (tmp_path / "temporal-db-password").read_bytes() == password


def test_a_certificate_another_ca_signed_is_reissued(tmp_path: Path) -> None:
    make_secrets(tmp_path / "ours", now=NOW)
    make_secrets(tmp_path / "theirs", now=NOW)
    for suffix in ("pem", "key"):
        (tmp_path / "ours" / f"wwc.{suffix}").write_bytes(
            (tmp_path / "theirs" / f"wwc.{suffix}").read_bytes())

    outcomes = make_secrets(tmp_path / "ours", now=NOW)

    assert {o.file: o.action for o in outcomes}["wwc.pem"] == "renewed"
    certificate(tmp_path / "ours", "wwc.pem").verify_directly_issued_by(
        certificate(tmp_path / "ours", "ca.pem"))


def test_the_command_says_what_it_did_and_never_prints_a_secret(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "secrets")]) == 0

    out = capsys.readouterr().out
    assert "made     temporal.pem (valid until" in out
    assert "made     wwc-db-password" in out
    for name in SECRET_FILES:
        for line in (tmp_path / "secrets" / name).read_text().splitlines():
            assert line.startswith("-----") or line not in out
