"""A cohort: certified cities announced together on one date. A decider like the city's."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from domain import events as e
from domain.errors import TransitionRefused
from domain.tiers import Tier


class CohortCity(BaseModel):
    model_config = ConfigDict(frozen=True)

    city_key: str
    name: str
    tier: Tier


class CohortState(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int = 0
    cohort_id: str | None = None
    announce_on: date | None = None
    cities: tuple[CohortCity, ...] = ()
    announced_on: date | None = None


def create(state: CohortState, cohort_id: str, announce_on: date, now: date) -> list[e.Event]:
    if state.cohort_id is not None:
        raise TransitionRefused(f"cohort {state.cohort_id} already exists", code="exists")
    return [e.CohortCreated(cohort_id=cohort_id, announce_on=announce_on, on=now)]


def add_city(state: CohortState, city: CohortCity, now: date) -> list[e.Event]:
    _require_open(state)
    if not city.tier.certified:
        raise TransitionRefused(f"{city.name} is not certified; only certified cities are "
                                "announced", code="not_certified")
    if any(c.city_key == city.city_key for c in state.cities):
        return []
    return [e.CohortCityAdded(city_key=city.city_key, name=city.name, tier=city.tier, on=now)]


def announce(state: CohortState, now: date) -> list[e.Event]:
    _require_open(state)
    return [e.CohortAnnounced(cities=tuple(c.city_key for c in state.cities), on=now)]


def _require_open(state: CohortState) -> None:
    if state.cohort_id is None:
        raise TransitionRefused("no such cohort", code="not_found")
    if state.announced_on is not None:
        raise TransitionRefused(f"cohort {state.cohort_id} was announced on "
                                f"{state.announced_on}", code="already_announced")


def evolve(state: CohortState, event: e.Event) -> CohortState:
    match event:
        case e.CohortCreated():
            update: dict[str, object] = {"cohort_id": event.cohort_id,
                                         "announce_on": event.announce_on}
        case e.CohortCityAdded():
            update = {"cities": (*state.cities, CohortCity(city_key=event.city_key,
                                                           name=event.name, tier=event.tier))}
        case e.CohortAnnounced():
            update = {"announced_on": event.on}
        case _:
            raise ValueError(f"event {event.TYPE} does not apply to a cohort")
    return state.model_copy(update={**update, "version": state.version + 1})
