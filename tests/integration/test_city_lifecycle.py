"""The certification lifecycle on a real Temporal dev server and a real PostgreSQL."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from domain import commands as c
from domain import events as e
from domain.city_state import Status
from domain.streams import city_stream
from domain.tiers import Outcome, Tier
from infra.application import ProgramService
from infra.eventstore.mapper import decode
from infra.platform.errors import CommandRefused
from infra.readside import queries
from infra.readside.projections import projector
from tests.factories import WWC_2022, answers
from tests.temporal import REVIEWER, Service, eventually, program_clock

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
RECORD = os.environ.get("WWC_RECORD_HISTORIES") == "1"

JOIN = c.JoinNetwork(name="Carlsbad, CA", country="US", population=115_000)
KEY = "us-carlsbad-ca"


async def assess(ops: ProgramService, key: str, met: int, *, clarify: bool = False) -> None:
    """Self-assessment through review, ready for the decision."""
    claimed = answers(WWC_2022, met)
    await ops.send(key, c.SaveAssessment(answers=answers(WWC_2022, 2)))
    # On a reapplication the criteria carried over are confirmed with it (domain/drafts.py).
    await ops.send(key, c.SubmitAssessment(answers=claimed, confirmed=tuple(claimed.criteria)))
    await ops.send(key, c.AssignReviewer(reviewer=REVIEWER))
    for code in claimed.criteria:
        await ops.send(key, c.RecordCriterionReview(code=code, met=True))
    if clarify:
        await ops.send(key, c.RequestClarification(
            criterion="DM2", question="When was the inventory last updated?"))
        await ops.send(key, c.AnswerClarification(
            clarification_id=1, answer="In March", evidence=("https://carlsbad.gov/inv",)))
    await ops.send(key, c.CompleteReview())


async def certify(ops: ProgramService, key: str, met: int, cohort: str) -> None:
    await assess(ops, key, met)
    await ops.send(key, c.Decide())
    await ops.create_cohort(c.CreateCohort(cohort_id=cohort,
                                           announce_on=ops.program_today() + timedelta(days=1)))
    await ops.announce_cohort(cohort)


async def stored(service: Service, key: str) -> list[e.Event]:
    return [decode(r) for r in await service.store.read_stream(city_stream(key))]


async def record_histories(service: Service, workflow_id: str, name: str) -> None:
    """With WWC_RECORD_HISTORIES=1, save every run's history for the replay test. They are
    sealed with the tests' payload key (`-sealed-` in their names); the histories without
    it were recorded before payloads were sealed, and replay as such."""
    if not RECORD:
        return
    HISTORIES.mkdir(exist_ok=True)
    client = service.client
    runs = [w async for w in client.list_workflows(
        f"WorkflowId = '{workflow_id}' AND TaskQueue = '{service.settings.task_queue}'")]
    for index, run in enumerate(sorted(runs, key=lambda w: w.start_time)):
        history = await client.get_workflow_handle(workflow_id, run_id=run.run_id)\
            .fetch_history()
        (HISTORIES / f"{name}-sealed-run{index + 1}.json").write_text(
            json.dumps(json.loads(history.to_json()), separators=(",", ":")))


async def test_full_lifecycle_from_join_to_expiry(service: Service) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=6))
    view = await ops.join(JOIN)
    assert (view.status, view.standard_id) == (Status.ASSESSING, "wwc-2022")
    await assess(ops, KEY, 31, clarify=True)
    decided = await ops.send(KEY, c.Decide())
    assert (decided.status, decided.last_decision_tier) == (Status.AWAITING_ANNOUNCEMENT,
                                                            Tier.GOLD)
    announce_on = ops.program_today() + timedelta(days=20)
    # Announced by its own durable timer.
    await ops.create_cohort(c.CreateCohort(cohort_id="2023-06", announce_on=announce_on))

    lapsed = await eventually(lambda: ops.view(KEY), lambda v: v.status is Status.LAPSED,
                              within=90)
    assert lapsed.last_outcome is Outcome.LAPSED

    events = await stored(service, KEY)
    kinds = [type(ev) for ev in events]
    # The draft went to its own stream; the workflow heard of the day's save.
    assert kinds[:4] == [e.CityJoined, e.ApplicationOpened, e.DraftTouched,
                         e.AssessmentSubmitted]
    assert kinds.count(e.CriterionReviewed) == 31
    assert e.ClarificationRequested in kinds
    assert e.ClarificationAnswered in kinds
    announced = next(ev for ev in events if isinstance(ev, e.CertificationAnnounced))
    assert announced.on == announce_on
    assert announced.expires_on == announce_on.replace(year=announce_on.year + 3)
    reminders = [ev for ev in events if isinstance(ev, e.RenewalReminderSent)]
    assert [(r.lead_days, r.on) for r in reminders] == [
        (180, announced.expires_on - timedelta(days=180)),
        (60, announced.expires_on - timedelta(days=60))]
    assert isinstance(events[-1], e.CertificationLapsed)
    assert events[-1].on == announced.expires_on
    dates = [ev.on for ev in events]
    assert dates == sorted(dates), "program dates never run backwards"

    await projector(service.pool).catch_up_all()
    (row,) = [r for r in await queries.registry(service.pool) if r.city_key == KEY]
    assert (row.status, row.tier, row.last_outcome) == ("lapsed", "none", "lapsed")
    assert row.lapsed_on == announced.expires_on
    assert row.last_decision_tier == "gold"
    (cohort,) = await queries.cohorts(service.pool)
    assert cohort.announced_on == announce_on
    assert [city.city_key for city in cohort.cities] == [KEY]
    await record_histories(service, city_stream(KEY), "full-lifecycle")


async def test_operators_find_cities_by_search_attributes(service: Service) -> None:
    ops = service.operations(program_clock(date(2024, 1, 2), ms_per_day=50))
    await ops.join(JOIN)
    await certify(ops, KEY, 31, "2024-02")
    # Each cycle ends in continue-as-new, so closed runs match too: ask for the running one.
    query = (f"WwcCityName = '{JOIN.name}' AND WwcTier = 'gold' AND WwcStatus = 'certified' "
             "AND ExecutionStatus = 'Running'")

    async def matching() -> list[str]:
        return [w.id async for w in service.client.list_workflows(query)]

    assert await eventually(matching, lambda ids: ids == [city_stream(KEY)])


@pytest.mark.parametrize(("first", "second", "outcome", "tier"), [
    (24, 31, Outcome.MOVED_UP, Tier.GOLD),
    (31, 31, Outcome.RECERTIFIED, Tier.GOLD),
    (38, 25, Outcome.MOVED_DOWN, Tier.SILVER),
])
async def test_reapplication_outcomes(service: Service, first: int, second: int,
                                      outcome: Outcome, tier: Tier) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=50))
    await ops.join(JOIN)
    await certify(ops, KEY, first, "first")
    reapplying = await ops.send(KEY, c.Reapply())
    assert reapplying.status is Status.REAPPLYING
    await certify(ops, KEY, second, "second")
    view = await eventually(lambda: ops.view(KEY), lambda v: v.cohort_id == "second")
    assert (view.tier, view.last_outcome, view.status) == (tier, outcome, Status.CERTIFIED)
    await record_histories(service, city_stream(KEY), f"reapply-{outcome.value}")


async def test_reapplication_that_fails_lets_the_certification_lapse(service: Service) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=50))
    await ops.join(JOIN)
    await certify(ops, KEY, 25, "first")
    await ops.send(KEY, c.Reapply())
    await assess(ops, KEY, 10)
    view = await ops.send(KEY, c.Decide())
    # Not certified this time: the current certification still holds until it expires.
    assert (view.status, view.tier, view.last_decision_tier) == (Status.CERTIFIED,
                                                                 Tier.SILVER, Tier.NONE)
    fast = program_clock(ops.program_today(), ms_per_day=1)
    await service.client.get_workflow_handle(city_stream(KEY)).signal("set_clock", fast)
    lapsed = await eventually(lambda: ops.view(KEY), lambda v: v.status is Status.LAPSED)
    assert lapsed.last_outcome is Outcome.LAPSED


async def test_not_certified_city_keeps_its_report_and_may_reapply(service: Service) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=50))
    await ops.join(JOIN)
    await assess(ops, KEY, 12)
    view = await ops.send(KEY, c.Decide())
    assert (view.status, view.last_decision_tier) == (Status.NOT_CERTIFIED, Tier.NONE)
    # The city keeps its report: it is in the decision, in the city's own stream.
    (decided,) = [ev for ev in await stored(service, KEY)
                  if isinstance(ev, e.CertificationDecided)]
    report = decided.report
    assert report.next_tier is not None
    assert report.next_tier.tier is Tier.SILVER
    assert len(report.next_tier.criteria) == 10  # 22 of 43 for silver
    view = await ops.send(KEY, c.Reapply())
    assert (view.status, view.application) == (Status.ASSESSING, 2)
    await record_histories(service, city_stream(KEY), "not-certified")


async def test_a_cohort_announces_only_certified_cities(service: Service) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=50))
    for name, met in (("Boise, ID", 31), ("Dallas, TX", 10), ("Issaquah, WA", 24)):
        key = (await ops.join(c.JoinNetwork(name=name, country="US", population=40_000)))\
            .city_key
        assert key is not None
        await assess(ops, key, met)
        await ops.send(key, c.Decide())
    await ops.create_cohort(c.CreateCohort(
        cohort_id="2024-06", announce_on=ops.program_today() + timedelta(days=365)))
    result = await ops.announce_cohort("2024-06")
    assert [(m.city_key, m.tier) for m in result.cities] == [
        ("us-boise-id", Tier.GOLD), ("us-issaquah-wa", Tier.SILVER)]
    with pytest.raises(CommandRefused, match="already announced"):
        await ops.announce_cohort("2024-06")


async def test_an_ineligible_join_is_refused_and_starts_nothing_lasting(
    service: Service,
) -> None:
    ops = service.operations(program_clock(date(2023, 1, 2), ms_per_day=50))
    with pytest.raises(CommandRefused, match="below the 30,000 minimum") as refused:
        await ops.join(c.JoinNetwork(name="Tiny Town", country="US", population=900))
    assert refused.value.code == "ineligible"
    assert await service.store.stream_version(city_stream("us-tiny-town")) == 0
