"""Cohort announcements: find the certified decisions not yet announced (from the read
model) and announce each city through its own workflow (an update, so the city's rules
decide and its history records it)."""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.contracts import (
    ANNOUNCE_CITY,
    AWAITING_ANNOUNCEMENT,
    AnnounceCityRequest,
    AnnounceCityResponse,
    AwaitingAnnouncementRequest,
    AwaitingAnnouncementResponse,
    CityRef,
)
from domain.city import city_stream
from domain.commands import Announce
from domain.tiers import Tier
from domain.views import CityView
from infra.projections import projector

log = structlog.get_logger("wwc.activities")


class AnnouncementActivities:
    def __init__(self, pool: asyncpg.Pool[Any], client: Client) -> None:
        self._pool = pool
        self._client = client

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

    @activity.defn(name=ANNOUNCE_CITY)
    async def announce_city(self, request: AnnounceCityRequest) -> AnnounceCityResponse:
        handle = self._client.get_workflow_handle(city_stream(request.city_key))
        try:
            view: CityView = await handle.execute_update(
                "announce", Announce(cohort_id=request.cohort_id,
                                     announced_on=request.announced_on),
                id=f"announce:{request.cohort_id}", result_type=CityView)
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            # A retry after the city was already announced in this cohort finds it refused
            # (its cycle moved on): ask the city what it holds before calling it a refusal.
            current: CityView = await handle.query("view", result_type=CityView)
            if current.cohort_id == request.cohort_id:
                return AnnounceCityResponse(city_key=request.city_key, announced=True,
                                            tier=current.tier)
            reason = cause.message if isinstance(cause, ApplicationError) else str(error)
            log.info("not announced", city_key=request.city_key, reason=reason)
            return AnnounceCityResponse(city_key=request.city_key, announced=False,
                                        tier=current.tier, reason=reason)
        return AnnounceCityResponse(city_key=request.city_key, announced=True, tier=view.tier)
