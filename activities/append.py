"""Persisting domain events. Idempotent: the workflow chooses the event ids and the
expected version, so a retry after a timeout stores nothing twice.

One retry is not a retry of the same append: when a workflow task is lost while its
append is on its way (the server timed it out, its worker died), the workflow runs the
command again from its last recorded state, and decides it again, possibly a program day
later; meanwhile the first append may land. The second batch then meets the first under
the same ids with other content (its date). When the stored events are the same
command's (the same types, run, correlation and causation: the same update), they are
its record, and the workflow takes them as its own (`adopted`) instead of failing the command
and leaving its stream ahead of its state for good.

The retried task need not run the same command again: a command ordered first (a timer,
another update), or the same one decided otherwise (refused, on a later program day), meets
the lost task's events under its ids. When the stream's own workflow asks (`fold_ahead`)
and every event past its version is that workflow's, they come back as `ahead`: the log is
the record, the workflow folds them and decides its command again on top of them."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import APPEND_EVENTS, AppendRequest, AppendResponse, StoredBatch
from activities.ports import (
    ConcurrencyError,
    EventAppender,
    IdempotencyConflict,
    NewEvent,
    StoredEvent,
    UnstorableEvent,
)

log = structlog.get_logger("wwc.activities")


class AppendActivities:
    def __init__(self, store: EventAppender) -> None:
        self._store = store

    @activity.defn(name=APPEND_EVENTS)
    async def append_events(self, request: AppendRequest) -> AppendResponse:
        try:
            result = await self._store.append(request.stream_id, request.expected_version,
                                              request.events)
        except IdempotencyConflict as error:
            stored = await self._store.read_stream(request.stream_id,
                                                   request.expected_version + 1)
            if not _same_command(stored[:len(request.events)], request.events):
                if request.fold_ahead and _same_workflow(stored, request.events):
                    log.warning("the stream is ahead of its workflow: its events are folded",
                                stream_id=request.stream_id,
                                expected_version=request.expected_version,
                                types=[e.event_type for e in stored])
                    return AppendResponse(
                        positions=(), duplicate=False,
                        next_expected_version=request.expected_version,
                        ahead=tuple(StoredBatch(event_type=e.event_type, data=e.data)
                                    for e in stored))
                raise ApplicationError(str(error), type=type(error).__name__,
                                       non_retryable=True) from error
            log.warning("events of an earlier execution of the command adopted",
                        stream_id=request.stream_id,
                        types=[e.event_type for e in request.events])
            return AppendResponse(
                positions=(), duplicate=True,
                next_expected_version=request.expected_version + len(request.events),
                adopted=tuple(StoredBatch(event_type=e.event_type, data=e.data)
                              for e in stored[:len(request.events)]))
        except ConcurrencyError as error:
            # Retrying cannot help: the stream moved on without this workflow, or an id was
            # reused. Fail the command that caused it; nothing was written.
            raise ApplicationError(str(error), type=type(error).__name__,
                                   non_retryable=True) from error
        except UnstorableEvent as error:
            # A value the database refuses (retrying it would keep the city's workflow
            # busy forever): the command that carried it is refused as invalid input,
            # with a code the front doors show, and nothing is stored.
            raise ApplicationError(str(error), "invalid_input", type="unstorable_value",
                                   non_retryable=True) from error
        log.info("events appended", stream_id=request.stream_id,
                 types=[e.event_type for e in request.events],
                 version=result.next_expected_version, duplicate=result.duplicate)
        return AppendResponse(positions=result.positions,
                              next_expected_version=result.next_expected_version,
                              duplicate=result.duplicate)


def _same_workflow(stored: Sequence[StoredEvent], batch: Sequence[NewEvent]) -> bool:
    """Whether every event in `stored` was stored by `batch`'s workflow (any of its runs:
    a run continued as new carries its predecessor's state), so it can fold them."""
    workflow_id = batch[0].metadata.get("workflow_id") if batch else None
    return bool(workflow_id) and bool(stored) and all(
        old.metadata.get("workflow_id") == workflow_id for old in stored)


def _same_command(stored: Sequence[StoredEvent], batch: Sequence[NewEvent]) -> bool:
    """Whether `stored` is what an earlier execution of `batch`'s command stored: one
    event per event of the batch, of the same types, from the same workflow run, request
    (correlation) and command (causation). The run matters: a workflow started again
    under the same id (a cohort re-created) is not the one that stored them."""
    keys = ("workflow_id", "run_id", "correlation_id", "causation_id")
    return bool(batch) and len(stored) == len(batch) and all(
        old.event_type == new.event_type
        and all(new.metadata.get(k) and old.metadata.get(k) == new.metadata.get(k)
                for k in keys)
        for old, new in zip(stored, batch, strict=True))
