"""The program port (`infra.application.port.Program`) without Temporal, for the web's
in-process tests: the pure deciders run as the city's and the cohort's workflows run them
(decide, append, evolve, one command at a time per city), over an in-memory state per city
and cohort, and the events go to the real PostgreSQL event store with the metadata the
workflows give them, so the read models, the timeline and the audit trail read them as
the service's own.

What it leaves out is what only the stack can show: timers (reminders, expiry,
deadlines, a cohort's date passing), mail (what the outbox records stays there),
continue-as-new, and Temporal's own retries
(those stay with the integration and end-to-end tests). A city's state is folded from its
stream the first time it is used, so a second instance over the same database carries on
where the first stopped."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TypeVar

from temporalio.converter import PayloadCodec

from activities.ports import (
    AwaitingAnnouncement,
    ConcurrencyError,
    ReviewerAccounts,
    UnstorableEvent,
)
from domain import cohort as cohorts
from domain import commands, events
from domain.accounts import as_the_accounts_say
from domain.carry_over import documents_to_attach
from domain.catalog import StandardCatalog
from domain.city_state import Application, CityState
from domain.clock import ProgramClock
from domain.drafts import DraftState, newly_confirmed, submission, with_draft
from domain.errors import DomainError, ErrorCategory
from domain.lifecycle import (
    already_holds,
    decide,
    ensure_decidable,
    evolve,
    fold,
)
from domain.report import Report, build_report
from domain.review_sheets import SheetState, completion
from domain.rules import ProgramRules
from domain.streams import (
    city_key,
    city_stream,
    cohort_stream,
    draft_stream,
    review_sheet_stream,
)
from domain.views import CityView, CommandAnswer, answer, city_view
from infra.application.drafts import Drafts
from infra.application.review_sheets import ReviewSheets
from infra.eventstore.mapper import decode
from infra.platform.errors import CommandRefused, NotFound, UsageError
from infra.postgres.eventstore import PostgresEventStore
from workflows.actors import SERVER_OPERATOR, RequestContext
from workflows.messages import CohortResult
from workflows.persist import new_events
from workflows.updates import CARRIERS, Carrier

E = TypeVar("E", bound=events.Event)
# The program's own actor when a cohort announces its cities (as workflows/cohort.py).
COHORT = RequestContext(actor_id="cohort", actor_role="program")


@dataclass
class _City:
    state: CityState
    # A city's workflow runs one command at a time (decide -> append -> evolve).
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Answers by update id: Temporal runs an update id once and answers it again.
    answers: dict[str, CommandAnswer] = field(default_factory=dict)


@dataclass
class _Cohort:
    state: cohorts.CohortState
    request_id: str | None  # what the real service keeps in the workflow's memo
    skipped: tuple[str, ...] = ()
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    answers: dict[str, CohortResult] = field(default_factory=dict)


class InMemoryProgram:
    def __init__(self, store: PostgresEventStore, *, catalog: StandardCatalog,
                 clock: ProgramClock, reviewers: ReviewerAccounts,
                 awaiting: AwaitingAnnouncement, rules: ProgramRules | None = None,
                 payload_codec: PayloadCodec | None = None) -> None:
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.rules = rules or ProgramRules()
        self.reviewers = reviewers
        self.awaiting = awaiting
        self.drafts = Drafts(store, catalog)
        self.sheets = ReviewSheets(store, catalog)
        self.payload_codec = payload_codec
        self.run_id = uuid.uuid4().hex  # the "run" the events' metadata names
        self._cities: dict[str, _City] = {}
        self._cohorts: dict[str, _Cohort] = {}
        self._touched: tuple[date | None, set[str]] = (None, set())
        # The causes whose recorded mail was to be delivered (no worker here: the rows
        # stay in the outbox, their links with them, where a test finds them).
        self.mailed: list[str] = []

    def program_today(self) -> date:
        return self.clock.today(datetime.now(UTC))

    # --- cities ---------------------------------------------------------------------------

    async def send(self, key: str, command: commands.CityCommand, *,
                   context: RequestContext = SERVER_OPERATOR,
                   update_id: str | None = None) -> CommandAnswer:
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
                return await self._command(key, command, context, update_id)
            case _:
                raise UsageError(f"{type(command).__name__} is not a command a client gives "
                                 "a city")

    async def join(self, command: commands.JoinNetwork, *,
                   context: RequestContext = SERVER_OPERATOR,
                   update_id: str | None = None) -> CommandAnswer:
        return await self._command(city_key(command.country, command.name), command,
                                   context, update_id)

    async def _city(self, key: str) -> _City:
        found = self._cities.get(key)
        if found is None:
            stored = await self.store.read_stream(city_stream(key))
            found = self._cities.setdefault(key, _City(fold([decode(e) for e in stored])))
        return found

    async def _member(self, key: str) -> _City:
        city = await self._city(key)
        if city.state.profile is None:  # never joined, or its join was refused
            raise NotFound(f"no city {key!r} (has it joined?)")
        return city

    async def _command(self, key: str, command: commands.CityCommand,
                       context: RequestContext, update_id: str | None) -> CommandAnswer:
        city = (await self._city(key) if isinstance(command, commands.JoinNetwork)
                else await self._member(key))
        if update_id is not None and update_id in city.answers:
            return city.answers[update_id]
        # What the service adds before the update is sent (application/service.py), and
        # the assignment's standing the workflow takes from the accounts again.
        if isinstance(command, commands.AssignReviewer):
            try:
                command = as_the_accounts_say(
                    command, await self.reviewers.standing(command.reviewer))
            except DomainError as error:
                raise CommandRefused.from_domain(error) from None
        if isinstance(command, commands.SubmitAssessment):
            app = city.state.application
            number = app.number if app else None
            standard = self.catalog.get(app.standard_id) if app else None
            try:
                draft = await self.drafts.read(key, number)
                ready = submission(command, number, draft, self.program_today(),
                                   standard=standard)
            except DomainError as error:
                raise CommandRefused.from_domain(error) from None
            # As the service: the documents of the criteria it confirms, attached first.
            confirmed = newly_confirmed(draft, command.confirmed)
            if confirmed and number is not None:
                carried = await self.drafts.carried(key, number)
                for add in documents_to_attach(carried, confirmed, self.program_today()):
                    await self._command(key, add, context, update_id and
                                        f"{update_id}:carry:{add.criterion}:{add.sha256[:16]}")
            command = ready
        if isinstance(command, commands.CompleteReview):
            app = city.state.application
            command = completion(command, app.number if app else None,
                                 app.stage if app else None, await self.sheets.read(key))
        correlation = f"update:{update_id or uuid.uuid4().hex}"
        async with city.lock:
            if isinstance(command, commands.Decide):
                result = await self._decide(key, city, command, context)
            else:
                caused = await self._apply(key, city, command, context, correlation)
                result = answer(self._view(city), None if caused
                                else already_holds(city.state, command))
        if update_id is not None:
            city.answers[update_id] = result
        return result

    async def _decide(self, key: str, city: _City, command: commands.Decide,
                      context: RequestContext) -> CommandAnswer:
        """As the workflow's `decide_certification`: score the reviewed answers (its
        activity), then record the decision."""
        if held := already_holds(city.state, command):
            return answer(self._view(city), held)
        try:
            app = ensure_decidable(city.state)
        except DomainError as error:
            raise CommandRefused.from_domain(error) from None
        report = build_report(self.catalog[app.standard_id], app.reviewed_answers(),
                              honor_roll_percent=self.rules.honor_roll_percent)
        await self._apply(key, city, commands.RecordDecision(report=report), context,
                          "update:decide")
        return answer(self._view(city))

    async def _apply(self, key: str, city: _City, command: commands.CityCommand,
                     context: RequestContext, correlation: str) -> list[events.CityEvent]:
        """Decide, seal the draft a submission was read at, append, evolve (under the
        city's lock)."""
        try:
            caused = decide(city.state, command, self.program_today(),
                            standards=self.catalog, rules=self.rules,
                            actor=context.actor_id)
        except DomainError as error:
            raise CommandRefused.from_domain(error) from None
        if not caused:
            return caused
        if isinstance(command, commands.SubmitAssessment) and command.draft_version is not None:
            await self._seal_draft(key, city.state, command.draft_version, context,
                                   correlation)
        if isinstance(command, commands.CompleteReview) and command.sheet_version is not None:
            await self._seal_sheet(key, city.state, command.sheet_version, context,
                                   correlation)
        await self._append(city_stream(key), city.state.version, caused, context,
                           correlation, type(command).__name__)
        for event in caused:
            city.state = evolve(city.state, event)
        return caused

    async def _seal_draft(self, key: str, state: CityState, version: int,
                          context: RequestContext, correlation: str) -> None:
        """Seal the draft at the version the submission read; a save stored since refuses
        the submission, nothing recorded (as the workflow's `_seal_draft`)."""
        assert state.application is not None  # the decider accepted a submission
        sealed = events.DraftSealed(application=state.application.number,
                                    on=self.program_today())
        try:
            await self._append(draft_stream(key), version, [sealed], context, correlation,
                               "SubmitAssessment", workflow_id=city_stream(key))
        except ConcurrencyError:
            raise CommandRefused("stale_version", "the draft was saved again while it was "
                                 "being submitted; reload it and submit again") from None

    async def _seal_sheet(self, key: str, state: CityState, version: int,
                          context: RequestContext, correlation: str) -> None:
        """As the workflow's `_seal_review_sheet`."""
        assert state.application is not None  # the decider accepted a completion
        sealed = events.ReviewSheetSealed(application=state.application.number,
                                          on=self.program_today())
        try:
            await self._append(review_sheet_stream(key), version, [sealed], context,
                               correlation, "CompleteReview", workflow_id=city_stream(key))
        except ConcurrencyError:
            raise CommandRefused("stale_version", "the review sheet was saved again while "
                                 "the review was being completed; reload it") from None

    async def _append(self, stream: str, version: int, batch: list[E],
                      context: RequestContext, correlation: str, causation: str, *,
                      workflow_id: str | None = None) -> None:
        """As `workflows.persist.append_events`: ids from the stream and version, the
        metadata naming who, why and which workflow and run."""
        metadata = {"actor": context.actor_id, "actor_role": context.actor_role,
                    "correlation_id": context.correlation_id or correlation,
                    "causation_id": causation, "workflow_id": workflow_id or stream,
                    "run_id": self.run_id}
        try:
            await self.store.append(stream, version,
                                    new_events(stream, version, batch, metadata))
        except UnstorableEvent as error:
            # As the append activity: a value the database refuses is invalid input.
            raise CommandRefused("unstorable_value", str(error),
                                 ErrorCategory.INVALID_INPUT) from None

    def _view(self, city: _City) -> CityView:
        return city_view(city.state, self.program_today())

    async def view(self, key: str) -> CityView:
        return self._view(await self._member(key))

    async def save_draft(self, key: str, command: commands.SaveAssessment, *,
                         context: RequestContext = SERVER_OPERATOR,
                         update_id: str | None = None,
                         view: CityView | None = None) -> tuple[CommandAnswer, DraftState]:
        view = view or await self.view(key)
        today = self.program_today()
        before = (await self.drafts.read(key, view.application)
                  if command.confirmed and view.application is not None else None)
        draft, stored = await self.drafts.save(key, command, view, today=today,
                                               context=context,
                                               request_id=update_id or uuid.uuid4().hex)
        if self._touched[0] != today:
            self._touched = (today, set())
        if key not in self._touched[1]:
            try:  # the day's first save tells the city (the nudge counts from it)
                await self._command(key, commands.TouchDraft(), context,
                                    f"{key}:touch-draft:{today}")
                self._touched[1].add(key)
            except (CommandRefused, NotFound):
                pass
        if before is not None and view.application is not None:  # as the service does
            confirmed = newly_confirmed(before, command.confirmed) if stored else (
                command.confirmed)
            carried = await self.drafts.carried(key, view.application)
            for add in documents_to_attach(carried, confirmed, today):
                await self._command(key, add, context, update_id and
                                    f"{update_id}:carry:{add.criterion}:{add.sha256[:16]}")
        return answer(view, None if stored else
                      f"this save is already stored (draft version {draft.version})"), draft

    async def save_review_sheet(self, key: str, command: commands.SaveReviewSheet, *,
                                context: RequestContext = SERVER_OPERATOR,
                                update_id: str | None = None,
                                view: CityView | None = None
                                ) -> tuple[CommandAnswer, SheetState]:
        view = view or await self.view(key)
        sheet, stored = await self.sheets.save(key, command, view, today=self.program_today(),
                                               context=context,
                                               request_id=update_id or uuid.uuid4().hex)
        return answer(view, None if stored else
                      f"this save is already stored (sheet version {sheet.version})"), sheet

    async def review_sheet(self, key: str) -> SheetState:
        return await self.sheets.read(key)

    async def application(self, key: str) -> Application | None:
        found, _ = await self.application_and_draft(key)
        return found

    async def application_and_draft(self, key: str) -> tuple[Application | None, DraftState]:
        found = (await self._member(key)).state.application
        draft = await self.drafts.read(key, found.number if found is not None else None)
        return (with_draft(found, draft) if found is not None else None), draft

    async def report(self, key: str) -> Report | None:
        return (await self._member(key)).state.last_report

    # --- cohorts --------------------------------------------------------------------------

    async def create_cohort(self, command: commands.CreateCohort, *,
                            request_id: str | None = None) -> str | None:
        today = self.program_today()
        try:
            cohorts.decide(cohorts.CohortState(), command, today, self.rules)
        except DomainError as error:
            raise CommandRefused.from_domain(error) from None
        found = self._cohorts.get(command.cohort_id)
        if found is not None or await self.store.last_event(cohort_stream(command.cohort_id)):
            if request_id and found is not None and found.request_id == request_id:
                return f"cohort {command.cohort_id} was already created by this request"
            raise CommandRefused("cohort_exists", f"cohort {command.cohort_id} already exists")
        cohort = self._cohorts[command.cohort_id] = _Cohort(cohorts.CohortState(), request_id)
        async with cohort.lock:
            await self._record(cohort, command.cohort_id,
                               cohorts.decide(cohort.state, command, today), "create")
            # Its date already here: the workflow's timer is due at once.
            if command.announce_on <= today:
                await self._announce(cohort, command.cohort_id, command.announce_on)
        return None

    async def announce_cohort(self, cohort_id: str, *,
                              update_id: str | None = None) -> CohortResult:
        cohort = self._cohorts.get(cohort_id)
        if cohort is None:
            raise NotFound(f"no cohort {cohort_id!r}")
        if update_id is not None and update_id in cohort.answers:
            return cohort.answers[update_id]
        async with cohort.lock:
            if cohort.state.announced_on is not None:
                raise CommandRefused("already_announced", f"cohort {cohort_id} is already "
                                     f"announced (on {cohort.state.announced_on})")
            await self._announce(cohort, cohort_id, self.program_today())
        result = self._result(cohort_id, cohort)
        if update_id is not None:
            cohort.answers[update_id] = result
        return result

    async def deliver_mail(self, cause: str) -> None:
        self.mailed.append(cause)

    async def cohort(self, cohort_id: str) -> CohortResult:
        cohort = self._cohorts.get(cohort_id)
        if cohort is None:
            raise NotFound(f"no cohort {cohort_id!r}")
        return self._result(cohort_id, cohort)

    async def _announce(self, cohort: _Cohort, cohort_id: str, day: date) -> None:
        """As the cohort's workflow: each certified city awaiting its announcement is
        announced in its own stream, then the members and the announcement are recorded in
        the cohort's, in one append."""
        skipped: list[str] = []
        batch: list[events.CohortEvent] = []
        state = cohort.state
        for ref in await self.awaiting.cities():
            city = await self._city(ref.city_key)
            try:
                async with city.lock:
                    await self._apply(ref.city_key, city, commands.Announce(
                        cohort_id=cohort_id, announced_on=day), COHORT, f"cohort:{cohort_id}")
                announced, reason = True, ""
            except CommandRefused as error:
                cert = city.state.certification
                announced = cert is not None and cert.cohort_id == cohort_id
                reason = "" if announced else error.message
            if not announced:
                skipped.append(f"{ref.city_key}: {reason}")
                continue
            added = cohorts.decide(state, commands.AddToCohort(
                city_key=ref.city_key, name=ref.name, tier=city.state.tier), day)
            for event in added:
                state = cohorts.evolve(state, event)
            batch += added
        cohort.skipped = tuple(skipped)
        await self._record(cohort, cohort_id,
                           [*batch, *cohorts.decide(state, commands.AnnounceCohort(), day)],
                           "announce")

    async def _record(self, cohort: _Cohort, cohort_id: str,
                      batch: list[events.CohortEvent], what: str) -> None:
        await self._append(cohort_stream(cohort_id), cohort.state.version, batch, COHORT,
                           f"cohort:{what}", "")
        for event in batch:
            cohort.state = cohorts.evolve(cohort.state, event)

    def _result(self, cohort_id: str, cohort: _Cohort) -> CohortResult:
        return CohortResult(cohort_id=cohort_id, announced_on=cohort.state.announced_on,
                            cities=cohort.state.cities, skipped=cohort.skipped)
