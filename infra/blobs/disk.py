"""The blob store on the local disk (the default): `<root>/ab/cd/<sha256>`.

Uploads are staged in `<root>/.spool`, on the same filesystem as the blobs, so keeping
one is a hard link of the finished spool file to its final name: atomic (a reader sees
the whole blob or none) and never overwriting (`link` fails when the name exists, so of
two commits of the same bytes one keeps them and the other is told they were kept
already). Files are 0600 and folders 0700 whatever the umask: the documents are cities'
private data."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from infra.blobs.port import (
    SHA256_HEX,
    BlobCorrupted,
    BlobMissing,
    StagedBlob,
    check_key,
)
from infra.blobs.spool import (
    chunks_of,
    discard_spool,
    private_dir,
    sha256_file,
    sha256_path,
    stage_into,
)

SPOOL = ".spool"


class DiskBlobStore:
    def __init__(self, root: Path) -> None:
        # Absolute, as the spool's temporary files are named (`mkstemp`): a relative data
        # folder (the default `.wwc`) would make the store refuse its own staged files.
        self.root = Path(os.path.abspath(root))
        self.spool_dir = self.root / SPOOL

    def path_of(self, sha256: str) -> Path:
        """Where a blob is kept (the key is checked first, so no other path is reached)."""
        key = check_key(sha256)
        return self.root / key[:2] / key[2:4] / key

    async def stage(self, chunks: AsyncIterable[bytes], *, limit: int) -> StagedBlob:
        return await stage_into(self.spool_dir, chunks, limit=limit)

    async def commit(self, staged: StagedBlob) -> bool:
        target = self.path_of(staged.sha256)
        self._check_spool(staged)

        def keep() -> bool:
            private_dir(target.parent)
            try:
                os.link(staged.spool, target)
            except FileExistsError:
                # Kept already: the stored bytes stay as they are, but their age starts
                # again, so the collector of unreferenced bytes (which goes by it) does not
                # take a blob someone has just uploaded again.
                os.utime(target)
                return False
            finally:
                staged.spool.unlink(missing_ok=True)
            _fsync_dir(target.parent)
            return True

        return await asyncio.to_thread(keep)

    async def discard(self, staged: StagedBlob) -> None:
        self._check_spool(staged)
        await discard_spool(staged)

    async def size(self, sha256: str) -> int | None:
        try:
            return (await asyncio.to_thread(self.path_of(sha256).stat)).st_size
        except FileNotFoundError:
            return None

    async def stored_at(self, sha256: str) -> datetime | None:
        try:
            mtime = (await asyncio.to_thread(self.path_of(sha256).stat)).st_mtime
        except FileNotFoundError:
            return None
        return datetime.fromtimestamp(mtime, UTC)

    async def read(self, sha256: str, *, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        path = self.path_of(sha256)
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        # One open file is hashed, then served from its start: a file replaced by hand in
        # between is not the one served, as the open file keeps the inode it checked.
        with file:
            actual = await asyncio.to_thread(sha256_file, file)
            if actual != sha256:
                raise BlobCorrupted(sha256, actual)
            await asyncio.to_thread(file.seek, 0)
            async for chunk in chunks_of(file, chunk_size):
                yield chunk

    async def verify(self, sha256: str) -> str | None:
        try:
            actual = await sha256_path(self.path_of(sha256))
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        return None if actual == sha256 else actual

    async def keys(self) -> AsyncIterator[str]:
        try:
            shards = await asyncio.to_thread(_names, self.root)
        except FileNotFoundError:
            return
        for shard in sorted(shards):
            if len(shard) != 2 or shard == SPOOL:
                continue
            for key in sorted(await asyncio.to_thread(_keys_under, self.root / shard)):
                yield key

    async def remove(self, sha256: str) -> None:
        await asyncio.to_thread(self.path_of(sha256).unlink, True)

    def _check_spool(self, staged: StagedBlob) -> None:
        """Only a spool file this store staged is ever linked or removed."""
        if staged.spool.parent != self.spool_dir:
            raise ValueError("not a blob staged by this store")


def _names(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]


def _keys_under(shard: Path) -> list[str]:
    found: list[str] = []
    for inner in _names(shard):
        with os.scandir(shard / inner) as entries:
            found.extend(entry.name for entry in entries
                         if SHA256_HEX.fullmatch(entry.name) and entry.name[2:4] == inner
                         and entry.name[:2] == shard.name
                         and entry.is_file(follow_symlinks=False))
    return found


def _fsync_dir(folder: Path) -> None:
    """The new name survives a crash (a file's fsync does not cover its folder entry)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
