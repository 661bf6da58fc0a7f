"""How the demo runs its scenario on a busy machine: a cohort's creation never waits
behind preparations, a refusal is a problem reported at the end (not the end of the run),
preparations of the nearest cohort go first, and the run is compared with the record."""

from __future__ import annotations

import asyncio
from datetime import date
from functools import partial
from typing import Any, cast

import pytest

from domain import commands
from domain.rules import ProgramRules
from domain.tiers import Tier
from infra.application import ProgramService
from infra.ops.demo import (
    DemoRun,
    PriorityGate,
    Scenario,
    ScenarioCity,
    ScenarioCohort,
    compare_with_record,
    record_hint,
)
from infra.platform.errors import CommandRefused


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
    holders = [run.gate.slot(date(2024, 6, 1)) for _ in range(16)]
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
