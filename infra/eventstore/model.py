"""What the event store takes and gives, and the port every adapter implements.

The writing half (`NewEvent`, `AppendResult`, the append errors) is defined beside the
activities that use it (`activities/ports.py`), so the activities depend on a port and
never on this package; `infra.eventstore` exports both halves together."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from activities.ports import AppendResult, NewEvent


class LogCursor(NamedTuple):
    """A place in the global log. The log's order is (tx_id, position): see the migration."""

    tx_id: int
    position: int


START = LogCursor(0, 0)


class RecordedEvent(NamedTuple):
    """A stored event as read back. A named tuple, not a pydantic model or a frozen
    dataclass: catch-up reads build hundreds of thousands of these a second from rows
    already in shape, and a tuple is the cheapest immutable record to build. The field
    order is the column order of the store's SELECTs."""

    position: int
    tx_id: int
    stream_id: str
    stream_version: int
    event_id: UUID
    event_type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime

    @property
    def cursor(self) -> LogCursor:
        return LogCursor(self.tx_id, self.position)


class EventStore(Protocol):
    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult: ...

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        """Events of one stream with stream_version >= from_version, in order."""
        ...

    async def stream_version(self, stream_id: str) -> int: ...

    async def read_all(
        self, after: LogCursor = START, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        """The next page of the global log after `after`, gap-free: an event that
        commits late is never passed over. Optionally only the given event types."""
        ...
