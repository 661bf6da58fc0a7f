"""Domain events: small frozen models with stable logical type names and a schema version.

The type name (e.g. `certification.decided`) is what the event store records; it never
changes when a class is renamed or moved. A change to an event's fields bumps its
`SCHEMA_VERSION`, and the store upcasts older rows on read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, cast, get_args

from domain.answers import Answers, CriterionAnswer
from domain.documents import Documents
from domain.model import StrictFrozen
from domain.report import Report
from domain.tiers import Outcome, Tier


class Event(StrictFrozen):
    TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1

    on: date  # the program date it happened (a real calendar date)


# --- city lifecycle ----------------------------------------------------------------------

class CityJoined(Event):
    TYPE = "city.joined"
    city_key: str
    name: str
    country: str
    population: int
    # Degrees (latitude, longitude); None for cities that joined before it was recorded.
    location: tuple[float, float] | None = None


class CityWithdrew(Event):
    TYPE = "city.withdrew"
    reason: str


class ApplicationOpened(Event):
    TYPE = "application.opened"
    number: int
    standard_id: str
    reapplication: bool


class AssessmentSaved(Event):
    TYPE = "assessment.saved"
    answers: Answers


class AssessmentSubmitted(Event):
    TYPE = "assessment.submitted"
    answers: Answers
    # The documents submitted with the answers, per criterion (none before documents).
    documents: Documents = {}


class DocumentAdded(Event):
    """A document attached to a criterion of the open application: its bytes are the
    blob store's under `sha256`, so the city's hash chain binds exactly them."""

    TYPE = "evidence.document_added"
    criterion: str
    name: str
    media_type: str
    size: int
    sha256: str
    by: str  # the account (its id) that added it
    valid_through: date | None = None  # None: no end (and documents added before it)


class DocumentRemoved(Event):
    """A document taken off a criterion of the open application."""

    TYPE = "evidence.document_removed"
    criterion: str
    sha256: str
    name: str


class DraftTouched(Event):
    """The city's draft was saved today (first save of the day): the draft nudge's
    timer counts from here. The answers themselves are in the draft's stream."""

    TYPE = "assessment.draft_touched"


# --- a city's assessment draft (stream `draft/<key>`, outside the city's workflow) -------

class DraftSaved(Event):
    """The editors' answers so far, for application `application`."""

    TYPE = "draft.saved"
    application: int
    answers: Answers
    # The criteria carried over from the last review still to confirm (domain/carry_over.py).
    carried: tuple[str, ...] = ()


class DraftSealed(Event):
    """Application `application` was submitted with this draft: no save after it."""

    TYPE = "draft.sealed"
    application: int


# --- the reviewer's sheet (stream `review-sheet/<key>`, outside the city's workflow) ----

class SheetVerdict(StrictFrozen):
    """A verdict on the reviewer's sheet: as a recorded review has it, with its note."""

    code: str
    answer: CriterionAnswer
    note: str = ""


class ReviewSheetSaved(Event):
    """The reviewer's verdicts and notes so far, on application `application`."""

    TYPE = "review_sheet.saved"
    application: int
    verdicts: tuple[SheetVerdict, ...] = ()


class ReviewSheetSealed(Event):
    """The review of application `application` was completed with this sheet: its
    verdicts are recorded in the city's stream, and no save comes after it."""

    TYPE = "review_sheet.sealed"
    application: int


class ReviewerAssigned(Event):
    TYPE = "review.reviewer_assigned"
    reviewer: str


class CriterionReviewed(Event):
    TYPE = "review.criterion_reviewed"
    code: str
    answer: CriterionAnswer
    note: str = ""


class ClarificationRequested(Event):
    TYPE = "review.clarification_requested"
    clarification_id: int
    criterion: str
    question: str


class ClarificationAnswered(Event):
    TYPE = "review.clarification_answered"
    clarification_id: int
    answer: str
    evidence: tuple[str, ...] = ()


class ReviewCompleted(Event):
    TYPE = "review.completed"
    outcomes: dict[str, bool]


class DeadlineReached(Event):
    """A deadline of the open application came (domain/deadlines.py): a reminder before
    an answer or a review is due, the due date itself, or a nudge on an idle draft."""

    TYPE = "application.deadline_reached"
    key: str  # "clarification:2:reminder", "review:2026-01-05:due", "draft:2026-01-05:nudge"
    kind: str  # clarification | review | draft
    step: str  # reminder | due | nudge
    due_on: date


class CertificationDecided(Event):
    TYPE = "certification.decided"
    standard_id: str
    tier: Tier
    points: int
    total: int
    percent: float
    honor_roll: bool = False
    report: Report
    # The documents the review saw, per criterion: what a certificate lists and checks
    # (none for decisions made before documents).
    documents: Documents = {}


class CertificationAnnounced(Event):
    TYPE = "certification.announced"
    cohort_id: str
    standard_id: str
    tier: Tier
    previous_tier: Tier | None
    outcome: Outcome
    expires_on: date


class RenewalReminderSent(Event):
    TYPE = "certification.renewal_reminder_sent"
    lead_days: int
    expires_on: date


class CertificationHeldPendingRenewal(Event):
    """Reached its expiry while a reapplication is under way: it holds until the decision."""

    TYPE = "certification.held_pending_renewal"
    expires_on: date


class CertificationLapsed(Event):
    TYPE = "certification.lapsed"
    tier: Tier
    expires_on: date


# --- cohorts -----------------------------------------------------------------------------

class CohortCreated(Event):
    TYPE = "cohort.created"
    cohort_id: str
    announce_on: date


class CohortCityAdded(Event):
    TYPE = "cohort.city_added"
    city_key: str
    name: str
    tier: Tier


class CohortAnnounced(Event):
    TYPE = "cohort.announced"
    cities: tuple[str, ...]


# --- accounts (secrets are never in events: hashes live apart) ---------------------------

class AccountCreated(Event):
    TYPE = "account.created"
    account_id: str
    email: str
    display_name: str
    role: str
    cities: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    language: str = "en"


class AccountDisabled(Event):
    TYPE = "account.disabled"
    reason: str


class DigestPreferenceSet(Event):
    """Whether the account receives the operators' weekly digest (operational mail always
    goes)."""

    TYPE = "account.digest_set"
    enabled: bool


class ApiTokenIssued(Event):
    TYPE = "account.token_issued"
    token_id: str
    name: str
    expires_on: date


class ApiTokenRevoked(Event):
    TYPE = "account.token_revoked"
    token_id: str


class AccountEnabled(Event):
    """A disabled account may sign in again (its old sessions and tokens stay ended)."""

    TYPE = "account.enabled"


# Onboarding and passwords. A link (an invitation, a password reset) is named by its id:
# the link's secret is never recorded, only a hash of it, apart (infra/identity). Its
# expiry is real time (UTC), not the program's date: people open mail on the calendar.

class AccountInvited(Event):
    """The account waits for its person to choose a password, by the link mailed to
    them; it has none until then."""

    TYPE = "account.invited"
    link_id: str
    expires_at: datetime


class PasswordResetSent(Event):
    """A link to choose a new password was mailed (asked for by the person, or sent by
    an admin)."""

    TYPE = "account.password_reset_sent"
    link_id: str
    expires_at: datetime


class LinkUsed(Event):
    """The person chose their password by the link: it never opens again."""

    TYPE = "account.link_used"
    link_id: str


class OneTimePasswordSet(Event):
    """An admin (or the server's shell) set the account's password: the person must
    change it at their next sign-in before anything else."""

    TYPE = "account.one_time_password_set"


class PasswordChanged(Event):
    """The person changed their own password (knowing the current one)."""

    TYPE = "account.password_changed"


# Every event of each stream kind: deciders and folds match over these with
# `assert_never`, so the type checker names each place a new event must be handled.
CityEvent = (CityJoined | CityWithdrew | ApplicationOpened | AssessmentSaved
             | AssessmentSubmitted | DraftTouched | ReviewerAssigned | CriterionReviewed
             | DocumentAdded | DocumentRemoved
             | ClarificationRequested | ClarificationAnswered | ReviewCompleted
             | CertificationDecided | CertificationAnnounced | RenewalReminderSent
             | CertificationHeldPendingRenewal | CertificationLapsed | DeadlineReached)
CohortEvent = CohortCreated | CohortCityAdded | CohortAnnounced
DraftEvent = DraftSaved | DraftSealed
ReviewSheetEvent = ReviewSheetSaved | ReviewSheetSealed
AccountEvent = (AccountCreated | AccountDisabled | ApiTokenIssued | ApiTokenRevoked
                | DigestPreferenceSet | AccountEnabled | AccountInvited | PasswordResetSent
                | LinkUsed | OneTimePasswordSet | PasswordChanged)

CITY_EVENTS: tuple[type[Event], ...] = get_args(CityEvent)
COHORT_EVENTS: tuple[type[Event], ...] = get_args(CohortEvent)
ACCOUNT_EVENTS: tuple[type[Event], ...] = get_args(AccountEvent)
DRAFT_EVENTS: tuple[type[Event], ...] = get_args(DraftEvent)
REVIEW_SHEET_EVENTS: tuple[type[Event], ...] = get_args(ReviewSheetEvent)
EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls for cls in (*CITY_EVENTS, *COHORT_EVENTS, *ACCOUNT_EVENTS, *DRAFT_EVENTS,
                              *REVIEW_SHEET_EVENTS)}


def as_city_event(event: Event) -> CityEvent:
    """`event` as one of the city's events, or a ValueError (e.g. a cohort's event)."""
    if not isinstance(event, CITY_EVENTS):
        raise ValueError(f"event {event.TYPE} does not apply to a city")
    return cast(CityEvent, event)


def as_account_event(event: Event) -> AccountEvent:
    if not isinstance(event, ACCOUNT_EVENTS):
        raise ValueError(f"event {event.TYPE} does not apply to an account")
    return cast(AccountEvent, event)


def as_draft_event(event: Event) -> DraftEvent:
    if not isinstance(event, DRAFT_EVENTS):
        raise ValueError(f"event {event.TYPE} does not apply to a draft")
    return cast(DraftEvent, event)


def as_review_sheet_event(event: Event) -> ReviewSheetEvent:
    if not isinstance(event, REVIEW_SHEET_EVENTS):
        raise ValueError(f"event {event.TYPE} does not apply to a review sheet")
    return cast(ReviewSheetEvent, event)


def as_cohort_event(event: Event) -> CohortEvent:
    if not isinstance(event, COHORT_EVENTS):
        raise ValueError(f"event {event.TYPE} does not apply to a cohort")
    return cast(CohortEvent, event)


def event_from_data(event_type: str, data: dict[str, Any]) -> Event:
    """Rebuild an event of the current schema version from its stored data."""
    try:
        cls = EVENT_TYPES[event_type]
    except KeyError:
        raise ValueError(f"unknown event type {event_type!r}") from None
    return cls.model_validate(data)


def event_to_data(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")
