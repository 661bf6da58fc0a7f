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
import contextlib
from datetime import date, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict

    from activities.contracts import (
        LOAD_STANDARDS,
        SCORE_APPLICATION,
        SEND_NOTIFICATION,
        LoadStandardsRequest,
        LoadStandardsResponse,
        Notification,
        ScoreRequest,
    )
    from domain import commands as c
    from domain import events as e
    from domain.catalog import StandardCatalog
    from domain.city import city_stream
    from domain.clock import ProgramClock, midnight
    from domain.errors import DomainError
    from domain.lifecycle import CityState, decide, ensure_decidable, evolve
    from domain.report import Report
    from domain.rules import ProgramRules
    from domain.standard import Standard
    from domain.views import CityView, city_view
    from workflows import search
    from workflows.messages import CohortAnnouncement, CohortReply
    from workflows.persist import STORE_TIMEOUT, append_events



class CityInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    city_key: str
    clock: ProgramClock
    rules: ProgramRules = ProgramRules()
    standards: tuple[Standard, ...]
    # Carried over continue-as-new; None for a new city.
    state: CityState | None = None


def refused(error: DomainError) -> ApplicationError:
    """How a domain refusal reaches the caller: its message, its code as the error type."""
    return ApplicationError(error.message, type=error.code, non_retryable=True)


@workflow.defn(name="City")
class CityWorkflow:
    @workflow.init
    def __init__(self, input: CityInput) -> None:
        self.key = input.city_key
        self.stream = city_stream(input.city_key)
        self.clock = input.clock
        self.rules = input.rules
        self.catalog = StandardCatalog(input.standards)
        self.state = input.state or CityState()
        # Handlers run concurrently: this lock makes decide -> persist -> evolve atomic.
        self.lock = asyncio.Lock()
        self.cycle_ended = False
        self.timers_changed = False
        self.commands_started = 0
        self.search = search.CitySearchAttributes()

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
            delay = self._until_next_timer()
            with contextlib.suppress(TimeoutError):  # a timer came due
                await workflow.wait_condition(
                    lambda: self.cycle_ended or self.timers_changed, timeout=delay)
            self.timers_changed = False
            await self._fire_due_timers()
            if self.cycle_ended or workflow.info().is_continue_as_new_suggested():
                fresh = await workflow.execute_activity(
                    LOAD_STANDARDS, LoadStandardsRequest(),
                    result_type=LoadStandardsResponse, start_to_close_timeout=STORE_TIMEOUT)
                # Let every accepted update finish before the history is cut, with no await
                # between this wait and continue-as-new: an update accepted meanwhile would
                # otherwise fail with "workflow completed before the update completed".
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(CityInput(
                    city_key=self.key, clock=self.clock, rules=self.rules,
                    standards=self._standards_to_carry(fresh.standards), state=self.state))

    def today(self) -> date:
        return self.clock.today(workflow.now())

    def _standards_to_carry(self, fresh: tuple[Standard, ...]) -> tuple[Standard, ...]:
        """The refreshed catalog, keeping the exact standard of an open application."""
        app = self.state.application
        pinned = self.catalog[app.standard_id] if app else None
        kept = [s for s in fresh if pinned is None or s.id != pinned.id]
        return (*kept, pinned) if pinned else tuple(kept)

    def _due_timers(self) -> list[tuple[date, c.Command]]:
        """Reminders and expiry the decider would accept once their date comes."""
        cert = self.state.certification
        if cert is None or cert.held_pending_renewal or self.state.withdrawn:
            return []
        due: list[tuple[date, c.Command]] = [(cert.expires_on, c.Expire())]
        if self.state.application is None:
            due += [(on, c.SendRenewalReminder(lead_days=days))
                    for days, on in self.rules.reminder_dates(cert.expires_on)
                    if days not in cert.reminders_sent]
        return sorted(due, key=lambda item: item[0])

    def _until_next_timer(self) -> timedelta | None:
        timers = self._due_timers()
        if not timers:
            return None
        delay = self.clock.real_delay(workflow.now(), midnight(timers[0][0]))
        # Temporal rejects zero-length waits; a due timer fires on the next turn anyway.
        return None if delay is None else max(delay, timedelta(milliseconds=1))

    async def _fire_due_timers(self) -> None:
        for on, command in self._due_timers():
            if on > self.today():
                return
            try:
                # Decided as of its due date: a timer may fire a little after it.
                events = await self._apply(command, actor="program-timer", on=on,
                                           correlation=f"timer:{type(command).__name__}:{on}")
            except ApplicationError:
                continue  # refused now (e.g. the city reapplied meanwhile): nothing to do
            for event in events:
                await self._notify(event)

    async def _notify(self, event: e.Event) -> None:
        messages: dict[type[e.Event], str] = {
            e.RenewalReminderSent: "Your certification expires on {expires_on}; reapply to "
                                   "renew it or to aim for a higher tier.",
            e.CertificationLapsed: "Your certification expired on {expires_on} and has lapsed.",
        }
        message = messages.get(type(event))
        if message is None:
            return
        kind = "renewal_reminder" if isinstance(event, e.RenewalReminderSent) else "lapsed"
        await workflow.execute_activity(
            SEND_NOTIFICATION,
            Notification(city_key=self.key, kind=kind, on=event.on,
                         message=message.format(**event.model_dump())),
            start_to_close_timeout=STORE_TIMEOUT)

    # --- applying a command --------------------------------------------------------------

    def _validate(self, command: c.Command) -> None:
        """Update validators: synchronous, never mutate, reject by raising."""
        try:
            decide(self.state, command, self.today(), standards=self.catalog, rules=self.rules)
        except DomainError as error:
            raise refused(error) from None

    async def _apply(self, command: c.Command, *, actor: str, correlation: str,
                     on: date | None = None) -> list[e.Event]:
        async with self.lock:
            return await self._apply_locked(command, actor=actor, correlation=correlation,
                                            on=on)

    async def _apply_locked(self, command: c.Command, *, actor: str, correlation: str,
                            on: date | None = None) -> list[e.Event]:
        try:
            events = decide(self.state, command, on or self.today(), standards=self.catalog,
                            rules=self.rules)
        except DomainError as error:
            # Another update changed the state between validation and now.
            raise refused(error) from None
        await self._persist(events, command, actor=actor, correlation=correlation)
        for event in events:
            self.state = evolve(self.state, event)
        self.search.update(self.state)
        self.timers_changed = True
        if any(isinstance(ev, _CYCLE_ENDS) or (isinstance(ev, e.CertificationDecided)
                                               and not ev.tier.certified) for ev in events):
            self.cycle_ended = True
        return events

    async def _persist(self, events: list[e.Event], command: c.Command, *, actor: str,
                       correlation: str) -> None:
        await append_events(self.stream, self.state.version, events, actor=actor,
                            correlation=correlation, causation=type(command).__name__)

    async def _command(self, command: c.Command) -> CityView:
        self.commands_started += 1  # before any await: `run` reads it (see there)
        info = workflow.current_update_info()
        correlation = f"update:{info.id}" if info else "update"
        await self._apply(command, actor="operator", correlation=correlation)
        return self.view()

    # --- queries -------------------------------------------------------------------------

    @workflow.query(name="view")
    def view(self) -> CityView:
        return city_view(self.state, self.today())

    @workflow.query(name="state")
    def full_state(self) -> CityState:
        return self.state

    @workflow.query(name="report")
    def report(self) -> Report | None:
        return self.state.last_report

    # --- signals -------------------------------------------------------------------------

    @workflow.signal(name="announce_in_cohort")
    async def announce_in_cohort(self, request: CohortAnnouncement) -> None:
        """A cohort announces this city; the outcome goes back to the cohort by signal."""
        try:
            await self._apply(c.Announce(cohort_id=request.cohort_id,
                                         announced_on=request.announced_on),
                              actor="cohort", correlation=f"cohort:{request.cohort_id}")
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
        self.clock = clock
        self.timers_changed = True

    # --- commands (updates) --------------------------------------------------------------

    @workflow.update(name="join")
    async def join(self, command: c.JoinNetwork) -> CityView:
        return await self._command(command)

    @join.validator
    def _join_ok(self, command: c.JoinNetwork) -> None:
        self._validate(command)

    @workflow.update(name="save_assessment")
    async def save_assessment(self, command: c.SaveAssessment) -> CityView:
        return await self._command(command)

    @save_assessment.validator
    def _save_ok(self, command: c.SaveAssessment) -> None:
        self._validate(command)

    @workflow.update(name="submit_assessment")
    async def submit_assessment(self, command: c.SubmitAssessment) -> CityView:
        return await self._command(command)

    @submit_assessment.validator
    def _submit_ok(self, command: c.SubmitAssessment) -> None:
        self._validate(command)

    @workflow.update(name="assign_reviewer")
    async def assign_reviewer(self, command: c.AssignReviewer) -> CityView:
        return await self._command(command)

    @assign_reviewer.validator
    def _assign_ok(self, command: c.AssignReviewer) -> None:
        self._validate(command)

    @workflow.update(name="record_review")
    async def record_review(self, command: c.RecordCriterionReview) -> CityView:
        return await self._command(command)

    @record_review.validator
    def _review_ok(self, command: c.RecordCriterionReview) -> None:
        self._validate(command)

    @workflow.update(name="record_reviews")
    async def record_reviews(self, command: c.RecordReviews) -> CityView:
        return await self._command(command)

    @record_reviews.validator
    def _reviews_ok(self, command: c.RecordReviews) -> None:
        self._validate(command)

    @workflow.update(name="request_clarification")
    async def request_clarification(self, command: c.RequestClarification) -> CityView:
        return await self._command(command)

    @request_clarification.validator
    def _clarify_ok(self, command: c.RequestClarification) -> None:
        self._validate(command)

    @workflow.update(name="answer_clarification")
    async def answer_clarification(self, command: c.AnswerClarification) -> CityView:
        return await self._command(command)

    @answer_clarification.validator
    def _answer_ok(self, command: c.AnswerClarification) -> None:
        self._validate(command)

    @workflow.update(name="complete_review")
    async def complete_review(self, command: c.CompleteReview) -> CityView:
        return await self._command(command)

    @complete_review.validator
    def _complete_ok(self, command: c.CompleteReview) -> None:
        self._validate(command)

    @workflow.update(name="reapply")
    async def reapply(self, command: c.Reapply) -> CityView:
        return await self._command(command)

    @reapply.validator
    def _reapply_ok(self, command: c.Reapply) -> None:
        self._validate(command)

    @workflow.update(name="withdraw")
    async def withdraw(self, command: c.Withdraw) -> CityView:
        return await self._command(command)

    @withdraw.validator
    def _withdraw_ok(self, command: c.Withdraw) -> None:
        self._validate(command)

    @workflow.update(name="announce")
    async def announce(self, command: c.Announce) -> CityView:
        return await self._command(command)

    @announce.validator
    def _announce_ok(self, command: c.Announce) -> None:
        self._validate(command)

    @workflow.update(name="decide")
    async def decide_certification(self) -> CityView:
        """Score the reviewed answers (an activity) and record the decision."""
        async with self.lock:
            try:
                app = ensure_decidable(self.state)
            except DomainError as error:
                raise refused(error) from None
            report = await workflow.execute_activity(
                SCORE_APPLICATION,
                ScoreRequest(standard=self.catalog[app.standard_id],
                             answers=app.reviewed_answers(),
                             honor_roll_percent=self.rules.honor_roll_percent),
                result_type=Report, start_to_close_timeout=STORE_TIMEOUT)
            await self._apply_locked(c.RecordDecision(report=report), actor="operator",
                                     correlation="update:decide")
        return self.view()

    @decide_certification.validator
    def _decide_ok(self) -> None:
        try:
            ensure_decidable(self.state)
        except DomainError as error:
            raise refused(error) from None


# The events after which the next application cycle starts from a clean history.
_CYCLE_ENDS = (e.CertificationAnnounced, e.CertificationLapsed, e.CityWithdrew)
