"""Which certified decisions await an announcement (from the read model, brought up to
date first). The announcing itself is done by the cohort and city workflows."""

from __future__ import annotations

from typing import Any

import asyncpg
from temporalio import activity

from activities.contracts import (
    AWAITING_ANNOUNCEMENT,
    AwaitingAnnouncementRequest,
    AwaitingAnnouncementResponse,
    CityRef,
)
from domain.tiers import Tier
from infra.projections import projector


class AnnouncementActivities:
    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    @activity.defn(name=AWAITING_ANNOUNCEMENT)
    async def awaiting_announcement(
        self, request: AwaitingAnnouncementRequest
    ) -> AwaitingAnnouncementResponse:
        keeper = projector(self._pool)
        await keeper.catch_up("registry")
        await keeper.catch_up("pipeline")
        rows = await self._pool.fetch(
            "SELECT p.city_key, r.name, r.last_decision_tier FROM wwc_pipeline p "
            "JOIN wwc_registry r USING (city_key) WHERE p.stage = 'decided' "
            "ORDER BY r.name")
        return AwaitingAnnouncementResponse(cities=tuple(
            CityRef(city_key=r["city_key"], name=r["name"], tier=Tier(r["last_decision_tier"]))
            for r in rows))
