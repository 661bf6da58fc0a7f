"""The production stack's secrets (`make secrets`, or `python -m infra.ops.deploy_secrets DIR`):
a private certificate authority, the certificates of mutual TLS between our service and
the Temporal cluster, and generated database passwords. docker-compose.yml reads them
from `deploy/secrets/`; nothing in it has a password of its own.

    ca.pem, ca.key              the private CA: every party trusts ca.pem; ca.key signs
                                the certificates below and is never mounted anywhere
    temporal.pem, temporal.key  Temporal's frontend (and internode) certificate: names
                                `temporal` (its compose service), `localhost`, 127.0.0.1
    wwc.pem, wwc.key            our service's client certificate (worker, API, wwc commands)
    operator.pem, operator.key  the Temporal UI's, the admin jobs' and an operator's client
    wwc-db-password             the event store's PostgreSQL password (role `wwc`),
    wwc.pgpass                  and the same as a PostgreSQL password file (PGPASSFILE)
    temporal-db-password        the password of Temporal's own PostgreSQL (role `temporal`)
    payload.keys                the keys that seal every payload sent through Temporal
                                (README, Security): the worker's and the API's alike

The folder is 0700, keys and passwords 0600, certificates 0644. Running it again is safe:
it makes what is missing, re-issues a certificate that expires within RENEW_WITHIN (or
that the CA did not sign, or that lacks a name asked for), and keeps everything else, the
passwords and the payload keys always (PostgreSQL reads a password only when it creates
its data directory; a payload key opens what it sealed: rotate with `wwc keys rotate`).
`--renew` re-issues every certificate now; `--new-ca` makes a new CA first.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from infra.temporal.keys import KEY_FILE_NAME, ensure_key_file

CA_VALIDITY = timedelta(days=3650)
LEAF_VALIDITY = timedelta(days=365)
RENEW_WITHIN = timedelta(days=30)
# Certificates start a little in the past, so a peer whose clock is behind accepts them.
BACKDATE = timedelta(minutes=5)

SERVER_NAMES = ("temporal", "localhost")
SERVER_IPS = ("127.0.0.1",)

Action = Literal["made", "kept", "renewed"]


@dataclass(frozen=True)
class Leaf:
    """A certificate the CA issues: its file stem, subject and use."""

    stem: str
    common_name: str
    server: bool  # a server certificate (also a client one: Temporal's nodes call each other)


LEAVES = (Leaf("temporal", "temporal", server=True),
          Leaf("wwc", "wwc-service", server=False),
          Leaf("operator", "wwc-operator", server=False))
PASSWORDS = ("wwc-db-password", "temporal-db-password")


@dataclass(frozen=True)
class Outcome:
    file: str
    action: Action
    expires: datetime | None = None

    def line(self) -> str:
        until = f" (valid until {self.expires:%Y-%m-%d})" if self.expires else ""
        return f"{self.action:8} {self.file}{until}"


def make_secrets(folder: Path, *, now: datetime | None = None, renew: bool = False,
                 new_ca: bool = False, extra_names: Sequence[str] = ()) -> list[Outcome]:
    """Make or renew the stack's secrets in `folder`; say what was done to each file."""
    now = now or datetime.now(UTC)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    outcomes: list[Outcome] = []

    ca_key, ca_cert = _load_pair(folder, "ca")
    if new_ca or ca_key is None or ca_cert is None or _expiring(ca_cert, now):
        action: Action = "made" if ca_cert is None else "renewed"
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _issue_ca(ca_key, now)
        _write_pair(folder, "ca", ca_key, ca_cert)
        outcomes.append(Outcome("ca.pem", action, ca_cert.not_valid_after_utc))
        renew = True  # what the old CA signed is trusted no more
    else:
        outcomes.append(Outcome("ca.pem", "kept", ca_cert.not_valid_after_utc))

    for leaf in LEAVES:
        names = _server_names(extra_names) if leaf.server else ()
        _, cert = _load_pair(folder, leaf.stem)
        existed = cert is not None
        if cert is not None and not renew and _still_good(cert, ca_cert, names, now):
            outcomes.append(Outcome(f"{leaf.stem}.pem", "kept", cert.not_valid_after_utc))
            continue
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue_leaf(leaf, names, key, ca_key, ca_cert, now)
        _write_pair(folder, leaf.stem, key, cert)
        outcomes.append(Outcome(f"{leaf.stem}.pem", "renewed" if existed else "made",
                                cert.not_valid_after_utc))

    for name in PASSWORDS:
        if (folder / name).exists():
            outcomes.append(Outcome(name, "kept"))
        else:
            _write(folder / name, secrets.token_urlsafe(32).encode(), 0o600)
            outcomes.append(Outcome(name, "made"))
    # The password file follows the password (asyncpg and libpq read it; `*` = any host).
    pgpass = f"*:*:wwc:wwc:{(folder / 'wwc-db-password').read_text().strip()}\n"
    _write(folder / "wwc.pgpass", pgpass.encode(), 0o600)
    made = ensure_key_file(folder / KEY_FILE_NAME)
    outcomes.append(Outcome(KEY_FILE_NAME, "made" if made else "kept"))
    return outcomes


def _server_names(extra: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*SERVER_NAMES, *SERVER_IPS, *extra)))


def _expiring(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_after_utc - now < RENEW_WITHIN


def _still_good(cert: x509.Certificate, ca: x509.Certificate, names: Sequence[str],
                now: datetime) -> bool:
    if _expiring(cert, now):
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return set(names) <= set(_names_of(cert))


def _names_of(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [*san.get_values_for_type(x509.DNSName),
            *(str(ip) for ip in san.get_values_for_type(x509.IPAddress))]


def _issue_ca(key: ec.EllipticCurvePrivateKey, now: datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "WWC certification"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "WWC private CA")])
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))


def _issue_leaf(leaf: Leaf, names: Sequence[str], key: ec.EllipticCurvePrivateKey,
                ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate,
                now: datetime) -> x509.Certificate:
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if leaf.server:
        usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "WWC certification"),
            x509.NameAttribute(NameOID.COMMON_NAME, leaf.common_name)]))
        .issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + LEAF_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=False, crl_sign=False,
            content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()), critical=False))
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _load_pair(folder: Path, stem: str) -> tuple[ec.EllipticCurvePrivateKey | None,
                                                 x509.Certificate | None]:
    key_file, cert_file = folder / f"{stem}.key", folder / f"{stem}.pem"
    if not (key_file.exists() and cert_file.exists()):
        return None, None
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SystemExit(f"{key_file}: not a key this command made (expected EC P-256)")
    return key, x509.load_pem_x509_certificate(cert_file.read_bytes())


def _write_pair(folder: Path, stem: str, key: ec.EllipticCurvePrivateKey,
                cert: x509.Certificate) -> None:
    _write(folder / f"{stem}.key", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), 0o600)
    _write(folder / f"{stem}.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` at once with `data` and `mode`: a key is never readable by others,
    not even for a moment, and an interrupted run leaves the old file whole."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.ops.deploy_secrets",
        description="Make (or renew) the private CA, the mutual-TLS certificates and the "
                    "database passwords of the production stack (docker-compose.yml).")
    parser.add_argument("folder", type=Path, nargs="?", default=Path("deploy/secrets"),
                        help="where to keep them (default: deploy/secrets)")
    parser.add_argument("--renew", action="store_true",
                        help="re-issue every certificate now (the CA and passwords stay)")
    parser.add_argument("--new-ca", action="store_true",
                        help="make a new CA and re-issue every certificate (passwords stay)")
    parser.add_argument("--server-name", action="append", default=[], metavar="NAME",
                        help="another DNS name or IP address for Temporal's certificate "
                             "(repeatable; `temporal`, `localhost` and 127.0.0.1 always)")
    args = parser.parse_args(argv)
    outcomes = make_secrets(args.folder, renew=args.renew, new_ca=args.new_ca,
                            extra_names=args.server_name)
    print(f"secrets in {args.folder} (keys and passwords readable by you alone):")
    for outcome in outcomes:
        print(f"  {outcome.line()}")
    if any(o.action != "kept" and o.file.endswith(".pem") for o in outcomes):
        print("certificates changed: restart the stack to use them "
              "(docker compose up -d --force-recreate)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
