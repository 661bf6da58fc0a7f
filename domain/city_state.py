"""A city's state as its events fold (`domain/lifecycle.py:evolve`): its profile, the
certification it holds, the application it has open, and the status operators read from
them. Data only, with the few questions a state answers about itself; the deadlines
(`domain/deadlines.py`) and the decider (`domain/lifecycle.py`) both read it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from domain.answers import Answers, CriterionAnswer
from domain.documents import Documents
from domain.model import Frozen
from domain.report import Report
from domain.tiers import Outcome, Tier


class Stage(StrEnum):
    ASSESSING = "assessing"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    AWAITING_CLARIFICATION = "awaiting_clarification"
    REVIEW_COMPLETE = "review_complete"
    DECIDED = "decided"  # certified, waiting for its cohort's announcement


class Status(StrEnum):
    """What operators see and search by; derived from the state, never stored on its own."""

    NOT_JOINED = "not_joined"
    ASSESSING = "assessing"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    AWAITING_CLARIFICATION = "awaiting_clarification"
    REVIEW_COMPLETE = "review_complete"
    AWAITING_ANNOUNCEMENT = "awaiting_announcement"
    NOT_CERTIFIED = "not_certified"
    CERTIFIED = "certified"
    RENEWAL_DUE = "renewal_due"
    REAPPLYING = "reapplying"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"


def derive_status(
    *, joined: bool, withdrawn: bool, certified: bool, reminders_sent: bool,
    stage: Stage | None, lapsed: bool,
) -> Status:
    """The one place that says how a city's facts read as a status (the state and the
    registry projection both use it)."""
    if not joined:
        return Status.NOT_JOINED
    if withdrawn:
        return Status.WITHDRAWN
    if certified:
        if stage is not None:
            return Status.REAPPLYING
        return Status.RENEWAL_DUE if reminders_sent else Status.CERTIFIED
    if stage is not None:
        return Status.AWAITING_ANNOUNCEMENT if stage is Stage.DECIDED else Status(stage.value)
    return Status.LAPSED if lapsed else Status.NOT_CERTIFIED


class Profile(Frozen):
    city_key: str
    name: str
    country: str
    population: int
    joined_on: date
    location: tuple[float, float] | None = None


class Clarification(Frozen):
    id: int
    criterion: str
    question: str
    asked_on: date
    answer: str | None = None
    evidence: tuple[str, ...] = ()
    answered_on: date | None = None


class Decision(Frozen):
    standard_id: str
    tier: Tier
    points: int
    total: int
    percent: float
    honor_roll: bool
    decided_on: date


class Application(Frozen):
    number: int
    standard_id: str
    reapplication: bool
    opened_on: date
    stage: Stage = Stage.ASSESSING
    answers: Answers = Answers()
    # The documents attached to each criterion (domain/evidence.py): while assessing, the
    # editors add and remove them; from the submission on, what the review sees.
    documents: Documents = {}
    submitted_on: date | None = None
    reviewer: str | None = None
    reviews: dict[str, CriterionAnswer] = {}
    # The reviewer's note on each reviewed criterion that has one: a review is repeated
    # only when its verdict and its note are the ones recorded (see `already_holds`).
    review_notes: dict[str, str] = {}
    clarifications: tuple[Clarification, ...] = ()
    outcomes: dict[str, bool] | None = None
    decision: Decision | None = None
    # For the deadlines (domain/deadlines.py): when the reviewer was assigned, when the
    # draft was last saved, when the review was completed, and the deadlines recorded.
    reviewer_assigned_on: date | None = None
    draft_touched_on: date | None = None
    completed_on: date | None = None
    deadlines_reached: tuple[str, ...] = ()
    # While assessing a reapplication: the criteria carried over from the last review that
    # an editor has not confirmed yet (from the draft: domain/carry_over.py).
    carried_over: tuple[str, ...] = ()

    def open_clarifications(self) -> list[Clarification]:
        return [q for q in self.clarifications if q.answer is None]

    def reviewed_answers(self) -> Answers:
        """What the review team validated: unreviewed criteria count as not met."""
        return Answers(
            criteria=dict(self.reviews),
            outcomes=dict(self.outcomes if self.outcomes is not None else self.answers.outcomes),
        )


class Certification(Frozen):
    tier: Tier
    standard_id: str
    cohort_id: str
    announced_on: date
    expires_on: date
    reminders_sent: tuple[int, ...] = ()
    held_pending_renewal: bool = False


class CityState(Frozen):
    version: int = 0  # events folded so far: the stream's expected version
    profile: Profile | None = None
    withdrawn: bool = False
    withdrawal_reason: str | None = None  # why, while withdrawn
    applications: int = 0
    application: Application | None = None
    certification: Certification | None = None
    last_decision: Decision | None = None
    last_report: Report | None = None
    last_outcome: Outcome | None = None
    lapsed_on: date | None = None

    @property
    def status(self) -> Status:
        app = self.application
        return derive_status(
            joined=self.profile is not None,
            withdrawn=self.withdrawn,
            certified=self.certification is not None,
            reminders_sent=bool(self.certification and self.certification.reminders_sent),
            stage=app.stage if app is not None else None,
            lapsed=self.lapsed_on is not None and self.last_outcome is Outcome.LAPSED,
        )

    @property
    def tier(self) -> Tier:
        return self.certification.tier if self.certification else Tier.NONE
