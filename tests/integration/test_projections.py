"""Catch-up projections against a real PostgreSQL: the registry, cohorts and pipeline,
exactly-once checkpoints, and rebuilds equal to incremental builds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
import pytest

from domain import accounts
from domain import commands as c
from domain.events import CohortAnnounced, CohortCityAdded, CohortCreated, DraftSaved, Event
from domain.streams import city_stream, cohort_stream, draft_stream
from domain.tiers import Tier
from infra.eventstore.model import RecordedEvent
from infra.postgres.db import Connection
from infra.postgres.eventstore import PostgresEventStore
from infra.readside import queries
from infra.readside.projections import all_projections, projector
from infra.readside.projections.base import Projector
from infra.readside.rows import CertifiedCity
from tests.factories import WWC_2022, CityDriver, answers
from workflows.persist import new_events

TABLES = ["wwc_registry", "wwc_pipeline", "wwc_cohorts", "wwc_cohort_cities",
          "wwc_certification_periods", "wwc_city_views", "wwc_accounts", "wwc_api_tokens"]


async def snapshot(pool: asyncpg.Pool[Any]) -> dict[str, list[dict[str, Any]]]:
    return {t: [dict(r) for r in await pool.fetch(f"SELECT * FROM {t} ORDER BY 1, 2")]
            for t in TABLES}


class History:
    """Domain events for a few cities, appended through the real store."""

    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self.store = PostgresEventStore(pool)
        self.versions: dict[str, int] = {}

    async def record(self, stream: str, events: Sequence[Event]) -> None:
        if not events:
            return
        version = self.versions.get(stream, 0)
        await self.store.append(stream, version, new_events(stream, version, events, {}))
        self.versions[stream] = version + len(events)

    async def city(self, name: str, country: str, lifecycle: Any, after: Any = None) -> None:
        city = CityDriver()
        city(c.JoinNetwork(name=name, country=country, population=300_000), date(2023, 1, 5))
        lifecycle(city)
        key = city.state.profile.city_key  # type: ignore[union-attr]
        await self.record(city_stream(key), city.events)
        if after is not None:
            await after(key)


async def build_history(pool: asyncpg.Pool[Any], after_each: Any = None) -> None:
    history = History(pool)

    async def tick(_: str) -> None:
        if after_each is not None:
            await after_each()

    def gold(city: CityDriver) -> None:
        city.certify(31, date(2023, 3, 1), cohort="2023-06")

    def silver_then_lapsed(city: CityDriver) -> None:
        city.certify(24, date(2023, 3, 1), cohort="2023-06")
        city(c.SendRenewalReminder(lead_days=180), date(2025, 9, 5))
        city(c.Expire(), date(2026, 3, 4))

    def renewal_due(city: CityDriver) -> None:
        city.certify(38, date(2023, 3, 1), cohort="2023-06")
        city(c.SendRenewalReminder(lead_days=180), date(2025, 9, 5))

    def in_review(city: CityDriver) -> None:
        city(c.SubmitAssessment(answers=answers(WWC_2022, 5)), date(2023, 2, 1))
        city(c.AssignReviewer(reviewer="r"), date(2023, 2, 2))
        city(c.RequestClarification(criterion="DM1", question="?"), date(2023, 2, 3))
        city(c.RequestClarification(criterion="DM2", question="?"), date(2023, 2, 4))
        city(c.AnswerClarification(clarification_id=1, answer="a"), date(2023, 2, 5))

    def not_certified(city: CityDriver) -> None:
        city.certify(8, date(2023, 3, 1))

    await history.city("Charleston, SC", "US", gold, tick)
    await history.city("Córdoba", "AR", silver_then_lapsed, tick)
    await history.city("Fortaleza", "BR", renewal_due, tick)
    await history.city("Mendoza", "AR", in_review, tick)
    await history.city("Las Condes", "CL", not_certified, tick)
    await history.record(cohort_stream("2023-06"), [
        CohortCreated(cohort_id="2023-06", announce_on=date(2023, 6, 20), on=date(2023, 4, 1)),
        CohortCityAdded(city_key="us-charleston-sc", name="Charleston, SC", tier=Tier.GOLD,
                        on=date(2023, 4, 2)),
        CohortAnnounced(cities=("us-charleston-sc",), on=date(2023, 6, 20)),
    ])
    account, day = accounts.AccountState(), date(2023, 1, 5)
    recorded: list[Event] = []
    for command in (
            accounts.CreateAccount(email="ed@charleston.test", display_name="Ed",
                                   role=accounts.Role.CITY_EDITOR, cities=("us-charleston-sc",)),
            accounts.IssueToken(token_id="token-0001", name="crm", expires_on=date(2024, 1, 1)),
            accounts.RevokeToken(token_id="token-0001"),
            accounts.DisableAccount(reason="left")):
        for event in accounts.decide(account, command, "acc-1", day):
            account = accounts.evolve(account, event)
            recorded.append(event)
    await history.record(accounts.account_stream("acc-1"), recorded)
    await tick("")


async def test_the_registry_shows_each_city_as_its_events_say(pool: asyncpg.Pool[Any]) -> None:
    await build_history(pool)
    await projector(pool).catch_up_all()
    rows = {r.city_key: r for r in await queries.registry(pool)}
    assert rows["us-charleston-sc"].status == "certified"
    assert rows["us-charleston-sc"].tier == "gold"
    assert rows["us-charleston-sc"].expires_on == date(2026, 3, 1)
    assert rows["us-charleston-sc"].last_outcome == "new"
    assert rows["ar-cordoba"].status == "lapsed"
    assert rows["ar-cordoba"].tier == "none"
    assert rows["ar-cordoba"].lapsed_on == date(2026, 3, 4)
    assert rows["br-fortaleza"].status == "renewal_due"
    assert rows["br-fortaleza"].tier == "platinum"
    assert rows["ar-mendoza"].status == "awaiting_clarification"
    assert rows["ar-mendoza"].open_clarifications == 1
    assert rows["cl-las-condes"].status == "not_certified"
    assert rows["cl-las-condes"].last_decision_tier == "none"
    assert [r.city_key for r in await queries.registry(pool, tier="gold")] == [
        "us-charleston-sc"]
    expiring = await queries.expiring(pool, date(2026, 6, 1))
    assert [r.city_key for r in expiring] == ["us-charleston-sc", "br-fortaleza"]


async def test_pipeline_and_cohorts(pool: asyncpg.Pool[Any]) -> None:
    await build_history(pool)
    await projector(pool).catch_up_all()
    pipeline = await queries.pipeline(pool)
    assert [(p.city_key, p.stage, p.stage_since) for p in pipeline] == [
        ("ar-mendoza", "awaiting_clarification", date(2023, 2, 3))]
    (cohort,) = await queries.cohorts(pool)
    assert cohort.announced_on == date(2023, 6, 20)
    assert cohort.city_count == 1


async def test_a_rebuild_equals_the_incremental_build(pool: asyncpg.Pool[Any]) -> None:
    incremental = projector(pool, page_size=3)
    await build_history(pool, after_each=incremental.catch_up_all)
    built = await snapshot(pool)
    assert built["wwc_registry"], "the incremental build projected nothing"
    for name in incremental.projections:
        await incremental.rebuild(name)
    assert await snapshot(pool) == built
    again = projector(pool, page_size=1000)
    for name in again.projections:
        await again.rebuild(name)
    assert await snapshot(pool) == built


class CrashOnce:
    """Wraps a projection and fails in the middle of its second page."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.pages = inner, 0
        self.name, self.event_types, self.tables = inner.name, inner.event_types, inner.tables
        self.omit_data_keys = inner.omit_data_keys

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        self.pages += 1
        await self.inner.apply(conn, events)
        if self.pages == 2:
            raise RuntimeError("worker crashed mid-page")


async def test_a_crash_mid_page_neither_loses_nor_repeats_events(
    pool: asyncpg.Pool[Any],
) -> None:
    await build_history(pool)
    clean = projector(pool)
    await clean.catch_up_all()
    expected = await snapshot(pool)
    for name in clean.projections:
        await clean.reset(name)
    crashing = Projector(pool, [CrashOnce(p) for p in all_projections()], page_size=2)
    for name in crashing.projections:
        with pytest.raises(RuntimeError, match="crashed"):
            await crashing.catch_up(name)
        await crashing.catch_up(name)  # resumes from the last committed checkpoint
    assert await snapshot(pool) == expected
    assert all([await crashing.pending(name) == 0 for name in crashing.projections])


async def test_the_registry_as_of_any_day_from_certification_periods(
    pool: asyncpg.Pool[Any],
) -> None:
    await build_history(pool)
    await projector(pool).catch_up_all()

    def held(rows: list[CertifiedCity]) -> dict[str, str]:
        return {r.city_key: r.tier for r in rows}

    # Announced on 2023-03-01 (the history's cities are certified and announced that day).
    assert held(await queries.public_registry(pool, as_of=date(2023, 2, 28))) == {}
    on_announcement = await queries.public_registry(pool, as_of=date(2023, 3, 1))
    assert held(on_announcement) == {"us-charleston-sc": "gold", "ar-cordoba": "silver",
                                     "br-fortaleza": "platinum"}
    # Córdoba's silver lapsed on 2026-03-04: held the day before, not that day.
    assert "ar-cordoba" in held(await queries.public_registry(pool, as_of=date(2026, 3, 3)))
    assert "ar-cordoba" not in held(await queries.public_registry(pool,
                                                                  as_of=date(2026, 3, 4)))
    assert "ar-cordoba" not in held(await queries.public_registry(pool))
    page = await queries.public_city(pool, "br-fortaleza")
    assert page is not None
    assert [p.tier for p in page.history] == ["platinum"]
    assert await queries.public_city(pool, "ar-cordoba") is None  # lapsed: not public
    assert await queries.public_city(pool, "ar-mendoza") is None  # an applicant: never


async def test_a_checkpoint_moves_past_the_events_of_other_types(
        pool: asyncpg.Pool[Any]) -> None:
    """A read model does not read a draft's saves, nor another stream's events it does not
    show: its catch-up moves its checkpoint past them all the same, so the next catch-up
    (every quarter second in `wwc up`) does not scan them again, and its lag is nothing."""
    history = History(pool)
    await history.city("Plano, TX", "US", lambda city: None)
    drafts = [DraftSaved(application=1, answers=answers(WWC_2022, 3), on=date(2023, 1, 6))
              for _ in range(25)]
    await history.record(draft_stream("us-plano-tx"), drafts)
    # Pages smaller than the backlog: the checkpoint still ends at the log's last event.
    read_models = Projector(pool, all_projections(), page_size=4)
    await read_models.catch_up_all()
    last = await pool.fetchval("SELECT max(position) FROM wwc_events")
    assert set((await read_models.positions()).values()) == {last}
    assert [await read_models.pending(name) for name in read_models.projections] == [0] * len(
        read_models.projections)
    assert (await queries.city_view(pool, "us-plano-tx", date(2023, 1, 6))) is not None
