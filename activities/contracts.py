"""The activities' names and their one-argument input and output models: everything a
workflow needs to call them, with nothing that does I/O (safe in the workflow sandbox)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from pydantic import BaseModel, ConfigDict

from activities.ports import CityRef, NewEvent
from domain.answers import Answers
from domain.standard import Standard

APPEND_EVENTS = "append_events"
SCORE_APPLICATION = "score_application"
SEND_NOTIFICATION = "send_notification"
LOAD_STANDARDS = "load_standards"
AWAITING_ANNOUNCEMENT = "awaiting_announcement"


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True)


class AppendRequest(_Message):
    stream_id: str
    expected_version: int
    events: tuple[NewEvent, ...]


class AppendResponse(_Message):
    positions: tuple[int, ...]
    next_expected_version: int
    duplicate: bool


class ScoreRequest(_Message):
    standard: Standard
    answers: Answers
    honor_roll_percent: Fraction | None = None


class Notification(_Message):
    city_key: str
    kind: str  # e.g. "renewal_reminder", "certification_lapsed"
    message: str
    on: date


class LoadStandardsRequest(_Message):
    pass


class LoadStandardsResponse(_Message):
    standards: tuple[Standard, ...]


class AwaitingAnnouncementRequest(_Message):
    cohort_id: str


class AwaitingAnnouncementResponse(_Message):
    cities: tuple[CityRef, ...]
