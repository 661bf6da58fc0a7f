"""One workflow per cohort (id `cohort/<id>`): it gathers the certified decisions not yet
announced and announces them on its date (a durable timer on the program clock) or at
once when an operator says so. Only certified cities are announced."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        AWAITING_ANNOUNCEMENT,
        AwaitingAnnouncementRequest,
        AwaitingAnnouncementResponse,
    )
    from domain import cohort as cohorts
    from domain import commands, events
    from domain.clock import ProgramClock
    from domain.errors import DomainError
    from domain.streams import city_stream, cohort_stream
    from workflows import search
    from workflows.actors import RequestContext
    from workflows.messages import CohortAnnouncement, CohortInput, CohortReply, CohortResult
    from workflows.persist import append_events, execute_short_activity
    from workflows.timer import ProgramTimer
    from workflows.updates import cohort_update

SIGNAL_CITIES_AT_ONCE = "signal-cities-at-once"
# How long the cohort waits for its cities' replies before announcing without the silent
# ones (a city workflow that was terminated never answers).
REPLY_TIMEOUT = timedelta(minutes=5)


_ANNOUNCE_NOW = commands.AnnounceCohort()
_COHORT = RequestContext(actor_id="cohort", actor_role="program")


@workflow.defn(name="Cohort")
class CohortWorkflow:
    @workflow.init
    def __init__(self, input: CohortInput) -> None:
        self.input = input
        self.timer = ProgramTimer(input.clock)
        self.stream = cohort_stream(input.cohort_id)
        self.state = input.state or cohorts.CohortState()
        self.announce_now = False
        self.skipped: tuple[str, ...] = ()
        self.replies: dict[str, CohortReply] = {}

    def today(self) -> date:
        return self.timer.today()

    @workflow.run
    async def run(self, input: CohortInput) -> CohortResult:
        workflow.upsert_search_attributes([search.KIND.value_set("cohort"),
                                           search.COHORT.value_set(input.cohort_id)])
        if input.state is None:
            await self._record(self._decide(commands.CreateCohort(
                cohort_id=input.cohort_id, announce_on=input.announce_on),
                input.requested_on or self.today()), "create")
        elif input.state.announced_on is not None:
            return self.result()  # recovered after its announcement: nothing left to do
        scheduled = True
        while not self.announce_now:
            if self.timer.is_due(input.announce_on) or await self.timer.wait(
                    input.announce_on, stop=lambda: self.announce_now,
                    summary=f"cohort {input.cohort_id} announcement, due "
                            f"{input.announce_on}"):
                break
        else:
            scheduled = False
        # On schedule the cohort's own date is the announcement date (the timer may fire a
        # little after it on a fast clock); announced early, it is today.
        await self._announce(input.announce_on if scheduled else self.today())
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.result()

    def _decide(self, command: commands.CohortCommand, on: date,
                state: cohorts.CohortState | None = None) -> list[events.CohortEvent]:
        try:
            return cohorts.decide(state or self.state, command, on)
        except DomainError as error:
            raise ApplicationError(error.message, error.category.value, error.facts,
                                   type=error.code, non_retryable=True) from None

    async def _announce(self, day: date) -> None:
        awaiting = await execute_short_activity(
            AWAITING_ANNOUNCEMENT, AwaitingAnnouncementRequest(cohort_id=self.input.cohort_id),
            result_type=AwaitingAnnouncementResponse,
            summary="find the certified decisions awaiting announcement")
        request = CohortAnnouncement(cohort_id=self.input.cohort_id, announced_on=day,
                                     reply_to=workflow.info().workflow_id)
        asked = []
        if workflow.patched(SIGNAL_CITIES_AT_ONCE):
            # Every city signalled in one workflow task: one at a time, each signal waited
            # for its own round trip through the server, and a cohort of 100 cities took
            # most of a minute to announce.
            sent = await asyncio.gather(*(
                workflow.get_external_workflow_handle(city_stream(city.city_key))
                .signal("announce_in_cohort", request) for city in awaiting.cities),
                return_exceptions=True)
        else:
            sent = []
            for city in awaiting.cities:
                try:
                    await workflow.get_external_workflow_handle(city_stream(city.city_key))\
                        .signal("announce_in_cohort", request)
                    sent.append(None)
                except ApplicationError as error:
                    sent.append(error)
        for city, outcome in zip(awaiting.cities, sent, strict=True):
            if isinstance(outcome, ApplicationError):  # e.g. the city's workflow has ended
                self.replies[city.city_key] = CohortReply(
                    city_key=city.city_key, announced=False, tier=city.tier,
                    reason=outcome.message)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                asked.append(city)
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: all(c.city_key in self.replies for c in asked), timeout=REPLY_TIMEOUT,
                timeout_summary=f"wait for {len(asked)} cities to confirm")
        # The members and the announcement go to the store in one append.
        skipped: list[str] = []
        batch: list[events.CohortEvent] = []
        state = self.state
        for city in awaiting.cities:
            reply = self.replies.get(city.city_key)
            if reply is not None and reply.announced:
                added = self._decide(commands.AddToCohort(
                    city_key=city.city_key, name=city.name, tier=reply.tier), day, state)
            else:
                skipped.append(f"{city.city_key}: {reply.reason if reply else 'no reply'}")
                added = []
            for event in added:
                state = cohorts.evolve(state, event)
            batch += added
        self.skipped = tuple(skipped)
        await self._record([*batch, *self._decide(_ANNOUNCE_NOW, day, state)], "announce")

    async def _record(self, batch: list[events.CohortEvent], what: str) -> None:
        if not batch:
            return
        batch = list(await append_events(self.stream, self.state.version, batch,
                                         context=_COHORT, correlation=f"cohort:{what}"))
        for event in batch:
            self.state = cohorts.evolve(self.state, event)

    def result(self) -> CohortResult:
        return CohortResult(cohort_id=self.input.cohort_id,
                            announced_on=self.state.announced_on, cities=self.state.cities,
                            skipped=self.skipped)

    @workflow.query(name="view")
    def view(self) -> CohortResult:
        return self.result()

    @workflow.signal(name="city_replied")
    def city_replied(self, reply: CohortReply) -> None:
        self.replies[reply.city_key] = reply

    @workflow.signal(name="set_clock")
    def set_clock(self, clock: ProgramClock) -> None:
        self.timer.set_clock(clock)

    # A command without an argument from older clients is the same command.
    @workflow.update(name=cohort_update(commands.AnnounceCohort))
    async def announce_now_update(
        self, command: commands.AnnounceCohort = _ANNOUNCE_NOW
    ) -> CohortResult:
        """Announce at once instead of waiting for the cohort's date."""
        self.announce_now = True
        await workflow.wait_condition(lambda: self.state.announced_on is not None)
        return self.result()

    @announce_now_update.validator
    def _announce_now_ok(self, command: commands.AnnounceCohort = _ANNOUNCE_NOW) -> None:
        if self.state.announced_on is not None or self.announce_now:
            raise ApplicationError(f"cohort {self.input.cohort_id} is already announced",
                                   "refused", type="already_announced", non_retryable=True)
