"""The program as it stood on a date, from the event log: a city's state folded up to
that day, and who was certified then (from the certification periods), and the public
record of announced certifications as anyone could have read it at the end of a day."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from domain.events import CityJoined
from domain.lifecycle import fold
from domain.streams import city_stream
from domain.views import CityView, city_view
from infra.eventstore.mapper import decode
from infra.eventstore.model import EventStore
from infra.platform.errors import NotFound
from infra.readside import queries
from infra.readside.projections import projector
from infra.readside.rows import AnnouncedCertification, CertifiedCity


async def city_as_of(store: EventStore, key: str, day: date) -> CityView:
    """The city at the end of `day` (events are dated by the program day they happened)."""
    stored = [decode(r) for r in await store.read_stream(city_stream(key))]
    then = [event for event in stored if event.on <= day]
    if not any(isinstance(event, CityJoined) for event in then):
        raise NotFound(f"city {key!r} had not joined by {day}")
    return city_view(fold(then), day)


async def certified_as_of(pool: asyncpg.Pool[Any], day: date | None,
                          **filters: Any) -> list[CertifiedCity]:
    """Cities holding an announced certification on `day` (None: now)."""
    read_models = projector(pool)
    await read_models.catch_up("periods")
    await read_models.catch_up("registry")
    return await queries.public_registry(pool, as_of=day, **filters)


def held_on(certifications: list[AnnouncedCertification], day: date | None
            ) -> list[AnnouncedCertification]:
    """The certifications in force at the end of `day` (None: now): announced by then and
    not ended by then. The same rule as `queries.public_registry(as_of=...)`, so the open
    data's registry and the API's agree on every day."""
    if day is None:
        return [c for c in certifications if c.ended_on is None]
    return [c for c in certifications
            if c.awarded_on <= day and (c.ended_on is None or c.ended_on > day)]


def announced_by(certifications: list[AnnouncedCertification], day: date | None
                 ) -> list[AnnouncedCertification]:
    """The public record at the end of `day` (None: now): each certification announced by
    then, with its end only if it had ended by then (what came later was not known)."""
    if day is None:
        return list(certifications)
    return [c if c.ended_on is None or c.ended_on <= day
            else c.model_copy(update={"ended_on": None})
            for c in certifications if c.awarded_on <= day]
