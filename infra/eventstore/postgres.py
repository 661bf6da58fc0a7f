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


def _log_page_sql(*, of_types: bool, omit_keys: bool) -> str:
    """A page of the log in its gap-free order.

    Only transactions below the snapshot's xmin are certainly finished, so the rows they
    wrote are final: a page never includes a row while an earlier one in the log order may
    still appear. (Ordering by position alone would skip a row whose transaction took its
    position first but committed after a later one was read.)"""
    columns = _COLUMNS.replace("data,", "data - $5::text[] AS data,") if omit_keys else _COLUMNS
    types = "AND event_type = ANY($4::text[])" if of_types else "AND $4::text[] IS NULL"
    return f"""
SELECT {columns} FROM wwc_events
 WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
   AND (tx_id, position) > ($1, $2)
   {types}
 ORDER BY tx_id, position
 LIMIT $3"""


_PAGE_SQL = {(t, o): _log_page_sql(of_types=t, omit_keys=o)
             for t in (False, True) for o in (False, True)}


def _recorded(row: asyncpg.Record) -> RecordedEvent:
    # Rows come from our own table, already in shape, columns in the dataclass's order.
    return RecordedEvent(*row)


async def fetch_log_page(
    conn: Connection | asyncpg.Pool[Any],
    after: LogCursor = START,
    limit: int = 1000,
    types: Sequence[str] | None = None,
    omit_data_keys: Sequence[str] = (),
) -> list[RecordedEvent]:
    """`omit_data_keys` drops top-level keys of `data` on the server (a projection that
    never reads an event's report need not receive and decode it)."""
    sql = _PAGE_SQL[(types is not None, bool(omit_data_keys))]
    args: list[Any] = [after.tx_id, after.position, limit,
                       list(types) if types is not None else None]
    if omit_data_keys:
        args.append(list(omit_data_keys))
    rows = await conn.fetch(sql, *args)
    return [_recorded(row) for row in rows]


class PostgresEventStore:
    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        payload = [{"event_id": str(e.event_id), "event_type": e.event_type,
                    "schema_version": e.schema_version, "data": e.data, "metadata": e.metadata}
                   for e in events]
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
