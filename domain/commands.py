"""Commands given to a city or a cohort, by operators, cities, reviewers and the program's
own timers. Small frozen models that validate their input; the workflow layer turns each
into a Temporal update whose validator runs the decider.

`CityCommand` and `CohortCommand` list every command of each decider, so the type checker
names every place a new command must be handled."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo
from pydantic_core import PydanticCustomError

from domain.answers import Answers
from domain.documents import MAX_NAME_LENGTH, MediaType
from domain.model import ONE_LINE, Input, SingleLine, longest, made_here
from domain.report import Report
from domain.streams import slugify
from domain.tiers import Tier

# Free text (answers, questions, reasons): several lines allowed.
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
# A code, a reviewer, a standard: one line (the lengths as before single lines: histories
# recorded since must replay).
OneLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
                    ONE_LINE]
Note = Annotated[str, longest(2000)]

# The most residents a city may be said to have: above any city of the Americas (the
# largest metropolitan area has about 22 million), far below what every store of it holds
# (the registry's integer column: 2,147,483,647). The API's bound too: one definition.
MAX_POPULATION = 100_000_000


def _population_bound(population: int, info: ValidationInfo) -> int:
    if made_here(info) and population > MAX_POPULATION:
        raise ValueError(f"must be at most {MAX_POPULATION:,} residents")
    return population


# A whole number: "74372" written as text is refused, not guessed at (strict), as are
# 74372.0 and true. The bound applies where a join is made (see `made_here`).
Population = Annotated[int, Field(ge=0, strict=True,
                                  json_schema_extra={"maximum": MAX_POPULATION}),
                       AfterValidator(_population_bound)]


def _has_letters_or_digits(name: str) -> str:
    # The city's key (and workflow id) is made from its name: one of only punctuation
    # would have no key at all.
    if not slugify(name):
        raise ValueError("a city name needs at least one letter or digit")
    return name


CityName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                     ONE_LINE, AfterValidator(_has_letters_or_digits)]
# ISO 3166 alpha-2, e.g. US, BR, MX.
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)]
# Cohort ids become workflow ids and URL segments: letters, digits, '.', '_' and '-'.
CohortId = Annotated[str, StringConstraints(strip_whitespace=True,
                                            pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class Command(Input):
    """A command someone gives: its text is checked (`domain.model.Input`). The few the
    program gives itself from what it already recorded (a decision's report, a cohort's
    members) say `checks_text = False`: a value an older version stored must never stop
    a decision or an announcement."""

    checks_text: ClassVar[bool] = True


class Location(Input):
    """Where the city is (its centre, in degrees): for the public map of certified cities."""

    latitude: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    longitude: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


# --- a city's commands -------------------------------------------------------------------

class JoinNetwork(Command):
    name: CityName
    country: Country
    population: Population
    # The standard to assess against; None = the one in force on the join date.
    standard_id: SingleLine | None = None
    location: Location | None = None


def _evidence_is_links(answers: Answers | None) -> Answers | None:
    for code, answer in (answers.criteria.items() if answers else ()):
        for link in answer.evidence:
            _require_link(link, f"criterion {code}")
    return answers


def _require_link(link: str, where: str) -> None:
    # Evidence is a link to what the city publishes; anything else (a script, a local path)
    # has no place in a review.
    if not re.fullmatch(r"https?://[^\s/$.?#][^\s]{0,2000}", link):
        # A coded error (domain/validation.py: CODED), with the link as a fact, so a
        # page can say it in the reader's language; the message reads as it always did.
        raise PydanticCustomError("invalid_link",
                                  "{where}: evidence must be an http(s) URL, not {shown}",
                                  {"where": where, "shown": repr(link[:80]),
                                   "link": link[:80]})


def _links(evidence: tuple[str, ...]) -> tuple[str, ...]:
    for link in evidence:
        _require_link(link, "clarification answer")
    return evidence


class SaveAssessment(Command):
    answers: Annotated[Answers, AfterValidator(_evidence_is_links)]
    # The draft's version the editor's answers were based on (HTTP If-Match): a save over
    # a newer draft is refused rather than silently overwriting it. None: no check.
    # (Histories recorded before drafts had their own stream: the city's version.)
    expected_version: Annotated[int, Field(ge=0)] | None = None
    # Carried-over criteria (domain/carry_over.py) the editor confirms still hold.
    confirmed: tuple[OneLine, ...] = ()


class SubmitAssessment(Command):
    # None submits what was last saved.
    answers: Annotated[Answers | None, AfterValidator(_evidence_is_links)] = None
    # The draft stream's version these answers were read at: the workflow seals the draft
    # there, so a save that landed meanwhile makes the submission stale instead of being
    # silently left out of it. None: no draft to seal (histories from before drafts).
    draft_version: Annotated[int, Field(ge=0)] | None = None
    # Carried-over criteria (domain/carry_over.py) the submission confirms still hold (its
    # answers may not claim one unconfirmed: domain/drafts.py:submission).
    confirmed: tuple[OneLine, ...] = ()


def _taken_type(media_type: str, info: ValidationInfo) -> str:
    # Where the command is made; one read back from a history keeps the type it was
    # taken as, whatever the allow-list says now.
    if made_here(info) and media_type not in MediaType.__members__.values():
        raise ValueError(f"{media_type!r} is not a type of document the program takes")
    return media_type


# The SHA-256 of a document's bytes, in lowercase hex: the blob store's key.
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
DocumentName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH),
                         ONE_LINE]


class AddDocument(Command):
    """Attach a document, whose bytes the blob store keeps under `sha256`, to a criterion
    of the open application (domain/evidence.py). Its name is cleaned and its type judged
    by the door that took the bytes (domain/documents.py, domain/sniffing.py); who adds
    it is the command's authenticated actor."""

    criterion: OneLine
    name: DocumentName
    media_type: Annotated[str, AfterValidator(_taken_type)]
    size: Annotated[int, Field(ge=1, strict=True)]
    sha256: Sha256
    # The last day it proves the criterion (bounds: domain/carry_over.py); None: no end.
    valid_through: date | None = None


class RemoveDocument(Command):
    """Take a document off a criterion of the open application (its bytes stay in the
    store while any event names them)."""

    criterion: OneLine
    sha256: Sha256


class TouchDraft(Command):
    """The operations layer saved the city's draft: the draft nudge counts from today."""


class AssignReviewer(Command):
    reviewer: OneLine
    # The cities the reviewer is affiliated with: a reviewer may never review one of them.
    # A front door fills them in from the reviewer's account so a conflict is refused
    # before anything is recorded; the city's workflow takes them from the accounts
    # itself (`domain.accounts.as_the_accounts_say`), whatever the command says.
    affiliations: tuple[SingleLine, ...] = ()


class RecordCriterionReview(Command):
    code: OneLine
    met: bool = False
    items: tuple[SingleLine, ...] | None = None
    note: Note = ""


class RecordReviews(Command):
    """A review team's validation sheet: many criterion reviews in one command."""

    reviews: Annotated[tuple[RecordCriterionReview, ...], Field(min_length=1)]


class SaveReviewSheet(Command):
    """The reviewer's sheet as it stands (every verdict given so far, with its notes),
    kept while they review: saved in a stream of its own, recorded in the city's with the
    completion (domain/review_sheets.py)."""

    reviews: Annotated[tuple[RecordCriterionReview, ...], Field(max_length=1000)] = ()
    # The sheet's version the reviewer's page was loaded at (HTTP If-Match): a save over
    # a newer sheet (another tab, another member of the team) is refused, not merged.
    expected_version: Annotated[int, Field(ge=0)] | None = None


class RequestClarification(Command):
    criterion: OneLine
    question: NonEmpty


class AnswerClarification(Command):
    clarification_id: Annotated[int, Field(ge=1)]
    answer: NonEmpty
    evidence: Annotated[tuple[str, ...], AfterValidator(_links)] = ()


class CompleteReview(Command):
    # Outcome-gate answers as validated by the review team; None keeps the city's own.
    outcomes: dict[str, bool] | None = None
    # The reviewer's sheet as the front door read it (domain/review_sheets.py): its
    # verdicts are recorded with the completion, and the workflow seals the sheet at
    # `sheet_version`, so a save that landed meanwhile makes the completion stale rather
    # than being left out of it. Empty and None: no sheet (the CLI, the API's own sheets).
    sheet: tuple[RecordCriterionReview, ...] = ()
    sheet_version: Annotated[int, Field(ge=0)] | None = None


class Decide(Command):
    """An operator asks for the decision: the workflow scores the reviewed answers (in an
    activity) and then records them as `RecordDecision`."""


class ReachDeadline(Command):
    """The program's timer: a deadline of the open application has come."""

    key: Annotated[str, StringConstraints(max_length=120)]


class RecordDecision(Command):
    """The reviewed answers scored by the domain scorer (in an activity)."""

    checks_text: ClassVar[bool] = False  # the program's own: see `Command`
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
    standard_id: SingleLine | None = None


class Withdraw(Command):
    reason: NonEmpty


CityCommand = (JoinNetwork | SaveAssessment | SubmitAssessment | TouchDraft | AssignReviewer
               | AddDocument | RemoveDocument
               | RecordCriterionReview | RecordReviews | RequestClarification
               | AnswerClarification | CompleteReview | Decide | RecordDecision | Announce
               | SendRenewalReminder | Expire | Reapply | Withdraw | ReachDeadline)


# --- a cohort's commands -----------------------------------------------------------------

class CreateCohort(Command):
    cohort_id: CohortId
    announce_on: date


class AddToCohort(Command):
    """A certified city the cohort announces, as the program recorded it."""

    checks_text: ClassVar[bool] = False  # the program's own: see `Command`
    city_key: NonEmpty
    name: NonEmpty
    tier: Tier


class AnnounceCohort(Command):
    """Announce now; on schedule, the cohort's own timer gives this command."""


CohortCommand = CreateCohort | AddToCohort | AnnounceCohort
