"""The blob store's contract: content-addressed, written once, checked when read.

A document's key is the SHA-256 of its bytes (64 lowercase hex digits), so the same
document uploaded twice is kept once, and the city's hash-chained log can bind exactly
which bytes were reviewed. An upload is first *staged* (streamed into a private spool file
while its hash and size are computed, never held whole in memory, refused past a limit),
so the caller can judge the content (its type, from its first bytes) before anything is
kept; it is then *committed* under its hash or *discarded*. A blob is never overwritten:
committing bytes whose hash is already stored keeps the stored copy.

Reading yields bytes only after the whole blob has been checked against its key, so a
file altered by hand is reported (`BlobCorrupted`), never served as if it were the one
reviewed.

Every adapter (`disk.py`, `s3.py`) passes the same contract tests
(`tests/integration/test_blob_store_contract.py`)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

# \A and \Z, not ^ and $: `$` also matches before a trailing newline, so "<hex>\n" passed.
SHA256_HEX = re.compile(r"\A[0-9a-f]{64}\Z")

# Enough of a file's start to judge its type by content (magic numbers, a ZIP's first
# entry names for office documents, a text file's encoding).
HEAD_BYTES = 8192


class BlobError(Exception):
    """Base of the blob store's failures."""


class BlobTooLarge(BlobError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the limit of {limit} bytes")
        self.limit = limit


class BlobMissing(BlobError):
    def __init__(self, sha256: str) -> None:
        super().__init__(f"no stored blob {sha256}")
        self.sha256 = sha256


class BlobCorrupted(BlobError):
    """The stored bytes no longer hash to their key."""

    def __init__(self, sha256: str, actual: str) -> None:
        super().__init__(f"stored blob {sha256} now hashes to {actual}")
        self.sha256 = sha256
        self.actual = actual


def check_key(sha256: str) -> str:
    """A key is exactly a SHA-256 in lowercase hex: nothing else ever reaches a path or an
    object name."""
    if not SHA256_HEX.match(sha256):
        raise ValueError("a blob key is a SHA-256 in lowercase hex")
    return sha256


@dataclass(frozen=True)
class StagedBlob:
    """An upload streamed into a private spool file, not kept yet."""

    sha256: str
    size: int
    head: bytes
    spool: Path


class BlobStore(Protocol):
    async def stage(self, chunks: AsyncIterable[bytes], *, limit: int) -> StagedBlob:
        """Streams `chunks` into a spool file, computing the hash and size; raises
        `BlobTooLarge` (and removes the spool) once more than `limit` bytes arrived."""
        ...

    async def commit(self, staged: StagedBlob) -> bool:
        """Keeps the staged bytes under their hash and removes the spool. True when the
        blob was new, False when the same bytes were already kept (left untouched)."""
        ...

    async def discard(self, staged: StagedBlob) -> None:
        """Removes the spool; nothing is kept."""
        ...

    async def size(self, sha256: str) -> int | None:
        """The stored size, or None when no such blob is kept."""
        ...

    async def stored_at(self, sha256: str) -> datetime | None:
        """When the blob was kept (the disk store renews it when the same bytes are
        committed again; an S3 object keeps its first), or None when no such blob is kept:
        the collector of unreferenced bytes spares blobs younger than its grace."""
        ...

    def read(self, sha256: str, *, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """The blob's bytes, checked against its key before the first chunk is yielded:
        raises `BlobMissing` or `BlobCorrupted` instead (from the first `anext`, so a web
        route can await the first chunk before it starts its response)."""
        ...

    async def verify(self, sha256: str) -> str | None:
        """Recomputes the stored bytes' hash: None when they match their key, the actual
        hash when they do not; raises `BlobMissing` when nothing is kept."""
        ...

    def keys(self) -> AsyncIterator[str]:
        """Every kept blob's key (for verification, backup and collecting unreferenced
        bytes)."""
        ...

    async def remove(self, sha256: str) -> None:
        """Deletes a kept blob (only the collector of unreferenced bytes calls this)."""
        ...
