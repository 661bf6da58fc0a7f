"""Reviews as the event log holds them (`domain/reviews.py` reads each city's): a city's
reviews, for its report's findings and for the read-only page of one review, and the
reviews one reviewer did, for their history.

Read from the log, not a read model: a reviewer has done tens of reviews, not thousands,
and a review is read whole (answers, verdicts, notes, clarifications), which no table of
ours keeps once its application is decided."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from domain.events import ReviewerAssigned
from domain.reviews import ReviewRecord, review_records
from domain.streams import CITY_STREAM_PREFIX, city_stream
from infra.eventstore.mapper import decode
from infra.readside.history import StreamReader


async def city_reviews(store: StreamReader, key: str) -> list[ReviewRecord]:
    """Every application of the city that had a reviewer, oldest first."""
    return review_records([decode(r) for r in await store.read_stream(city_stream(key))])


async def reviews_by(pool: asyncpg.Pool[Any], store: StreamReader,
                     reviewer: str) -> list[ReviewRecord]:
    """The reviews `reviewer` did (the reviewer an application had when its cycle ended,
    or has now), the most recent first. A reviewer who was replaced on an application
    did not review it."""
    rows = await pool.fetch(
        "SELECT DISTINCT stream_id FROM wwc_events WHERE event_type = $1 "
        "AND stream_id LIKE $2 AND data->>'reviewer' = $3",
        ReviewerAssigned.TYPE, f"{CITY_STREAM_PREFIX}%", reviewer)
    found = [record for row in rows
             for record in await city_reviews(store, row["stream_id"].removeprefix(
                 CITY_STREAM_PREFIX))
             if record.reviewer == reviewer]
    return sorted(found, key=_latest, reverse=True)


def _latest(record: ReviewRecord) -> tuple[date, str, int]:
    app = record.application
    day = (record.decision.decided_on if record.decision else record.withdrawn_on
           or app.completed_on or app.reviewer_assigned_on or app.opened_on)
    return day, record.city_key, record.number
