"""A cohort: certified cities announced together on one date. A decider like the city's:
`decide(state, command, now) -> events`, `evolve(state, event)`."""

from __future__ import annotations

from datetime import date
from typing import assert_never

from domain import commands, events
from domain.errors import InvalidCommand, TransitionRefused
from domain.model import Frozen
from domain.rules import ProgramRules
from domain.tiers import Tier


class CohortCity(Frozen):
    city_key: str
    name: str
    tier: Tier


class CohortState(Frozen):
    version: int = 0
    cohort_id: str | None = None
    announce_on: date | None = None
    cities: tuple[CohortCity, ...] = ()
    announced_on: date | None = None


def decide(state: CohortState, command: commands.CohortCommand, now: date,
           rules: ProgramRules | None = None) -> list[events.CohortEvent]:
    """The events `command` causes on `now`, or a `DomainError` saying why not.

    `rules` bound a new cohort's date (`cohort_horizon_years`); front doors give them
    when they check a creation. The cohort's own workflow decides its creation again
    without them: its date was checked before it started, and a workflow recorded before
    the bound existed must replay as it ran."""
    match command:
        case commands.CreateCohort():
            if state.cohort_id is not None:
                raise TransitionRefused(f"cohort {state.cohort_id} already exists",
                                        code="cohort_exists",
                                        facts={"cohort": state.cohort_id})
            if command.announce_on < now:
                # It would announce at once, under a date already past (and expire early).
                raise TransitionRefused(
                    f"cohort {command.cohort_id} cannot be announced on "
                    f"{command.announce_on}, a date already past (today is {now})",
                    code="past_date", facts={"day_on": command.announce_on.isoformat()})
            if rules is not None and command.announce_on > rules.latest_cohort_date(now):
                raise InvalidCommand(
                    f"announce_on: {command.announce_on} is more than "
                    f"{rules.cohort_horizon_years} years ahead (the latest is "
                    f"{rules.latest_cohort_date(now)})", code="date_too_far",
                    facts={"latest_on": rules.latest_cohort_date(now).isoformat()})
            return [events.CohortCreated(cohort_id=command.cohort_id,
                                         announce_on=command.announce_on, on=now)]
        case commands.AddToCohort():
            _require_open(state)
            if not command.tier.certified:
                raise TransitionRefused(f"{command.name} is not certified; only certified "
                                        "cities are announced", code="not_certified")
            if any(c.city_key == command.city_key for c in state.cities):
                return []
            return [events.CohortCityAdded(city_key=command.city_key, name=command.name,
                                           tier=command.tier, on=now)]
        case commands.AnnounceCohort():
            _require_open(state)
            return [events.CohortAnnounced(cities=tuple(c.city_key for c in state.cities),
                                           on=now)]
        case _:
            assert_never(command)


def _require_open(state: CohortState) -> None:
    if state.cohort_id is None:
        raise TransitionRefused("no such cohort", code="not_found")
    if state.announced_on is not None:
        raise TransitionRefused(f"cohort {state.cohort_id} was announced on "
                                f"{state.announced_on}", code="already_announced",
                                facts={"cohort": state.cohort_id})


def evolve(state: CohortState, event: events.CohortEvent) -> CohortState:
    match event:
        case events.CohortCreated():
            update: dict[str, object] = {"cohort_id": event.cohort_id,
                                         "announce_on": event.announce_on}
        case events.CohortCityAdded():
            update = {"cities": (*state.cities, CohortCity(city_key=event.city_key,
                                                           name=event.name, tier=event.tier))}
        case events.CohortAnnounced():
            update = {"announced_on": event.on}
        case _:
            assert_never(event)
    return state.model_copy(update={**update, "version": state.version + 1})
