"""The blob store on an S3-compatible object store: `<prefix>/<sha256>` in one bucket.

Uploads are staged in a local spool (the same one as the disk store's, `spool.py`), so
the caller judges the bytes before anything leaves the machine. Keeping one must never
overwrite a kept object, so it is a conditional write:

- up to `SINGLE_PUT_MAX` bytes, one PUT with `If-None-Match: *` (AWS S3 since 2024,
  SeaweedFS, MinIO, Cloudflare R2 and Ceph honour it): the server refuses it (412) when
  the key exists, so of two commits of the same bytes one keeps them. The client holds
  such a body in memory for its retries, hence the bound.
- larger blobs are streamed up in parts to a private `incoming/` name, then copied
  under their key with a multipart copy completed with `If-None-Match: *` (the client's
  `copy_if_not_exists="multipart"`), and the incoming object removed: never whole in
  memory, and never overwriting either. SeaweedFS (4.48) checks that condition, but not
  atomically: of concurrent completions of one key several may succeed. The bytes are
  the same (the key is their hash), so the copy kept is good all the same, but more than
  one commit may then say it was new; within one process large commits of one key wait
  for each other, which also spares the second upload.

Reading downloads the object into a spool file while hashing it, and yields from the
spool only once the hash matched: nothing unverified is ever served."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import obstore
from obstore.exceptions import AlreadyExistsError
from obstore.store import S3Store

from infra.blobs.port import SHA256_HEX, BlobCorrupted, BlobMissing, StagedBlob, check_key
from infra.blobs.spool import IO_CHUNK, chunks_of, discard_spool, stage_into
from infra.platform.keylocks import KeyLocks

if TYPE_CHECKING:
    from obstore import GetResult
    from obstore.store import S3Config

# A body the client holds whole in memory for one conditional PUT; past it, parts.
SINGLE_PUT_MAX = 8 << 20
PART_SIZE = 8 << 20
# Parts in flight at once (each one in memory while it is sent).
PART_CONCURRENCY = 2
INCOMING = "incoming"
UNBOUNDED = 1 << 62


class S3BlobStore:
    def __init__(self, store: S3Store, spool_dir: Path, *,
                 single_put_max: int = SINGLE_PUT_MAX) -> None:
        """`store` is the bucket under its prefix, configured with
        `copy_if_not_exists="multipart"` (see `s3_client`)."""
        self.store = store
        # Absolute, as the spool's files are named (see DiskBlobStore).
        self.spool_dir = Path(os.path.abspath(spool_dir))
        self.single_put_max = single_put_max
        self._large_commits = KeyLocks()

    async def stage(self, chunks: AsyncIterable[bytes], *, limit: int) -> StagedBlob:
        return await stage_into(self.spool_dir, chunks, limit=limit)

    async def commit(self, staged: StagedBlob) -> bool:
        key = check_key(staged.sha256)
        self._check_spool(staged)
        try:
            if staged.size <= self.single_put_max:
                return await self._put_if_absent(key, staged.spool)
            return await self._put_large_if_absent(key, staged.spool)
        finally:
            await discard_spool(staged)

    async def _put_if_absent(self, key: str, spool: Path) -> bool:
        body = await asyncio.to_thread(spool.read_bytes)  # at most SINGLE_PUT_MAX
        try:
            await obstore.put_async(self.store, key, body, mode="create")
        except AlreadyExistsError:
            return False
        return True

    async def _put_large_if_absent(self, key: str, spool: Path) -> bool:
        async with self._large_commits.hold(key):
            if await self._exists(key):  # spares the upload; the copy below decides
                return False
            return await self._upload_then_copy(key, spool)

    async def _upload_then_copy(self, key: str, spool: Path) -> bool:
        incoming = f"{INCOMING}/{uuid.uuid4().hex}"
        try:
            await obstore.put_async(self.store, incoming, spool, use_multipart=True,
                                    chunk_size=PART_SIZE, max_concurrency=PART_CONCURRENCY)
            try:
                await obstore.copy_async(self.store, incoming, key, overwrite=False)
            except AlreadyExistsError:
                return False
            return True
        finally:
            await obstore.delete_async(self.store, incoming)

    async def discard(self, staged: StagedBlob) -> None:
        self._check_spool(staged)
        await discard_spool(staged)

    async def size(self, sha256: str) -> int | None:
        key = check_key(sha256)
        try:
            return (await obstore.head_async(self.store, key))["size"]
        except FileNotFoundError:
            return None

    async def stored_at(self, sha256: str) -> datetime | None:
        key = check_key(sha256)
        try:
            return (await obstore.head_async(self.store, key))["last_modified"]
        except FileNotFoundError:
            return None

    async def read(self, sha256: str, *, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        downloaded = await self._download(check_key(sha256))
        try:
            if downloaded.sha256 != sha256:
                raise BlobCorrupted(sha256, downloaded.sha256)
            with await asyncio.to_thread(downloaded.spool.open, "rb") as file:
                async for chunk in chunks_of(file, chunk_size):
                    yield chunk
        finally:
            # Not awaited: this also runs when a reader drops the generator unfinished.
            downloaded.spool.unlink(missing_ok=True)

    async def verify(self, sha256: str) -> str | None:
        key = check_key(sha256)
        result = await self._get(key)
        digest = hashlib.sha256()
        async for part in result.stream(min_chunk_size=IO_CHUNK):
            await asyncio.to_thread(digest.update, part)
        actual = digest.hexdigest()
        return None if actual == sha256 else actual

    async def keys(self) -> AsyncIterator[str]:
        async for batch in obstore.list(self.store, chunk_size=1000):
            for meta in batch:
                if SHA256_HEX.fullmatch(meta["path"]):
                    yield meta["path"]

    async def remove(self, sha256: str) -> None:
        await obstore.delete_async(self.store, check_key(sha256))  # absent: no error

    async def _exists(self, key: str) -> bool:
        try:
            await obstore.head_async(self.store, key)
        except FileNotFoundError:
            return False
        return True

    async def _get(self, key: str) -> GetResult:
        try:
            return await obstore.get_async(self.store, key)
        except FileNotFoundError:
            raise BlobMissing(key) from None

    async def _download(self, key: str) -> StagedBlob:
        result = await self._get(key)
        return await stage_into(self.spool_dir, result.stream(min_chunk_size=IO_CHUNK),
                                limit=UNBOUNDED)

    def _check_spool(self, staged: StagedBlob) -> None:
        """Only a spool file this store staged is ever sent or removed."""
        if staged.spool.parent != self.spool_dir:
            raise ValueError("not a blob staged by this store")


def s3_client(bucket: str, *, prefix: str, endpoint: str | None, region: str,
              access_key_id: str | None, secret_access_key: str | None) -> S3Store:
    """The bucket under `prefix`. Credentials not given are taken where AWS's tools take
    them (AWS_* variables, the instance's or container's role)."""
    config: S3Config = {"region": region, "copy_if_not_exists": "multipart"}
    if endpoint:
        config["endpoint"] = endpoint
    if access_key_id and secret_access_key:
        config["access_key_id"] = access_key_id
        config["secret_access_key"] = secret_access_key
    return S3Store(bucket, prefix=prefix or None, config=config,
                   client_options={"allow_http": bool(endpoint) and
                                   str(endpoint).startswith("http://"),
                                   # A whole document's transfer, not each chunk's.
                                   "timeout": "10m", "connect_timeout": "10s"})
