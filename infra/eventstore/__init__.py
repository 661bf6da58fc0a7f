"""The event store port and its adapters (in-memory and PostgreSQL)."""

from activities.ports import (
    AppendResult,
    ConcurrencyError,
    EventStoreError,
    IdempotencyConflict,
    NewEvent,
)
from infra.eventstore.model import START, EventStore, LogCursor, RecordedEvent

__all__ = [
    "START",
    "AppendResult",
    "ConcurrencyError",
    "EventStore",
    "EventStoreError",
    "IdempotencyConflict",
    "LogCursor",
    "NewEvent",
    "RecordedEvent",
]
