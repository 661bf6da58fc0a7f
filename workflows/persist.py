"""Persisting a workflow's domain events through the append activity, the same way for
every workflow: ids from the stream and version (stable across retries, restarts and
continue-as-new), the expected version, and metadata naming who and which run."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import APPEND_EVENTS, AppendRequest, AppendResponse
    from activities.ports import NewEvent
    from domain import events
    from workflows.actors import RequestContext

T = TypeVar("T")
E = TypeVar("E", bound=events.Event)
# Appends, scoring, the catalog and the cohort's query run as local activities: in the
# worker that runs the workflow task, with no round trip through the server's activity
# queue, so a command completes in one workflow task instead of two with an activity task
# between them. They are short and idempotent (an append retried after a crash finds its
# events by id), which is what local activities are for. Mail stays a regular activity: it
# retries for hours and heartbeats. Runs recorded before replay as they ran.
LOCAL_ACTIVITIES = "local-activities"


async def execute_short_activity(name: str, arg: Any, *, result_type: type[T], summary: str,
                                 retry_policy: RetryPolicy | None = None) -> T:
    """A short database call or computation: locally in this worker (see above)."""
    if workflow.patched(LOCAL_ACTIVITIES):
        result: T = await workflow.execute_local_activity(
            name, arg, result_type=result_type, start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=retry_policy, summary=summary)
    else:
        result = await workflow.execute_activity(
            name, arg, result_type=result_type, start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=retry_policy, summary=summary)
    return result


# Event ids are uuid5(namespace, "<stream>:<version>"), never drawn from the run id.
EVENT_ID_NAMESPACE = uuid.UUID("5b0f1c2e-8f43-4a53-9a7e-0c5d2b8e9a10")
# Every activity of ours is a short database call or a computation.
ACTIVITY_TIMEOUT = timedelta(seconds=10)
APPEND_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200),
                           maximum_interval=timedelta(seconds=10),
                           non_retryable_error_types=["ConcurrencyError", "IdempotencyConflict"])


class StreamAhead(Exception):
    """The stream holds events its workflow did not know (`append_events` with
    `fold_ahead`): its record, to fold before deciding the command again."""

    def __init__(self, events: Sequence[events.Event]) -> None:
        super().__init__(f"the stream is {len(events)} events ahead")
        self.events = list(events)


def event_id(stream: str, version: int) -> uuid.UUID:
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{stream}:{version}")


def new_events(stream: str, expected_version: int, batch: Sequence[events.Event],
               metadata: dict[str, str]) -> tuple[NewEvent, ...]:
    """The envelopes of `batch`, to be appended after `expected_version`."""
    return tuple(NewEvent(event_id=event_id(stream, expected_version + i + 1),
                          event_type=event.TYPE, schema_version=event.SCHEMA_VERSION,
                          data=events.event_to_data(event), metadata=metadata)
                 for i, event in enumerate(batch))


async def append_events(stream: str, expected_version: int, batch: Sequence[E], *,
                        context: RequestContext, correlation: str,
                        causation: str = "", fold_ahead: bool = False) -> Sequence[E]:
    """Persist `batch` after `expected_version`; the metadata names who (the context's
    actor), why (correlation: the request, else `correlation`) and which run. The events
    stored: `batch`, or what an earlier execution of the same command stored under its
    ids (activities/append.py says when), which the caller must fold instead. With
    `fold_ahead` (the stream's own workflow), a stream already past `expected_version`
    with that workflow's events raises `StreamAhead` with them, nothing appended."""
    info = workflow.info()
    metadata = {"actor": context.actor_id, "actor_role": context.actor_role,
                "correlation_id": context.correlation_id or correlation,
                "causation_id": causation, "workflow_id": info.workflow_id,
                "run_id": info.run_id}
    kinds = ", ".join(dict.fromkeys(event.TYPE for event in batch))
    done = await execute_short_activity(
        APPEND_EVENTS,
        AppendRequest(stream_id=stream, expected_version=expected_version,
                      events=new_events(stream, expected_version, batch, metadata),
                      fold_ahead=fold_ahead),
        result_type=AppendResponse, retry_policy=APPEND_RETRY,
        summary=f"append {len(batch)} event{'s' if len(batch) != 1 else ''} at "
                f"v{expected_version + 1}: {kinds}")
    if done.ahead:
        raise StreamAhead([events.event_from_data(stored.event_type, stored.data)
                           for stored in done.ahead])
    if not done.adopted:
        return batch
    return [type(event).model_validate(stored.data)  # the same types, checked by the store
            for event, stored in zip(batch, done.adopted, strict=True)]
