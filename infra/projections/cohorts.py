"""Cohorts and the cities announced in them."""

from __future__ import annotations

from collections.abc import Sequence

from infra.db import Connection
from infra.eventstore.mapper import current_data
from infra.eventstore.model import RecordedEvent
from infra.projections.base import day


class CohortProjection:
    name = "cohorts"
    tables: tuple[str, ...] = ("wwc_cohort_cities", "wwc_cohorts")
    event_types = frozenset({"cohort.created", "cohort.city_added", "cohort.announced"})
    omit_data_keys: tuple[str, ...] = ()

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        # Cohort events are few (a handful a year), so one statement each is plenty.
        for event in events:
            data = current_data(event)
            cohort_id = event.stream_id.removeprefix("cohort/")
            if event.event_type == "cohort.created":
                await conn.execute(
                    "INSERT INTO wwc_cohorts (cohort_id, announce_on) VALUES ($1, $2) "
                    "ON CONFLICT (cohort_id) DO UPDATE SET announce_on = EXCLUDED.announce_on",
                    cohort_id, day(data["announce_on"]))
            elif event.event_type == "cohort.city_added":
                await conn.execute(
                    "INSERT INTO wwc_cohort_cities (cohort_id, city_key, name, tier) "
                    "VALUES ($1, $2, $3, $4) ON CONFLICT (cohort_id, city_key) DO UPDATE "
                    "SET name = EXCLUDED.name, tier = EXCLUDED.tier",
                    cohort_id, data["city_key"], data["name"], data["tier"])
            elif event.event_type == "cohort.announced":
                await conn.execute(
                    "UPDATE wwc_cohorts SET announced_on = $2, city_count = $3 "
                    "WHERE cohort_id = $1", cohort_id, day(data["on"]), len(data["cities"]))
