"""Which certified decisions await an announcement (from the read model behind the port).
The announcing itself is done by the cohort and city workflows."""

from __future__ import annotations

from temporalio import activity

from activities.contracts import (
    AWAITING_ANNOUNCEMENT,
    AwaitingAnnouncementRequest,
    AwaitingAnnouncementResponse,
)
from activities.ports import AwaitingAnnouncement


class AnnouncementActivities:
    def __init__(self, awaiting: AwaitingAnnouncement) -> None:
        self._awaiting = awaiting

    @activity.defn(name=AWAITING_ANNOUNCEMENT)
    async def awaiting_announcement(
        self, request: AwaitingAnnouncementRequest
    ) -> AwaitingAnnouncementResponse:
        return AwaitingAnnouncementResponse(cities=tuple(await self._awaiting.cities()))
