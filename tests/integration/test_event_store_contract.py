"""One contract for the event store port, run against the in-memory and the PostgreSQL
adapters alike."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import asyncpg
import pytest

from infra.eventstore import (
    START,
    ConcurrencyError,
    EventStore,
    IdempotencyConflict,
    NewEvent,
    RecordedEvent,
)
from infra.eventstore.memory import InMemoryEventStore
from infra.postgres.eventstore import PostgresEventStore


@pytest.fixture(params=["memory", "postgres"])
def store(request: pytest.FixtureRequest) -> EventStore:
    # A plain fixture, so it may ask for the async `pool` fixture only when needed.
    if request.param == "memory":
        return InMemoryEventStore()
    pool: asyncpg.Pool[Any] = request.getfixturevalue("pool")
    return PostgresEventStore(pool)


def new(kind: str = "thing.happened", **data: Any) -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), event_type=kind, schema_version=1,
                    data=data or {"n": 1}, metadata={"actor": "test"})


async def read_everything(store: EventStore, page: int = 7) -> list[RecordedEvent]:
    events: list[RecordedEvent] = []
    cursor = START
    while batch := await store.read_all(cursor, page):
        events.extend(batch)
        cursor = batch[-1].cursor
    return events


async def test_appends_and_reads_a_stream_in_order(store: EventStore) -> None:
    first = await store.append("s-1", 0, [new(n=1), new(n=2)])
    second = await store.append("s-1", 2, [new(n=3)])
    assert first.next_expected_version == 2
    assert second.next_expected_version == 3
    events = await store.read_stream("s-1")
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert [e.data["n"] for e in events] == [1, 2, 3]
    assert events[0].metadata == {"actor": "test"}
    assert await store.stream_version("s-1") == 3
    assert [e.stream_version for e in await store.read_stream("s-1", from_version=2)] == [2, 3]
    assert await store.stream_version("nothing-here") == 0


async def test_a_stale_expected_version_writes_nothing(store: EventStore) -> None:
    await store.append("s-1", 0, [new()])
    with pytest.raises(ConcurrencyError, match="stream s-1 is at version 1, expected 0"):
        await store.append("s-1", 0, [new(), new()])
    with pytest.raises(ConcurrencyError):
        await store.append("s-1", 5, [new()])
    assert await store.stream_version("s-1") == 1
    assert len(await read_everything(store)) == 1


async def test_a_retried_batch_is_stored_once(store: EventStore) -> None:
    batch = [new(n=1), new(n=2)]
    first = await store.append("s-1", 0, batch)
    again = await store.append("s-1", 0, batch)
    assert again.duplicate
    assert not first.duplicate
    assert again.positions == first.positions
    await store.append("s-1", 2, [new(n=3)])
    late = await store.append("s-1", 0, batch)  # a retry arriving after later appends
    assert late.duplicate
    assert len(await store.read_stream("s-1")) == 3


async def test_the_same_event_id_with_other_content_is_refused(store: EventStore) -> None:
    event = new(n=1)
    await store.append("s-1", 0, [event])
    altered = event.model_copy(update={"data": {"n": 2}})
    with pytest.raises(IdempotencyConflict):
        await store.append("s-1", 0, [altered])
    with pytest.raises(IdempotencyConflict):
        await store.append("s-2", 0, [event])  # an id reused in another stream
    assert len(await read_everything(store)) == 1


async def test_reads_the_log_in_pages_and_by_type(store: EventStore) -> None:
    for i in range(10):
        await store.append(f"s-{i % 3}", i // 3, [new("a.x" if i % 2 else "b.y", n=i)])
    everything = await read_everything(store, page=3)
    assert [e.data["n"] for e in everything] == list(range(10))
    only_a = await store.read_all(START, 100, types=["a.x"])
    assert [e.data["n"] for e in only_a] == [1, 3, 5, 7, 9]


async def test_concurrent_writers_at_one_version_exactly_one_wins(store: EventStore) -> None:
    await store.append("s-1", 0, [new()])
    results = await asyncio.gather(*(store.append("s-1", 1, [new(n=i)]) for i in range(8)),
                                   return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, ConcurrencyError) for r in losers)
    assert await store.stream_version("s-1") == 2


async def test_tailing_reader_sees_every_event_once_while_writers_run(store: EventStore) -> None:
    """Concurrent writers and a concurrent tailing reader: what was read equals what was
    written, nothing skipped or repeated, and each batch stays contiguous."""
    written: list[uuid.UUID] = []
    writers_done = asyncio.Event()

    async def writer(w: int) -> None:
        version = 0
        for i in range(25):
            batch = [new(w=w, i=i, k=k) for k in range(1 + i % 3)]
            await store.append(f"w-{w}", version, batch)
            version += len(batch)
            written.extend(e.event_id for e in batch)
            await asyncio.sleep(0)

    async def reader() -> list[RecordedEvent]:
        seen: list[RecordedEvent] = []
        cursor = START
        while True:
            finished = writers_done.is_set()
            page = await store.read_all(cursor, 13)
            seen.extend(page)
            if page:
                cursor = page[-1].cursor
            elif finished:
                return seen
            await asyncio.sleep(0)

    tail = asyncio.create_task(reader())
    await asyncio.gather(*(writer(w) for w in range(6)))
    writers_done.set()
    seen = await tail
    ids = [e.event_id for e in seen]
    assert len(ids) == len(set(ids)), "an event was read twice"
    assert set(ids) == set(written), "an event was skipped"
    by_stream: dict[str, list[int]] = {}
    for e in seen:
        by_stream.setdefault(e.stream_id, []).append(e.stream_version)
    assert all(v == list(range(1, len(v) + 1)) for v in by_stream.values())
    # A batch is one transaction: its events are never interleaved with another's.
    for e, following in itertools.pairwise(seen):
        if following.data["w"] == e.data["w"] and following.data["i"] == e.data["i"]:
            assert following.data["k"] == e.data["k"] + 1
