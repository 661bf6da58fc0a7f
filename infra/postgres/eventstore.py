"""The PostgreSQL event store (asyncpg).

Appends take one round trip. A single event, the common case, goes in with one plain
INSERT statement (`_APPEND_ONE_AFTER` when this process knows the stream's head,
`_APPEND_ONE` otherwise) that checks the version, chains the hash and writes the row;
batches, and anything that statement cannot settle (a stale version, a retried
append), go through the `wwc_append` function, which also tells a retry from a conflict.
Reads of the global log are gap-free (see `fetch_log_page`)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import asyncpg

from activities.ports import (
    AppendResult,
    ConcurrencyError,
    IdempotencyConflict,
    NewEvent,
    UnstorableEvent,
)
from infra.eventstore.model import START, LogCursor, RecordedEvent
from infra.postgres.db import Connection

_COLUMNS = ("position, tx_id, stream_id, stream_version, event_id, event_type, "
            "schema_version, data, metadata, recorded_at")


def _log_page_sql(*, of_types: bool, omit_keys: bool, bounded: bool) -> str:
    """A page of the log in its gap-free order.

    Only transactions below the snapshot's xmin are certainly finished, so the rows they
    wrote are final: a page never includes a row while an earlier one in the log order may
    still appear. (Ordering by position alone would skip a row whose transaction took its
    position first but committed after a later one was read.) Both sides are in the log's
    own numbering (`wwc_log_xid`, `wwc_log_xmin`: the cluster's transaction ids plus the
    database's offset, see migration 010), which survives a restore into another cluster.
    `bounded`: below an xmin the caller read earlier (`log_bound`), which stays as safe a
    bound: a transaction finished then is finished now."""
    columns = _COLUMNS.replace("data,", "data - $5::text[] AS data,") if omit_keys else _COLUMNS
    types = "AND event_type = ANY($4::text[])" if of_types else "AND $4::text[] IS NULL"
    bound = (f"${6 if omit_keys else 5}::bigint" if bounded
             else "wwc_log_xmin()")
    return f"""
SELECT {columns} FROM wwc_events
 WHERE tx_id < {bound}
   AND (tx_id, position) > ($1, $2)
   {types}
 ORDER BY tx_id, position
 LIMIT $3"""


_PAGE_SQL = {(t, o, b): _log_page_sql(of_types=t, omit_keys=o, bounded=b)
             for t in (False, True) for o in (False, True) for b in (False, True)}
_LOG_BOUND_SQL = "SELECT wwc_log_xmin()"
# The last event below a bound (the log-order index, read backwards: one probe).
_LAST_BELOW_SQL = """
SELECT tx_id, position FROM wwc_events
 WHERE tx_id < $1 AND (tx_id, position) > ($2, $3)
 ORDER BY tx_id DESC, position DESC
 LIMIT 1"""


async def log_bound(conn: Connection | asyncpg.Pool[Any]) -> int:
    """Every transaction below this id is finished: the rows it wrote are final."""
    return int(await conn.fetchval(_LOG_BOUND_SQL))


async def last_below(conn: Connection | asyncpg.Pool[Any], bound: int,
                     after: LogCursor) -> LogCursor | None:
    """The log's last event after `after` below `bound`, of any type; None for none."""
    row = await conn.fetchrow(_LAST_BELOW_SQL, bound, after.tx_id, after.position)
    return LogCursor(row["tx_id"], row["position"]) if row is not None else None


# One event, one statement, in two forms. The previous hash is either the one this
# process wrote last (`_APPEND_ONE_AFTER`, given as $8) or looked up by the stream's
# unique index (`_APPEND_ONE`). Either way the unique constraint on (stream_id,
# stream_version) makes the version check exact: the row lands only if the stream is at
# $2. Zero rows (the stream is not at $2) or a unique violation (a concurrent writer, or a
# retry of an append already stored) send the caller to `wwc_append`, which says which it
# was. now() is the statement's own time: each runs as its own transaction. The digest is
# the function `wwc verify` recomputes; the planner inlines it.
#
# Two statements rather than one with a CASE over $8: both stay simple enough for
# PostgreSQL to keep one generic plan each, where the CASE made it plan every call anew.
_APPEND_ONE_AFTER = """
INSERT INTO wwc_events (stream_id, stream_version, event_id, event_type, schema_version,
                        data, metadata, recorded_at, prev_hash, hash)
VALUES ($1, $2 + 1, $3, $4, $5, $6, $7, now(), $8,
        wwc_event_digest($8, $1, $2 + 1, $3, $4, $5, $6, $7, now()))
RETURNING position, hash"""

_APPEND_ONE = """
INSERT INTO wwc_events (stream_id, stream_version, event_id, event_type, schema_version,
                        data, metadata, recorded_at, prev_hash, hash)
SELECT $1, $2 + 1, $3, $4, $5, $6, $7, now(), head.hash,
       wwc_event_digest(head.hash, $1, $2 + 1, $3, $4, $5, $6, $7, now())
  FROM (SELECT sha256(convert_to('wwc:' || $1, 'UTF8')) AS hash WHERE $2 = 0
        UNION ALL
        SELECT e.hash FROM wwc_events e WHERE e.stream_id = $1 AND e.stream_version = $2
        OFFSET 0) head
RETURNING position, hash"""


class StreamHeads:
    """The last version and hash this process wrote to each recently used stream.

    A stored event never changes (the table is append-only), so "version v of stream s
    has hash h" stays true once seen, and the next single-event append to s at v can skip
    looking it up. Whether s is still at v is not assumed: the unique (stream, version)
    constraint decides that. Bounded, least recently used first out."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._heads: OrderedDict[str, tuple[int, bytes]] = OrderedDict()

    def hash_at(self, stream_id: str, version: int) -> bytes | None:
        head = self._heads.get(stream_id)
        if head is None or head[0] != version:
            return None
        self._heads.move_to_end(stream_id)
        return head[1]

    def advance(self, stream_id: str, version: int, hash_: bytes) -> None:
        self._heads[stream_id] = (version, hash_)
        self._heads.move_to_end(stream_id)
        if len(self._heads) > self._capacity:
            self._heads.popitem(last=False)

    def forget(self, stream_id: str) -> None:
        self._heads.pop(stream_id, None)


def _recorded(row: asyncpg.Record) -> RecordedEvent:
    # Rows come from our own table, already in shape, columns in the dataclass's order.
    return RecordedEvent(*row)


async def fetch_log_page(
    conn: Connection | asyncpg.Pool[Any],
    after: LogCursor = START,
    limit: int = 1000,
    types: Sequence[str] | None = None,
    omit_data_keys: Sequence[str] = (),
    below: int | None = None,
) -> list[RecordedEvent]:
    """`omit_data_keys` drops top-level keys of `data` on the server (a projection that
    never reads an event's report need not receive and decode it); `below`, a bound from
    `log_bound` (else this statement's own)."""
    sql = _PAGE_SQL[(types is not None, bool(omit_data_keys), below is not None)]
    args: list[Any] = [after.tx_id, after.position, limit,
                       list(types) if types is not None else None]
    if omit_data_keys:
        args.append(list(omit_data_keys))
    if below is not None:
        args.append(below)
    rows = await conn.fetch(sql, *args)
    return [_recorded(row) for row in rows]


def _reason(error: Exception) -> str:
    """PostgreSQL's or asyncpg's reason, without the value it was given: asyncpg's own
    message quotes the start of the argument, which is the events' content."""
    message = str(error)
    if message.startswith("invalid input for query argument") and message.endswith(")"):
        return message[message.rfind("(") + 1:-1]
    return message.splitlines()[0] if message else type(error).__name__


class PostgresEventStore:
    """Over a pool, or over one connection (inside the caller's transaction)."""

    def __init__(self, pool: asyncpg.Pool[Any] | Connection, *,
                 remember_heads: bool = True) -> None:
        self._pool = pool
        # Off only to measure the cold path (bench/event_store.py).
        self._heads = StreamHeads() if remember_heads else None

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        try:
            if len(events) == 1:
                appended = await self._append_one(stream_id, expected_version, events[0])
                if appended is not None:
                    return appended
            if self._heads is not None:
                self._heads.forget(stream_id)
            return await self._append_batch(stream_id, expected_version, events)
        except (asyncpg.DataError, asyncpg.ProgramLimitExceededError) as error:
            # A value PostgreSQL (or asyncpg, encoding it) refuses: a number out of range,
            # text it cannot hold, a row too large. Nothing was written; no retry mends it.
            raise UnstorableEvent(
                f"{', '.join(dict.fromkeys(e.event_type for e in events))} for {stream_id} "
                f"cannot be stored: {_reason(error)}") from error

    async def _append_one(
        self, stream_id: str, expected_version: int, event: NewEvent
    ) -> AppendResult | None:
        """The single-statement path; None when `wwc_append` must settle the append."""
        heads = self._heads
        known = heads.hash_at(stream_id, expected_version) if heads is not None else None
        args = (stream_id, expected_version, event.event_id, event.event_type,
                event.schema_version, event.data, event.metadata)
        try:
            if known is None:
                row = await self._pool.fetchrow(_APPEND_ONE, *args)
            else:
                row = await self._pool.fetchrow(_APPEND_ONE_AFTER, *args, known)
        except asyncpg.UniqueViolationError:
            return None
        if row is None:
            return None
        if heads is not None:
            heads.advance(stream_id, expected_version + 1, row["hash"])
        return AppendResult(stream_id=stream_id, positions=(row["position"],),
                            next_expected_version=expected_version + 1)

    async def _append_batch(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
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

    async def last_event(self, stream_id: str) -> RecordedEvent | None:
        """The stream's newest event (its version is the stream's), None for no stream:
        one index probe, whatever the stream's length."""
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM wwc_events WHERE stream_id = $1 "
            "ORDER BY stream_version DESC LIMIT 1", stream_id)
        return _recorded(row) if row is not None else None

    async def stream_version(self, stream_id: str) -> int:
        version = await self._pool.fetchval(
            "SELECT coalesce(max(stream_version), 0) FROM wwc_events WHERE stream_id = $1",
            stream_id)
        return int(version)

    async def read_all(
        self, after: LogCursor = START, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        return await fetch_log_page(self._pool, after, limit, types)
