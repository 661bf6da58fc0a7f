"""The activities' names and their one-argument input and output models: everything a
workflow needs to call them, with nothing that does I/O (safe in the workflow sandbox)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

from activities.ports import (
    CityRef,
    DigestRequest,
    MailRequest,
    MailResult,
    NewEvent,
    RecordedMail,
)
from domain.accounts import ReviewerStanding
from domain.answers import Answers
from domain.model import Frozen
from domain.standard import Standard

APPEND_EVENTS = "append_events"
SCORE_APPLICATION = "score_application"
SEND_NOTIFICATION = "send_notification"
SEND_MAIL = "send_mail"
SEND_DIGEST = "send_digest"
SEND_RECORDED_MAIL = "send_recorded_mail"
LOAD_STANDARDS = "load_standards"
AWAITING_ANNOUNCEMENT = "awaiting_announcement"
REVIEWER_STANDING = "reviewer_standing"
# The mail activities' models live with their port; named here beside the other contracts.
__all__ = ["DigestRequest", "MailRequest", "MailResult", "RecordedMail"]


class AppendRequest(Frozen):
    stream_id: str
    expected_version: int
    events: tuple[NewEvent, ...]
    # The stream's own workflow, which can fold what it did not know: when the stream is
    # already past `expected_version` with events that workflow stored (a task of it lost
    # after its append landed, the command then not run again as it was), answer with
    # them (`ahead`) instead of failing.
    fold_ahead: bool = False


class StoredBatch(Frozen):
    """One event of a batch an earlier execution of the same command stored."""

    event_type: str
    data: dict[str, Any]


class AppendResponse(Frozen):
    positions: tuple[int, ...]
    next_expected_version: int
    duplicate: bool
    # When an earlier execution of the same command (its workflow task lost while this
    # append was on its way, the command then decided again, e.g. a program day later)
    # stored its events under these ids: those events, which are the command's record.
    adopted: tuple[StoredBatch, ...] = ()
    # With `fold_ahead`: the events the stream holds after the expected version, which
    # nothing was appended over; the caller folds them and decides its command again.
    ahead: tuple[StoredBatch, ...] = ()


class ScoreRequest(Frozen):
    standard: Standard
    answers: Answers
    honor_roll_percent: Fraction | None = None


class Notification(Frozen):
    city_key: str
    kind: str  # e.g. "renewal_reminder", "certification_lapsed"
    message: str
    on: date


class LoadStandardsRequest(Frozen):
    pass


class LoadStandardsResponse(Frozen):
    standards: tuple[Standard, ...]


class AwaitingAnnouncementRequest(Frozen):
    cohort_id: str


class AwaitingAnnouncementResponse(Frozen):
    cities: tuple[CityRef, ...]


class ReviewerStandingRequest(Frozen):
    email: str


class ReviewerStandingResponse(Frozen):
    standing: ReviewerStanding | None
