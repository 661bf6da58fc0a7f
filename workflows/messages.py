"""Messages between the cohort and city workflows (signals both ways, no activity in the
middle holding a worker slot while the other side works)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from domain.tiers import Tier


class CohortAnnouncement(BaseModel):
    """Cohort -> city: be announced in this cohort on this date, then reply."""

    model_config = ConfigDict(frozen=True)

    cohort_id: str
    announced_on: date
    reply_to: str  # the cohort's workflow id


class CohortReply(BaseModel):
    """City -> cohort: whether it was announced (and if not, the domain's reason)."""

    model_config = ConfigDict(frozen=True)

    city_key: str
    announced: bool
    tier: Tier
    reason: str = ""
