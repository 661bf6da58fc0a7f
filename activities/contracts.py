"""The activities' names and their one-argument input and output models: everything a
workflow needs to call them, with nothing that does I/O (safe in the workflow sandbox)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.answers import Answers
from domain.standard import Standard
from domain.tiers import Tier

APPEND_EVENTS = "append_events"
SCORE_APPLICATION = "score_application"
SEND_NOTIFICATION = "send_notification"
LOAD_STANDARDS = "load_standards"
AWAITING_ANNOUNCEMENT = "awaiting_announcement"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class EventEnvelope(_Model):
    event_id: str
    event_type: str
    schema_version: int
    data: dict[str, Any]


class AppendRequest(_Model):
    stream_id: str
    expected_version: int
    events: tuple[EventEnvelope, ...]
    metadata: dict[str, Any]


class AppendResponse(_Model):
    positions: tuple[int, ...]
    next_expected_version: int
    duplicate: bool


class ScoreRequest(_Model):
    standard: Standard
    answers: Answers
    honor_roll_percent: Fraction | None = None


class Notification(_Model):
    city_key: str
    kind: str  # e.g. "renewal_reminder", "certification_lapsed"
    message: str
    on: date


class LoadStandardsRequest(_Model):
    pass


class LoadStandardsResponse(_Model):
    standards: tuple[Standard, ...]


class AwaitingAnnouncementRequest(_Model):
    cohort_id: str


class CityRef(_Model):
    city_key: str
    name: str
    tier: Tier


class AwaitingAnnouncementResponse(_Model):
    cities: tuple[CityRef, ...]

