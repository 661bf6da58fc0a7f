"""A city's latest decision as its log recorded it: the `certification.decided` event
itself (with the report it carries), its place in the city's stream and its hash. What
a printed report shows, so that the paper and the hash it names are the same record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from domain.events import CertificationDecided
from domain.streams import city_stream
from infra.eventstore.mapper import UPCASTERS
from infra.readside.rows import DecidingEvent


@dataclass(frozen=True)
class RecordedDecision:
    event: DecidingEvent
    decided: CertificationDecided


async def latest_decision(pool: asyncpg.Pool[Any], city_key: str) -> RecordedDecision | None:
    """The city's latest decision (None before its first): one index probe."""
    row = await pool.fetchrow(
        """SELECT stream_version, position, encode(hash, 'hex') AS hash, schema_version,
                  data, (data->>'on')::date AS decided_on, data->>'percent' AS percent
             FROM wwc_events WHERE stream_id = $1 AND event_type = $2
            ORDER BY stream_version DESC LIMIT 1""",
        city_stream(city_key), CertificationDecided.TYPE)
    if row is None:
        return None
    data = UPCASTERS.upcast(CertificationDecided.TYPE, row["schema_version"], row["data"])
    return RecordedDecision(
        event=DecidingEvent(stream_version=row["stream_version"], position=row["position"],
                            hash=row["hash"], decided_on=row["decided_on"],
                            percent=row["percent"]),
        decided=CertificationDecided.model_validate(data))
