"""Cohorts and the cities announced in them."""

from __future__ import annotations

from collections.abc import Sequence

from domain import events
from domain.streams import COHORT_STREAM_PREFIX
from infra.eventstore.mapper import current_data
from infra.eventstore.model import RecordedEvent
from infra.postgres.db import Connection
from infra.readside.projections.base import day


class CohortProjection:
    name = "cohorts"
    tables: tuple[str, ...] = ("wwc_cohort_cities", "wwc_cohorts")
    event_types = frozenset(cls.TYPE for cls in events.COHORT_EVENTS)
    omit_data_keys: tuple[str, ...] = ()

    async def apply(self, conn: Connection, page: Sequence[RecordedEvent]) -> None:
        # Cohort events are few (a handful a year), so one statement each is plenty.
        for event in page:
            data = current_data(event)
            cohort_id = event.stream_id.removeprefix(COHORT_STREAM_PREFIX)
            if event.event_type == events.CohortCreated.TYPE:
                await conn.execute(
                    "INSERT INTO wwc_cohorts (cohort_id, announce_on) VALUES ($1, $2) "
                    "ON CONFLICT (cohort_id) DO UPDATE SET announce_on = EXCLUDED.announce_on",
                    cohort_id, day(data["announce_on"]))
            elif event.event_type == events.CohortCityAdded.TYPE:
                await conn.execute(
                    "INSERT INTO wwc_cohort_cities (cohort_id, city_key, name, tier) "
                    "VALUES ($1, $2, $3, $4) ON CONFLICT (cohort_id, city_key) DO UPDATE "
                    "SET name = EXCLUDED.name, tier = EXCLUDED.tier",
                    cohort_id, data["city_key"], data["name"], data["tier"])
            elif event.event_type == events.CohortAnnounced.TYPE:
                await conn.execute(
                    "UPDATE wwc_cohorts SET announced_on = $2, city_count = $3 "
                    "WHERE cohort_id = $1", cohort_id, day(data["on"]), len(data["cities"]))
