"""An in-memory event store with the same contract as the PostgreSQL one (for unit tests
and as the contract suite's reference)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from activities.ports import AppendResult, ConcurrencyError, IdempotencyConflict, NewEvent
from infra.eventstore.model import START, LogCursor, RecordedEvent


class InMemoryEventStore:
    def __init__(self) -> None:
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._by_id: dict[str, RecordedEvent] = {}
        self._lock = asyncio.Lock()

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        async with self._lock:
            stream = self._streams.get(stream_id, [])
            if len(stream) != expected_version:
                return self._replayed(stream_id, expected_version, events, len(stream))
            for event in events:
                if str(event.event_id) in self._by_id:
                    raise IdempotencyConflict(
                        f"event {event.event_id} is already stored with different content")
            now = datetime.now(UTC)
            recorded = [
                RecordedEvent(position=len(self._log) + i + 1, tx_id=len(self._log) + 1,
                              stream_id=stream_id, stream_version=expected_version + i + 1,
                              event_id=e.event_id, event_type=e.event_type,
                              schema_version=e.schema_version, data=e.data,
                              metadata=e.metadata, recorded_at=now)
                for i, e in enumerate(events)
            ]
            self._log.extend(recorded)
            self._streams[stream_id] = [*stream, *recorded]
            self._by_id.update({str(r.event_id): r for r in recorded})
            return AppendResult(stream_id=stream_id, positions=tuple(r.position for r in recorded),
                                next_expected_version=expected_version + len(events))

    def _replayed(
        self, stream_id: str, expected: int, events: Sequence[NewEvent], actual: int
    ) -> AppendResult:
        stored = [self._by_id.get(str(e.event_id)) for e in events]
        if stored[0] is None:
            raise ConcurrencyError(stream_id, expected, actual)
        for offset, (event, row) in enumerate(zip(events, stored, strict=True)):
            if row is None or (row.stream_id, row.stream_version, row.event_type,
                               row.schema_version, row.data) != (
                stream_id, expected + offset + 1, event.event_type, event.schema_version,
                event.data,
            ):
                raise IdempotencyConflict(
                    f"event {event.event_id} is already stored with different content")
        return AppendResult(stream_id=stream_id,
                            positions=tuple(r.position for r in stored if r is not None),
                            next_expected_version=expected + len(events), duplicate=True)

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        return [e for e in self._streams.get(stream_id, []) if e.stream_version >= from_version]

    async def last_event(self, stream_id: str) -> RecordedEvent | None:
        stored = await self.read_stream(stream_id)
        return stored[-1] if stored else None

    async def stream_version(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, []))

    async def read_all(
        self, after: LogCursor = START, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        wanted = set(types) if types is not None else None
        page = [e for e in self._log if e.cursor > after
                and (wanted is None or e.event_type in wanted)]
        return page[:limit]
