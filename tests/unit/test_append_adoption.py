"""The append activity and a command decided again after its workflow task was lost: the
events its first execution stored under the same ids are adopted as its record when they
are the same command's (same run, request and command); anyone else's still conflict,
unless the stream's own workflow asks for what is ahead, to fold it."""

from __future__ import annotations

from datetime import date

import pytest
from temporalio.exceptions import ApplicationError

from activities.append import AppendActivities
from activities.contracts import AppendRequest
from domain import events as e
from infra.eventstore.memory import InMemoryEventStore
from workflows.persist import new_events

STREAM = "city/us-x"
META = {"actor": "operator", "actor_role": "operator", "correlation_id": "update:U",
        "causation_id": "AssignReviewer", "workflow_id": STREAM, "run_id": "run-1"}


def _request(on: date, **metadata: str) -> AppendRequest:
    batch = [e.ReviewerAssigned(reviewer="rfa", on=on)]
    return AppendRequest(stream_id=STREAM, expected_version=0,
                         events=new_events(STREAM, 0, batch, META | metadata))


def _folding(request: AppendRequest) -> AppendRequest:
    return request.model_copy(update={"fold_ahead": True})


async def test_the_same_commands_earlier_events_are_adopted() -> None:
    store = InMemoryEventStore()
    append = AppendActivities(store).append_events
    first = await append(_request(date(2023, 1, 2)))
    assert first.adopted == ()
    again = await append(_request(date(2023, 1, 3)))  # decided again, a day later
    assert again.duplicate
    assert [(b.event_type, b.data["on"]) for b in again.adopted] == [
        ("review.reviewer_assigned", "2023-01-02")]
    assert len(await store.read_stream(STREAM)) == 1


@pytest.mark.parametrize("other", [{"correlation_id": "update:V"},
                                   {"causation_id": "RecordReviews"},
                                   {"run_id": "run-2"}],
                         ids=["another request", "another command", "another run"])
async def test_anyone_elses_events_still_conflict(other: dict[str, str]) -> None:
    store = InMemoryEventStore()
    append = AppendActivities(store).append_events
    await append(_request(date(2023, 1, 2)))
    with pytest.raises(ApplicationError) as conflict:
        await append(_request(date(2023, 1, 3), **other))
    assert conflict.value.type == "IdempotencyConflict"


async def test_the_streams_own_workflow_gets_what_is_ahead_to_fold() -> None:
    """A lost task's events, met by another request of the same workflow (any run of it):
    handed back to fold, nothing appended; another workflow's still conflict."""
    store = InMemoryEventStore()
    append = AppendActivities(store).append_events
    await append(_request(date(2023, 1, 2)))
    ahead = await append(_folding(_request(date(2023, 1, 3), run_id="run-2",
                                           correlation_id="update:V")))
    assert (ahead.adopted, ahead.duplicate, ahead.next_expected_version) == ((), False, 0)
    assert [(b.event_type, b.data["on"]) for b in ahead.ahead] == [
        ("review.reviewer_assigned", "2023-01-02")]
    assert len(await store.read_stream(STREAM)) == 1
    with pytest.raises(ApplicationError) as conflict:
        await append(_folding(_request(date(2023, 1, 3), workflow_id="cohort/x")))
    assert conflict.value.type == "IdempotencyConflict"
