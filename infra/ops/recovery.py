"""Disaster recovery: every city's and cohort's workflow rebuilt from its event stream on a
Temporal server that lost its database. The event log is the source of truth: a city's
workflow starts from the state its stream folds to (as at a continue-as-new), so its
status, search attributes and pending timers (renewal reminders, expiry) are as before;
a cohort not yet announced waits for its date again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from domain import cohort as cohorts
from domain.clock import ProgramClock
from domain.events import as_city_event, as_cohort_event
from domain.lifecycle import fold
from domain.model import Frozen
from domain.rules import ProgramRules
from domain.streams import CITY_STREAM_PREFIX, COHORT_STREAM_PREFIX, city_stream, cohort_stream
from infra.eventstore.mapper import decode
from infra.postgres.eventstore import PostgresEventStore
from infra.readside import queries
from infra.standards.folder import StandardsFolder
from workflows.city import CityWorkflow
from workflows.cohort import CohortWorkflow
from workflows.messages import CityInput, CohortInput


class Recovered(Frozen):
    cities: int
    cohorts: int


async def recover(client: Client, pool: asyncpg.Pool[Any], *, task_queue: str,
                  clock: ProgramClock, standards: StandardsFolder,
                  rules: ProgramRules | None = None,
                  progress: Callable[[int], None] | None = None) -> Recovered:
    """Start each stream's workflow from its fold. A workflow that still runs is left as
    it is (USE_EXISTING), so running it twice, or on a server that lost nothing, is safe."""
    store = PostgresEventStore(pool)
    catalog = tuple(standards.load().values())
    streams = await queries.program_streams(pool)
    cities = cohort_count = 0
    for stream in streams:
        stored = [decode(r) for r in await store.read_stream(stream)]
        if stream.startswith(CITY_STREAM_PREFIX):
            key = stream.removeprefix(CITY_STREAM_PREFIX)
            state = fold([as_city_event(e) for e in stored])
            await client.start_workflow(
                CityWorkflow.run,
                CityInput(city_key=key, clock=clock, rules=rules or ProgramRules(),
                          standards=catalog, state=state, repeats_record_nothing=True),
                id=city_stream(key), task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
            cities += 1
        else:
            cohort_id = stream.removeprefix(COHORT_STREAM_PREFIX)
            folded = cohorts.CohortState()
            for event in stored:
                folded = cohorts.evolve(folded, as_cohort_event(event))
            assert folded.announce_on is not None
            await client.start_workflow(
                CohortWorkflow.run,
                CohortInput(cohort_id=cohort_id, announce_on=folded.announce_on, clock=clock,
                            state=folded),
                id=cohort_stream(cohort_id), task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
            cohort_count += 1
        if progress is not None:
            progress(1)
    return Recovered(cities=cities, cohorts=cohort_count)
