"""The spool both adapters stage through, and the chunked file I/O they share.

An upload is written to a private file (0600, in a private folder) while its SHA-256,
size and first bytes are computed, so it is never held whole in memory and nothing is
kept before the caller has judged it. File I/O is blocking, so it runs in a worker thread
(`asyncio.to_thread`), a buffer of about a mebibyte at a time: small network chunks
are gathered first, as one thread hop per 64 KiB chunk would cost more than the write."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from infra.blobs.port import HEAD_BYTES, BlobTooLarge, StagedBlob

# What one worker-thread hop writes, reads or hashes.
IO_CHUNK = 1 << 20


def private_dir(path: Path) -> Path:
    """`path` and any missing parent, created owner-only (0700), whatever the umask."""
    missing = []
    for parent in (path, *path.parents):
        if parent.exists():
            break
        missing.append(parent)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)  # mkdir's mode is narrowed by the umask, never widened
    return path


def sha256_file(file: IO[bytes]) -> str:
    """The hash of an open file from its current position to its end (blocking)."""
    digest = hashlib.sha256()
    while block := file.read(IO_CHUNK):
        digest.update(block)  # hashlib releases the GIL on blocks this large
    return digest.hexdigest()


async def sha256_path(path: Path) -> str:
    def run() -> str:
        with path.open("rb") as file:
            return sha256_file(file)
    return await asyncio.to_thread(run)


async def stage_into(spool_dir: Path, chunks: AsyncIterable[bytes], *, limit: int) -> StagedBlob:
    """Streams `chunks` into a new spool file in `spool_dir` (see `BlobStore.stage`). The
    spool is removed if anything goes wrong, a cancellation and `BlobTooLarge` included."""
    await asyncio.to_thread(private_dir, spool_dir)
    fd, name = await asyncio.to_thread(tempfile.mkstemp, dir=spool_dir, prefix="upload-")
    spool = Path(name)  # mkstemp makes it 0600 whatever the umask
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    pending: list[bytes] = []
    pending_size = 0

    def write(blocks: list[bytes]) -> None:
        for block in blocks:
            digest.update(block)
            _write_all(fd, block)

    try:
        async for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if size > limit:
                raise BlobTooLarge(limit)
            if len(head) < HEAD_BYTES:
                head += chunk[:HEAD_BYTES - len(head)]
            pending.append(bytes(chunk))
            pending_size += len(chunk)
            if pending_size >= IO_CHUNK:
                await asyncio.to_thread(write, pending)
                pending, pending_size = [], 0
        await asyncio.to_thread(write, pending)
        await asyncio.to_thread(os.fsync, fd)  # kept bytes must survive a crash
    except BaseException:
        os.close(fd)
        spool.unlink(missing_ok=True)  # noqa: ASYNC240 (a cancelled task must not await)
        raise
    os.close(fd)
    return StagedBlob(sha256=digest.hexdigest(), size=size, head=bytes(head), spool=spool)


def _write_all(fd: int, block: bytes) -> None:
    view = memoryview(block)
    while view:
        view = view[os.write(fd, view):]


async def discard_spool(staged: StagedBlob) -> None:
    await asyncio.to_thread(staged.spool.unlink, True)


async def chunks_of(file: IO[bytes], chunk_size: int) -> AsyncIterator[bytes]:
    """The rest of an open file, `chunk_size` bytes at a time, read in a worker thread a
    mebibyte a hop; the caller closes the file."""
    while block := await asyncio.to_thread(file.read, max(chunk_size, IO_CHUNK)):
        for start in range(0, len(block), chunk_size):
            yield block[start:start + chunk_size]


def sweep_spool(spool_dir: Path, *, older_than: timedelta, now: datetime) -> list[Path]:
    """Removes spool files left older than `older_than` (an upload or a read cut short by
    a crash: a live one is minutes old at most); returns them (blocking)."""
    if not spool_dir.is_dir():
        return []
    cutoff = (now - older_than).timestamp()
    swept = []
    for path in sorted(spool_dir.iterdir()):
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                swept.append(path)
    return swept
