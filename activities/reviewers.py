"""What the program's accounts say of a reviewer (behind the port), for the city's
workflow to assign one on the accounts' word rather than the caller's."""

from __future__ import annotations

from temporalio import activity

from activities.contracts import (
    REVIEWER_STANDING,
    ReviewerStandingRequest,
    ReviewerStandingResponse,
)
from activities.ports import ReviewerAccounts


class ReviewerActivities:
    def __init__(self, accounts: ReviewerAccounts) -> None:
        self._accounts = accounts

    @activity.defn(name=REVIEWER_STANDING)
    async def reviewer_standing(self, request: ReviewerStandingRequest) -> ReviewerStandingResponse:
        return ReviewerStandingResponse(standing=await self._accounts.standing(request.email))
