"""How the demo runs its scenario on a busy machine: a cohort's creation never waits
behind preparations, a refusal is a problem reported at the end (not the end of the run),
preparations of the nearest cohort go first, and the run is compared with the record."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest

from domain import commands
from domain.rules import ProgramRules
from domain.streams import city_key
from domain.tiers import Tier
from infra.application import ProgramService
from infra.ops.demo import (
    CONCURRENT_ASSESSMENTS,
    DemoRun,
    PriorityGate,
    Scenario,
    ScenarioCity,
    ScenarioCohort,
    compare_with_record,
    load_scenario,
    record_hint,
)
from infra.platform.errors import CommandRefused
from infra.standards.folder import load_catalog


def city(name: str, tier: Tier = Tier.GOLD) -> ScenarioCity:
    return ScenarioCity(name=name, country="US", population=50_000, tier=tier)


SCENARIO = Scenario(title="t", start=date(2023, 1, 1), end=date(2025, 1, 1), lead_days=200,
                    cohorts=[
    ScenarioCohort(id="2023-09", announce_on=date(2023, 9, 1), standard="wwc-2022",
                   cities=[city("Ames, IA"), city("Bend, OR"),
                           city("Cary, NC", Tier.NONE)]),
    ScenarioCohort(id="2024-06", announce_on=date(2024, 6, 1), standard="wwc-2022",
                   cities=[city("Dover, DE"), city("Erie, PA"), city("Ames, IA",
                                                                   Tier.PLATINUM)]),
])


class StubProgram:
    """What `DemoRun` asks of the program service, minus the service: creations recorded,
    or refused."""

    def __init__(self, refuse: bool = False) -> None:
        self.rules = ProgramRules()
        self.created: list[str] = []
        self.refuse = refuse

    async def create_cohort(self, command: commands.CreateCohort) -> None:
        if self.refuse:
            raise CommandRefused("past_date", f"cohort {command.cohort_id} cannot be "
                                 "announced on its date, a date already past")
        self.created.append(command.cohort_id)


def demo_run(program: StubProgram) -> DemoRun:
    return DemoRun(cast(ProgramService, program), SCENARIO, date(2025, 1, 1))


async def test_a_cohort_is_created_while_every_preparation_slot_is_taken() -> None:
    program = StubProgram()
    run = demo_run(program)
    creation = next(a for a in run.actions() if a.label == "cohort 2024-06")
    # Every slot held by a preparation, and more waiting: as on a busy machine.
    holders = [run.gate.slot(date(2024, 6, 1)) for _ in range(CONCURRENT_ASSESSMENTS)]
    for holder in holders:
        await holder.__aenter__()
    queued = asyncio.create_task(_hold(run.gate, date(2024, 6, 1)))
    await asyncio.sleep(0)
    await asyncio.wait_for(creation.run(), timeout=1)
    assert program.created == ["2024-06"]
    assert not queued.done()
    queued.cancel()
    for holder in holders:
        await holder.__aexit__(None, None, None)


async def _hold(gate: PriorityGate, priority: date) -> None:
    async with gate.slot(priority):
        await asyncio.sleep(0)


def test_each_cohort_is_created_before_its_cities_are_prepared_or_decided() -> None:
    actions = demo_run(StubProgram()).actions()
    for cohort in SCENARIO.cohorts:
        created = next(i for i, a in enumerate(actions) if a.label == f"cohort {cohort.id}")
        assert actions[created].order == 0
        its_cities = [i for i, a in enumerate(actions)
                      if isinstance(a.run, partial) and a.run.args[:1] == (cohort,)
                      and i != created]
        assert len(its_cities) >= 2 * len(cohort.cities)  # prepared and decided
        assert min(its_cities) > created


async def test_a_refused_creation_is_a_problem_reported_not_the_end_of_the_run() -> None:
    run = demo_run(StubProgram(refuse=True))
    creation = next(a for a in run.actions() if a.label == "cohort 2023-09")
    await creation.run()  # does not raise
    assert run.created == set()
    (problem,) = run.problems
    assert problem.startswith("cohort 2023-09: cohort 2023-09 cannot be announced")


async def test_a_freed_slot_goes_to_the_nearest_cohort_then_first_come() -> None:
    gate = PriorityGate(1)
    order: list[str] = []

    async def prepare(name: str, cohort: date) -> None:
        async with gate.slot(cohort):
            order.append(name)
            await asyncio.sleep(0)

    async with gate.slot(date(2020, 1, 1)):
        tasks = [asyncio.create_task(prepare(name, cohort)) for name, cohort in (
            ("far", date(2026, 1, 1)), ("near", date(2024, 1, 1)),
            ("near too", date(2024, 1, 1)), ("middle", date(2025, 1, 1)))]
        await asyncio.sleep(0.01)
        assert order == []
    await asyncio.gather(*tasks)
    assert order == ["near", "near too", "middle", "far"]


async def test_a_cancelled_waiter_passes_its_slot_on() -> None:
    gate = PriorityGate(1)
    entered: list[str] = []

    async def prepare(name: str) -> None:
        async with gate.slot(date(2024, 1, 1)):
            entered.append(name)

    async with gate.slot(date(2024, 1, 1)):
        cancelled = asyncio.create_task(prepare("cancelled"))
        waiting = asyncio.create_task(prepare("waiting"))
        await asyncio.sleep(0)
        cancelled.cancel()
    await asyncio.wait_for(waiting, timeout=1)
    assert entered == ["waiting"]
    async with gate.slot(date(2024, 1, 1)):  # and the slot came back
        pass


def test_a_run_as_recorded_shows_no_difference() -> None:
    announced = {"2023-09": ["us-ames-ia", "us-bend-or"],
                 "2024-06": ["us-dover-de", "us-erie-pa", "us-ames-ia"]}
    assert compare_with_record(SCENARIO, announced) == []


def test_a_city_decided_late_is_named_in_both_cohorts() -> None:
    # Bend was decided after 2023-09's date: announced with 2024-06. Dover was decided
    # before 2023-09's late timer fired: announced with it.
    announced = {"2023-09": ["us-ames-ia", "us-dover-de"],
                 "2024-06": ["us-bend-or", "us-erie-pa", "us-ames-ia"]}
    first, second = compare_with_record(SCENARIO, announced)
    assert (first.cohort_id, first.recorded, first.kept) == ("2023-09", 2, 1)
    assert (first.later, first.added) == (("Bend, OR",), ("Dover, DE",))
    assert first.describe() == (
        "cohort 2023-09: 1 of the record's 2 certified cities announced in it; 1 decided "
        "after its date, announced with a later cohort (Bend, OR); 1 of other cohorts "
        "announced in it (Dover, DE)")
    assert (second.kept, second.earlier, second.added) == (2, ("Dover, DE",), ("Bend, OR",))
    assert "taken by an earlier cohort announced late (Dover, DE)" in second.describe()


def test_a_cohort_never_announced_names_its_cities_as_not_announced() -> None:
    announced: dict[str, Any] = {"2023-09": ["us-ames-ia", "us-bend-or"]}
    (difference,) = compare_with_record(SCENARIO, announced)
    assert difference.cohort_id == "2024-06"
    assert difference.kept == 0
    assert difference.missing == ("Ames, IA", "Dover, DE", "Erie, PA")
    assert "3 not announced (Ames, IA, Dover, DE, Erie, PA)" in difference.describe()


@pytest.mark.parametrize(("speed", "suggested"), [(40, 20), (3, 1), (1, 1)])
def test_the_hint_names_a_slower_speed(speed: float, suggested: int) -> None:
    differences = compare_with_record(SCENARIO, {})
    hint = record_hint(differences, speed)
    assert hint.startswith("2 cohorts differ from the record")
    assert f"`wwc demo --days-per-second {suggested}`" in hint


# --- the plan and the gate, as measured on the published history -----------------------

HISTORY = Path(__file__).parents[2] / "infra" / "ops" / "scenarios" / "wwc-history.yaml"


def scheduled(run: DemoRun) -> dict[tuple[str, str], dict[str, date]]:
    """(cohort id, city) -> {"prepare" | "decide" | "finish_review": its day}."""
    found: dict[tuple[str, str], dict[str, date]] = {}
    for action in run.actions():
        if action.order == 0:
            continue
        assert isinstance(action.run, partial)
        cohort, named = action.run.args
        found.setdefault((cohort.id, named.name), {})[action.run.func.__name__] = action.day
    return found


def test_a_city_not_certified_reapplies_once_decided_not_once_its_cohort_is_announced() -> None:
    # Long Beach and Rochester in the record: Honor Roll 2021-07, silver 2021-12. Waiting
    # for 2021-07's date left them five months (four seconds) for a whole application.
    plan = Scenario(title="t", start=date(2023, 1, 1), end=date(2025, 1, 1), lead_days=400,
                    cohorts=[
        ScenarioCohort(id="a", announce_on=date(2023, 9, 1), standard="wwc-2022",
                       cities=[city("Cary, NC", Tier.NONE)]),
        ScenarioCohort(id="b", announce_on=date(2024, 2, 1), standard="wwc-2022",
                       cities=[city("Cary, NC", Tier.SILVER)])])
    days = scheduled(DemoRun(cast(ProgramService, StubProgram()), plan, plan.start))
    first, second = days[("a", "Cary, NC")], days[("b", "Cary, NC")]
    assert second["prepare"] == first["decide"] + timedelta(days=1)
    assert second["prepare"] < date(2023, 9, 1)
    # Decided only after "a" is announced, or "a" would take it.
    assert second["decide"] > date(2023, 9, 1)


def test_the_slow_application_is_the_city_with_the_most_room() -> None:
    # Ames reapplies after its 2023-09 award; Dover is new and opens at the start. The
    # first city of the list (Ames) used to be the slow one whatever its room.
    plan = SCENARIO.model_copy(update={"lead_days": 600, "days_per_second": 10, "cohorts": [
        SCENARIO.cohorts[0], SCENARIO.cohorts[1].model_copy(update={"cities": [
            city("Ames, IA", Tier.PLATINUM), city("Dover, DE")]})]})
    run = DemoRun(cast(ProgramService, StubProgram()), plan, plan.start)
    run.actions()
    assert ("2024-06", "us-dover-de") in run.slow
    assert ("2024-06", "us-ames-ia") not in run.slow


@pytest.mark.parametrize(("speed", "slow"), [(10, True), (60, False)])
def test_the_slow_applications_margin_is_seconds_so_more_program_days_when_faster(
        speed: float, slow: bool) -> None:
    # 2023-09 opens at its lead, 200 days ahead: 40 days slow and 3 s of margin fit at 10
    # days a second (30 days), not at 60 (180 days).
    plan = SCENARIO.model_copy(update={"days_per_second": speed, "start": date(2023, 2, 1)})
    run = DemoRun(cast(ProgramService, StubProgram()), plan, plan.start)
    run.actions()
    assert any(cohort == "2023-09" for cohort, _ in run.slow) is slow


def test_the_published_history_leaves_every_city_room_before_its_cohort() -> None:
    """The plan's part in announcing each cohort as recorded: every application opens at
    least 200 program days (5 s at the default speed, where a preparation took 2-4 s) and
    is decided at least 100 days before its cohort, after the previous cohort's date."""
    plan, _ = load_scenario(HISTORY)
    program = StubProgram()
    program.rules = ProgramRules(honor_roll_percent=plan.honor_roll_percent)
    run = DemoRun(cast(ProgramService, program), plan, date(2026, 12, 4))
    days = scheduled(run)
    dates = sorted(k.announce_on for k in plan.cohorts)
    for cohort in plan.cohorts:
        before = max((d for d in dates if d < cohort.announce_on), default=None)
        for named in cohort.cities:
            day = days[(cohort.id, named.name)]
            assert (cohort.announce_on - day["prepare"]).days >= 200, (cohort.id, named)
            assert day["decide"] <= cohort.announce_on - timedelta(days=100), (cohort.id, named)
            assert before is None or before < day["decide"], (cohort.id, named)
    assert len(run.slow) == len(plan.cohorts)  # each cohort shows its deadlines firing


class CommandLog(StubProgram):
    """Takes the cities' commands a moment each and logs them in the order they ran."""

    def __init__(self, today: date = date(2023, 1, 1)) -> None:
        super().__init__()
        self.catalog = load_catalog()
        self.ran: list[tuple[str, str]] = []
        self.today = today

    def program_today(self) -> date:
        return self.today

    async def join(self, command: commands.JoinNetwork) -> None:
        await self._take(city_key(command.country, command.name), command)

    async def send(self, key: str, command: commands.CityCommand) -> None:
        await self._take(key, command)

    async def _take(self, key: str, command: commands.Command) -> None:
        await asyncio.sleep(0.01)
        self.ran.append((key, type(command).__name__))


async def test_a_slow_application_prepared_too_late_for_it_is_reviewed_at_once() -> None:
    # Its preparation waited (a busy machine) until a clarification left unanswered 40
    # days would come too close to its cohort: none is asked.
    program = CommandLog(today=date(2023, 7, 20))
    plan = SCENARIO.model_copy(update={"days_per_second": 10, "start": date(2023, 1, 1)})
    run = DemoRun(cast(ProgramService, program), plan, plan.end_date(plan.start))
    run.actions()
    (slow,) = [(k, key) for k, key in run.slow if k == "2023-09"]
    cohort = plan.cohorts[0]
    named = next(c for c in cohort.cities if city_key(c.country, c.name) == slow[1])
    await run.prepare(cohort, named)
    await run.finish_review(cohort, named)
    kinds = [kind for key, kind in program.ran if key == slow[1]]
    assert "RequestClarification" not in kinds
    assert kinds[-1] == "CompleteReview"
    assert slow not in run.slow
