"""The PostgreSQL event store (asyncpg). Appends go through the `wwc_append` function
(one round trip: version check, idempotent replay, hash chain, insert); reads of the
global log are gap-free (see `fetch_log_page`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from infra.db import Connection
from infra.eventstore.model import (
    START,
    AppendResult,
    ConcurrencyError,
    IdempotencyConflict,
    LogCursor,
    NewEvent,
    RecordedEvent,
)

_COLUMNS = ("position, tx_id, stream_id, stream_version, event_id, event_type, "
            "schema_version, data, metadata, recorded_at")

# Only transactions below the snapshot's xmin are certainly finished, so the rows they
# wrote are final: a page never includes a row while an earlier one in the log order may
# still appear. (Ordering by position alone would skip a row whose transaction took its
# position first but committed after a later one was read.)
_LOG_PAGE = f"""
SELECT {_COLUMNS} FROM wwc_events
 WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
   AND (tx_id, position) > ($1, $2)
 ORDER BY tx_id, position
 LIMIT $3"""

_LOG_PAGE_OF_TYPES = f"""
SELECT {_COLUMNS} FROM wwc_events
 WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
   AND (tx_id, position) > ($1, $2)
   AND event_type = ANY($4::text[])
 ORDER BY tx_id, position
 LIMIT $3"""


def _recorded(row: asyncpg.Record) -> RecordedEvent:
    # Rows come from our own table, already in shape: skip validation on this hot path.
    return RecordedEvent.model_construct(**dict(row))


async def fetch_log_page(
    conn: Connection | asyncpg.Pool[Any],
    after: LogCursor = START,
    limit: int = 1000,
    types: Sequence[str] | None = None,
) -> list[RecordedEvent]:
    if types is None:
        rows = await conn.fetch(_LOG_PAGE, after.tx_id, after.position, limit)
    else:
        rows = await conn.fetch(_LOG_PAGE_OF_TYPES, after.tx_id, after.position, limit,
                                list(types))
    return [_recorded(row) for row in rows]


class PostgresEventStore:
    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        payload = [e.model_dump(mode="json") for e in events]
        for attempt in (1, 2):
            try:
                rows = await self._pool.fetch("SELECT * FROM wwc_append($1, $2, $3::jsonb)",
                                              stream_id, expected_version, payload)
            except asyncpg.UniqueViolationError as error:
                if error.constraint_name == "wwc_events_event_id_key":
                    raise IdempotencyConflict(
                        f"an event id of this batch is already stored elsewhere "
                        f"({error.detail})") from None
                if attempt == 1:
                    # A concurrent writer took the version first; the second call sees it
                    # and answers "duplicate" (the same batch) or a concurrency error.
                    continue
                raise ConcurrencyError(stream_id, expected_version, None) from None
            except asyncpg.PostgresError as error:
                if error.sqlstate == "WW001":
                    raise ConcurrencyError(stream_id, expected_version,
                                           int(error.detail or -1)) from None
                if error.sqlstate == "WW002":
                    raise IdempotencyConflict(str(error)) from None
                raise
            return AppendResult(
                stream_id=stream_id,
                positions=tuple(r["out_position"] for r in rows),
                next_expected_version=expected_version + len(events),
                duplicate=all(r["out_duplicate"] for r in rows),
            )
        raise AssertionError("unreachable")

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM wwc_events WHERE stream_id = $1 AND stream_version >= $2 "
            "ORDER BY stream_version", stream_id, from_version)
        return [_recorded(row) for row in rows]

    async def stream_version(self, stream_id: str) -> int:
        version = await self._pool.fetchval(
            "SELECT coalesce(max(stream_version), 0) FROM wwc_events WHERE stream_id = $1",
            stream_id)
        return int(version)

    async def read_all(
        self, after: LogCursor = START, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        return await fetch_log_page(self._pool, after, limit, types)
