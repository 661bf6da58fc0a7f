"""The program demo: a scenario (the program's published history, or any file in the same
format) replayed through the real service on a compressed program clock.

Cities join (or reapply) some months before their cohort's date, are assessed with
synthetic answers that earn their published tier under the standard named for that
cohort, reviewed and decided; each cohort's workflow announces them on its date by its own
durable timer; renewal reminders and expiries happen on theirs. Everything printed at the
end is read back from the event store, never from the scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import shutil
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain import commands
from domain.answers import Answers, CriterionAnswer
from domain.catalog import StandardCatalog
from domain.city_state import Stage
from domain.clock import ProgramClock, midnight
from domain.eligibility import first_eligible
from domain.rules import ProgramRules
from domain.scoring import needed_for
from domain.standard import PercentTierRule, Standard
from domain.streams import city_key
from domain.tiers import Tier
from domain.validation import describe_validation_error
from infra.application import ProgramService
from infra.platform.errors import CommandRefused, InvalidInput, NotFound, Unavailable
from infra.platform.files import load_document
from infra.standards.folder import load_catalog, load_standard_file

REVIEWER = "reviewer@demo.wwc.local"  # the demo's reviewer account (infra/ops/first_accounts.py)
# Preparations (a join or reapplication taken through review: several updates each) run at
# most this many at once, the nearest cohort's first (`PriorityGate`); cohort creations,
# decisions and late answers are a command or two each and never wait for a slot. The
# service answers a command in 0.15-0.45 s here; 16 preparations at once took 3-8 s each,
# so a city reapplying between two close cohorts, once it had a slot, still shared the
# worker with 15 others and missed the second. 4 keep the worker busy (2 did not).
CONCURRENT_ASSESSMENTS = 4
# After its end, how long (real seconds) the demo waits for cohorts due by then to be
# announced (their timers fire late on a busy machine) before it reads the summary.
SETTLE_SECONDS = 90.0
# One application per cohort (where the record leaves room) waits on a clarification this
# many program days, so the demo shows the deadlines firing: the city's reminder, the
# overdue flag to the operators, the reviewer's reminder (rules: 23, 30 and 38 days).
SLOW_REVIEW_DAYS = 40
# What the slow application keeps clear before its cohort's date, in real seconds (so in
# program days it grows with the demo's speed): its late answer, the review's completion
# and the decision are three commands, and a timer or a command on a busy worker lands a
# second or more late. Where the record leaves less room, no application is slow.
COHORT_MARGIN_SECONDS = 3.0


class ScenarioCity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    country: str
    population: int
    tier: Tier
    # As published: N new, U moved up, R recertified, HR Honor Roll (assessed, not
    # certified). Kept for the reader; the service classifies outcomes by its own rules.
    type: Literal["N", "U", "R", "HR"] = "N"
    assumed: bool = False  # the tier was not published; this one is assumed
    source: str = ""
    note: str = ""


class ScenarioCohort(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    announce_on: date
    standard: str
    source: str = ""
    note: str = ""
    cities: list[ScenarioCity]


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    source: str = ""
    start: date
    end: date | Literal["today"] = "today"
    days_per_second: float = Field(default=60, gt=0)
    lead_days: int = Field(default=120, ge=1)
    honor_roll_percent: Fraction | None = None
    standards: list[str] = []
    # City name -> (latitude, longitude), recorded with each city's join (the public map).
    places: dict[str, tuple[float, float]] = {}
    cohorts: list[ScenarioCohort]

    def end_date(self, today: date) -> date:
        return today if self.end == "today" else self.end


def load_scenario(path: Path) -> tuple[Scenario, list[Standard]]:
    try:
        scenario = Scenario.model_validate(load_document(path))
    except ValidationError as error:
        raise InvalidInput(f"{path}: {describe_validation_error(error)}") from None
    extra = [load_standard_file(path.parent / name) for name in scenario.standards]
    return scenario, extra


def synthetic_answers(standard: Standard, tier: Tier, rules: ProgramRules) -> Answers:
    """Answers that earn exactly `tier` under `standard` (and, for tier none, the Honor
    Roll when the rules have one): the first N criteria claimed with evidence, and the
    outcome gate met."""
    rule = standard.tiers
    if isinstance(rule, PercentTierRule):
        if tier.certified:
            count = needed_for(standard, rule, tier)
        else:
            bar = (rules.honor_roll_percent or Fraction(0)) / 100
            count = min(max(math.ceil(bar * standard.total), 1),
                        needed_for(standard, rule, Tier.SILVER) - 1)
        codes = list(standard.codes[:count])
    else:
        components = rule.required(tier) if tier.certified else 1
        worked = {comp.code for comp in standard.components[:components]}
        codes = [cr.code for cr in standard.criteria if cr.component in worked]
    return Answers(
        criteria={code: CriterionAnswer(
            met=True, evidence=tuple(f"https://evidence.example/{code.lower()}/{slot}"
                                     for slot in range(len(standard.evidence_slots(
                                         standard.criterion(code))))))
            for code in codes},
        outcomes={option.id: True for gate in standard.gates
                  for option in gate.options[: gate.at_least]},
    )


@dataclass(order=True)
class Action:
    day: date
    order: int  # on the same day: 0 a cohort's creation, 1 a preparation, 2 a decision
    label: str = field(compare=False)
    run: Callable[[], Awaitable[object]] = field(compare=False)


class PriorityGate:
    """At most `slots` holders at once; a freed slot goes to the waiter of the lowest
    priority (the nearest cohort date), first come first served among equals. A plain
    semaphore served preparations in the order they opened: with a long lead, cities of a
    cohort two years ahead held the slots while the next cohort's were still waiting."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiting: list[tuple[date, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @contextlib.asynccontextmanager
    async def slot(self, priority: date) -> AsyncIterator[None]:
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: date) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrivals), handed))
        try:
            await handed
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self._release()  # the slot was handed over as this waiter was cancelled
            raise

    def _release(self) -> None:
        while self._waiting:
            _, _, handed = heapq.heappop(self._waiting)
            if not handed.done():  # a cancelled waiter's future is done (cancelled)
                handed.set_result(None)
                return
        self._free += 1


@dataclass(frozen=True)
class CohortDifference:
    """How a cohort's announced cities differ from the record's (certified ones: only
    those are announced)."""

    cohort_id: str
    recorded: int
    kept: int  # the record's cities announced in this cohort
    later: tuple[str, ...]  # the record's, announced in a later cohort
    earlier: tuple[str, ...]  # the record's, announced in an earlier cohort
    missing: tuple[str, ...]  # the record's, announced in none
    added: tuple[str, ...]  # announced here, of another cohort in the record

    def describe(self) -> str:
        parts = [f"cohort {self.cohort_id}: {self.kept} of the record's {self.recorded} "
                 "certified cities announced in it"]
        if self.later:
            parts.append(f"{len(self.later)} decided after its date, announced with a later "
                         f"cohort ({_names(self.later)})")
        if self.earlier:
            parts.append(f"{len(self.earlier)} taken by an earlier cohort announced late "
                         f"({_names(self.earlier)})")
        if self.missing:
            parts.append(f"{len(self.missing)} not announced ({_names(self.missing)})")
        if self.added:
            parts.append(f"{len(self.added)} of other cohorts announced in it "
                         f"({_names(self.added)})")
        return "; ".join(parts)


def _names(names: tuple[str, ...], shown: int = 4) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def compare_with_record(scenario: Scenario,
                        announced: Mapping[str, Iterable[str]]) -> list[CohortDifference]:
    """The cohorts whose announced cities (`announced`: cohort id -> city keys, from the
    event store) are not the record's certified cities, in the record's order."""
    order = sorted(scenario.cohorts, key=lambda k: k.announce_on)
    position = {cohort.id: index for index, cohort in enumerate(order)}
    got = {cohort.id: set(announced.get(cohort.id, ())) for cohort in order}
    names: dict[str, str] = {}
    expected: dict[str, set[str]] = {}
    for cohort in order:
        expected[cohort.id] = set()
        for city in cohort.cities:
            if city.tier.certified:
                key = city_key(city.country, city.name)
                names[key] = city.name
                expected[cohort.id].add(key)
    found = []
    for cohort in order:
        mine, here = expected[cohort.id], got[cohort.id]
        if mine == here:
            continue
        where = {key: [other for other in order if key in got[other.id]
                       and key not in expected[other.id]] for key in mine - here}
        later = [k for k, w in where.items()
                 if any(position[o.id] > position[cohort.id] for o in w)]
        earlier = [k for k, w in where.items()
                   if k not in later and any(position[o.id] < position[cohort.id] for o in w)]
        missing = [k for k in where if k not in later and k not in earlier]

        def named(keys: Iterable[str]) -> tuple[str, ...]:
            return tuple(sorted(names.get(k, k) for k in keys))

        found.append(CohortDifference(
            cohort.id, len(mine), len(mine & here), named(later), named(earlier),
            named(missing), named(here - mine)))
    return found


def record_hint(differences: list[CohortDifference], days_per_second: float) -> str:
    """What to do about cohorts that differ from the record."""
    slower = max(1, math.floor(days_per_second / 2))
    return (f"{len(differences)} cohorts differ from the record: the machine was too busy "
            f"for {days_per_second:g} program days a second (steps came after their "
            f"cohort's date). Run `wwc demo --days-per-second {slower}` (or lower) on a "
            "quieter machine to reproduce it.")


@dataclass
class DemoRun:
    program: ProgramService
    scenario: Scenario
    end: date
    joined: set[str] = field(default_factory=set)
    prepared: set[tuple[str, str]] = field(default_factory=set)
    slow: set[tuple[str, str]] = field(default_factory=set)  # (cohort, city) with a question
    problems: list[str] = field(default_factory=list)
    created: set[str] = field(default_factory=set)  # the cohorts whose creation was accepted
    gate: PriorityGate = field(default_factory=lambda: PriorityGate(CONCURRENT_ASSESSMENTS))
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _watchers: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def actions(self) -> list[Action]:
        """Applications are prepared as early as the record allows (assessment and review
        take time): up to `lead_days` before the cohort, but not before the city's previous
        award is announced (or, not certified, decided). A cohort announces every certified
        decision awaiting it, so a city is decided only after the previous cohort's date, or
        that cohort would take it."""
        found = []
        previous: ScenarioCohort | None = None
        last_award: dict[str, date] = {}
        for cohort in sorted(self.scenario.cohorts, key=lambda k: k.announce_on):
            lead = cohort.announce_on - timedelta(days=self.scenario.lead_days)
            found.append(Action(max(lead, self.scenario.start), 0, f"cohort {cohort.id}",
                                partial(self.create_cohort, cohort)))
            opening: list[tuple[ScenarioCity, str, date]] = []
            for city in cohort.cities:
                key = city_key(city.country, city.name)
                after = last_award.get(key, self.scenario.start - timedelta(days=1))
                eligible = first_eligible(self.program.rules.eligibility, city.country) or lead
                opening.append((city, key, max(lead, self.scenario.start,
                                               after + timedelta(days=1), eligible)))
            # The slow one is the city with the most room: the earliest to open (a new
            # city, usually, rather than one reapplying just after its last award).
            roomy = [(opens, index) for index, (_, _, opens) in enumerate(opening)
                     if opens + timedelta(days=SLOW_REVIEW_DAYS) + self.margin()
                     < cohort.announce_on]
            slow_index = min(roomy)[1] if roomy else None
            for index, (city, key, opens) in enumerate(opening):
                decides = opens if previous is None else max(
                    opens, previous.announce_on + timedelta(days=1))
                if index == slow_index:
                    answers_on = opens + timedelta(days=SLOW_REVIEW_DAYS)
                    self.slow.add((cohort.id, key))
                    found.append(Action(answers_on, 1, city.name,
                                        partial(self.finish_review, cohort, city)))
                    decides = max(decides, answers_on + timedelta(days=1))
                found.append(Action(opens, 1, city.name, partial(self.prepare, cohort, city)))
                found.append(Action(decides, 2, city.name,
                                    partial(self.decide, cohort, city)))
                # A certified city reapplies once announced; one not certified once decided
                # (and the rules' wait past): it is never announced, and its next cohort
                # may be a few months away only (Honor Roll 2021-07, silver 2021-12).
                last_award[key] = (
                    cohort.announce_on if city.tier.certified else decides + timedelta(
                        days=self.program.rules.not_certified_reapply_wait_days))
            previous = cohort
        return sorted(found)

    def margin(self) -> timedelta:
        """`COHORT_MARGIN_SECONDS` in program days at the run's speed."""
        return timedelta(days=math.ceil(self.scenario.days_per_second * COHORT_MARGIN_SECONDS))

    def _still_room_for_slow(self, cohort: ScenarioCohort) -> bool:
        """Whether a clarification asked today can be left unanswered its full time and
        the application still be decided for its cohort (a preparation that waited for a
        slot may open too late for it)."""
        return (self.program.program_today() + timedelta(days=SLOW_REVIEW_DAYS)
                + self.margin() < cohort.announce_on)

    def _location(self, name: str) -> commands.Location | None:
        place = self.scenario.places.get(name)
        return commands.Location(latitude=place[0], longitude=place[1]) if place else None

    async def create_cohort(self, cohort: ScenarioCohort) -> None:
        """One command, never queued behind preparations: a creation that waited for a slot
        could find its date past, and be refused."""
        try:
            await self.program.create_cohort(commands.CreateCohort(
                cohort_id=cohort.id, announce_on=cohort.announce_on))
            self.created.add(cohort.id)
        except CommandRefused as refused:
            self.problems.append(f"cohort {cohort.id}: {refused.message}; its cities are "
                                 "announced with the next cohort")

    async def prepare(self, cohort: ScenarioCohort, city: ScenarioCity) -> None:
        """Join or reapply, submit the self-assessment and take it through review."""
        key = city_key(city.country, city.name)
        if key in self.joined:
            # Waited out before taking a slot: a wait holds none.
            await self._until_announced(key)
        async with self.gate.slot(cohort.announce_on):
            await self._prepare(cohort, city, key)

    async def _prepare(self, cohort: ScenarioCohort, city: ScenarioCity, key: str) -> None:
        standard = self.program.catalog[cohort.standard]
        try:
            if key in self.joined:
                await self.program.send(key, commands.Reapply(standard_id=standard.id))
            else:
                await self.program.join(commands.JoinNetwork(
                    name=city.name, country=city.country, population=city.population,
                    standard_id=standard.id, location=self._location(city.name)))
                self.joined.add(key)
            answers = synthetic_answers(standard, city.tier, self.program.rules)
            slow = (cohort.id, key) in self.slow
            if slow and not self._still_room_for_slow(cohort):
                slow = False
                self.slow.discard((cohort.id, key))
            last: commands.CityCommand = commands.CompleteReview()
            if slow:
                last = commands.RequestClarification(
                    criterion=next(iter(answers.criteria)),
                    question="Demo: where is this documented? (answered late on purpose)")
            for command in (
                    commands.SubmitAssessment(answers=answers),
                    commands.AssignReviewer(reviewer=REVIEWER),
                    commands.RecordReviews(reviews=tuple(
                        commands.RecordCriterionReview(code=code, met=True)
                        for code in answers.criteria)),
                    last):
                await self.program.send(key, command)
            self.prepared.add((cohort.id, key))
        except CommandRefused as refused:
            self.problems.append(f"{city.name} ({cohort.id}): {refused.message}")

    async def finish_review(self, cohort: ScenarioCohort, city: ScenarioCity) -> None:
        """The late answer to the demo's clarification, then the review's completion (two
        or three commands, mostly waiting: no slot of the gate)."""
        key = city_key(city.country, city.name)
        if (cohort.id, key) not in self.prepared or (cohort.id, key) not in self.slow:
            return  # refused, or prepared too late to be slow: its review is complete
        try:
            app = await self.program.application(key)
            questions = app.open_clarifications() if app else []
            if questions:
                # SLOW_REVIEW_DAYS after the question as it was asked: on a busy machine the
                # city's preparation may have queued for weeks of program time, and an answer
                # planned from the day it opened came before any deadline. Never so late
                # that the city misses its cohort.
                latest = cohort.announce_on - self.margin()
                await self.wait_until(min(
                    questions[0].asked_on + timedelta(days=SLOW_REVIEW_DAYS), latest))
                # And not before the question is flagged overdue: on a busy machine the
                # workflow's timer fires late, and an answer that reaches the workflow
                # first (a few program days are a fraction of a second) leaves nothing
                # overdue by the time the timer fires.
                await self._until_reached(key, f"clarification:{questions[0].id}:due", latest)
            for question in questions:
                await self.program.send(key, commands.AnswerClarification(
                    clarification_id=question.id, answer="Here, at last.",
                    evidence=("https://evidence.example/late-answer",)))
            await self.program.send(key, commands.CompleteReview())
        except CommandRefused as refused:
            self.problems.append(f"{city.name} ({cohort.id}): {refused.message}")

    async def decide(self, cohort: ScenarioCohort, city: ScenarioCity) -> None:
        key = city_key(city.country, city.name)
        if (cohort.id, key) not in self.prepared:
            return  # its preparation was refused, and said so
        # No wait here for the previous cohort's announcement: waiting up to the eve of
        # the city's own cohort made decisions miss their own cohort on a quiet machine
        # (measured: cohort 2021-12 announced 0 of its 10; without the wait, 8).
        try:
            await self.program.send(key, commands.Decide())
        except CommandRefused as refused:
            self.problems.append(f"{city.name} ({cohort.id}): {refused.message}")

    def _watcher(self, cohort_id: str) -> asyncio.Task[None]:
        """One task per cohort watches for its announcement, however many cities wait."""
        watcher = self._watchers.get(cohort_id)
        if watcher is None:
            watcher = self._watchers[cohort_id] = asyncio.create_task(self._watch(cohort_id))
        return watcher

    async def _watch(self, cohort_id: str) -> None:
        while True:
            try:
                if (await self.program.cohort(cohort_id)).announced_on is not None:
                    return
            except NotFound:
                return  # it does not exist: nothing to wait for
            except Unavailable:
                pass  # a busy worker: ask again
            await asyncio.sleep(0.2)

    async def settle(self, patience: float = SETTLE_SECONDS) -> None:
        """Wait for the cohorts due by the end to be announced (their timers fire late on a
        busy machine), so the summary reads a program at rest; say which are not."""
        due = [c.id for c in self.scenario.cohorts
               if c.id in self.created and c.announce_on <= self.end]
        watchers = [self._watcher(cohort_id) for cohort_id in due]
        if watchers:
            await asyncio.wait(watchers, timeout=patience)
        for cohort_id, watcher in zip(due, watchers, strict=True):
            if not watcher.done():
                self.problems.append(
                    f"cohort {cohort_id}: not announced {patience:g} s after the demo's end "
                    "(the worker is behind); `wwc up` lets it finish")

    async def _until_reached(self, key: str, deadline: str, latest: date) -> None:
        """Until the city's application records `deadline` as reached, or `latest`."""
        while self.program.program_today() < latest:
            app = await self.program.application(key)
            if app is None or deadline in app.deadlines_reached:
                return
            await asyncio.sleep(0.1)

    async def _until_announced(self, key: str, patience: float = 30.0) -> None:
        """A reapplication waits for the previous decision's announcement (on a slow
        machine the previous cohort may still be announcing)."""
        deadline = asyncio.get_running_loop().time() + patience
        # The stage, not the status: a city still certified reads as "reapplying".
        while (await self.program.view(key)).stage == Stage.DECIDED.value:
            if asyncio.get_running_loop().time() > deadline:
                return  # the reapplication will say why it is refused
            await asyncio.sleep(0.2)

    async def wait_until(self, day: date) -> None:
        delay = self.program.clock.real_delay(datetime.now(UTC), midnight(day))
        if delay:
            await asyncio.sleep(delay.total_seconds())

    async def play(self, on_day: Callable[[date], None]) -> None:
        ticker = asyncio.create_task(self._tick(on_day))

        async def in_order(action: Action) -> None:
            # One city's actions run in the order they were scheduled (asyncio locks are
            # first come, first served, and tasks start in creation order). Preparations
            # take a slot of the gate themselves; the rest go ahead of them.
            async with self._locks.setdefault(action.label, asyncio.Lock()):
                await action.run()

        started: list[asyncio.Task[None]] = []
        try:
            for day, group in groupby(self.actions(), key=lambda a: a.day):
                await self.wait_until(day)
                # Started at their date and left to run: waiting for one cohort's cities
                # before starting the next would make every later cohort late.
                started += [asyncio.create_task(in_order(a)) for a in group]
            await asyncio.gather(*started)
            await self.wait_until(self.end)
            await self.settle()
        finally:
            # Whatever stopped the run, nothing of it outlives it: each task is cancelled
            # and awaited here, not left to fail during the event loop's shutdown.
            pending = [ticker, *started, *self._watchers.values()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        on_day(self.end)

    async def _tick(self, on_day: Callable[[date], None]) -> None:
        while True:
            on_day(min(self.program.clock.today(datetime.now(UTC)), self.end))
            await asyncio.sleep(0.1)


def demo_clock(scenario: Scenario, end: date, now: datetime) -> ProgramClock:
    """Fast from the scenario's start until its end, then real speed from there on."""
    return ProgramClock(origin_real=now, origin_program=midnight(scenario.start),
                        speed=scenario.days_per_second * 86_400, until=midnight(end),
                        then_speed=1.0)


def install_standards(data_dir: Path, scenario_path: Path, scenario: Scenario) -> None:
    """Copy the scenario's standard files into the operator folder, so every worker (and
    every later `wwc up`) knows them when cities reapply."""
    folder = data_dir / "standards"
    folder.mkdir(parents=True, exist_ok=True)
    for name in scenario.standards:
        # The contents only: a copy of the file's mode would leave it readable by others.
        shutil.copyfile(scenario_path.parent / name, folder / Path(name).name)


def scenario_catalog(extra: list[Standard]) -> StandardCatalog:
    return load_catalog().merged(extra)


@dataclass(frozen=True)
class YearEnd:
    """How many cities held an announced certification on a year's last day, by tier."""

    year: int
    on: date  # 31 December, or the demo's end in its last year
    tiers: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.tiers.values())


def certified_by_year(periods: Iterable[tuple[str, date, date | None]], start: date,
                      end: date) -> list[YearEnd]:
    """Certified cities at the end of each program year from `start` to `end`, counted
    over certification periods (tier, awarded_on, ended_on). A period is held on a day
    when it began on or before that day and had not ended by it (the day a certification
    lapses or is replaced, it is no longer held), as in the public registry as of a date."""
    held = list(periods)
    found = []
    for year in range(start.year, end.year + 1):
        on = min(date(year, 12, 31), end)
        found.append(YearEnd(year, on, Counter(
            tier for tier, awarded_on, ended_on in held
            if awarded_on <= on and (ended_on is None or ended_on > on))))
    return found
