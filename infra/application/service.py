"""Program operations as every door (the CLI, the demo, the API and the portal: through
its port, `infra.application.port.Program`) sees them, built by `infra/bootstrap.py`. A
command travels as the command table says (`workflows/updates.CARRIERS`): to its city's
(or cohort's) workflow as an update, the first join as update-with-start, a draft's save
appended to the draft's own stream (`infra/application/drafts.py`; why in
`domain/drafts.py`). A refusal comes back as `CommandRefused` with the domain's code,
message and category; an unreachable or silent service is `Unavailable`, an unknown city
or cohort `NotFound`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import structlog
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.converter import PayloadCodec
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    WorkflowAlreadyStartedError,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.ports import RecordedMail, ReviewerAccounts
from domain import cohort as cohorts
from domain import commands
from domain.accounts import as_the_accounts_say
from domain.carry_over import documents_to_attach
from domain.catalog import StandardCatalog
from domain.city_state import Application, CityState, Status
from domain.clock import ProgramClock
from domain.drafts import DraftState, newly_confirmed, submission, with_draft
from domain.errors import DomainError, ErrorCategory
from domain.lifecycle import decide
from domain.report import Report
from domain.review_sheets import SheetState, completion
from domain.rules import ProgramRules
from domain.streams import city_key, city_stream, cohort_stream
from domain.views import CityView, CommandAnswer, answer, open_standard
from infra.application.drafts import Drafts
from infra.application.review_sheets import ReviewSheets
from infra.platform import metrics
from infra.platform.errors import CommandRefused, NotFound, Unavailable, UsageError
from infra.platform.waiting import waiting_on
from infra.temporal.headers import ClientActorInterceptor, acting_as
from workflows.actors import SERVER_OPERATOR, RequestContext
from workflows.city import CityWorkflow
from workflows.cohort import CohortWorkflow
from workflows.messages import CityInput, CohortInput, CohortResult
from workflows.outbox import OutboxWorkflow, outbox_workflow_id
from workflows.updates import CARRIERS, Carrier, city_update, cohort_update

T = TypeVar("T")
log = structlog.get_logger("wwc.program")

# How long a command waits for its answer: an update needs a worker, which may be down.
COMMAND_TIMEOUT = 60.0
# The memo key of the request id that created a cohort.
REQUEST_MEMO = "wwc_request_id"


def command_update_id(request_id: str, key: str, kind: str) -> str:
    """The Temporal update id of the command `kind` (e.g. "RecordCriterionReview") sent to
    the city or cohort `key` under a front door's request id: the same request id sent
    again reaches the same update, which Temporal runs once; the same id given to another
    city or another command is another update."""
    return f"{key}:{kind}:{request_id}"


def _refusal(error: WorkflowUpdateFailedError) -> CommandRefused:
    cause = error.cause
    # A refusal by an activity (e.g. a value the event store cannot hold) arrives wrapped.
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        # The workflow sends the domain error's category as the first detail.
        category = ErrorCategory.REFUSED
        if cause.details and cause.details[0] in ErrorCategory.__members__.values():
            category = ErrorCategory(cause.details[0])
        # Then its facts (a workflow from before facts sends none).
        facts = cause.details[1] if len(cause.details) > 1 else None
        return CommandRefused(cause.type or "refused", cause.message, category,
                              _facts(facts))
    return CommandRefused("refused", str(cause or error))


def _facts(found: object) -> dict[str, str | int]:
    """A refusal's facts as the workflow sent them: names to texts and whole numbers."""
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items()
            if isinstance(v, str | int) and not isinstance(v, bool)}


@contextmanager
def _must_exist(what: str) -> Iterator[None]:
    """A workflow that does not exist (the city never joined) is NotFound; Temporal down
    is Unavailable."""
    try:
        yield
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"no {what}") from None
        if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise Unavailable(f"Temporal is unavailable: {error.message}") from None
        raise


def _carrying_actors(client: Client) -> Client:
    """The same connection, with the interceptor that puts the actor on every update."""
    config = client.config()
    if any(isinstance(i, ClientActorInterceptor) for i in config["interceptors"]):
        return client
    config["interceptors"] = [*config["interceptors"], ClientActorInterceptor()]
    return Client(**config)


class ProgramService:
    def __init__(self, client: Client, task_queue: str, *, catalog: StandardCatalog,
                 clock: ProgramClock, rules: ProgramRules | None = None,
                 command_timeout: float = COMMAND_TIMEOUT,
                 drafts: Drafts | None = None,
                 reviewers: ReviewerAccounts | None = None) -> None:
        self.client = _carrying_actors(client)
        # The accounts, for a reviewer's standing: a front door with them refuses an
        # unknown reviewer or a conflict of interest before the update is sent (nothing
        # recorded); the city's workflow checks the accounts again either way.
        self.reviewers = reviewers
        # Where drafts are saved (the event store); None for a front door that never
        # saves one (the demo, benchmarks): its submissions carry their answers.
        self.drafts = drafts
        # Reviewers' sheets are kept in the same event store, in streams of their own.
        self.sheets = ReviewSheets(drafts.log, catalog) if drafts is not None else None
        # The day each city's workflow last heard of a save from this process: once a day
        # is what the nudge needs (a second process telling it again records nothing).
        self._touched: tuple[date | None, set[str]] = (None, set())
        self.task_queue = task_queue
        self.catalog = catalog
        self.clock = clock
        self.rules = rules or ProgramRules()
        self.command_timeout = command_timeout
        # What a command needs from the service's adapters before its update is sent.
        self._before_update: dict[type[commands.Command], Callable[
            [str, commands.CityCommand, RequestContext, str | None],
            Awaitable[commands.CityCommand]]] = {
            commands.AssignReviewer: self._with_standing,
            commands.SubmitAssessment: self._with_draft,
            commands.CompleteReview: self._with_sheet}

    def program_today(self) -> date:
        return self.clock.today(datetime.now(UTC))

    @property
    def payload_codec(self) -> PayloadCodec | None:
        """What seals the payloads this service sends through Temporal (the operators'
        codec endpoint opens them with its keys)."""
        return self.client.data_converter.payload_codec

    def _city(self, key: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(city_stream(key))

    async def _answered(self, call: Awaitable[T]) -> T:
        try:
            # In this task, not another (as `wait_for` would run it): a cancelled caller's
            # command is cancelled with it, and nothing is left to fail unseen afterwards.
            with waiting_on("workflow"):
                async with asyncio.timeout(self.command_timeout):
                    return await call
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            # The SDK turns a cancelled update into the second: cancelled by the caller
            # (e.g. a demo shutting down), it stays a cancellation, not a silent worker.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from None
            # Else the server's own wait for the update ran out (seen under load), or ours.
            # Either way the command may or may not have run: retry with its update id.
            raise Unavailable(
                f"no worker answered within {self.command_timeout:.0f} s; is `wwc up` (or "
                "`wwc worker`) running for this task queue? The command may still run once "
                "one does: a retry with the same request id runs it at most once") from None
        except WorkflowUpdateFailedError as error:
            refusal = _refusal(error)
            metrics.REFUSALS.labels(refusal.code or "refused").inc()
            raise refusal from None
        except RPCError as error:
            if not workflow_not_ready(error):
                raise
            # The workflow's last task failed (e.g. the deadlock detector on a starved
            # worker) and Temporal runs it again; until then it admits no update. Nothing
            # of this command ran: a retry with the same request id runs it once.
            raise Unavailable(
                "the workflow cannot take a command right now: its last workflow task failed "
                "and is being run again (see the worker's log); retry with the same request "
                "id") from None

    # --- cities --------------------------------------------------------------------------

    async def send(self, key: str, command: commands.CityCommand, *,
                   context: RequestContext = SERVER_OPERATOR,
                   update_id: str | None = None) -> CommandAnswer:
        """Give `command` to the city `key` as `context`'s actor; the city's view once the
        command is recorded (with why nothing new was, when its effect already held). The
        same `update_id` twice runs the command once. How it travels is the command
        table's (`workflows.updates.CARRIERS`)."""
        match CARRIERS.get(type(command)):
            case Carrier.UPDATE_WITH_START:
                assert isinstance(command, commands.JoinNetwork)
                joined = await self.join(command, context=context, update_id=update_id)
                if joined.city_key != key:
                    raise UsageError(f"a join for {command.name} is for {joined.city_key}, "
                                     f"not {key}")
                return joined
            case Carrier.DRAFT_STREAM:
                assert isinstance(command, commands.SaveAssessment)
                saved, _ = await self.save_draft(key, command, context=context,
                                                 update_id=update_id)
                return saved
            case Carrier.CITY_UPDATE:
                prepare = self._before_update.get(type(command))
                ready = (await prepare(key, command, context, update_id)
                         if prepare is not None else command)
                return await self._update(key, ready, context, update_id)
            case _:
                raise UsageError(f"{type(command).__name__} is not a command a client gives "
                                 "a city")

    async def _update(self, key: str, command: commands.CityCommand, context: RequestContext,
                      update_id: str | None) -> CommandAnswer:
        """The city's workflow runs `command` (an update) and answers its view."""
        with _must_exist(f"city {key!r} (has it joined?)"), acting_as(context):
            view: CommandAnswer = await self._answered(self._city(key).execute_update(
                city_update(type(command)), command, id=update_id, result_type=CommandAnswer))
        return view

    async def _with_standing(self, key: str, command: commands.CityCommand,
                             context: RequestContext,
                             update_id: str | None) -> commands.CityCommand:
        """An assignment with the reviewer's affiliations as the accounts hold them
        (refused here, nothing sent, for a reviewer the accounts do not know)."""
        assert isinstance(command, commands.AssignReviewer)
        if self.reviewers is None:
            return command
        try:
            return as_the_accounts_say(command, await self.reviewers.standing(command.reviewer))
        except DomainError as error:
            raise CommandRefused.from_domain(error) from None

    async def _with_draft(self, key: str, command: commands.CityCommand,
                          context: RequestContext,
                          update_id: str | None) -> commands.CityCommand:
        """A submission with the draft's answers (when none are given) and its version,
        to seal it at; the carried-over documents of the criteria it confirms attached
        first (they count as its evidence)."""
        assert isinstance(command, commands.SubmitAssessment)
        if self.drafts is None:
            return command
        view = await self.view(key)
        number = view.application
        draft = await self.drafts.read(key, number)
        today = self.program_today()
        try:
            # The confirmed codes are checked against the open application's standard
            # before anything is attached (none open: the workflow refuses the submission).
            ready = submission(command, number, draft, today,
                               standard=open_standard(view, self.catalog))
        except DomainError as error:
            raise CommandRefused.from_domain(error) from None
        confirmed = newly_confirmed(draft, command.confirmed)
        if confirmed and number is not None:  # as a save confirming them would
            await self._attach_carried(key, number, confirmed, today, context, update_id)
        return ready

    async def _with_sheet(self, key: str, command: commands.CityCommand,
                          context: RequestContext,
                          update_id: str | None) -> commands.CityCommand:
        """A completion with the reviewer's sheet (its verdicts and version, to seal it at)."""
        assert isinstance(command, commands.CompleteReview)
        if self.sheets is None:
            return command
        view = await self.view(key)
        return completion(command, view.application, view.stage,
                          await self.sheets.read(key))

    async def save_review_sheet(self, key: str, command: commands.SaveReviewSheet, *,
                                context: RequestContext = SERVER_OPERATOR,
                                update_id: str | None = None,
                                view: CityView | None = None
                                ) -> tuple[CommandAnswer, SheetState]:
        """Save the reviewer's sheet in its own stream (no workflow update: see
        domain/review_sheets.py); the city's view and the sheet after the save."""
        if self.sheets is None:
            raise UsageError("this front door cannot save review sheets (no event store)")
        view = view or await self.view(key)
        sheet, stored = await self.sheets.save(key, command, view, today=self.program_today(),
                                               context=context,
                                               request_id=update_id or uuid.uuid4().hex)
        return answer(view, None if stored else
                      f"this save is already stored (sheet version {sheet.version})"), sheet

    async def review_sheet(self, key: str) -> SheetState:
        """The reviewer's sheet of the city's application under review (empty if none)."""
        return await self.sheets.read(key) if self.sheets is not None else SheetState()

    async def save_draft(self, key: str, command: commands.SaveAssessment, *,
                         context: RequestContext = SERVER_OPERATOR,
                         update_id: str | None = None,
                         view: CityView | None = None) -> tuple[CommandAnswer, DraftState]:
        """Save the city's assessment draft in its own stream (no workflow update: see
        domain/drafts.py); `view` is the city as the caller has it (else asked of its
        workflow). The city's view and the draft after the save."""
        if self.drafts is None:
            raise UsageError("this front door cannot save drafts (no event store)")
        view = view or await self.view(key)
        today = self.program_today()
        # What was still to confirm before this save: only those criteria's documents are
        # attached (one confirmed before may have had its document removed since).
        before = (await self.drafts.read(key, view.application)
                  if command.confirmed and view.application is not None else None)
        draft, stored = await self.drafts.save(key, command, view, today=today,
                                               context=context,
                                               request_id=update_id or uuid.uuid4().hex)
        if self._touched[0] != today:
            self._touched = (today, set())
        if key not in self._touched[1]:
            await self._touch_draft(key, today, context)
        if before is not None and view.application is not None:
            # A retry that found its own save attaches again what it confirmed (the first
            # run may have stopped before): attaching the same bytes records nothing.
            confirmed = newly_confirmed(before, command.confirmed) if stored else (
                command.confirmed)
            await self._attach_carried(key, view.application, confirmed, today, context,
                                       update_id)
        return answer(view, None if stored else
                      f"this save is already stored (draft version {draft.version})"), draft

    async def _attach_carried(self, key: str, application: int, confirmed: tuple[str, ...],
                              today: date, context: RequestContext,
                              update_id: str | None) -> None:
        """Attach the carried-over documents of the criteria just confirmed
        (domain/carry_over.py: `documents_to_attach`)."""
        assert self.drafts is not None
        carried = await self.drafts.carried(key, application)
        for add in documents_to_attach(carried, confirmed, today):
            await self._update(key, add, context, update_id and
                               f"{update_id}:carry:{add.criterion}:{add.sha256[:16]}")

    async def _touch_draft(self, key: str, today: date, context: RequestContext) -> None:
        """Tell the city's workflow of the day's first save (the draft nudge counts from
        it). The save is stored whatever happens here: a failure only means the nudge may
        come a day early, and the next save tries again."""
        try:
            await self._update(key, commands.TouchDraft(), context,
                               f"{key}:touch-draft:{today}")
            self._touched[1].add(key)
        except (CommandRefused, Unavailable, NotFound) as error:
            log.warning("draft save not told to the city's workflow", city=key,
                        error=type(error).__name__)

    async def join(self, command: commands.JoinNetwork, *,
                   context: RequestContext = SERVER_OPERATOR,
                   update_id: str | None = None) -> CommandAnswer:
        """Update-with-start: the first join starts the city's workflow; a second one
        reaches the same workflow and is refused there ("already joined")."""
        key = city_key(command.country, command.name)
        # The decider's checks that need no state (eligibility, the standard) run here
        # first, so a join refused for them never starts a workflow.
        try:
            decide(CityState(), command, self.program_today(), standards=self.catalog,
                   rules=self.rules)
        except DomainError as error:
            raise CommandRefused.from_domain(error) from None
        start = WithStartWorkflowOperation(
            CityWorkflow.run,
            CityInput(city_key=key, clock=self.clock, rules=self.rules,
                      standards=tuple(self.catalog.values()), repeats_record_nothing=True),
            id=city_stream(key), task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
        with _must_exist(f"city {key!r}"), acting_as(context):
            # By name: the SDK's typed overloads do not accept async update methods (mypy).
            view: CommandAnswer = await self._answered(
                self.client.execute_update_with_start_workflow(
                    city_update(commands.JoinNetwork), command, start_workflow_operation=start,
                    id=update_id, result_type=CommandAnswer))
        return view

    async def view(self, key: str) -> CityView:
        with _must_exist(f"city {key!r} (has it joined?)"):
            try:
                view: CityView = await self._answered(
                    self._city(key).query(CityWorkflow.view))
            except WorkflowQueryFailedError:
                await self._failed_query(key)
                raise
        if view.status is Status.NOT_JOINED:
            # A workflow whose join was refused ended without a member: no such city.
            raise NotFound(f"no city {key!r} (has it joined?)")
        return view

    async def _failed_query(self, key: str) -> None:
        """Why a city's workflow could not answer a query: it ended without a city (a
        workflow started from outside the service, with an input that is not ours, fails
        at once), or its workflow task is failing (the worker's log says why)."""
        status = (await self._city(key).describe()).status
        if status is not WorkflowExecutionStatus.RUNNING:
            raise NotFound(f"no city {key!r} (has it joined?)")
        raise Unavailable(f"the workflow of city {key!r} cannot answer now: its workflow "
                          "task is failing (see the worker's log or the Temporal UI)")

    async def application(self, key: str) -> Application | None:
        """The city's open application in full (answers, reviews, clarifications); while
        it is being assessed, with the draft's answers."""
        found, _ = await self.application_and_draft(key)
        return found

    async def application_and_draft(self, key: str) -> tuple[Application | None, DraftState]:
        """The open application as its editors see it, and the draft (its version is the
        ETag a save is made against)."""
        with _must_exist(f"city {key!r} (has it joined?)"):
            found: Application | None = await self._answered(
                self._city(key).query(CityWorkflow.application))
        number = found.number if found is not None else None
        draft = (await self.drafts.read(key, number) if self.drafts is not None
                 else DraftState())
        return (with_draft(found, draft) if found is not None else None), draft

    async def report(self, key: str) -> Report | None:
        """The report of the city's latest decision (private to the city and the staff)."""
        with _must_exist(f"city {key!r} (has it joined?)"):
            found: Report | None = await self._answered(
                self._city(key).query(CityWorkflow.report))
        return found

    # --- cohorts -------------------------------------------------------------------------

    async def create_cohort(self, command: commands.CreateCohort, *,
                            request_id: str | None = None) -> str | None:
        """Start the cohort's workflow. None when this call created it; when the request
        `request_id` had created it already (a retry after its answer was lost), why
        nothing new was: the same answer as the first time, not "exists"."""
        today = self.program_today()
        # Checked before the workflow starts, so a refused cohort leaves nothing behind.
        try:
            cohorts.decide(cohorts.CohortState(), command, today, self.rules)
        except DomainError as error:
            raise CommandRefused.from_domain(error) from None
        exists = CommandRefused("cohort_exists", f"cohort {command.cohort_id} already exists",
                                facts={"cohort": command.cohort_id})
        workflow_id = cohort_stream(command.cohort_id)
        # The event store says whether a cohort exists: an announced cohort's workflow
        # has completed (Temporal would start a second run under its id, which would find
        # the stream taken and fail), and may have left the server's retention since.
        # A front door without an event store (the demo) relies on Temporal alone.
        if self.drafts is not None and await self.drafts.log.last_event(workflow_id):
            if request_id and await self._started_by(workflow_id, request_id):
                return f"cohort {command.cohort_id} was already created by this request"
            raise exists
        try:
            # The request id rides in the memo, where a retry finds it.
            await self.client.start_workflow(
                CohortWorkflow.run,
                CohortInput(cohort_id=command.cohort_id, announce_on=command.announce_on,
                            clock=self.clock, requested_on=today),
                id=workflow_id, task_queue=self.task_queue,
                memo={REQUEST_MEMO: request_id} if request_id else None)
        except (WorkflowAlreadyStartedError, RPCError) as error:
            # The SDK raises the first; the second's status is kept for older SDKs.
            if isinstance(error, WorkflowAlreadyStartedError) or (
                    error.status == RPCStatusCode.ALREADY_EXISTS):
                if request_id and await self._started_by(workflow_id, request_id):
                    return f"cohort {command.cohort_id} was already created by this request"
                raise exists from None
            with _must_exist(f"cohort {command.cohort_id!r}"):
                raise
        return None

    async def _started_by(self, workflow_id: str, request_id: str) -> bool:
        """Whether the request `request_id` started the workflow (False when Temporal no
        longer knows it: an announced cohort past the server's retention)."""
        try:
            with _must_exist(workflow_id):
                found = await self.client.get_workflow_handle(workflow_id).describe()
        except NotFound:
            return False
        return bool(await found.memo_value(REQUEST_MEMO, None) == request_id)

    async def announce_cohort(self, cohort_id: str, *,
                              update_id: str | None = None) -> CohortResult:
        handle = self.client.get_workflow_handle(cohort_stream(cohort_id))
        command = commands.AnnounceCohort()
        try:
            result: CohortResult = await self._answered(handle.execute_update(
                cohort_update(type(command)), command, id=update_id,
                result_type=CohortResult))
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                with _must_exist(f"cohort {cohort_id!r}"):
                    raise
            # A cohort's workflow completes once it is announced; it still answers queries.
            done = await self.cohort(cohort_id)
            raise CommandRefused("already_announced", f"cohort {cohort_id} is already "
                                 f"announced (on {done.announced_on})") from None
        return result

    async def cohort(self, cohort_id: str) -> CohortResult:
        handle = self.client.get_workflow_handle(cohort_stream(cohort_id))
        with _must_exist(f"cohort {cohort_id!r}"):
            result: CohortResult = await self._answered(handle.query(CohortWorkflow.view))
        return result


    # --- mail the outbox already holds -----------------------------------------------------

    async def deliver_mail(self, cause: str) -> None:
        """Have the worker send what the outbox holds for `cause` (a person's invitation
        or password reset), retried until it goes. A second call for the same cause, or
        one while the first still runs, sends nothing twice."""
        try:
            with _must_exist(f"mail {cause!r}"):
                await self.client.start_workflow(
                    OutboxWorkflow.run, RecordedMail(cause=cause),
                    id=outbox_workflow_id(cause), task_queue=self.task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
        except WorkflowAlreadyStartedError:
            pass  # delivered already (or being delivered): the postbox sends nothing twice


def workflow_not_ready(error: RPCError) -> bool:
    """Temporal's "workflow not ready" (FAILED_PRECONDITION): the workflow's task is in a
    failed state, so the server admits no update until the task runs again."""
    return (error.status is RPCStatusCode.FAILED_PRECONDITION
            and "Workflow Task in failed state" in error.message)
