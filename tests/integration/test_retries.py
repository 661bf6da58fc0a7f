"""A command run again after its workflow task was lost (issue 20, found by the fault
suite's PostgreSQL freeze once its retries went through the CLI): the first execution's
append lands late, the second decides the command again a program day later, and meets
the first one's events under the same ids with another date. Those are the command's
record: the workflow takes them, instead of failing the command and leaving its stream
ahead of its state for good (every later append would have met them too). Another
request's events there are folded (tests/integration/test_lost_workflow_task.py)."""

from __future__ import annotations

from datetime import date, timedelta

from domain import commands as c
from domain import events as e
from domain.city_state import Status
from domain.streams import city_stream
from tests.factories import WWC_2022, answers
from tests.integration.test_city_lifecycle import JOIN, KEY, assess, stored
from tests.temporal import REVIEWER, Service, program_clock
from workflows.persist import new_events

START = date(2023, 1, 2)


async def _earlier(service: Service, version: int, event: e.Event, correlation: str,
                   causation: str) -> None:
    """Store what an earlier, lost execution of a command in the city's current run
    appended after `version`."""
    run = (await service.client.get_workflow_handle(city_stream(KEY)).describe()).run_id
    await service.store.append(city_stream(KEY), version, new_events(
        city_stream(KEY), version, [event], {
            "actor": "operator", "actor_role": "operator", "correlation_id": correlation,
            "causation_id": causation, "workflow_id": city_stream(KEY), "run_id": run}))


async def test_a_command_decided_again_takes_the_events_its_lost_execution_stored(
    service: Service
) -> None:
    ops = service.operations(program_clock(START, ms_per_day=60_000))  # a day a minute
    await ops.join(JOIN)
    await ops.send(KEY, c.SubmitAssessment(answers=answers(WWC_2022, 3)))
    today = ops.program_today()
    before = today - timedelta(days=1)
    # The lost execution of update "assign-1" stored its event, dated the day before.
    await _earlier(service, 3, e.ReviewerAssigned(reviewer=REVIEWER, on=before),
                   "update:assign-1", "AssignReviewer")

    view = await ops.send(KEY, c.AssignReviewer(reviewer=REVIEWER), update_id="assign-1")
    assert (view.status, view.reviewer, view.version) == (Status.UNDER_REVIEW, REVIEWER, 4)
    assigned = [ev for ev in await stored(service, KEY) if isinstance(ev, e.ReviewerAssigned)]
    assert [ev.on for ev in assigned] == [before]
    application = await ops.application(KEY)
    assert application is not None
    assert application.reviewer_assigned_on == before  # the state is the log's

    # The city goes on: its next commands append after it.
    await ops.send(KEY, c.RecordCriterionReview(code="DM1", met=True))
    # Events of another request of this workflow under the next ids (a lost task's, that
    # no retry took as its own) are the log's: the workflow folds them and decides the
    # command again on top of them, instead of refusing it and every command after it.
    await _earlier(service, 5, e.CriterionReviewed(
        code="DM2", answer=answers(WWC_2022, ["DM2"]).criteria["DM2"], on=before),
        "update:someone-else", "RecordCriterionReview")
    view = await ops.send(KEY, c.RecordCriterionReview(code="DM2", met=False),
                          update_id="mine")
    assert view.version == 7
    reviewed = [ev for ev in await stored(service, KEY) if isinstance(ev, e.CriterionReviewed)]
    assert [(ev.code, ev.answer.met) for ev in reviewed] == [("DM1", True), ("DM2", True),
                                                      ("DM2", False)]

async def test_commands_whose_effect_holds_record_nothing_and_say_why(
    service: Service
) -> None:
    """Through the workflow, including the decision's own handler (it scores in an
    activity, so it checks before scoring)."""
    ops = service.operations(program_clock(START, ms_per_day=60_000))
    await ops.join(JOIN)
    await assess(ops, KEY, 31)
    decided = await ops.send(KEY, c.Decide())
    assert decided.nothing_new is None
    again = await ops.send(KEY, c.Decide())
    assert again.nothing_new == "application 1 was already decided: gold (72.09 %)"
    completed = await ops.send(KEY, c.CompleteReview())
    assert completed.nothing_new == "the review of application 1 was already completed"
    assert again.version == completed.version == decided.version
    assert len(await stored(service, KEY)) == decided.version
