"""Collecting the bytes no event refers to any more (a document removed from a draft, an
upload never recorded), once they are older than a grace period.

The grace covers an upload under way: its bytes are kept (committed) before the event that
names them is appended, so a blob younger than the grace is never taken, referenced or
not. Its age is the store's (`stored_at`: a file's mtime, an object's last-modified), read
again just before each removal. The disk store renews it when the same bytes are
committed again; an S3 object's last-modified cannot be renewed without rewriting it, so
there bytes that lay unreferenced past the grace and are uploaded again may still be
taken if the event naming them is appended after `referenced` was read: read it just
before calling, to keep that window narrow."""

from __future__ import annotations

from datetime import datetime, timedelta

from infra.blobs.port import BlobStore


async def collect(store: BlobStore, referenced: set[str], *, grace: timedelta,
                  now: datetime) -> list[str]:
    """Removes every kept blob that is not in `referenced` and was stored more than
    `grace` before `now` (timezone-aware); returns their keys, in the store's order."""
    if grace < timedelta(0):
        raise ValueError("the grace period cannot be negative")
    if now.tzinfo is None:
        raise ValueError("now must carry its timezone")
    cutoff = now - grace
    candidates = [key async for key in store.keys() if key not in referenced]  # noqa: SIM118
    removed = []
    for key in candidates:
        stored_at = await store.stored_at(key)
        if stored_at is not None and stored_at < cutoff:
            await store.remove(key)
            removed.append(key)
    return removed
