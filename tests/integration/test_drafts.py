"""Drafts saved in their own stream (domain/drafts.py), on a real PostgreSQL and Temporal:
what a save records and who it names, the submission that takes and seals the draft, the
save that races a submission, retries that store nothing twice, and what a day's saves
ask of Temporal (one update)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from temporalio import client as temporal_client
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError

from domain import commands as c
from domain import events as e
from domain.city_state import Stage
from domain.streams import city_stream, draft_stream, review_sheet_stream
from domain.views import CityView
from infra.eventstore.mapper import decode
from infra.platform.errors import CommandRefused
from infra.temporal.headers import ClientActorInterceptor
from tests.factories import WWC_2022, answers
from tests.integration.test_city_lifecycle import JOIN, KEY
from tests.temporal import REVIEWER, Service, program_clock
from workflows.actors import RequestContext
from workflows.updates import city_update

EDITOR = RequestContext(actor_id="acc-editor", actor_role="city_editor",
                        correlation_id="req-1")


async def stream(service: Service, stream_id: str) -> list[e.Event]:
    return [decode(r) for r in await service.store.read_stream(stream_id)]


async def test_a_save_is_recorded_in_the_drafts_stream_and_submitted_from_there(
        service: Service) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=60_000))
    await ops.join(JOIN)
    claimed = answers(WWC_2022, 31)
    _, draft = await ops.save_draft(KEY, c.SaveAssessment(answers=claimed, expected_version=0),
                                    context=EDITOR, update_id="save-1")
    assert draft.version == 1
    recorded = await service.store.read_stream(draft_stream(KEY))
    assert [r.event_type for r in recorded] == [e.DraftSaved.TYPE]
    assert (recorded[0].metadata["actor"], recorded[0].metadata["actor_role"],
            recorded[0].metadata["correlation_id"]) == ("acc-editor", "city_editor", "req-1")
    # The application shows the draft; the workflow heard of the day's save once.
    app, shown = await ops.application_and_draft(KEY)
    assert app is not None
    assert (app.answers, shown.version) == (claimed, 1)
    await ops.save_draft(KEY, c.SaveAssessment(answers=claimed, expected_version=1))
    assert [type(x) for x in await stream(service, city_stream(KEY))] == [
        e.CityJoined, e.ApplicationOpened, e.DraftTouched]

    submitted = await ops.send(KEY, c.SubmitAssessment())  # what was last saved
    assert submitted.stage == Stage.SUBMITTED
    city = await stream(service, city_stream(KEY))
    assert isinstance(city[-1], e.AssessmentSubmitted)
    assert city[-1].answers == claimed
    drafts = await stream(service, draft_stream(KEY))
    assert [type(x) for x in drafts] == [e.DraftSaved, e.DraftSaved, e.DraftSealed]

    with pytest.raises(CommandRefused) as refused:
        await ops.save_draft(KEY, c.SaveAssessment(answers=claimed, expected_version=3))
    assert refused.value.code == "wrong_stage"
    assert len(await stream(service, draft_stream(KEY))) == 3


async def test_a_stale_save_and_a_retried_save_store_nothing(service: Service) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=60_000))
    await ops.join(JOIN)
    first = c.SaveAssessment(answers=answers(WWC_2022, 2), expected_version=0)
    await ops.save_draft(KEY, first, update_id="key-1")
    _, again = await ops.save_draft(KEY, first, update_id="key-1")  # its answer was lost
    assert again.version == 1
    other = first.model_copy(update={"answers": answers(WWC_2022, 3)})
    with pytest.raises(CommandRefused) as reused:  # the same key for other answers
        await ops.save_draft(KEY, other, update_id="key-1")
    assert reused.value.code == "idempotency_key_reused"
    with pytest.raises(CommandRefused) as refused:  # another editor, over version 0
        await ops.save_draft(KEY, first, update_id="key-2")
    assert refused.value.code == "stale_version"
    assert len(await service.store.read_stream(draft_stream(KEY))) == 1


async def test_a_save_landing_during_a_submission_makes_it_stale(service: Service) -> None:
    """The submission read the draft at version 1; a save took version 2 before the
    workflow sealed it. The submission is refused and records nothing: the second
    editor's answers are not silently left out."""
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=60_000))
    await ops.join(JOIN)
    read = answers(WWC_2022, 31)
    await ops.save_draft(KEY, c.SaveAssessment(answers=read, expected_version=0))
    await ops.save_draft(KEY, c.SaveAssessment(answers=answers(WWC_2022, 32),
                                               expected_version=1))
    handle = service.client.get_workflow_handle(city_stream(KEY))
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(
            city_update(c.SubmitAssessment),
            c.SubmitAssessment(answers=read, draft_version=1), result_type=CityView)
    assert getattr(failed.value.cause, "type", None) == "stale_version"
    assert not any(isinstance(x, e.AssessmentSubmitted)
                   for x in await stream(service, city_stream(KEY)))
    assert [type(x) for x in await stream(service, draft_stream(KEY))] == [
        e.DraftSaved, e.DraftSaved]
    view = await ops.send(KEY, c.SubmitAssessment())  # submitted again, from the draft
    assert view.stage == Stage.SUBMITTED


class _Counting(temporal_client.Interceptor):
    """Every update, query, signal and description the service's client sends, by
    workflow: what the Temporal server is asked to do."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def intercept_client(self, next: temporal_client.OutboundInterceptor
                         ) -> temporal_client.OutboundInterceptor:
        calls = self.calls

        class Outbound(temporal_client.OutboundInterceptor):
            async def start_workflow_update(
                self, input: temporal_client.StartWorkflowUpdateInput
            ) -> temporal_client.WorkflowUpdateHandle[Any]:
                calls.append(("update " + input.update, input.id))
                return await super().start_workflow_update(input)

            async def query_workflow(self, input: temporal_client.QueryWorkflowInput) -> Any:
                calls.append(("query " + input.query, input.id))
                return await super().query_workflow(input)

            async def signal_workflow(self, input: temporal_client.SignalWorkflowInput
                                      ) -> None:
                calls.append(("signal " + input.signal, input.id))
                await super().signal_workflow(input)

            async def describe_workflow(self, input: temporal_client.DescribeWorkflowInput
                                        ) -> temporal_client.WorkflowExecutionDescription:
                calls.append(("describe", input.id))
                return await super().describe_workflow(input)

        return Outbound(next)


async def test_a_days_saves_tell_the_citys_workflow_once(service: Service) -> None:
    """A save is an append: of a day's saves through the API (which passes the city's
    kept view), the first tells the workflow (the draft nudge) and the rest ask Temporal
    nothing. A regression here is what a draft save costs the Temporal server."""
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=3_600_000))
    await ops.join(JOIN)
    view = await ops.view(KEY)
    counting = _Counting()
    config = service.client.config()
    config["interceptors"] = [counting, ClientActorInterceptor()]
    ops.client = Client(**config)
    for version in range(20):
        await ops.save_draft(KEY, c.SaveAssessment(answers=answers(WWC_2022, 1 + version % 5),
                                                   expected_version=version),
                             context=EDITOR, view=view)
    assert counting.calls == [("update touch_draft", city_stream(KEY))]
    history = await service.client.get_workflow_handle(city_stream(KEY)).fetch_history()
    accepted = [event.workflow_execution_update_accepted_event_attributes.accepted_request
                .input.name for event in history.events
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
    assert accepted.count("touch_draft") == 1
    assert len(await service.store.read_stream(draft_stream(KEY))) == 20


async def test_a_submission_confirmed_at_a_version_a_save_has_passed_is_stale(
        service: Service) -> None:
    """The portal's confirmation step shows the draft at a version and sends that one: a
    save since (another editor's) refuses it, nothing submitted, nothing sealed."""
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=60_000))
    await ops.join(JOIN)
    await ops.save_draft(KEY, c.SaveAssessment(answers=answers(WWC_2022, 31),
                                               expected_version=0))
    shown = 1  # the step showed these answers
    await ops.save_draft(KEY, c.SaveAssessment(answers=answers(WWC_2022, 5),
                                               expected_version=1))
    with pytest.raises(CommandRefused) as refused:
        await ops.send(KEY, c.SubmitAssessment(draft_version=shown))
    assert refused.value.code == "stale_version"
    assert (await ops.view(KEY)).stage == Stage.ASSESSING
    assert [type(x) for x in await stream(service, draft_stream(KEY))] == [
        e.DraftSaved, e.DraftSaved]
    # Confirmed again at the version it now shows: submitted.
    assert (await ops.send(KEY, c.SubmitAssessment(draft_version=2))).stage == Stage.SUBMITTED


async def test_the_review_sheet_is_recorded_with_the_completion_and_a_racing_save_is_not_lost(
        service: Service) -> None:
    """The reviewer's sheet (domain/review_sheets.py) on the real workflow: a completion
    read at version 1, with a save at version 2 since, is refused (nothing recorded);
    completed again, it records the sheet as last saved and seals it."""
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=60_000))
    await ops.join(JOIN)
    await ops.send(KEY, c.SubmitAssessment(answers=answers(WWC_2022, 2)))
    await ops.send(KEY, c.AssignReviewer(reviewer=REVIEWER))
    first = (c.RecordCriterionReview(code="DM1", met=True),
             c.RecordCriterionReview(code="DM2", met=False, note="The link answers 404."))
    await ops.save_review_sheet(KEY, c.SaveReviewSheet(reviews=first, expected_version=0))
    second = (*first[:1], first[1].model_copy(update={"note": "Still 404 on May 2."}))
    await ops.save_review_sheet(KEY, c.SaveReviewSheet(reviews=second, expected_version=1))
    handle = service.client.get_workflow_handle(city_stream(KEY))
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(
            city_update(c.CompleteReview), c.CompleteReview(sheet=first, sheet_version=1),
            result_type=CityView)
    assert getattr(failed.value.cause, "type", None) == "stale_version"
    assert not any(isinstance(x, e.CriterionReviewed | e.ReviewCompleted)
                   for x in await stream(service, city_stream(KEY)))
    view = await ops.send(KEY, c.CompleteReview())  # the front door reads the sheet again
    assert view.stage == Stage.REVIEW_COMPLETE
    city = await stream(service, city_stream(KEY))
    assert [(x.code, x.note) for x in city if isinstance(x, e.CriterionReviewed)] == [
        ("DM1", ""), ("DM2", "Still 404 on May 2.")]
    assert [type(x) for x in await stream(service, review_sheet_stream(KEY))] == [
        e.ReviewSheetSaved, e.ReviewSheetSaved, e.ReviewSheetSealed]
    with pytest.raises(CommandRefused) as late:
        await ops.save_review_sheet(KEY, c.SaveReviewSheet(reviews=second, expected_version=3))
    assert late.value.code == "wrong_stage"


async def test_a_reapplication_starts_carried_over_and_submits_once_confirmed(
        service: Service) -> None:
    """On the real workflow and store (domain/carry_over.py): the last review's met
    criteria, with their links and documents, prefill the new draft; the submission is
    refused until each is confirmed; confirming attaches the carried documents."""
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=60_000))
    await ops.join(JOIN)
    sha = "a" * 64
    await ops.send(KEY, c.AddDocument(criterion="DM1", name="policy.pdf", size=3, sha256=sha,
                                      media_type="application/pdf"), context=EDITOR)
    await ops.send(KEY, c.SubmitAssessment(answers=answers(WWC_2022, 2)))
    await ops.send(KEY, c.AssignReviewer(reviewer=REVIEWER))
    await ops.send(KEY, c.RecordCriterionReview(code="DM1", met=True))
    await ops.send(KEY, c.RecordCriterionReview(code="DM2", met=False, note="404"))
    await ops.send(KEY, c.CompleteReview())
    await ops.send(KEY, c.Decide())
    await ops.send(KEY, c.Reapply(), context=EDITOR)
    app, draft = await ops.application_and_draft(KEY)
    assert app is not None
    assert app.number == 2
    assert app.carried_over == ("DM1",)
    assert app.answers.answer("DM1").evidence == ("https://city.example/DM1",)
    assert app.documents == {}  # attached once confirmed
    with pytest.raises(CommandRefused) as refused:
        await ops.send(KEY, c.SubmitAssessment(), context=EDITOR)
    assert refused.value.code == "unconfirmed_carry_over"
    # A confirmed code the standard does not have: refused before DM1's carried document
    # is attached or anything reaches the workflow, by a submission as by a save.
    typo = ("DM1", "DG99")
    for refused_command in (c.SubmitAssessment(confirmed=typo),
                            c.SaveAssessment(answers=app.answers, confirmed=typo)):
        with pytest.raises(CommandRefused) as refused:
            await ops.send(KEY, refused_command, context=EDITOR)
        assert (refused.value.code, refused.value.facts["field"]) == (
            "unknown_criterion", "confirmed")
    app, still = await ops.application_and_draft(KEY)
    assert app is not None
    assert (app.stage, app.carried_over, app.documents) == (Stage.ASSESSING, ("DM1",), {})
    assert still.version == draft.version
    await ops.save_draft(KEY, c.SaveAssessment(answers=app.answers, confirmed=("DM1",),
                                               expected_version=draft.version),
                         context=EDITOR, update_id="confirm-1")
    app, _ = await ops.application_and_draft(KEY)
    assert app is not None
    assert app.carried_over == ()
    assert [d.sha256 for d in app.documents["DM1"]] == [sha]
    assert (await ops.send(KEY, c.SubmitAssessment(), context=EDITOR)).stage == Stage.SUBMITTED
