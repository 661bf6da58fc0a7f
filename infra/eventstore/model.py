"""What the event store takes and gives, and the port every adapter implements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class NewEvent(BaseModel):
    """An event to append. The caller (the workflow) chooses `event_id`, so a retried
    append is recognised and stores nothing twice."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    event_type: str
    schema_version: int = Field(ge=1)
    data: dict[str, Any]
    # correlation_id, causation_id, actor, workflow_id, run_id (when there is one).
    metadata: dict[str, Any] = Field(default_factory=dict)


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


class AppendResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream_id: str
    positions: tuple[int, ...]
    next_expected_version: int
    # True when the whole batch was already stored (an idempotent retry).
    duplicate: bool = False


class EventStoreError(Exception):
    pass


class ConcurrencyError(EventStoreError):
    """The stream is not at the expected version; nothing was written."""

    def __init__(self, stream_id: str, expected: int, actual: int | None) -> None:
        at = f"is at version {actual}" if actual is not None else "has moved on"
        super().__init__(f"stream {stream_id} {at}, expected {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class IdempotencyConflict(EventStoreError):
    """An event id is already stored with different content; nothing was written."""


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
