"""Certification periods: which tier each city held from when until when. The registry as
of any date is a range query over them, and a city's public page lists its tiers."""

from __future__ import annotations

from collections.abc import Sequence

from domain import events
from domain.streams import CITY_STREAM_PREFIX
from infra.eventstore.mapper import current_data
from infra.eventstore.model import RecordedEvent
from infra.postgres.db import Connection
from infra.readside.projections.base import day

_ENDS = frozenset({events.CertificationLapsed.TYPE, events.CityWithdrew.TYPE})


class PeriodProjection:
    name = "periods"
    tables: tuple[str, ...] = ("wwc_certification_periods",)
    event_types = frozenset({events.CertificationAnnounced.TYPE, *_ENDS})
    omit_data_keys: tuple[str, ...] = ()

    async def apply(self, conn: Connection, page: Sequence[RecordedEvent]) -> None:
        for event in page:
            if not event.stream_id.startswith(CITY_STREAM_PREFIX):
                continue
            data = current_data(event)
            city = event.stream_id.removeprefix(CITY_STREAM_PREFIX)
            on = day(data["on"])
            # A new award (recertified, moved up or down) ends the one before it.
            await conn.execute(
                "UPDATE wwc_certification_periods SET ended_on = $2 "
                "WHERE city_key = $1 AND ended_on IS NULL", city, on)
            if event.event_type == events.CertificationAnnounced.TYPE:
                await conn.execute(
                    "INSERT INTO wwc_certification_periods (city_key, tier, standard_id, "
                    "cohort_id, awarded_on, expires_on, outcome) VALUES ($1, $2, $3, $4, $5, "
                    "$6, $7) ON CONFLICT (city_key, awarded_on) DO UPDATE SET "
                    "tier = EXCLUDED.tier, expires_on = EXCLUDED.expires_on, ended_on = NULL",
                    city, data["tier"], data["standard_id"], data["cohort_id"], on,
                    day(data["expires_on"]), data["outcome"])
