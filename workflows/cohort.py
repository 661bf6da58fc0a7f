"""One workflow per cohort (id `cohort/<id>`): it gathers the certified decisions not yet
announced and announces them on its date (a durable timer on the program clock) or at
once when an operator says so. Only certified cities are announced."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict

    from activities.contracts import (
        AWAITING_ANNOUNCEMENT,
        AwaitingAnnouncementRequest,
        AwaitingAnnouncementResponse,
    )
    from domain import cohort as cohorts
    from domain import events as e
    from domain.city import city_stream, cohort_stream
    from domain.clock import ProgramClock, midnight
    from workflows import search
    from workflows.messages import CohortAnnouncement, CohortReply
    from workflows.persist import STORE_TIMEOUT, append_events

# How long the cohort waits for its cities' replies before announcing without the silent
# ones (a city workflow that was terminated never answers).
REPLY_TIMEOUT = timedelta(minutes=5)


class CohortInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    cohort_id: str
    announce_on: date
    clock: ProgramClock


class CohortResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    cohort_id: str
    announced_on: date | None
    cities: tuple[cohorts.CohortCity, ...]
    skipped: tuple[str, ...] = ()


@workflow.defn(name="Cohort")
class CohortWorkflow:
    @workflow.init
    def __init__(self, input: CohortInput) -> None:
        self.input = input
        self.clock = input.clock
        self.stream = cohort_stream(input.cohort_id)
        self.state = cohorts.CohortState()
        self.announce_now = False
        self.clock_changed = False
        self.skipped: tuple[str, ...] = ()
        self.replies: dict[str, CohortReply] = {}

    def today(self) -> date:
        return self.clock.today(workflow.now())

    @workflow.run
    async def run(self, input: CohortInput) -> CohortResult:
        workflow.upsert_search_attributes([search.KIND.value_set("cohort"),
                                           search.COHORT.value_set(input.cohort_id)])
        await self._record(cohorts.create(self.state, input.cohort_id, input.announce_on,
                                          self.today()), "create")
        scheduled = True
        while not self.announce_now:
            delay = self.clock.real_delay(workflow.now(), midnight(input.announce_on))
            if delay is not None and delay <= timedelta(0):
                break
            try:
                # A durable timer on the program clock; re-armed if the clock changes.
                await workflow.wait_condition(lambda: self.announce_now or self.clock_changed,
                                              timeout=delay)
            except TimeoutError:
                break
            self.clock_changed = False
        else:
            scheduled = False
        # On schedule the cohort's own date is the announcement date (the timer may fire a
        # little after it on a fast clock); announced early, it is today.
        await self._announce(input.announce_on if scheduled else self.today())
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.result()

    async def _announce(self, day: date) -> None:
        awaiting = await workflow.execute_activity(
            AWAITING_ANNOUNCEMENT, AwaitingAnnouncementRequest(cohort_id=self.input.cohort_id),
            result_type=AwaitingAnnouncementResponse, start_to_close_timeout=STORE_TIMEOUT)
        request = CohortAnnouncement(cohort_id=self.input.cohort_id, announced_on=day,
                                     reply_to=workflow.info().workflow_id)
        asked = []
        for city in awaiting.cities:
            try:
                await workflow.get_external_workflow_handle(city_stream(city.city_key))\
                    .signal("announce_in_cohort", request)
                asked.append(city)
            except ApplicationError as error:  # e.g. the city's workflow no longer runs
                self.replies[city.city_key] = CohortReply(
                    city_key=city.city_key, announced=False, tier=city.tier,
                    reason=error.message)
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: all(c.city_key in self.replies for c in asked), timeout=REPLY_TIMEOUT)
        # The members and the announcement go to the store in one append.
        skipped, events, state = [], [], self.state
        for city in awaiting.cities:
            reply = self.replies.get(city.city_key)
            if reply is not None and reply.announced:
                member = cohorts.CohortCity(city_key=city.city_key, name=city.name,
                                            tier=reply.tier)
                added = cohorts.add_city(state, member, day)
            else:
                skipped.append(f"{city.city_key}: {reply.reason if reply else 'no reply'}")
                added = []
            for event in added:
                state = cohorts.evolve(state, event)
            events += added
        self.skipped = tuple(skipped)
        await self._record([*events, *cohorts.announce(state, day)], "announce")

    async def _record(self, events: list[e.Event], what: str) -> None:
        if not events:
            return
        await append_events(self.stream, self.state.version, events, actor="cohort",
                            correlation=f"cohort:{what}")
        for event in events:
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
        self.clock = clock
        self.clock_changed = True

    @workflow.update(name="announce_now")
    async def announce_now_update(self) -> CohortResult:
        """Announce at once instead of waiting for the cohort's date."""
        self.announce_now = True
        await workflow.wait_condition(lambda: self.state.announced_on is not None)
        return self.result()

    @announce_now_update.validator
    def _announce_now_ok(self) -> None:
        if self.state.announced_on is not None or self.announce_now:
            raise ApplicationError(f"cohort {self.input.cohort_id} is already announced",
                                   type="already_announced", non_retryable=True)

