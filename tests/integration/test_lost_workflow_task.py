"""A workflow task lost right after its append landed (found by `make demo` on a loaded
machine: a city's workflow task timed out after its local activity had stored a command's
events). The server aborts the update with the task ("unexpected workflow task failure");
the retried task never runs that update again, so the events stay in the stream, ahead of
the workflow's state. Every later command was decided on the old state and met them under
the same ids (IdempotencyConflict): the city refused everything, for good. The stream is
the record: the workflow folds what it did not know and decides the command again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from domain import commands as c
from domain import events as e
from domain.city_state import Status
from domain.streams import city_stream
from infra.platform.config import Settings
from infra.platform.errors import CommandRefused
from infra.postgres.eventstore import PostgresEventStore
from tests.factories import WWC_2022, answers
from tests.integration.test_city_lifecycle import JOIN, KEY, stored
from tests.temporal import (
    REVIEWER,
    TEST_PAYLOAD_KEYS,
    Service,
    postgres_worker,
    program_clock,
    reviewer_account,
)

START = date(2023, 1, 2)
# Update id -> what happens to it: its first workflow task is lost right after the
# handler finished (its append stored), and the retried task refuses it (a command decided
# again need not be decided the same: a program day later, after a timer or another
# update). Shared with the sandbox: the interceptor's class is defined here, outside it.
LOSE_THEN_REFUSE: dict[str, str] = {}


class _LoseTheTask(WorkflowInboundInterceptor):
    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        step = LOSE_THEN_REFUSE.get(input.id)
        if step == "refuse" and not workflow.unsafe.is_replaying():
            del LOSE_THEN_REFUSE[input.id]
            raise ApplicationError("decided otherwise on the retried task",
                                   type="refused_on_retry", non_retryable=True)
        result = await self.next.handle_update_handler(input)
        if step == "lose" and not workflow.unsafe.is_replaying():
            LOSE_THEN_REFUSE[input.id] = "refuse"
            raise RuntimeError("the workflow task is lost after its append landed")
        return result


class LoseTaskInterceptor(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _LoseTheTask


@pytest.fixture
async def losing(temporal_env: WorkflowEnvironment, pool: asyncpg.Pool[Any], db_url: str,
                 tmp_path: Path) -> AsyncIterator[Service]:
    """The `service` fixture, its worker with the interceptor that loses a task."""
    settings = Settings(database_url=db_url, data_dir=tmp_path,
                        temporal_address=temporal_env.client.service_client.config.target_host,
                        task_queue=f"test-{uuid.uuid4().hex[:8]}", db_pool_size=10,
                        payload_keys=TEST_PAYLOAD_KEYS)
    # The production composition's configuration (read from a worker never run, on a
    # queue of its own: a queue takes one worker of a kind per client), plus the interceptor.
    config = postgres_worker(temporal_env.client, pool, f"{settings.task_queue}-x").config()
    config["task_queue"] = settings.task_queue
    config["interceptors"] = [*config["interceptors"], LoseTaskInterceptor()]
    service = Service(temporal_env.client, pool, settings, PostgresEventStore(pool))
    await reviewer_account(pool)
    async with Worker(**config):
        try:
            yield service
        finally:
            LOSE_THEN_REFUSE.clear()
            await service.terminate_started()


async def test_a_city_whose_lost_task_left_its_stream_ahead_goes_on(losing: Service) -> None:
    ops = losing.operations(program_clock(START, ms_per_day=60_000))  # a day a minute
    await ops.join(JOIN)
    await ops.send(KEY, c.SubmitAssessment(answers=answers(WWC_2022, 3)))
    LOSE_THEN_REFUSE["assign-1"] = "lose"
    with pytest.raises(CommandRefused) as refused:
        await ops.send(KEY, c.AssignReviewer(reviewer=REVIEWER), update_id="assign-1")
    assert refused.value.code == "refused_on_retry"
    # The lost task's append is in the stream; the workflow's state never saw it.
    assert [type(ev) for ev in await stored(losing, KEY)][-1] is e.ReviewerAssigned

    # A program day later (the demo's clock runs 40 a second), the workflow's state still
    # says "no reviewer": the operator assigns again (a new request). Its event, of another
    # date, meets the lost task's under the same id, from another request. Before, that
    # was an IdempotencyConflict, and so was every later command: the city was stuck. Now
    # the workflow folds the stored event and decides again: assigned already.
    await losing.client.get_workflow_handle(city_stream(KEY)).signal(
        "set_clock", program_clock(START + timedelta(days=1), ms_per_day=60_000))
    again = await ops.send(KEY, c.AssignReviewer(reviewer=REVIEWER), update_id="assign-2")
    assert (again.status, again.reviewer, again.version) == (Status.UNDER_REVIEW, REVIEWER, 4)
    application = await ops.application(KEY)
    assert application is not None
    assert application.reviewer_assigned_on == START  # the log's, not the second request's
    # And the city goes on.
    view = await ops.send(KEY, c.RecordCriterionReview(code="DM1", met=True))
    assert view.version == 5
    events = await stored(losing, KEY)
    assert [type(ev) for ev in events][2:] == [
        e.AssessmentSubmitted, e.ReviewerAssigned, e.CriterionReviewed]
