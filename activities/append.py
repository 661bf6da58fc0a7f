"""Persisting domain events. Idempotent: the workflow chooses the event ids and the
expected version, so a retry after a timeout stores nothing twice."""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import APPEND_EVENTS, AppendRequest, AppendResponse
from activities.ports import ConcurrencyError, EventAppender, IdempotencyConflict, UnstorableEvent

log = structlog.get_logger("wwc.activities")


class AppendActivities:
    def __init__(self, store: EventAppender) -> None:
        self._store = store

    @activity.defn(name=APPEND_EVENTS)
    async def append_events(self, request: AppendRequest) -> AppendResponse:
        try:
            result = await self._store.append(request.stream_id, request.expected_version,
                                              request.events)
        except (ConcurrencyError, IdempotencyConflict) as error:
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
