"""Commands given to a city or a cohort, by operators, cities, reviewers and the program's
own timers. Small frozen models that validate their input; the workflow layer turns each
into a Temporal update whose validator runs the decider.

`CityCommand` and `CohortCommand` list every command of each decider, so the type checker
names every place a new command must be handled."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from domain.answers import Answers
from domain.city import slugify
from domain.model import StrictFrozen
from domain.report import Report
from domain.tiers import Tier

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


def _has_letters_or_digits(name: str) -> str:
    # The city's key (and workflow id) is made from its name: one of only punctuation
    # would have no key at all.
    if not slugify(name):
        raise ValueError("a city name needs at least one letter or digit")
    return name


CityName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                     AfterValidator(_has_letters_or_digits)]
# Cohort ids become workflow ids and URL segments: letters, digits, '.', '_' and '-'.
CohortId = Annotated[str, StringConstraints(strip_whitespace=True,
                                            pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class Command(StrictFrozen):
    pass


# --- a city's commands -------------------------------------------------------------------

class JoinNetwork(Command):
    name: CityName
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


class Decide(Command):
    """An operator asks for the decision: the workflow scores the reviewed answers (in an
    activity) and then records them as `RecordDecision`."""


class RecordDecision(Command):
    """The reviewed answers scored by the domain scorer (in an activity)."""

    report: Report


class Announce(Command):
    cohort_id: CohortId
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


CityCommand = (JoinNetwork | SaveAssessment | SubmitAssessment | AssignReviewer
               | RecordCriterionReview | RecordReviews | RequestClarification
               | AnswerClarification | CompleteReview | Decide | RecordDecision | Announce
               | SendRenewalReminder | Expire | Reapply | Withdraw)


# --- a cohort's commands -----------------------------------------------------------------

class CreateCohort(Command):
    cohort_id: CohortId
    announce_on: date


class AddToCohort(Command):
    city_key: NonEmpty
    name: NonEmpty
    tier: Tier


class AnnounceCohort(Command):
    """Announce now; on schedule, the cohort's own timer gives this command."""


CohortCommand = CreateCohort | AddToCohort | AnnounceCohort
