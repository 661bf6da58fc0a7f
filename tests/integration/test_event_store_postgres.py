"""What only the PostgreSQL store can show: late commits, the append-only guard, the hash
chain, upcasting on read and the migration runner."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.append import AppendActivities
from activities.contracts import AppendRequest
from domain.events import CityJoined
from infra.eventstore import START, ConcurrencyError, IdempotencyConflict, NewEvent
from infra.eventstore.mapper import Upcasters, decode
from infra.postgres.db import connect
from infra.postgres.eventstore import PostgresEventStore
from infra.postgres.migrate import migrate, migrations
from infra.postgres.verify import verify_chains
from workflows.persist import new_events


def new(**data: Any) -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), event_type="thing.happened", schema_version=1,
                    data=data or {"n": 1})


@pytest.mark.parametrize("slow_first", ["position", "transaction id"])
async def test_an_event_committed_late_is_not_skipped(
    pool: asyncpg.Pool[Any], db_url: str, slow_first: str
) -> None:
    """A slow writer stays open while a fast one commits. Whichever of them took its
    position or its transaction id first, a reader never moves past the slow one."""
    store = PostgresEventStore(pool)
    slow = await connect(db_url)
    append_slow = ("SELECT * FROM wwc_append('slow', 0, $1::jsonb)",
                   [new(n="slow").model_dump(mode="json")])
    try:
        transaction = slow.transaction()
        await transaction.start()
        if slow_first == "position":
            await slow.fetch(*append_slow)
            await store.append("fast", 0, [new(n="fast")])
        else:
            await slow.fetchval("SELECT pg_current_xact_id()")
            await store.append("fast", 0, [new(n="fast")])  # takes the lower position
            await slow.fetch(*append_slow)
        assert await store.read_all(START) == []  # nothing past the open transaction
        await transaction.commit()
    finally:
        await slow.close()
    page = await store.read_all(START)
    assert sorted(e.data["n"] for e in page) == ["fast", "slow"]
    assert page[0].data["n"] == "slow"  # the log's order is the order transactions began


@pytest.mark.parametrize("statement", [
    "UPDATE wwc_events SET data = '{}'::jsonb",
    "DELETE FROM wwc_events",
    "TRUNCATE wwc_events",
])
async def test_the_server_refuses_to_change_events(pool: asyncpg.Pool[Any],
                                                   statement: str) -> None:
    await PostgresEventStore(pool).append("s", 0, [new()])
    with pytest.raises(asyncpg.PostgresError, match="append-only") as refused:
        await pool.execute(statement)
    assert refused.value.sqlstate == "WW003"
    assert await pool.fetchval("SELECT count(*) FROM wwc_events") == 1


async def _tamper(pool: asyncpg.Pool[Any], sql: str) -> None:
    """What an attacker with superuser rights would do: lift the guard, change, restore."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE wwc_events DISABLE TRIGGER wwc_events_append_only")
        await conn.execute(sql)
        await conn.execute("ALTER TABLE wwc_events ENABLE TRIGGER wwc_events_append_only")


async def test_verify_passes_an_intact_log_and_finds_an_altered_event(
    pool: asyncpg.Pool[Any],
) -> None:
    store = PostgresEventStore(pool)
    for stream in ("a", "b"):
        await store.append(stream, 0, [new(n=1), new(n=2), new(n=3)])
    async with pool.acquire() as conn:
        intact = await verify_chains(conn)
    assert (intact.events, intact.streams, intact.breaks) == (6, 2, [])

    target = (await store.read_stream("b"))[1]
    await _tamper(pool, f"UPDATE wwc_events SET data = '{{\"n\": 99}}' "
                        f"WHERE position = {target.position}")
    async with pool.acquire() as conn:
        result = await verify_chains(conn)
    first = result.first_break
    assert first is not None
    assert (first.stream_id, first.stream_version) == ("b", 2)
    assert "altered" in first.reason


async def test_verify_finds_a_removed_event(pool: asyncpg.Pool[Any]) -> None:
    store = PostgresEventStore(pool)
    await store.append("a", 0, [new(n=1), new(n=2), new(n=3)])
    await _tamper(pool, "DELETE FROM wwc_events WHERE stream_version = 2")
    async with pool.acquire() as conn:
        first = (await verify_chains(conn)).first_break
    assert first is not None
    assert (first.stream_id, first.stream_version) == ("a", 3)


async def test_upcasters_apply_on_read_and_never_rewrite_rows(pool: asyncpg.Pool[Any]) -> None:
    store = PostgresEventStore(pool)
    # A row stored under an older schema: population was called `residents`.
    old = {"city_key": "us-boise-id", "name": "Boise, ID", "country": "US",
           "residents": 235_000, "on": "2024-01-02"}
    await store.append("city/us-boise-id", 0, [NewEvent(
        event_id=uuid.uuid4(), event_type="city.joined", schema_version=1, data=old)])
    upcasters = Upcasters({"city.joined": 2})

    @upcasters.register("city.joined", 1)
    def _rename(data: dict[str, Any]) -> dict[str, Any]:
        data["population"] = data.pop("residents")
        return data

    (stored,) = await store.read_stream("city/us-boise-id")
    event = decode(stored, upcasters)
    assert isinstance(event, CityJoined)
    assert event.population == 235_000
    raw = await pool.fetchval("SELECT data FROM wwc_events")
    assert raw == old


async def test_domain_events_round_trip_through_the_store(pool: asyncpg.Pool[Any]) -> None:
    store = PostgresEventStore(pool)
    joined = CityJoined(city_key="co-medellin", name="Medellín", country="CO",
                        population=2_500_000, on="2023-09-01")
    await store.append("city/co-medellin", 0,
                       new_events("city/co-medellin", 0, [joined], {"actor": "ops"}))
    (stored,) = await store.read_stream("city/co-medellin")
    assert decode(stored) == joined
    assert stored.metadata == {"actor": "ops"}
    assert json.dumps(stored.data, ensure_ascii=False).count("Medellín") == 1


async def test_migrations_apply_once_and_are_recorded(db_url: str) -> None:
    conn = await connect(db_url)
    try:
        assert await migrate(conn) == []  # the template was migrated already
        recorded = await conn.fetch("SELECT version, name FROM wwc_schema_migrations "
                                    "ORDER BY version")
        assert [(r["version"], r["name"]) for r in recorded] == [
            (m.version, m.name) for m in migrations()]
    finally:
        await conn.close()


async def _chain_is_intact(pool: asyncpg.Pool[Any]) -> bool:
    async with pool.acquire() as conn:
        return (await verify_chains(conn)).breaks == []


async def test_single_event_appends_chain_like_batches(pool: asyncpg.Pool[Any]) -> None:
    """The one-statement path (stream head remembered, or looked up) and the batch function
    write the same chain, which `wwc verify` recomputes: any difference in the digest
    would show as an altered event."""
    warm, cold = PostgresEventStore(pool), PostgresEventStore(pool, remember_heads=False)
    odd = {"name": "São Paulo \"SP\"\n\t\\ 東京 🏙", "nested": {"b": [1, 2.5, None, True],
                                                              "a": {}}, "": "empty key"}
    version = 0
    for store, size in [(warm, 1), (warm, 1), (cold, 1), (warm, 2), (warm, 1), (cold, 1)]:
        batch = [NewEvent(event_id=uuid.uuid4(), event_type="thing.happened",
                          schema_version=1, data={**odd, "v": version + k},
                          metadata={"actor": "ops", "correlation_id": "c-1"})
                 for k in range(size)]
        result = await store.append("s", version, batch)
        version = result.next_expected_version
    events = await warm.read_stream("s")
    assert [e.stream_version for e in events] == list(range(1, 8))
    assert [e.data["v"] for e in events] == list(range(7))
    assert await _chain_is_intact(pool)


async def test_a_remembered_head_never_hides_another_writer(pool: asyncpg.Pool[Any]) -> None:
    """Two processes on one stream: the first remembers version 1 as the head, the second
    moves the stream on; the first's next append at version 1 is refused, not chained."""
    first, second = PostgresEventStore(pool), PostgresEventStore(pool)
    await first.append("s", 0, [new(n=1)])
    await second.append("s", 1, [new(n=2)])
    with pytest.raises(ConcurrencyError, match="stream s is at version 2, expected 1"):
        await first.append("s", 1, [new(n=3)])
    await first.append("s", 2, [new(n=3)])
    assert [e.data["n"] for e in await first.read_stream("s")] == [1, 2, 3]
    assert await _chain_is_intact(pool)


@pytest.mark.parametrize("remember_heads", [True, False])
async def test_a_retried_single_event_is_stored_once(pool: asyncpg.Pool[Any],
                                                     remember_heads: bool) -> None:
    """An activity retried after its append committed but its answer was lost."""
    store = PostgresEventStore(pool, remember_heads=remember_heads)
    event = new(n=1)
    first = await store.append("s", 0, [event])
    again = await store.append("s", 0, [event])
    assert (again.duplicate, again.positions) == (True, first.positions)
    await store.append("s", 1, [new(n=2)])
    assert (await store.append("s", 0, [event])).duplicate
    with pytest.raises(IdempotencyConflict):
        await store.append("s", 0, [event.model_copy(update={"data": {"n": 9}})])
    assert await pool.fetchval("SELECT count(*) FROM wwc_events") == 2


# A value the database refuses: asyncpg while encoding it (an integer beyond 64 bits, a
# lone surrogate) or PostgreSQL itself (jsonb has no NUL character). No retry mends it.
UNSTORABLE = [{"n": 10**30}, {"s": "\ud800"}, {"s": "a\x00b"}]


@pytest.mark.parametrize("batch", [1, 2], ids=["one event", "a batch"])
@pytest.mark.parametrize("data", UNSTORABLE, ids=["huge integer", "surrogate", "NUL"])
async def test_a_value_the_database_refuses_is_unstorable_and_stores_nothing(
    pool: asyncpg.Pool[Any], data: dict[str, Any], batch: int
) -> None:
    from activities.ports import UnstorableEvent  # (here: new with the test)

    store = PostgresEventStore(pool)
    await store.append("s", 0, [new(n=1)])
    refused = [new(n=2), *([NewEvent(event_id=uuid.uuid4(), event_type="thing.refused",
                                     schema_version=1, data=data)])][-batch:]

    with pytest.raises(UnstorableEvent) as error:
        await store.append("s", 1, refused)

    assert str(error.value).startswith("thing.")
    assert "for s cannot be stored: " in str(error.value)
    assert repr(data["n" if "n" in data else "s"])[:8] not in str(error.value)  # no content
    assert await store.stream_version("s") == 1
    assert (await store.append("s", 1, [new(n=3)])).next_expected_version == 2


async def test_the_append_activity_refuses_an_unstorable_value_for_good(
    pool: asyncpg.Pool[Any]
) -> None:
    """Non-retryable, as invalid input with a code: the command that carried the value is
    refused instead of its workflow retrying the append forever."""
    activities = AppendActivities(PostgresEventStore(pool))
    request = AppendRequest(stream_id="s", expected_version=0,
                            events=(new(n=10**30),))

    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(activities.append_events, request)

    assert refused.value.non_retryable
    assert refused.value.type == "unstorable_value"
    assert refused.value.details == ("invalid_input",)
    assert await PostgresEventStore(pool).stream_version("s") == 0
