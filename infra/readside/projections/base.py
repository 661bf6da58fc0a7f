"""Catch-up projections: each reads the gap-free log after its checkpoint and writes its
rows and the new checkpoint in one transaction, so a crash never applies a page twice or
loses one."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, ClassVar, Protocol

import asyncpg

from infra.eventstore.mapper import current_data
from infra.eventstore.model import START, LogCursor, RecordedEvent
from infra.postgres.db import Connection
from infra.postgres.eventstore import fetch_log_page, last_below, log_bound

Row = dict[str, Any]


class Projection(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def event_types(self) -> frozenset[str]: ...

    @property
    def tables(self) -> tuple[str, ...]: ...

    @property
    def omit_data_keys(self) -> tuple[str, ...]:
        """Top-level keys of event data the projection never reads (not fetched)."""
        ...

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None: ...


class KeyedRowProjection(ABC):
    """A read model of one row per key (a city), folded from its events. A page's rows are
    loaded once, folded in memory and written back in one batch: that is what makes a
    rebuild fast."""

    name: ClassVar[str]
    table: ClassVar[str]
    key: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]
    event_types: ClassVar[frozenset[str]]
    stream_prefix: ClassVar[str]
    # The bulky parts of application events; no row-per-city read model needs them.
    omit_data_keys: ClassVar[tuple[str, ...]] = ("report", "answers")

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.table,)

    def finish(self, row: Row) -> Row:
        """Derive a row's computed columns once per page, after its events are folded."""
        return row

    @abstractmethod
    def reduce(self, row: Row | None, event_type: str, data: dict[str, Any],
               event: RecordedEvent) -> Row | None:
        """The row after the event; None deletes it."""

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        mine = [e for e in events
                if e.event_type in self.event_types and e.stream_id.startswith(self.stream_prefix)]
        if not mine:
            return
        keys = list(dict.fromkeys(e.stream_id[len(self.stream_prefix):] for e in mine))
        rows: dict[str, Row | None] = {
            r[self.key]: dict(r) for r in await conn.fetch(
                f"SELECT * FROM {self.table} WHERE {self.key} = ANY($1::text[])", keys)}
        for event in mine:
            key = event.stream_id[len(self.stream_prefix):]
            # Rows loaded or made on this page are this page's own: reduce may change them.
            rows[key] = self.reduce(rows.get(key), event.event_type, current_data(event), event)
        gone = [k for k in keys if rows.get(k) is None]
        kept = [self.finish(row) for k in keys if (row := rows.get(k)) is not None]
        if gone:
            await conn.execute(f"DELETE FROM {self.table} WHERE {self.key} = ANY($1::text[])",
                               gone)
        if kept:
            await conn.executemany(self._upsert_sql(),
                                   [tuple(row.get(c) for c in self.columns) for row in kept])

    def _upsert_sql(self) -> str:
        cols = ", ".join(self.columns)
        params = ", ".join(f"${i}" for i in range(1, len(self.columns) + 1))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in self.columns if c != self.key)
        return (f"INSERT INTO {self.table} ({cols}) VALUES ({params}) "
                f"ON CONFLICT ({self.key}) DO UPDATE SET {updates}")


def day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class Projector:
    def __init__(self, pool: asyncpg.Pool[Any], projections: Sequence[Projection],
                 page_size: int = 5000) -> None:
        self._pool = pool
        self.projections = {p.name: p for p in projections}
        self._page_size = page_size

    async def checkpoint(self, name: str) -> LogCursor:
        row = await self._pool.fetchrow(
            "SELECT tx_id, position FROM wwc_projection_checkpoints WHERE name = $1", name)
        return LogCursor(row["tx_id"], row["position"]) if row else START

    async def catch_up(self, name: str, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event not yet applied; returns how many were read."""
        projection = self.projections[name]
        total = 0
        while True:
            async with self._pool.acquire() as conn, conn.transaction():
                # One projector per projection at a time. An advisory lock, not a row lock,
                # so this transaction takes no transaction id before it reads the log.
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                                   f"wwc-projection:{name}")
                row = await conn.fetchrow(
                    "SELECT tx_id, position FROM wwc_projection_checkpoints WHERE name = $1",
                    name)
                after = LogCursor(row["tx_id"], row["position"]) if row else START
                below = await log_bound(conn)
                page = await fetch_log_page(conn, after, self._page_size,
                                            sorted(projection.event_types),
                                            projection.omit_data_keys, below=below)
                finished = len(page) < self._page_size
                # At the end, the checkpoint moves past the other types' events too (a
                # draft's saves, say), so the next catch-up does not scan them again.
                last = (await last_below(conn, below, after) if finished
                        else page[-1].cursor)
                if last is None:
                    return total
                if page:
                    await projection.apply(conn, page)
                await conn.execute(
                    "INSERT INTO wwc_projection_checkpoints (name, tx_id, position, updated_at) "
                    "VALUES ($1, $2, $3, now()) ON CONFLICT (name) DO UPDATE SET "
                    "tx_id = EXCLUDED.tx_id, position = EXCLUDED.position, updated_at = now()",
                    name, last.tx_id, last.position)
            total += len(page)
            if progress is not None and page:
                progress(len(page))
            if finished:
                return total

    async def positions(self) -> dict[str, int]:
        """Every projection's checkpoint position (0 before its first event), in one query."""
        rows = await self._pool.fetch(
            "SELECT name, position FROM wwc_projection_checkpoints")
        found = {row["name"]: row["position"] for row in rows}
        return {name: found.get(name, 0) for name in self.projections}

    async def catch_up_all(self) -> dict[str, int]:
        return {name: await self.catch_up(name) for name in self.projections}

    async def reset(self, name: str) -> None:
        """Empty the projection's tables and its checkpoint, atomically."""
        projection = self.projections[name]
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                               f"wwc-projection:{name}")
            for table in projection.tables:
                await conn.execute(f"DELETE FROM {table}")
            await conn.execute("DELETE FROM wwc_projection_checkpoints WHERE name = $1", name)

    async def rebuild(self, name: str, progress: Callable[[int], None] | None = None) -> int:
        await self.reset(name)
        return await self.catch_up(name, progress)

    async def pending(self, name: str) -> int:
        """Events of the projection's types after its checkpoint (for progress bars)."""
        after = await self.checkpoint(name)
        count = await self._pool.fetchval(
            "SELECT count(*) FROM wwc_events WHERE (tx_id, position) > ($1, $2) "
            "AND event_type = ANY($3::text[])", after.tx_id, after.position,
            sorted(self.projections[name].event_types))
        return int(count)
