"""The keys payloads are sealed with: AES-256 keys, each under an id that travels with the
payloads it sealed, so keys can be rotated: the first key listed seals, every key listed
opens.

Where they come from, first found wins: `WWC_PAYLOAD_KEYS` (the text itself), the file
`WWC_PAYLOAD_KEYS_FILE`, or the data directory's `payload.keys`, which the embedded stack
(`wwc up`, `wwc demo`, the embedded dev server) makes on first use, readable by its owner
only. The text is one key a line, `KEY_ID: BASE64` (or comma-separated on one line, for an
environment variable), or a JSON object `{"KEY_ID": "BASE64", ...}`, optionally
`{"encrypting": "KEY_ID", "keys": {...}}` to name the sealing key other than first.

Key material is never logged, printed or put in an error: messages name key ids only."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from infra.platform.config import Settings
from infra.platform.errors import InvalidInput, Refused

KEY_FILE_NAME = "payload.keys"
KEY_BYTES = 32  # AES-256
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class KeyConfigError(InvalidInput):
    """The keys cannot be used as configured; the message says where and why (never the
    key itself)."""


@dataclass(frozen=True)
class PayloadKeys:
    """The key ring: `encrypting` seals, every key in `keys` opens."""

    encrypting: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.encrypting not in self.keys:
            raise KeyConfigError(f"the sealing key {self.encrypting!r} is not among the keys")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.keys)

    def __repr__(self) -> str:  # dataclass's would be fine; this one says so on its face
        return f"PayloadKeys(encrypting={self.encrypting!r}, ids={self.ids!r})"


def parse_keys(text: str, *, source: str) -> PayloadKeys:
    """The key ring in `text` (see the module's doc); `source` names where it came from, in
    errors."""
    stripped = text.strip()
    if not stripped:
        raise KeyConfigError(f"{source}: no key in it")
    if stripped.startswith("{"):
        return _parse_json(stripped, source)
    entries: list[tuple[str, str]] = []
    for line in stripped.splitlines():
        if line.strip().startswith("#"):
            continue
        for entry in filter(None, (part.strip() for part in line.split(","))):
            key_id, colon, material = entry.partition(":")
            if not colon:
                raise KeyConfigError(f"{source}: entry {len(entries) + 1} is not "
                                     "KEY_ID: BASE64")
            entries.append((key_id.strip(), material.strip()))
    if not entries:
        raise KeyConfigError(f"{source}: no key in it")
    return _ring(entries[0][0], entries, source)


def _parse_json(text: str, source: str) -> PayloadKeys:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise KeyConfigError(f"{source}: not valid JSON (line {error.lineno}, column "
                             f"{error.colno}: {error.msg})") from None
    if isinstance(data, dict) and isinstance(data.get("keys"), dict):
        keys, encrypting = data["keys"], data.get("encrypting")
    else:
        keys, encrypting = data, None
    if not isinstance(keys, dict) or not keys or \
            not all(isinstance(v, str) for v in keys.values()):
        raise KeyConfigError(f"{source}: expected an object of KEY_ID: BASE64 entries")
    entries = [(str(k), v) for k, v in keys.items()]
    if encrypting is not None and not isinstance(encrypting, str):
        raise KeyConfigError(f"{source}: 'encrypting' must name a key id")
    return _ring(encrypting or entries[0][0], entries, source)


def _ring(encrypting: str, entries: list[tuple[str, str]], source: str) -> PayloadKeys:
    keys: dict[str, bytes] = {}
    for key_id, material in entries:
        if not _KEY_ID.fullmatch(key_id):
            raise KeyConfigError(f"{source}: key id {key_id!r}: use 1 to 64 letters, digits, "
                                 "'.', '_' or '-'")
        if key_id in keys:
            raise KeyConfigError(f"{source}: key id {key_id!r} is listed twice")
        try:
            raw = base64.b64decode(material, validate=True)
        except (binascii.Error, ValueError):
            raise KeyConfigError(f"{source}: key {key_id!r} is not valid base64") from None
        if len(raw) != KEY_BYTES:
            raise KeyConfigError(f"{source}: key {key_id!r} has {len(raw)} bytes; an AES-256 "
                                 f"key has {KEY_BYTES}")
        keys[key_id] = raw
    if encrypting not in keys:
        raise KeyConfigError(f"{source}: the sealing key {encrypting!r} is not listed")
    return PayloadKeys(encrypting=encrypting, keys=keys)


def new_key_line(key_id: str | None = None) -> str:
    """A fresh key as a key-file line (`KEY_ID: BASE64`), for a file readable by its owner
    only."""
    key_id = key_id or f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(2)}"
    material = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    return f"{key_id}: {material}"


def read_key_file(path: Path) -> PayloadKeys:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyConfigError(f"{path}: no such key file") from None
    except OSError as error:
        raise KeyConfigError(f"{path}: cannot read the key file ({error.strerror})") from None
    return parse_keys(text, source=str(path))


def write_key_file(path: Path, lines: list[str]) -> None:
    """Write the key file readable by its owner only, whole or not at all: a new file
    beside it (created 0600, so never readable by others even for a moment), then renamed
    over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write("# Payload keys (see README, Security). The first one seals; every "
                       "one opens.\n# Keep every key a recorded history may need.\n")
            file.write("".join(f"{line}\n" for line in lines))
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def ensure_key_file(path: Path) -> bool:
    """Make a key file with one new key if there is none; True if it was made now."""
    if path.exists():
        return False
    write_key_file(path, [new_key_line()])
    return True


def rotate_key_file(path: Path) -> str:
    """Put a new sealing key first in the key file, keeping the others for opening; the
    new key's id."""
    ring = read_key_file(path)
    line = new_key_line()
    while line.partition(":")[0] in ring.keys:  # two rotations in one day may draw alike
        line = new_key_line()
    kept = [f"{key_id}: {base64.b64encode(ring.keys[key_id]).decode()}" for key_id in ring.ids]
    write_key_file(path, [line, *kept])
    return line.partition(":")[0]


def key_file(settings: Settings) -> Path:
    return settings.payload_keys_file or settings.data_dir / KEY_FILE_NAME


def configured_keys(settings: Settings, *, embedded: bool = False) -> PayloadKeys:
    """The deployment's key ring (see the module's doc). `embedded`: the process runs on
    the embedded stack, whose data directory gets a key file on first use."""
    if settings.payload_keys:
        return parse_keys(settings.payload_keys, source="WWC_PAYLOAD_KEYS")
    path = key_file(settings)
    if settings.payload_keys_file is None and not path.exists():
        if not embedded:
            raise KeyConfigError(
                "payloads sent through Temporal are sealed, and no key is configured: set "
                "WWC_PAYLOAD_KEYS_FILE (or WWC_PAYLOAD_KEYS) to the deployment's keys, the "
                "same on every worker and client (see README, Security)")
        ensure_key_file(path)
    return read_key_file(path)


def ensure_embedded_keys(settings: Settings) -> None:
    """Before the embedded stack starts its Temporal: a key file for a new data directory.
    A data directory whose Temporal database was written before payloads were sealed is
    refused, with the way to seal it: its running workflows' histories hold plain payloads
    the sealed workers would refuse."""
    path = key_file(settings)
    if settings.payload_keys or settings.payload_keys_file or path.exists():
        return
    database = settings.data_dir / "temporal.db"
    if database.exists():
        raise Refused(
            f"{database} was written before payloads sent through Temporal were sealed. "
            f"To seal them from now on, move it aside (mv {database}* somewhere), start "
            "again with `wwc up`, then run `wwc recover` and `wwc audit` in another "
            "terminal: every workflow is made anew, sealed, from the event log (README, "
            "Security)")
    ensure_key_file(path)
