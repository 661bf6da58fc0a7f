"""Adapters of the "awaiting announcement" port (`activities.ports.AwaitingAnnouncement`):
which certified decisions wait for a cohort."""

from __future__ import annotations

from typing import Any

import asyncpg

from activities.ports import CityRef
from domain.city_state import CityState, Stage
from domain.events import CITY_EVENTS, as_city_event
from domain.lifecycle import evolve
from domain.streams import CITY_STREAM_PREFIX
from domain.tiers import Tier
from infra.eventstore.mapper import decode
from infra.eventstore.model import START, EventStore
from infra.readside.projections import projector


class ReadModelAwaitingAnnouncement:
    """From the pipeline and registry read models, brought up to date first."""

    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    async def cities(self) -> list[CityRef]:
        read_models = projector(self._pool)
        # The pipeline first: the registry, caught up after it, has then seen at least every
        # event the pipeline has, so each city the pipeline lists as decided has its
        # decision in the registry. (The other way round, a decision landing between the
        # two catch-ups showed up in the pipeline with no tier in the registry.)
        await read_models.catch_up("pipeline")
        await read_models.catch_up("registry")
        rows = await self._pool.fetch(
            "SELECT p.city_key, r.name, r.last_decision_tier FROM wwc_pipeline p "
            "JOIN wwc_registry r USING (city_key) WHERE p.stage = 'decided' "
            "ORDER BY r.name")
        return [CityRef(city_key=r["city_key"], name=r["name"],
                        tier=Tier(r["last_decision_tier"])) for r in rows]


class FoldedAwaitingAnnouncement:
    """By folding every city's stream: for the in-memory store, where there are no read
    models (fast workflow tests). Linear in the log; fine for tests, not for production."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def cities(self) -> list[CityRef]:
        states: dict[str, CityState] = {}
        after = START
        while page := await self._store.read_all(after, types=[c.TYPE for c in CITY_EVENTS]):
            for recorded in page:
                if recorded.stream_id.startswith(CITY_STREAM_PREFIX):
                    state = states.get(recorded.stream_id, CityState())
                    states[recorded.stream_id] = evolve(state, as_city_event(decode(recorded)))
            after = page[-1].cursor
        found = []
        for state in states.values():
            app = state.application
            if state.profile and app and app.stage is Stage.DECIDED and app.decision:
                found.append(CityRef(city_key=state.profile.city_key, name=state.profile.name,
                                     tier=app.decision.tier))
        return sorted(found, key=lambda ref: ref.name)
