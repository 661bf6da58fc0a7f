"""The workflows on the in-memory event store: the same worker the service runs, composed
with other adapters (no PostgreSQL), on the real Temporal dev server. A fast path beside
the stack tests; both must agree."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from domain import commands as c
from domain import events as e
from domain.city_state import Status
from domain.streams import city_stream, cohort_stream
from domain.tiers import Outcome, Tier
from infra.application.drafts import Drafts
from infra.eventstore.mapper import decode
from infra.eventstore.memory import InMemoryEventStore
from infra.identity.reviewers import FoldedReviewers
from infra.platform.errors import CommandRefused
from infra.readside.announcements import FoldedAwaitingAnnouncement
from infra.standards.folder import StandardsFolder
from infra.temporal.worker import build_worker
from tests.integration.test_city_lifecycle import JOIN, KEY, assess
from tests.temporal import (
    TrackedProgram,
    eventually,
    program_clock,
    reviewer_in_store,
    terminate,
)


@pytest.fixture
async def in_memory(temporal_env: WorkflowEnvironment,
                    tmp_path: Path) -> AsyncIterator[tuple[TrackedProgram, InMemoryEventStore]]:
    store = InMemoryEventStore()
    task_queue = f"memory-{uuid.uuid4().hex[:8]}"
    worker = build_worker(temporal_env.client, task_queue=task_queue, store=store,
                          awaiting=FoldedAwaitingAnnouncement(store),
                          reviewers=FoldedReviewers(store),
                          standards=StandardsFolder(tmp_path / "standards"))
    catalog = StandardsFolder(tmp_path / "standards").load()
    await reviewer_in_store(store)
    program = TrackedProgram(temporal_env.client, task_queue, catalog=catalog,
                             clock=program_clock(date(2023, 1, 2), ms_per_day=6),
                             drafts=Drafts(store, catalog))
    async with worker:
        try:
            yield program, store
        finally:
            await terminate(temporal_env.client, program.touched)


async def test_a_city_from_join_to_lapse_on_the_in_memory_store(
    in_memory: tuple[TrackedProgram, InMemoryEventStore]
) -> None:
    program, store = in_memory
    await program.join(JOIN)
    await assess(program, KEY, 31)
    decided = await program.send(KEY, c.Decide())
    assert (decided.status, decided.last_decision_tier) == (Status.AWAITING_ANNOUNCEMENT,
                                                            Tier.GOLD)
    announce_on = program.program_today() + timedelta(days=10)
    await program.create_cohort(c.CreateCohort(cohort_id="2023-mem", announce_on=announce_on))

    lapsed = await eventually(lambda: program.view(KEY), lambda v: v.status is Status.LAPSED,
                              within=90)

    assert lapsed.last_outcome is Outcome.LAPSED
    city = [decode(r) for r in await store.read_stream(city_stream(KEY))]
    kinds = [type(ev) for ev in city]
    assert kinds.count(e.CriterionReviewed) == 31
    assert kinds.count(e.RenewalReminderSent) == 2
    assert kinds[-1] is e.CertificationLapsed
    announced = next(ev for ev in city if isinstance(ev, e.CertificationAnnounced))
    assert (announced.on, announced.cohort_id) == (announce_on, "2023-mem")
    cohort = [decode(r) for r in await store.read_stream(cohort_stream("2023-mem"))]
    assert [type(ev) for ev in cohort] == [e.CohortCreated, e.CohortCityAdded,
                                           e.CohortAnnounced]
    # An operator reading the city's timeline in the Temporal UI sees what each wait is.
    # (The first timer of the certified cycle is always set; later ones may come due before
    # they are armed on this fast clock, so they are not asserted.)
    summaries = await timeline_summaries(program, city_stream(KEY))
    first_reminder = announced.expires_on - timedelta(days=180)
    assert f"renewal reminder, 180 days before expiry, due {first_reminder}" in summaries
    assert "append 2 events at v1: city.joined, application.opened" in summaries
    assert "score application 1 under wwc-2022" in summaries


async def timeline_summaries(program: TrackedProgram, workflow_id: str) -> set[str]:
    """The summaries of every timer and activity in every run of the workflow."""
    found = set()
    runs = [w async for w in program.client.list_workflows(
        f"WorkflowId = '{workflow_id}' AND TaskQueue = '{program.task_queue}'")]
    for run in runs:
        history = await program.client.get_workflow_handle(
            workflow_id, run_id=run.run_id).fetch_history()
        for event in history.events:
            if event.HasField("user_metadata") and event.user_metadata.HasField("summary"):
                # Sealed like every payload: opened with the client's converter.
                [summary] = await program.client.data_converter.decode(
                    [event.user_metadata.summary], [str])
                found.add(summary)
    return found


async def test_a_refusal_on_the_in_memory_store_records_nothing(
    in_memory: tuple[TrackedProgram, InMemoryEventStore]
) -> None:
    program, store = in_memory
    await program.join(JOIN)
    before = await store.stream_version(city_stream(KEY))

    with pytest.raises(CommandRefused) as refused:
        await program.send(KEY, c.Decide())

    assert refused.value.code == "review_not_complete"
    assert await store.stream_version(city_stream(KEY)) == before == 2
