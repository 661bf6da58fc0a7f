"""Persisting a workflow's domain events through the append activity, the same way for
every workflow: ids from the stream and version (stable across retries, restarts and
continue-as-new), the expected version, and metadata naming who and which run."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import APPEND_EVENTS, AppendRequest, AppendResponse, EventEnvelope
    from domain import events as e

# Event ids are uuid5(namespace, "<stream>:<version>"), never drawn from the run id.
EVENT_ID_NAMESPACE = uuid.UUID("5b0f1c2e-8f43-4a53-9a7e-0c5d2b8e9a10")
STORE_TIMEOUT = timedelta(seconds=10)
STORE_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200),
                          maximum_interval=timedelta(seconds=10),
                          non_retryable_error_types=["ConcurrencyError", "IdempotencyConflict"])


def event_id(stream: str, version: int) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{stream}:{version}"))


async def append_events(stream: str, expected_version: int, events: Sequence[e.Event], *,
                        actor: str, correlation: str, causation: str = "") -> None:
    info = workflow.info()
    await workflow.execute_activity(
        APPEND_EVENTS,
        AppendRequest(
            stream_id=stream, expected_version=expected_version,
            events=tuple(EventEnvelope(event_id=event_id(stream, expected_version + i + 1),
                                       event_type=ev.TYPE, schema_version=ev.SCHEMA_VERSION,
                                       data=e.event_to_data(ev))
                         for i, ev in enumerate(events)),
            metadata={"actor": actor, "correlation_id": correlation, "causation_id": causation,
                      "workflow_id": info.workflow_id, "run_id": info.run_id}),
        result_type=AppendResponse, start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY)
