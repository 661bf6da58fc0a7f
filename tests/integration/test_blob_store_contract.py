"""One contract for the blob store port (infra/blobs/port.py), run against every adapter:
the disk store and the S3 store on a real S3-compatible server. Blobs are small: the
streaming of large ones is measured in bench/, not asserted here."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import obstore
import pytest

from infra.blobs.collect import collect
from infra.blobs.disk import DiskBlobStore
from infra.blobs.port import (
    HEAD_BYTES,
    BlobCorrupted,
    BlobMissing,
    BlobStore,
    BlobTooLarge,
    StagedBlob,
)
from infra.blobs.s3 import SINGLE_PUT_MAX, S3BlobStore, s3_client
from infra.blobs.spool import private_dir, sweep_spool
from tests.seaweed import S3Server


@dataclass(frozen=True)
class Harness:
    store: BlobStore
    spool_dir: Path
    # Replaces a kept blob's bytes behind the store's back, as an operator's hand would.
    alter: Callable[[str, bytes], Awaitable[None]]


def disk_harness(root: Path) -> Harness:
    store = DiskBlobStore(root)

    async def alter(sha256: str, data: bytes) -> None:
        path = store.path_of(sha256)
        path.chmod(0o600)
        path.write_bytes(data)

    return Harness(store, store.spool_dir, alter)


def s3_harness(server: S3Server, spool_dir: Path, *, single_put_max: int) -> Harness:
    client = s3_client(server.bucket, prefix=f"test-{uuid.uuid4().hex}",
                       endpoint=server.endpoint, region="us-east-1",
                       access_key_id=server.access_key_id,
                       secret_access_key=server.secret_access_key)
    store = S3BlobStore(client, spool_dir, single_put_max=single_put_max)

    async def alter(sha256: str, data: bytes) -> None:
        await obstore.put_async(client, sha256, data)

    return Harness(store, spool_dir, alter)


@pytest.fixture(params=["disk", "s3", "s3-parts"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "disk":
        return disk_harness(tmp_path / "documents")
    # A plain fixture, so it asks for the session's S3 server only when needed.
    server = request.getfixturevalue("s3_server")
    # "s3-parts": every blob takes the way of large ones (uploaded in parts, then copied
    # under its key if absent), which small blobs would otherwise never reach.
    return s3_harness(server, tmp_path / "spool",
                      single_put_max=-1 if request.param == "s3-parts" else SINGLE_PUT_MAX)


async def chunked(data: bytes, size: int = 7000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def read_all(store: BlobStore, sha256: str, chunk_size: int = 65536) -> bytes:
    return b"".join([chunk async for chunk in store.read(sha256, chunk_size=chunk_size)])


async def keep(store: BlobStore, data: bytes) -> tuple[StagedBlob, bool]:
    staged = await store.stage(chunked(data), limit=10**7)
    return staged, await store.commit(staged)


async def listed(store: BlobStore) -> list[str]:
    return sorted([key async for key in store.keys()])  # noqa: SIM118 (not a dict)


def spooled(harness: Harness) -> list[str]:
    return sorted(os.listdir(harness.spool_dir)) if harness.spool_dir.exists() else []


def blob(label: str, size: int = 20_000) -> bytes:
    return (label.encode() * size)[:size]


async def test_a_staged_blob_is_kept_under_its_hash_once_committed(harness: Harness) -> None:
    data = blob("inventory")
    store = harness.store
    staged = await store.stage(chunked(data), limit=len(data))  # exactly the limit: taken
    assert (staged.sha256, staged.size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert staged.head == data[:HEAD_BYTES]
    assert staged.spool.read_bytes() == data
    assert await store.size(staged.sha256) is None  # nothing kept before the commit

    assert await store.commit(staged) is True
    assert spooled(harness) == []
    assert await read_all(store, staged.sha256) == data
    assert await store.size(staged.sha256) == len(data)
    assert await store.verify(staged.sha256) is None
    assert await store.stored_at(staged.sha256) is not None
    assert await listed(store) == [staged.sha256]


@pytest.mark.parametrize("kind", ["disk", "s3"])
async def test_a_store_under_a_relative_folder_keeps_and_discards_what_it_staged(
        kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest) -> None:
    """`WWC_DATA_DIR=.wwc` (the default) gives the stores relative folders, while the
    spool's temporary files are named by absolute paths: a commit or a discard must still
    know them as its own (it refused them, so `wwc evidence add` and `wwc restore` failed
    with "not a blob staged by this store" on the default settings)."""
    monkeypatch.chdir(tmp_path)
    harness = (disk_harness(Path(".wwc/documents")) if kind == "disk" else
               s3_harness(request.getfixturevalue("s3_server"), Path(".wwc/spool"),
                          single_put_max=SINGLE_PUT_MAX))
    data = blob("relative")
    kept = await harness.store.stage(chunked(data), limit=len(data))
    assert await harness.store.commit(kept) is True
    assert await read_all(harness.store, kept.sha256) == data
    await harness.store.discard(await harness.store.stage(chunked(blob("gone")), limit=10**6))
    assert spooled(harness) == []


async def test_a_discarded_blob_leaves_nothing(harness: Harness) -> None:
    staged = await harness.store.stage(chunked(blob("draft")), limit=10**6)
    await harness.store.discard(staged)
    assert spooled(harness) == []
    assert await harness.store.size(staged.sha256) is None
    assert await listed(harness.store) == []


async def test_the_same_bytes_twice_are_kept_once_and_the_stored_copy_untouched(
        harness: Harness) -> None:
    data = blob("policy")
    first, new = await keep(harness.store, data)
    second, again = await keep(harness.store, data)
    assert (new, again) == (True, False)
    assert first.sha256 == second.sha256
    assert spooled(harness) == []
    assert await read_all(harness.store, first.sha256) == data
    assert await listed(harness.store) == [first.sha256]


async def test_an_upload_past_the_limit_is_refused_and_its_spool_removed(
        harness: Harness) -> None:
    with pytest.raises(BlobTooLarge) as refused:
        await harness.store.stage(chunked(blob("minutes", 5000), 1000), limit=4999)
    assert refused.value.limit == 4999
    assert spooled(harness) == []
    assert await listed(harness.store) == []


async def test_an_empty_file_is_a_blob_too(harness: Harness) -> None:
    staged, new = await keep(harness.store, b"")
    assert new
    assert (staged.sha256, staged.size) == (hashlib.sha256(b"").hexdigest(), 0)
    assert await read_all(harness.store, staged.sha256) == b""


async def test_a_blob_larger_than_one_buffer_streams_in_chunks(harness: Harness) -> None:
    data = os.urandom(1_500_000)  # past the spool's 1 MiB buffer, so several writes
    staged, _ = await keep(harness.store, data)
    chunks = [chunk async for chunk in harness.store.read(staged.sha256, chunk_size=65536)]
    assert b"".join(chunks) == data
    assert max(map(len, chunks)) == 65536


async def test_reading_a_missing_blob_says_so(harness: Harness) -> None:
    absent = hashlib.sha256(b"never uploaded").hexdigest()
    with pytest.raises(BlobMissing):
        await read_all(harness.store, absent)
    with pytest.raises(BlobMissing):
        await harness.store.verify(absent)
    assert await harness.store.size(absent) is None
    assert await harness.store.stored_at(absent) is None


async def test_a_blob_altered_by_hand_is_reported_never_served(harness: Harness) -> None:
    data = blob("dashboard")
    staged, _ = await keep(harness.store, data)
    altered = data.replace(b"dashboard", b"DASHBOARD", 1)
    await harness.alter(staged.sha256, altered)

    chunks = harness.store.read(staged.sha256)
    with pytest.raises(BlobCorrupted) as corrupted:
        await anext(chunks)  # checked before the first chunk
    assert corrupted.value.actual == hashlib.sha256(altered).hexdigest()
    assert await harness.store.verify(staged.sha256) == hashlib.sha256(altered).hexdigest()


async def test_keys_lists_every_blob_and_remove_deletes_one(harness: Harness) -> None:
    kept = sorted([(await keep(harness.store, blob(label)))[0].sha256
                   for label in ("a", "b", "c")])
    assert await listed(harness.store) == kept
    await harness.store.remove(kept[1])
    await harness.store.remove(kept[1])  # already gone: nothing to do
    assert await listed(harness.store) == [kept[0], kept[2]]
    assert await harness.store.size(kept[1]) is None


@pytest.mark.parametrize("key", ["../../etc/passwd", "AB" * 32, "ab" * 31, "",
                                 "ab" * 32 + "\n", "../" + "ab" * 32])
async def test_a_key_that_is_not_a_lowercase_sha256_is_refused(harness: Harness,
                                                              key: str) -> None:
    store = harness.store
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: store.size(key), lambda: store.verify(key), lambda: store.remove(key),
        lambda: store.stored_at(key), lambda: read_all(store, key)]
    for call in calls:
        with pytest.raises(ValueError, match="SHA-256"):
            await call()


async def test_concurrent_commits_of_the_same_bytes_leave_one_good_copy(
        harness: Harness) -> None:
    data = blob("open data", 50_000)
    # Three, not more: SeaweedFS makes each further conditional PUT of a key under way
    # wait about a second.
    results = await asyncio.gather(*(keep(harness.store, data) for _ in range(3)))
    assert sorted(new for _, new in results) == [False, False, True]
    sha256 = results[0][0].sha256
    assert await read_all(harness.store, sha256) == data
    assert await listed(harness.store) == [sha256]
    assert spooled(harness) == []


# The disk store's own promises.

async def test_the_disk_store_keeps_files_0600_in_folders_0700_whatever_the_umask(
        tmp_path: Path) -> None:
    store = DiskBlobStore(tmp_path / "documents")
    old = os.umask(0o022)
    try:
        staged = await store.stage(chunked(blob("private")), limit=10**6)
        assert stat.S_IMODE(staged.spool.stat().st_mode) == 0o600
        await store.commit(staged)
    finally:
        os.umask(old)
    path = store.path_of(staged.sha256)
    assert path.relative_to(store.root).parts == (staged.sha256[:2], staged.sha256[2:4],
                                                  staged.sha256)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (store.root, store.spool_dir, path.parent, path.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


async def test_the_disk_store_commits_only_what_it_staged(tmp_path: Path) -> None:
    store = DiskBlobStore(tmp_path / "documents")
    elsewhere = tmp_path / "secret"
    elsewhere.write_bytes(b"not an upload")
    forged = StagedBlob(sha256=hashlib.sha256(b"not an upload").hexdigest(), size=13,
                        head=b"", spool=elsewhere)
    with pytest.raises(ValueError, match="staged"):
        await store.commit(forged)
    assert elsewhere.exists()
    assert await listed(store) == []


# Collecting unreferenced bytes (infra/blobs/collect.py), on every adapter.

async def test_the_collector_takes_only_unreferenced_blobs_older_than_the_grace(
        harness: Harness) -> None:
    kept = [(await keep(harness.store, blob(label)))[0].sha256
            for label in ("referenced", "orphan", "another orphan")]
    stored = [await harness.store.stored_at(key) for key in kept]
    newest = max(at for at in stored if at is not None)
    grace = timedelta(hours=1)

    assert await collect(harness.store, {kept[0]}, grace=grace,
                         now=newest + grace - timedelta(seconds=1)) == []  # all too young
    removed = await collect(harness.store, {kept[0]}, grace=grace,
                            now=newest + grace + timedelta(seconds=1))
    assert sorted(removed) == sorted(kept[1:])
    assert await listed(harness.store) == [kept[0]]


async def test_the_collector_refuses_a_negative_grace_or_a_naive_clock(harness: Harness) -> None:
    with pytest.raises(ValueError, match="grace"):
        await collect(harness.store, set(), grace=timedelta(-1), now=datetime.now(UTC))
    with pytest.raises(ValueError, match="timezone"):
        await collect(harness.store, set(), grace=timedelta(0), now=datetime(2030, 1, 1))


async def test_the_disk_store_renews_a_blobs_age_when_the_same_bytes_come_again(
        tmp_path: Path) -> None:
    """Else the collector, going by age, could take bytes someone has just uploaded again
    after they lay unreferenced past the grace."""
    store = DiskBlobStore(tmp_path / "documents")
    staged, _ = await keep(store, blob("policy"))
    long_ago = (datetime.now(UTC) - timedelta(days=30)).timestamp()
    os.utime(store.path_of(staged.sha256), (long_ago, long_ago))
    await keep(store, blob("policy"))  # uploaded again; its event is about to be appended
    assert await collect(store, set(), grace=timedelta(days=1), now=datetime.now(UTC)) == []


def test_spool_files_left_by_a_crash_are_swept(tmp_path: Path) -> None:
    spool = private_dir(tmp_path / ".spool")
    old, live = spool / "upload-old", spool / "upload-live"
    old.write_bytes(b"cut short")
    live.write_bytes(b"streaming in")
    long_ago = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    os.utime(old, (long_ago, long_ago))
    assert sweep_spool(spool, older_than=timedelta(days=1), now=datetime.now(UTC)) == [old]
    assert sorted(spool.iterdir()) == [live]
    assert sweep_spool(tmp_path / "none", older_than=timedelta(0), now=datetime.now(UTC)) == []
