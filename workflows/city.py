"""One long-lived workflow per city (id `city/<key>`): its lifecycle from joining the
network through reviews, decisions, announcements, renewal reminders, expiry and
reapplication, for decades.

Every command is an update whose validator runs the pure domain decider, so a refused
command is answered at once with the domain's reason and leaves nothing in history or in
the event store. Accepted commands go through the decider again under a lock, their
events are persisted by an activity (ids derived from the stream and version, so a retry
never duplicates one), and only then folded into the state. Each application cycle ends
in continue-as-new carrying only the state the next cycle needs.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        LOAD_STANDARDS,
        REVIEWER_STANDING,
        SCORE_APPLICATION,
        SEND_MAIL,
        SEND_NOTIFICATION,
        LoadStandardsRequest,
        LoadStandardsResponse,
        MailRequest,
        MailResult,
        Notification,
        ReviewerStandingRequest,
        ReviewerStandingResponse,
        ScoreRequest,
    )
    from domain import commands, events
    from domain.accounts import as_the_accounts_say
    from domain.catalog import StandardCatalog
    from domain.city_state import Application, CityState
    from domain.clock import ProgramClock
    from domain.deadlines import pending
    from domain.errors import DomainError, TransitionRefused
    from domain.lifecycle import already_holds, decide, ensure_decidable, evolve
    from domain.notices import notices_for
    from domain.report import Report
    from domain.standard import Standard
    from domain.streams import city_stream, draft_stream, review_sheet_stream
    from domain.views import CityView, CommandAnswer, answer, city_view
    from workflows import search
    from workflows.actors import ActorsByUpdate, RequestContext
    from workflows.messages import CityInput, CohortAnnouncement, CohortReply
    from workflows.persist import (
        ACTIVITY_TIMEOUT,
        StreamAhead,
        append_events,
        execute_short_activity,
    )
    from workflows.timer import ProgramTimer
    from workflows.updates import city_update


def refused(error: DomainError) -> ApplicationError:
    """How a domain refusal reaches the caller: its message, its code as the error type,
    and its category (bad input, or refused by the rules) and its facts as the details."""
    return ApplicationError(error.message, error.category.value, error.facts,
                            type=error.code, non_retryable=True)


# What each renewal notice says (the e-mail seam: `send_notification`).
_NOTICES: dict[type[events.Event], tuple[str, str]] = {
    events.RenewalReminderSent: (
        "renewal_reminder",
        "Your certification expires on {expires_on}; reapply to renew it or to aim for a "
        "higher tier."),
    events.CertificationLapsed: (
        "lapsed", "Your certification expired on {expires_on} and has lapsed."),
}
_DECIDE = commands.Decide()
# A message that cannot be delivered is retried with backoff until it is (the outbox shows
# each attempt); it never blocks the command that caused it.
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), backoff_coefficient=2.0,
                         maximum_interval=timedelta(hours=1), maximum_attempts=0)
MAIL_TIMEOUT = timedelta(minutes=5)
MAIL_HEARTBEAT = timedelta(seconds=10)  # one message at a time: each well within it
TimerCommand = commands.SendRenewalReminder | commands.Expire | commands.ReachDeadline
# A reviewer's standing (an active reviewer's account, its affiliations) comes from the
# accounts the service keeps, not from the command: histories recorded before took the
# command's word, and replay as they ran.
REVIEWER_FROM_ACCOUNTS = "reviewer-from-accounts"
# A city stream found ahead of the workflow's state is folded (`_apply_locked`). No patch
# marks the change: it changes only what the append activity is asked, and a recorded
# history replays that activity's recorded answer (a failure, where it conflicted), so
# it replays as it ran. (A `workflow.patched` asked in the update made the speculative
# task of every update its validator refused a recorded one: three empty history events
# per refusal, caught by tests/integration/test_refusals.py.)
# The program's own actors: its timers, and a cohort announcing its cities.
_PROGRAM_TIMER = RequestContext(actor_id="program-timer", actor_role="program")
_COHORT = RequestContext(actor_id="cohort", actor_role="program")


@workflow.defn(name="City")
class CityWorkflow:
    @workflow.init
    def __init__(self, input: CityInput) -> None:
        self.key = input.city_key
        self.stream = city_stream(input.city_key)
        self.rules = input.rules
        self.catalog = StandardCatalog(input.standards)
        self.state = input.state or CityState()
        # Handlers run concurrently: this lock makes decide -> persist -> evolve atomic.
        self.lock = asyncio.Lock()
        self.cycle_ended = False
        self.commands_started = 0
        self.actors = ActorsByUpdate()  # filled by the worker's interceptor, per update
        self.timer = ProgramTimer(input.clock)
        self.search = search.CitySearchAttributes()
        # E-mail and deadlines came later: histories recorded before replay without them.
        self.mail = workflow.patched("mail-and-deadlines")
        # Runs begun before a repeat recorded nothing decide as then (see CityInput).
        self.record_repeats = not input.repeats_record_nothing
        self.mail_in_flight: list[workflow.ActivityHandle[MailResult]] = []

    # --- the main loop: durable timers and cycle boundaries ------------------------------

    @workflow.run
    async def run(self, input: CityInput) -> None:
        if input.state is None and not self.commands_started:
            # A new city's workflow is started by its join (update-with-start), and in the
            # first activation update handlers run before this method does: the join's
            # validator has already spoken. Nothing started means it refused the join, so
            # nothing was recorded; end now rather than keep an empty workflow forever.
            return
        self.search.update(self.state)
        while True:
            due = self._due_timers()
            next_due = due[0] if due else None
            await self.timer.wait(next_due[0] if next_due else None,
                                  stop=lambda: self.cycle_ended,
                                  summary=_timer_summary(next_due) if next_due else None)
            await self._fire_due_timers()
            if self.cycle_ended or workflow.info().is_continue_as_new_suggested():
                fresh = await execute_short_activity(
                    LOAD_STANDARDS, LoadStandardsRequest(),
                    result_type=LoadStandardsResponse,
                    summary="load standards for the next cycle")
                # Let every accepted update finish before the history is cut, with no await
                # between this wait and continue-as-new: an update accepted meanwhile would
                # otherwise fail with "workflow completed before the update completed".
                await self._quiesce()
                workflow.continue_as_new(CityInput(
                    city_key=self.key, clock=self.timer.clock, rules=self.rules,
                    standards=self._standards_to_carry(fresh.standards), state=self.state,
                    repeats_record_nothing=True))

    def today(self) -> date:
        return self.timer.today()

    def _standards_to_carry(self, fresh: tuple[Standard, ...]) -> tuple[Standard, ...]:
        """The refreshed catalog, keeping the exact standard of an open application."""
        app = self.state.application
        pinned = self.catalog[app.standard_id] if app else None
        kept = [s for s in fresh if pinned is None or s.id != pinned.id]
        return (*kept, pinned) if pinned else tuple(kept)

    def _due_timers(self) -> list[tuple[date, TimerCommand]]:
        """Reminders, expiry and the application's deadlines the decider would accept once
        their date comes, soonest first."""
        due: list[tuple[date, TimerCommand]] = []
        if self.mail:
            due += [(d.fires_on, commands.ReachDeadline(key=d.key))
                    for d in pending(self.state.application, self.rules)]
        cert = self.state.certification
        if cert is not None and not cert.held_pending_renewal and not self.state.withdrawn:
            due.append((cert.expires_on, commands.Expire()))
            if self.state.application is None:
                due += [(on, commands.SendRenewalReminder(lead_days=days))
                        for days, on in self.rules.reminder_dates(cert.expires_on)
                        if days not in cert.reminders_sent]
        return sorted(due, key=lambda item: item[0])

    async def _fire_due_timers(self) -> None:
        for on, command in self._due_timers():
            if on > self.today():
                return
            try:
                # A renewal reminder or an expiry is decided as of its date (a timer may fire
                # a little after it); a deadline as of today, since commands may have been
                # recorded meanwhile and a city's dates never run backwards.
                recorded = await self._apply(
                    command, context=_PROGRAM_TIMER,
                    on=None if isinstance(command, commands.ReachDeadline) else on,
                    correlation=f"timer:{type(command).__name__}:{on}")
            except ApplicationError:
                continue  # refused now (e.g. the city reapplied meanwhile): nothing to do
            if not self.mail:  # the log-line notices of histories from before e-mail
                for event in recorded:
                    await self._notify(event)

    async def _notify(self, event: events.Event) -> None:
        notice = _NOTICES.get(type(event))
        if notice is None:
            return
        kind, message = notice
        await workflow.execute_activity(
            SEND_NOTIFICATION,
            Notification(city_key=self.key, kind=kind, on=event.on,
                         message=message.format(**event.model_dump())),
            start_to_close_timeout=ACTIVITY_TIMEOUT, summary=f"notify the city: {kind}")

    def _send_mail(self, caused: list[events.CityEvent], *, first_version: int) -> None:
        """Start the messages each event causes; they go on while the workflow does."""
        for offset, event in enumerate(caused):
            notices = notices_for(event, self.state, self.rules.clarification_due_days,
                                  self.rules.review_due_days)
            if not notices:
                continue
            app = self.state.application
            self.mail_in_flight.append(workflow.start_activity(
                SEND_MAIL,
                MailRequest(city_key=self.key, cause=f"{self.stream}@{first_version + offset}",
                            notices=notices, reviewer=app.reviewer if app else None),
                result_type=MailResult, start_to_close_timeout=MAIL_TIMEOUT,
                heartbeat_timeout=MAIL_HEARTBEAT, retry_policy=MAIL_RETRY,
                summary=f"mail: {', '.join(n.kind for n in notices)}"))

    async def _quiesce(self) -> None:
        """Every accepted update finished and every message started in this run delivered
        (continue-as-new would drop them), with no await between the last check and the
        caller's continue-as-new."""
        while True:
            if self.mail_in_flight:
                await asyncio.gather(*self.mail_in_flight, return_exceptions=True)
                self.mail_in_flight = [h for h in self.mail_in_flight if not h.done()]
            await workflow.wait_condition(workflow.all_handlers_finished)
            if not self.mail_in_flight:
                return

    # --- applying a command --------------------------------------------------------------

    def _validate(self, command: commands.CityCommand) -> None:
        """Update validators: synchronous, never mutate, reject by raising."""
        try:
            decide(self.state, command, self.today(), standards=self.catalog, rules=self.rules,
                   record_repeats=self.record_repeats)
        except DomainError as error:
            raise refused(error) from None

    async def _apply(self, command: commands.CityCommand, *, context: RequestContext,
                     correlation: str, on: date | None = None) -> list[events.CityEvent]:
        async with self.lock:
            return await self._apply_locked(command, context=context,
                                            correlation=correlation, on=on)

    async def _apply_locked(self, command: commands.CityCommand, *, context: RequestContext,
                            correlation: str, on: date | None = None) -> list[events.CityEvent]:
        try:
            caused = decide(self.state, command, on or self.today(), standards=self.catalog,
                            rules=self.rules, record_repeats=self.record_repeats,
                            actor=context.actor_id)
        except DomainError as error:
            # Another update changed the state between validation and now.
            raise refused(error) from None
        if not caused:
            # Nothing to record: the effect already holds (`already_holds`), or the draft
            # was already touched today.
            return caused
        if isinstance(command, commands.SubmitAssessment) and command.draft_version is not None:
            await self._seal_draft(command.draft_version, context=context,
                                   correlation=correlation)
        if isinstance(command, commands.CompleteReview) and command.sheet_version is not None:
            await self._seal_review_sheet(command.sheet_version, context=context,
                                          correlation=correlation)
        try:
            caused = list(await append_events(
                self.stream, self.state.version, caused, context=context,
                correlation=correlation, causation=type(command).__name__,
                fold_ahead=True))
        except StreamAhead as ahead:
            # The stream holds what a lost task of this workflow stored and no retry took
            # as its own: the log is the record. Fold it, then decide the command again on
            # top of it (it may now be refused, or hold already).
            self._fold([events.as_city_event(event) for event in ahead.events])
            return await self._apply_locked(command, context=context,
                                            correlation=correlation, on=on)
        self._fold(caused)
        return caused

    def _fold(self, caused: list[events.CityEvent]) -> None:
        """Evolve the state by events just stored, with what follows from them."""
        for event in caused:
            self.state = evolve(self.state, event)
        if self.mail:
            self._send_mail(caused, first_version=self.state.version - len(caused) + 1)
        self.search.update(self.state)
        self.timer.poke()  # what is due may have changed
        if any(isinstance(ev, _CYCLE_ENDS) or (isinstance(ev, events.CertificationDecided)
                                               and not ev.tier.certified) for ev in caused):
            self.cycle_ended = True

    async def _seal_draft(self, version: int, *, context: RequestContext,
                          correlation: str) -> None:
        """Seal the draft at `version`, the one the submitted answers were read at; a save
        stored since (the stream is past `version`) refuses the submission, with nothing
        recorded. Drafts are saved outside this workflow: see domain/drafts.py."""
        app = self.state.application
        assert app is not None  # the decider accepted a submission
        try:
            await append_events(draft_stream(self.key), version,
                                [events.DraftSealed(application=app.number, on=self.today())],
                                context=context, correlation=correlation,
                                causation="SubmitAssessment")
        except (ActivityError, ApplicationError) as error:
            # A local activity's failure arrives as the ApplicationError itself or wrapped
            # (an ActivityError, or an ApplicationError whose cause it is).
            if _failed_with(error, "ConcurrencyError"):
                raise refused(TransitionRefused(
                    "the draft was saved again while it was being submitted; reload it "
                    "and submit again", code="stale_version")) from None
            raise

    async def _seal_review_sheet(self, version: int, *, context: RequestContext,
                                 correlation: str) -> None:
        """Seal the review sheet at `version`, the one the completion's verdicts were read
        at; a save stored since refuses the completion, with nothing recorded. Sheets are
        saved outside this workflow: see domain/review_sheets.py."""
        app = self.state.application
        assert app is not None  # the decider accepted a completion
        try:
            await append_events(review_sheet_stream(self.key), version,
                                [events.ReviewSheetSealed(application=app.number,
                                                          on=self.today())],
                                context=context, correlation=correlation,
                                causation="CompleteReview")
        except (ActivityError, ApplicationError) as error:
            if _failed_with(error, "ConcurrencyError"):
                raise refused(TransitionRefused(
                    "the review sheet was saved again while the review was being "
                    "completed; reload it and complete again", code="stale_version")) from None
            raise

    async def _command(self, command: commands.CityCommand) -> CommandAnswer:
        self.commands_started += 1  # before any await: `run` reads it (see there)
        info = workflow.current_update_info()
        correlation = f"update:{info.id}" if info else "update"
        caused = await self._apply(command, context=self.actors.take(info.id if info else None),
                                   correlation=correlation)
        # No await since the lock was released: the state is the one the decider saw.
        return self._answer(None if caused or self.record_repeats
                            else already_holds(self.state, command))

    def _answer(self, nothing_new: str | None = None) -> CommandAnswer:
        return answer(self.view(), nothing_new)

    # --- queries -------------------------------------------------------------------------

    @workflow.query(name="view")
    def view(self) -> CityView:
        return city_view(self.state, self.today())

    @workflow.query(name="application")
    def application(self) -> Application | None:
        """The open application in full: answers, reviews, clarifications (the city's own
        page and its reviewer's screen)."""
        return self.state.application

    @workflow.query(name="report")
    def report(self) -> Report | None:
        """The report of the latest decision (shown to the city, never published)."""
        return self.state.last_report

    # --- signals -------------------------------------------------------------------------

    @workflow.signal(name="announce_in_cohort")
    async def announce_in_cohort(self, request: CohortAnnouncement) -> None:
        """A cohort announces this city; the outcome goes back to the cohort by signal."""
        try:
            await self._apply(commands.Announce(cohort_id=request.cohort_id,
                                                announced_on=request.announced_on),
                              context=_COHORT, correlation=f"cohort:{request.cohort_id}")
            reply = CohortReply(city_key=self.key, announced=True, tier=self.state.tier)
        except (ApplicationError, ActivityError) as error:
            cert = self.state.certification
            # A repeated request after the announcement went through is still a yes.
            done = cert is not None and cert.cohort_id == request.cohort_id
            reason = error.message if isinstance(error, ApplicationError) else str(error)
            reply = CohortReply(city_key=self.key, announced=done, tier=self.state.tier,
                                reason="" if done else reason)
        await workflow.get_external_workflow_handle(request.reply_to).signal(
            "city_replied", reply)

    @workflow.signal(name="set_clock")
    def set_clock(self, clock: ProgramClock) -> None:
        """Re-time the program (e.g. freeze it when a demo ends); timers are recomputed."""
        self.timer.set_clock(clock)

    # --- commands (updates; names from workflows/updates.py) -----------------------------

    @workflow.update(name=city_update(commands.JoinNetwork))
    async def join(self, command: commands.JoinNetwork) -> CommandAnswer:
        return await self._command(command)

    @join.validator
    def _join_ok(self, command: commands.JoinNetwork) -> None:
        self._validate(command)

    # Drafts are saved in their own stream now (domain/drafts.py); this update stays for
    # histories recorded before, and for a client of the old protocol.
    @workflow.update(name=city_update(commands.SaveAssessment))
    async def save_assessment(self, command: commands.SaveAssessment) -> CommandAnswer:
        return await self._command(command)

    @save_assessment.validator
    def _save_ok(self, command: commands.SaveAssessment) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.TouchDraft))
    async def touch_draft(self, command: commands.TouchDraft) -> CommandAnswer:
        return await self._command(command)

    @touch_draft.validator
    def _touch_ok(self, command: commands.TouchDraft) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.SubmitAssessment))
    async def submit_assessment(self, command: commands.SubmitAssessment) -> CommandAnswer:
        return await self._command(command)

    @submit_assessment.validator
    def _submit_ok(self, command: commands.SubmitAssessment) -> None:
        self._validate(command)

    # Evidence documents (domain/evidence.py): their bytes are kept by the door that took
    # them before these updates are sent; the events bind their hashes into the chain.
    @workflow.update(name=city_update(commands.AddDocument))
    async def add_document(self, command: commands.AddDocument) -> CommandAnswer:
        return await self._command(command)

    @add_document.validator
    def _add_document_ok(self, command: commands.AddDocument) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.RemoveDocument))
    async def remove_document(self, command: commands.RemoveDocument) -> CommandAnswer:
        return await self._command(command)

    @remove_document.validator
    def _remove_document_ok(self, command: commands.RemoveDocument) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.AssignReviewer))
    async def assign_reviewer(self, command: commands.AssignReviewer) -> CommandAnswer:
        """The validator refuses on the affiliations the front door filled in (so an
        honest refusal records nothing); this takes them, and whether the reviewer is an
        active reviewer at all, from the accounts."""
        if workflow.patched(REVIEWER_FROM_ACCOUNTS):
            self.commands_started += 1  # before any await: `run` reads it (see there)
            found = await execute_short_activity(
                REVIEWER_STANDING, ReviewerStandingRequest(email=command.reviewer),
                result_type=ReviewerStandingResponse,
                summary=f"reviewer {command.reviewer} as the accounts say")
            try:
                command = as_the_accounts_say(command, found.standing)
            except DomainError as error:
                raise refused(error) from None
        return await self._command(command)

    @assign_reviewer.validator
    def _assign_ok(self, command: commands.AssignReviewer) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.RecordCriterionReview))
    async def record_review(self, command: commands.RecordCriterionReview) -> CommandAnswer:
        return await self._command(command)

    @record_review.validator
    def _review_ok(self, command: commands.RecordCriterionReview) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.RecordReviews))
    async def record_reviews(self, command: commands.RecordReviews) -> CommandAnswer:
        return await self._command(command)

    @record_reviews.validator
    def _reviews_ok(self, command: commands.RecordReviews) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.RequestClarification))
    async def request_clarification(self, command: commands.RequestClarification) -> CommandAnswer:
        return await self._command(command)

    @request_clarification.validator
    def _clarify_ok(self, command: commands.RequestClarification) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.AnswerClarification))
    async def answer_clarification(self, command: commands.AnswerClarification) -> CommandAnswer:
        return await self._command(command)

    @answer_clarification.validator
    def _answer_ok(self, command: commands.AnswerClarification) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.CompleteReview))
    async def complete_review(self, command: commands.CompleteReview) -> CommandAnswer:
        return await self._command(command)

    @complete_review.validator
    def _complete_ok(self, command: commands.CompleteReview) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.Reapply))
    async def reapply(self, command: commands.Reapply) -> CommandAnswer:
        return await self._command(command)

    @reapply.validator
    def _reapply_ok(self, command: commands.Reapply) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.Withdraw))
    async def withdraw(self, command: commands.Withdraw) -> CommandAnswer:
        return await self._command(command)

    @withdraw.validator
    def _withdraw_ok(self, command: commands.Withdraw) -> None:
        self._validate(command)

    @workflow.update(name=city_update(commands.Announce))
    async def announce(self, command: commands.Announce) -> CommandAnswer:
        return await self._command(command)

    @announce.validator
    def _announce_ok(self, command: commands.Announce) -> None:
        self._validate(command)

    # Histories recorded before `Decide` existed carry this update with no argument; the
    # default keeps them replaying.
    @workflow.update(name=city_update(commands.Decide))
    async def decide_certification(self, command: commands.Decide = _DECIDE) -> CommandAnswer:
        """Score the reviewed answers (an activity) and record the decision."""
        info = workflow.current_update_info()
        context = self.actors.take(info.id if info else None)
        async with self.lock:
            if not self.record_repeats and (held := already_holds(self.state, command)):
                return self._answer(held)  # decided already: nothing to score again
            try:
                app = ensure_decidable(self.state)
            except DomainError as error:
                raise refused(error) from None
            report = await execute_short_activity(
                SCORE_APPLICATION,
                ScoreRequest(standard=self.catalog[app.standard_id],
                             answers=app.reviewed_answers(),
                             honor_roll_percent=self.rules.honor_roll_percent),
                result_type=Report,
                summary=f"score application {app.number} under {app.standard_id}")
            await self._apply_locked(commands.RecordDecision(report=report), context=context,
                                     correlation="update:decide")
        return self._answer()

    @decide_certification.validator
    def _decide_ok(self, command: commands.Decide = _DECIDE) -> None:
        self._validate(command)


def _failed_with(error: BaseException | None, error_type: str) -> bool:
    while error is not None:
        if isinstance(error, ApplicationError) and error.type == error_type:
            return True
        error = error.__cause__ or getattr(error, "cause", None)
    return False


def _timer_summary(due: tuple[date, TimerCommand]) -> str:
    """What the Temporal UI shows for the pending timer, e.g. 'renewal reminder, 180 days
    before expiry, due 2026-12-23'."""
    on, command = due
    if isinstance(command, commands.SendRenewalReminder):
        return f"renewal reminder, {command.lead_days} days before expiry, due {on}"
    if isinstance(command, commands.ReachDeadline):
        return f"deadline {command.key}, due {on}"
    return f"certification expiry, due {on}"


# The events after which the next application cycle starts from a clean history.
_CYCLE_ENDS = (events.CertificationAnnounced, events.CertificationLapsed, events.CityWithdrew)
