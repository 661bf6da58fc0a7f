"""Disaster recovery: the Temporal server's database is lost; every workflow is rebuilt
from the event log, the audit passes, and the timers pending before the loss fire on
their dates."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client

from domain import commands as c
from domain import events as e
from domain.city_state import Status
from domain.rules import ProgramRules
from domain.streams import city_stream, cohort_stream
from infra.application.drafts import Drafts
from infra.eventstore.mapper import decode
from infra.ops.audit import Auditor
from infra.ops.recovery import recover
from infra.platform.config import Settings
from infra.postgres.eventstore import PostgresEventStore
from infra.standards.folder import StandardsFolder
from infra.temporal.environment import connect_client, start_dev_server, stop_dev_server
from tests.integration.test_city_lifecycle import assess
from tests.temporal import (
    TrackedProgram,
    eventually,
    postgres_worker,
    program_clock,
    reviewer_account,
)


def lose_the_temporal_database(data_dir: Path) -> None:
    """The server stops and every file of its database is gone."""
    stop_dev_server(data_dir)
    for file in data_dir.glob("temporal.db*"):
        file.unlink()


async def test_every_workflow_comes_back_from_the_log_after_temporal_loses_its_database(
    pool: asyncpg.Pool[Any], tmp_path: Path
) -> None:
    task_queue = f"recover-{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=tmp_path, task_queue=task_queue)
    # Three program years pass in about 11 s: the first reminder is due ~9 s after the
    # announcement, long after the loss and the recovery.
    clock = program_clock(date(2023, 1, 2), ms_per_day=10)
    standards = StandardsFolder(tmp_path / "standards")
    await reviewer_account(pool)
    server = start_dev_server(tmp_path)
    client = await connect_client(settings, server.address)

    def program_on(client: Client) -> TrackedProgram:
        catalog = standards.load()
        return TrackedProgram(client, task_queue, catalog=catalog, clock=clock,
                              rules=ProgramRules(),
                              drafts=Drafts(PostgresEventStore(pool), catalog))

    program = program_on(client)
    try:
        async with postgres_worker(client, pool, task_queue):
            await program.join(c.JoinNetwork(name="Lost, NM", country="US", population=40_000))
            await assess(program, "us-lost-nm", 31)
            await program.send("us-lost-nm", c.Decide())
            await program.create_cohort(c.CreateCohort(
                cohort_id="before-loss", announce_on=program.program_today() + timedelta(days=1)))
            await program.announce_cohort("before-loss")
            await program.join(c.JoinNetwork(name="Waiting, NM", country="US", population=40_000))
            await assess(program, "us-waiting-nm", 25)
            await program.send("us-waiting-nm", c.Decide())
            due = program.program_today() + timedelta(days=120)
            await program.create_cohort(c.CreateCohort(cohort_id="after-loss", announce_on=due))
            # Its creation recorded (a cohort started but never recorded is Temporal's alone,
            # and goes with its database).
            await eventually(lambda: PostgresEventStore(pool).stream_version(
                cohort_stream("after-loss")), lambda version: version >= 1)
    except BaseException:
        stop_dev_server(tmp_path)  # a failure here must not leave the server running
        raise

    lose_the_temporal_database(tmp_path)
    server = start_dev_server(tmp_path)
    client = await connect_client(settings, server.address)
    program = program_on(client)
    try:
        async with postgres_worker(client, pool, task_queue):
            done = await recover(client, pool, task_queue=task_queue, clock=clock,
                                 standards=standards)
            assert (done.cities, done.cohorts) >= (2, 2)
            assert (await program.view("us-lost-nm")).status is Status.CERTIFIED
            assert await Auditor(program, pool).run() == []

            store = PostgresEventStore(pool)

            async def stored(stream: str) -> list[e.Event]:
                return [decode(r) for r in await store.read_stream(stream)]

            # The pending cohort, announced after the recovery. Waiting's whole
            # certification lasts ~11 s of this clock, so its log is checked, not its
            # status: under load the status was read after the lapse (CI, twice).
            cohort = await eventually(lambda: stored(cohort_stream("after-loss")), lambda events:
                                      isinstance(events[-1], e.CohortAnnounced), within=60)
            assert cohort[-1].on == due
            waiting = await eventually(
                lambda: stored(city_stream("us-waiting-nm")), lambda events: any(
                    isinstance(ev, e.CertificationAnnounced) for ev in events), within=60)
            announced_after = next(ev for ev in waiting
                                   if isinstance(ev, e.CertificationAnnounced))
            assert announced_after.cohort_id == "after-loss"
            assert announced_after.on == due
            assert announced_after.tier.certified
            city = await eventually(lambda: stored(city_stream("us-lost-nm")), lambda events: any(
                isinstance(ev, e.RenewalReminderSent) for ev in events), within=60)
            announced = next(ev for ev in city if isinstance(ev, e.CertificationAnnounced))
            reminder = next(ev for ev in city if isinstance(ev, e.RenewalReminderSent))
            assert reminder.on == announced.expires_on - timedelta(days=180)  # on its day
            # Recovery again changes nothing (a running workflow is left as it is).
            versions = await store.stream_version(city_stream("us-lost-nm"))
            await recover(client, pool, task_queue=task_queue, clock=clock,
                          standards=standards)
            assert await store.stream_version(city_stream("us-lost-nm")) >= versions
    finally:
        stop_dev_server(tmp_path)
