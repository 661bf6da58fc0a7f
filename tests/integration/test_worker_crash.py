"""A worker process killed with SIGKILL mid-lifecycle and replaced: every city still
completes with exactly the expected events, none duplicated."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.testing import WorkflowEnvironment

from domain import commands as c
from domain import events as e
from domain.city import city_stream
from domain.commands import JoinNetwork
from infra.eventstore.mapper import decode
from infra.eventstore.postgres import PostgresEventStore
from infra.standards import load_catalog
from tests.integration.test_city_lifecycle import assess
from tests.temporal import TrackedProgram, eventually, program_clock, start_worker, terminate

CITIES = ["Mesa, AZ", "Norfolk, VA", "San Jose, CA", "Boulder, CO", "Charlotte, NC"]



async def test_a_killed_worker_loses_and_duplicates_nothing(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool[Any], db_url: str, tmp_path: Path,
) -> None:
    task_queue = f"crash-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "WWC_DATABASE_URL": db_url, "WWC_TASK_QUEUE": task_queue,
           "WWC_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
           "WWC_DATA_DIR": str(tmp_path), "WWC_LOG_FORMAT": "json"}
    log = tmp_path / "worker.log"
    store = PostgresEventStore(pool)
    ops = TrackedProgram(temporal_env.client, task_queue, catalog=load_catalog(),
                         clock=program_clock(date(2023, 1, 2), ms_per_day=500))
    first = start_worker(env, log)
    try:
        async def lifecycle(name: str) -> None:
            view = await ops.join(JoinNetwork(name=name, country="US", population=500_000))
            assert view.city_key is not None
            await assess(ops, view.city_key, 31)
            await ops.send(view.city_key, c.Decide())

        running = [asyncio.create_task(lifecycle(name)) for name in CITIES]

        async def stored() -> int:
            return int(await pool.fetchval("SELECT count(*) FROM wwc_events"))

        # Kill it in the middle of the reviews, with updates and activities in flight.
        await eventually(stored, lambda n: n >= 60, within=120)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert await stored() < 5 * 37, "the lifecycles finished before the kill"
        second = start_worker(env, log)
        try:
            await asyncio.wait_for(asyncio.gather(*running), timeout=180)
            await ops.create_cohort(c.CreateCohort(
                cohort_id="after-crash", announce_on=ops.program_today() + timedelta(days=1)))
            result = await asyncio.wait_for(ops.announce_cohort("after-crash"), timeout=120)
            assert len(result.cities) == len(CITIES)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=60) == 0, "the worker did not shut down gracefully"
    finally:
        if first.poll() is None:
            first.kill()
        await terminate(temporal_env.client, ops.touched)

    for name in CITIES:
        view_key = name.lower().replace(", ", "-").replace(" ", "-")
        events = [decode(r) for r in await store.read_stream(city_stream(f"us-{view_key}"))]
        kinds = Counter(type(ev) for ev in events)
        assert kinds == Counter({
            e.CityJoined: 1, e.ApplicationOpened: 1, e.AssessmentSaved: 1,
            e.AssessmentSubmitted: 1, e.ReviewerAssigned: 1, e.CriterionReviewed: 31,
            e.ReviewCompleted: 1, e.CertificationDecided: 1, e.CertificationAnnounced: 1,
        }), name
        reviewed = [ev.code for ev in events if isinstance(ev, e.CriterionReviewed)]
        assert len(set(reviewed)) == 31, f"{name}: a review was recorded twice"
