"""Evidence documents benchmark: upload throughput of the blob stores, beside a plain file
copy of the same bytes in the same run, and the process's memory while a large file
streams in. Not a test.

    .venv/bin/python -m bench.documents                   # 200 MB, 5 rounds, disk and S3
    .venv/bin/python -m bench.documents --mb 50 --rounds 5 --no-s3

An upload is what the API hands the store: the file's bytes in 64 KiB chunks (a typical
ASGI receive size), staged (hashed, written to the spool, fsynced) then committed (disk:
a hard link; S3: an upload to SeaweedFS on this machine, started for the run). Baselines,
alternating with ours in each round: `shutil.copyfile` of the same file (the kernel's copy,
no hash, no fsync: the ceiling the ratio is taken against), the same copy with an fsync,
SHA-256 alone over the file (the hash every upload needs) and, with S3, one plain put of
the file by the same client (what the server takes at best: our commit of a file this
large uploads it in parts and then copies it under its key only if absent). Figures are each one's
median over the rounds, in MB/s (10^6 bytes a second).

Memory: the resident set's growth over its level before the upload, sampled every 5 ms
while the file streams in; it must stay a few MB whatever the file's size. A first upload
through each store is made before the rounds and its growth printed apart.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import obstore
import psutil

from bench.args import positive_int
from infra.blobs.disk import DiskBlobStore
from infra.blobs.port import BlobStore
from infra.blobs.s3 import S3BlobStore, s3_client
from infra.blobs.spool import IO_CHUNK
from tests.seaweed import S3Server, seaweed, weed_binary

UPLOAD_CHUNK = 64 * 1024
MB = 1_000_000


async def upload_chunks(path: Path) -> AsyncIterator[bytes]:
    """The file as an upload arrives: read a mebibyte at a time off the event loop, handed
    on in 64 KiB chunks."""
    with path.open("rb") as file:
        while block := await asyncio.to_thread(file.read, IO_CHUNK):
            for start in range(0, len(block), UPLOAD_CHUNK):
                yield block[start:start + UPLOAD_CHUNK]


async def upload(store: BlobStore, path: Path) -> str:
    staged = await store.stage(upload_chunks(path), limit=1 << 40)
    if not await store.commit(staged):
        raise SystemExit("the blob was kept already: the round did not upload it")
    return staged.sha256


class PeakRss:
    """The resident set's highest level while the `with` lasts, sampled in a thread."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.before = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    @contextmanager
    def watching(self) -> Iterator[None]:
        self.before = self.peak = self.process.memory_info().rss
        sampler = threading.Thread(target=self._sample, daemon=True)
        sampler.start()
        try:
            yield
        finally:
            self._stop.set()
            sampler.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / MB


def copy_plain(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


def copy_fsynced(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def hash_only(source: Path, _: Path) -> None:
    digest = hashlib.sha256()
    with source.open("rb") as file:
        while block := file.read(IO_CHUNK):
            digest.update(block)


async def run(mb: int, rounds: int, with_s3: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="wwc-bench-documents-") as work:
        folder = Path(work)
        source = folder / "source.bin"
        size = mb * MB
        with source.open("wb") as out:
            for _ in range(0, size, 8 * MB):
                out.write(os.urandom(min(8 * MB, size - out.tell())))
            os.fsync(out.fileno())
        print(f"{mb} MB of random bytes, {rounds} rounds; working in {folder}")

        server_cm = None
        s3_store: S3BlobStore | None = None
        if with_s3:
            weed = weed_binary()
            if weed is None:
                print("S3: skipped (no `weed` binary: install the test extra)")
            else:
                server_cm = seaweed(weed, folder / "seaweedfs")
                server: S3Server = server_cm.__enter__()
                print(f"S3: SeaweedFS ready in {server.started_in:.1f} s")
                s3_store = S3BlobStore(
                    s3_client(server.bucket, prefix="bench", endpoint=server.endpoint,
                              region="us-east-1", access_key_id=server.access_key_id,
                              secret_access_key=server.secret_access_key),
                    folder / "s3-spool")
        try:
            await measure(folder, source, size, rounds, s3_store)
        finally:
            if server_cm is not None:
                server_cm.__exit__(None, None, None)


async def measure(folder: Path, source: Path, size: int, rounds: int,
                  s3_store: S3BlobStore | None) -> None:
    baselines: dict[str, Callable[[Path, Path], None]] = {
        "shutil.copyfile (baseline)": copy_plain,
        "shutil.copyfile + fsync": copy_fsynced,
        "SHA-256 of the file alone": hash_only,
    }
    seconds: dict[str, list[float]] = {name: [] for name in baselines}
    ours: dict[str, BlobStore] = {"disk store: stage + commit": DiskBlobStore(folder / "docs")}
    if s3_store is not None:
        ours["S3 store (SeaweedFS): stage + commit"] = s3_store
    seconds.update({name: [] for name in ours})
    memory: dict[str, list[float]] = {name: [] for name in ours}

    plain_put = "S3: a plain put of the file (the server's own rate)"

    async def put_plain() -> None:
        assert s3_store is not None
        await obstore.put_async(s3_store.store, "plain", source)
        await obstore.delete_async(s3_store.store, "plain")

    def copying(copy: Callable[[Path, Path], None]) -> Callable[[], Awaitable[None]]:
        async def run_copy() -> None:
            target = folder / "copy.bin"
            await asyncio.to_thread(copy, source, target)
            target.unlink(missing_ok=True)
        return run_copy

    def uploading(name: str, store: BlobStore) -> Callable[[], Awaitable[None]]:
        async def run_upload() -> None:
            peak = PeakRss()
            with peak.watching():
                key = await upload(store, source)
            memory[name].append(peak.growth_mb)
            await store.remove(key)  # the next round uploads it anew
        return run_upload

    actions: dict[str, Callable[[], Awaitable[None]]] = {
        **{name: copying(copy) for name, copy in baselines.items()},
        **{name: uploading(name, store) for name, store in ours.items()}}
    if s3_store is not None:
        actions[plain_put] = put_plain
        seconds[plain_put] = []
    # A first upload through each store, untimed: the client's one-time growth (an S3
    # client's runtime, connection pool and allocator arenas) is not per-upload memory.
    first: dict[str, float] = {}
    for name, store in ours.items():
        await uploading(name, store)()
        first[name] = memory[name].pop()
    order = list(actions)
    for round_ in range(rounds):
        # Each round in another order, each figure from a clean page cache's writeback
        # (the sync before it is not timed): else the dirty pages one copy leaves are
        # written out during the next one, and charged to it.
        for name in order[round_ % len(order):] + order[:round_ % len(order)]:
            await asyncio.to_thread(os.sync)
            started = time.perf_counter()
            await actions[name]()
            seconds[name].append(time.perf_counter() - started)
        print(f"  round {round_ + 1} done")

    baseline = size / MB / statistics.median(seconds["shutil.copyfile (baseline)"])
    print()
    print(f"| Figure ({size // MB} MB) | MB/s | Ratio to copyfile | RSS growth (MB) |")
    print("|---|---:|---:|---:|")
    for name, times in seconds.items():
        rate = size / MB / statistics.median(times)
        grown = f"{max(memory[name]):.1f}" if name in memory else ""
        print(f"| {name} | {rate:,.0f} | {rate / baseline:.2f} | {grown} |")
    print()
    print("RSS growth: the highest over the rounds, against the level just before each "
          "upload; the first upload in the process (untimed) grew it by " + ", ".join(
              f"{grown:.1f} MB ({name.split(':')[0]})" for name, grown in first.items()) + ".")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--mb", type=positive_int, default=200,
                        help="size of the uploaded file in MB (default 200)")
    parser.add_argument("--rounds", type=positive_int, default=5)
    parser.add_argument("--no-s3", action="store_true", help="the disk store only")
    args = parser.parse_args()
    asyncio.run(run(args.mb, args.rounds, not args.no_s3))


if __name__ == "__main__":
    main()
