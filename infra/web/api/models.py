"""Request and response bodies of the API that are not domain models themselves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from domain.accounts import AccountDetails, CreateAccount, Role
from domain.answers import Answers
from domain.commands import CityName, CohortId, Location, NonEmpty, Population
from domain.model import Input
from domain.tiers import Tier
from infra.web.signing_in import SignIn as SignIn  # the portal's sign-in form's rule too


class Body(Input):
    """A request or response body: strict, frozen, no NUL characters."""


Cursor = Annotated[str, StringConstraints(max_length=200)]


# --- identity ----------------------------------------------------------------------------



class PasswordChange(Body):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    new_password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Me(Body):
    account_id: str
    email: str
    display_name: str
    role: Role
    cities: tuple[str, ...]
    affiliations: tuple[str, ...]
    language: str
    digest: bool = True  # receives the operators' weekly digest
    disabled: bool = False
    # Invited, and no password chosen yet (by the link mailed to the person).
    invited: bool = False
    # A one-time password an admin set: until it is changed (PUT /api/me/password), the
    # account reaches nothing else (403 `password_change_required`).
    must_change_password: bool = False


class DigestPreference(Body):
    enabled: bool


class SignedIn(Body):
    account: Me
    # Send it back in the X-CSRF-Token header with every state-changing request.
    csrf_token: str


class PasswordChanged(Body):
    sessions_ended: int  # the account's other sessions, signed out
    # The account's API tokens, revoked: a password change means the account may have
    # been someone else's, and a token issued then must not outlive it.
    tokens_revoked: tuple[str, ...]


class NewAccount(CreateAccount):
    """The domain's command, and the password (left out: one is made up, answered once,
    and must be changed at the first sign-in; a password given here must be when
    `one_time_password` is true)."""

    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None


class NewInvitation(AccountDetails):
    """Who the account is for; its person chooses the password by the link mailed to
    them."""


class Invited(Body):
    account: Me
    # Until when the mailed link works (real time, UTC); it works once.
    link_expires_at: datetime


class LinkSent(Body):
    """A link to choose a password is on its way to the account's person."""

    link_expires_at: datetime


class PasswordResetRequest(Body):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3,
                                            max_length=254)]


class PasswordResetAccepted(Body):
    detail: str


class CreatedAccount(Body):
    account: Me
    password: str | None = None  # only when made up here; shown this once


class Reason(Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=500)]


class NewToken(Body):
    email: str
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=100)]
    days: Annotated[int, Field(ge=1, le=366)] = 90


class IssuedToken(Body):
    token_id: str
    email: str
    name: str
    expires_on: date
    token: str  # shown this once; stored only as a hash


class TokenRecord(Body):
    token_id: str
    email: str
    name: str
    expires_on: date
    issued_on: date
    revoked: bool


# --- cities ------------------------------------------------------------------------------

class JoinRequest(Body):
    name: CityName
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
    population: Population  # the domain's bound: a whole number, 0 to 100,000,000
    standard_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    location: Location | None = None


class SubmitRequest(Body):
    answers: Answers | None = None


class ClarificationAnswer(Body):
    answer: NonEmpty
    evidence: tuple[Annotated[str, StringConstraints(max_length=2000)], ...] = ()


class ClarificationQuestion(Body):
    criterion: Annotated[str, StringConstraints(max_length=32)]
    question: NonEmpty


class CriterionVerdict(Body):
    code: Annotated[str, StringConstraints(max_length=32)]
    met: bool = False
    items: tuple[Annotated[str, StringConstraints(max_length=64)], ...] | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class ReviewSheet(Body):
    reviews: Annotated[tuple[CriterionVerdict, ...], Field(min_length=1, max_length=200)]


class SheetSave(Body):
    """The reviewer's whole sheet as it stands (an empty one clears it)."""

    reviews: Annotated[tuple[CriterionVerdict, ...], Field(max_length=200)] = ()


class CompleteRequest(Body):
    outcomes: dict[Annotated[str, StringConstraints(max_length=64)], bool] | None = None


class ReapplyRequest(Body):
    standard_id: Annotated[str, StringConstraints(max_length=64)] | None = None


class ReviewerRequest(Body):
    reviewer: str  # the reviewer's account e-mail


class CohortRequest(Body):
    cohort_id: CohortId
    announce_on: date


# --- public ------------------------------------------------------------------------------

class PublicCity(Body):
    city_key: str
    name: str
    country: str
    tier: Tier
    standard_id: str
    cohort_id: str
    awarded_on: date
    expires_on: date


class RegistryPage(Body):
    items: tuple[PublicCity, ...]
    next_cursor: str | None = None
    as_of: date | None = None


class TierPeriod(Body):
    tier: Tier
    standard_id: str
    cohort_id: str
    awarded_on: date
    expires_on: date
    ended_on: date | None
    outcome: str


class PublicCityPage(PublicCity):
    history: tuple[TierPeriod, ...]


class PublicCohortCity(Body):
    city_key: str
    name: str
    tier: Tier


class PublicCohort(Body):
    cohort_id: str
    announced_on: date
    cities: tuple[PublicCohortCity, ...]


class Page(Body):
    items: tuple[dict[str, Any], ...]
    next_cursor: str | None = None
