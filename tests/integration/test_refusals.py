"""Every refused command answers with the domain's reason and leaves nothing behind: no
event in the store, nothing in the workflow's history."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date

import pytest
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from domain import commands as c
from domain.streams import city_stream
from domain.views import CityView
from infra.application import ProgramService
from infra.platform.errors import CommandRefused, NotFound
from infra.standards.folder import load_catalog
from tests.factories import WWC_2022, answers
from tests.integration.test_city_lifecycle import JOIN, KEY, assess
from tests.temporal import Service, program_clock
from workflows.city import CityWorkflow
from workflows.messages import CityInput

Act = Callable[[ProgramService], Awaitable[object]]

CASES: list[tuple[str, str, Act, str, str]] = [
    # (name, stage to reach first, command, code, message)
    ("decide before review complete", "joined",
     lambda ops: ops.send(KEY, c.Decide()), "review_not_complete",
     "cannot decide before the review is complete"),
    ("unknown criterion", "joined",
     lambda ops: ops.send(KEY, c.SubmitAssessment(
         answers=answers(WWC_2022, ["DM1", "XX9"]))), "unknown_criterion",
     "unknown criterion code XX9"),
    ("missing evidence", "joined",
     lambda ops: ops.send(KEY, c.SubmitAssessment(
         answers=answers(WWC_2022, 5, evidence=False))), "missing_evidence",
     "criterion DM1 is claimed as met but lacks evidence"),
    ("review in the wrong state", "joined",
     lambda ops: ops.send(KEY, c.RecordCriterionReview(code="DM1")),
     "wrong_stage", "cannot record a criterion review: the application is assessing"),
    ("announce a city not certified", "reviewed",
     lambda ops: ops.send(KEY, c.Announce(cohort_id="x")), "not_certified",
     "only a certified decision can be announced"),
    ("join twice", "joined", lambda ops: ops.join(JOIN), "already_joined",
     "already joined"),
    ("reapply while an application is open", "joined",
     lambda ops: ops.send(KEY, c.Reapply()), "application_open",
     "application 1 is still assessing"),
]


@pytest.mark.parametrize(("name", "stage", "act", "code", "message"), CASES,
                         ids=[case[0] for case in CASES])
async def test_refused_command_leaves_nothing_behind(
    service: Service, name: str, stage: str, act: Act, code: str, message: str
) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=200))
    await ops.join(JOIN)
    if stage == "reviewed":
        await assess(ops, KEY, 31)
    handle = service.client.get_workflow_handle(city_stream(KEY))
    events_before = await service.store.stream_version(city_stream(KEY))
    history_before = len((await handle.fetch_history()).events)

    with pytest.raises(CommandRefused, match=message) as refused:
        await act(ops)

    assert refused.value.code == code
    assert await service.store.stream_version(city_stream(KEY)) == events_before
    # A validator's rejection is never written to the workflow's history.
    assert len((await handle.fetch_history()).events) == history_before


async def test_an_ineligible_join_starts_no_workflow(service: Service) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=200))
    tiny = c.JoinNetwork(name="Tinytown, VT", country="US", population=29_999)

    with pytest.raises(CommandRefused, match="30,000") as refused:
        await ops.join(tiny)

    assert refused.value.code == "ineligible"
    with pytest.raises(RPCError) as missing:
        await service.client.get_workflow_handle(city_stream("us-tinytown-vt")).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
    with pytest.raises(NotFound):
        await ops.view("us-tinytown-vt")
    assert await service.store.stream_version(city_stream("us-tinytown-vt")) == 0


async def test_a_workflow_whose_join_was_refused_ends_itself(service: Service) -> None:
    """Started straight through Temporal (no client-side check), as a race or another
    client could: the refused join leaves a closed workflow, no member, no event."""
    clock = program_clock(date(2023, 1, 2), ms_per_day=200)
    workflow_id = city_stream("us-tinytown-vt")
    start = WithStartWorkflowOperation(
        CityWorkflow.run,
        CityInput(city_key="us-tinytown-vt", clock=clock,
                  standards=tuple(load_catalog().values())),
        id=workflow_id, task_queue=service.settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)

    with pytest.raises(WorkflowUpdateFailedError):
        await service.client.execute_update_with_start_workflow(
            "join", c.JoinNetwork(name="Tinytown, VT", country="US", population=29_999),
            start_workflow_operation=start, result_type=CityView)

    handle = service.client.get_workflow_handle(workflow_id)
    # It ends by itself (a bound, not a timing assertion: it never ended before the fix).
    await asyncio.wait_for(handle.result(), timeout=60)
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    assert await service.store.stream_version(workflow_id) == 0
    with pytest.raises(NotFound):
        await service.operations(clock).view("us-tinytown-vt")


async def test_a_refusal_brings_its_facts_through_the_workflow(service: Service) -> None:
    """What a page needs to say the refusal in the reader's words, not only its code."""
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=200))
    await ops.join(JOIN)
    with pytest.raises(CommandRefused) as refused:
        await ops.send(KEY, c.SubmitAssessment(answers=answers(WWC_2022, 5, evidence=False)))
    assert (refused.value.code, refused.value.facts) == ("missing_evidence", {
        "criterion": "DM1", "needed": "supporting documentation", "given": 0, "wanted": 1})
