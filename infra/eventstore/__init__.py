"""The event store port and its adapters (in-memory and PostgreSQL)."""

from infra.eventstore.model import (
    START,
    AppendResult,
    ConcurrencyError,
    EventStore,
    EventStoreError,
    IdempotencyConflict,
    LogCursor,
    NewEvent,
    RecordedEvent,
)

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
