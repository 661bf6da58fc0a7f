"""Commands operators (and the program's timers) give a city. Small frozen models; the
workflow layer turns each into a Temporal update whose validator runs the decider."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.answers import Answers
from domain.report import Report

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JoinNetwork(Command):
    name: NonEmpty
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)]
    population: Annotated[int, Field(ge=0)]
    # The standard to assess against; None = the one in force on the join date.
    standard_id: str | None = None


class SaveAssessment(Command):
    answers: Answers


class SubmitAssessment(Command):
    # None submits what was last saved.
    answers: Answers | None = None


class AssignReviewer(Command):
    reviewer: NonEmpty


class RecordCriterionReview(Command):
    code: NonEmpty
    met: bool = False
    items: tuple[str, ...] | None = None
    note: str = ""


class RecordReviews(Command):
    """A review team's validation sheet: many criterion reviews in one command."""

    reviews: Annotated[tuple[RecordCriterionReview, ...], Field(min_length=1)]


class RequestClarification(Command):
    criterion: NonEmpty
    question: NonEmpty


class AnswerClarification(Command):
    clarification_id: Annotated[int, Field(ge=1)]
    answer: NonEmpty
    evidence: tuple[str, ...] = ()


class CompleteReview(Command):
    # Outcome-gate answers as validated by the review team; None keeps the city's own.
    outcomes: dict[str, bool] | None = None


class RecordDecision(Command):
    """The reviewed answers scored by the domain scorer (in an activity)."""

    report: Report


class Announce(Command):
    cohort_id: NonEmpty
    # The cohort's announcement date when it is announced on schedule (a timer may fire a
    # little after it); None = today.
    announced_on: date | None = None


class SendRenewalReminder(Command):
    lead_days: Annotated[int, Field(ge=1)]


class Expire(Command):
    pass


class Reapply(Command):
    standard_id: str | None = None


class Withdraw(Command):
    reason: NonEmpty
