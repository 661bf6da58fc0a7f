"""The program's people: accounts, their role and what it is bound to, and API tokens.

An account stream (`account/<id>`) records who was given which role, by whom and when, so
access is as auditable as every certification. Secrets are never here: password hashes
and token hashes live apart (they must be replaceable, and an event is forever).

Roles, from least to most:
- a *city editor* acts for the cities it is bound to (join, assessment, clarifications,
  reapply, withdraw) and sees only them;
- a *reviewer* acts on the applications assigned to it, and may never be assigned to a
  city it is affiliated with;
- an *operator* runs the program (reviewers, decisions, cohorts, any city);
- an *admin* is an operator who also manages accounts, tokens and standards.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, assert_never

from pydantic import Field, StringConstraints

from domain import commands, events
from domain.commands import CityName, Country
from domain.errors import AssessmentError, TransitionRefused
from domain.model import ONE_LINE, Frozen, Input
from domain.streams import city_key


class Role(StrEnum):
    CITY_EDITOR = "city_editor"
    REVIEWER = "reviewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def runs_the_program(self) -> bool:
        return self in (Role.OPERATOR, Role.ADMIN)


Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), ONE_LINE]
CityKey = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}-[a-z0-9-]{1,120}$")]
# The program's languages (the portal's pages, the mail, the criteria labels).
LANGUAGES = ("en", "es", "pt")
Language = Annotated[str, StringConstraints(pattern=rf"^({'|'.join(LANGUAGES)})$")]


# --- commands ----------------------------------------------------------------------------

class AccountCommand(Input):
    checks_text: ClassVar[bool] = True  # no control or bidi character: domain/model.py


class CityToJoin(Input):
    """A city an editor is made for before it joins, named as its join will name it: its
    key is made the way the join makes it, so it cannot be mistyped."""

    checks_text: ClassVar[bool] = True
    name: CityName
    country: Country

    @property
    def key(self) -> str:
        return city_key(self.country, self.name)


class CreateAccount(AccountCommand):
    email: Email
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                   max_length=200), ONE_LINE]
    role: Role
    # City editors: the cities they act for, by key, each one that has joined (the account
    # directory checks: a mistyped key is refused), and by name and country, the cities
    # still to join. Reviewers: the cities they are affiliated with (and so may never
    # review).
    cities: tuple[CityKey, ...] = ()
    cities_to_join: tuple[CityToJoin, ...] = ()
    affiliations: tuple[CityKey, ...] = ()
    language: Language = "en"

    @property
    def bound_cities(self) -> tuple[str, ...]:
        """Every city a city editor acts for: the keys given and those made from the
        cities still to join."""
        return tuple(dict.fromkeys((*self.cities, *(c.key for c in self.cities_to_join))))


class DisableAccount(AccountCommand):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=500)]


class IssueToken(AccountCommand):
    token_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                    ONE_LINE]
    expires_on: date


class RevokeToken(AccountCommand):
    token_id: str


class SetDigest(AccountCommand):
    """Turn the weekly digest on or off for this account."""

    enabled: bool


AnyAccountCommand = CreateAccount | DisableAccount | IssueToken | RevokeToken | SetDigest


# --- state -------------------------------------------------------------------------------

class Token(Frozen):
    token_id: str
    name: str
    expires_on: date
    revoked: bool = False


class AccountState(Frozen):
    version: int = 0
    account_id: str | None = None
    email: str | None = None
    display_name: str = ""
    role: Role | None = None
    cities: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    language: str = "en"
    disabled: bool = False
    digest: bool = True
    tokens: tuple[Token, ...] = Field(default=())


def decide(state: AccountState, command: AnyAccountCommand, account_id: str,
           now: date) -> list[events.AccountEvent]:
    match command:
        case CreateAccount():
            if state.account_id is not None:
                raise TransitionRefused(f"account {state.email} already exists", code="exists",
                                        facts={"what": state.email or ""})
            cities = command.bound_cities
            if command.role is Role.CITY_EDITOR and not cities:
                raise AssessmentError("a city editor needs at least one city (--city KEY, "
                                      "or --joining NAME --country CC for a city still to "
                                      "join)", code="invalid_account")
            if command.role is not Role.CITY_EDITOR and cities:
                raise AssessmentError("only a city editor is bound to cities",
                                      code="invalid_account")
            if command.affiliations and command.role is not Role.REVIEWER:
                raise AssessmentError("only a reviewer has affiliations",
                                      code="invalid_account")
            return [events.AccountCreated(
                account_id=account_id, email=command.email, display_name=command.display_name,
                role=command.role.value, cities=cities,
                affiliations=command.affiliations, language=command.language, on=now)]
        case DisableAccount():
            _require_active(state)
            return [events.AccountDisabled(reason=command.reason, on=now)]
        case IssueToken():
            _require_active(state)
            if command.expires_on <= now:
                raise AssessmentError("a token must expire after today", code="invalid_token")
            if any(t.token_id == command.token_id for t in state.tokens):
                raise TransitionRefused(f"token {command.token_id} exists", code="exists",
                                        facts={"what": command.token_id})
            return [events.ApiTokenIssued(token_id=command.token_id, name=command.name,
                                          expires_on=command.expires_on, on=now)]
        case SetDigest():
            _require_active(state)
            if state.digest == command.enabled:
                return []  # already so: nothing to record
            return [events.DigestPreferenceSet(enabled=command.enabled, on=now)]
        case RevokeToken():
            if state.account_id is None:
                raise TransitionRefused("no such account", code="not_found")
            token = next((t for t in state.tokens if t.token_id == command.token_id), None)
            if token is None:
                raise TransitionRefused(f"no token {command.token_id}", code="not_found")
            if token.revoked:
                return []
            return [events.ApiTokenRevoked(token_id=command.token_id, on=now)]
        case _:
            assert_never(command)


def _require_active(state: AccountState) -> None:
    if state.account_id is None:
        raise TransitionRefused("no such account", code="not_found")
    if state.disabled:
        raise TransitionRefused(f"account {state.email} is disabled", code="disabled",
                                facts={"email": state.email or ""})


def evolve(state: AccountState, event: events.AccountEvent) -> AccountState:
    match event:
        case events.AccountCreated():
            update: dict[str, object] = {
                "account_id": event.account_id, "email": event.email,
                "display_name": event.display_name, "role": Role(event.role),
                "cities": event.cities, "affiliations": event.affiliations,
                "language": event.language}
        case events.AccountDisabled():
            update = {"disabled": True}
        case events.ApiTokenIssued():
            update = {"tokens": (*state.tokens, Token(token_id=event.token_id, name=event.name,
                                                       expires_on=event.expires_on))}
        case events.DigestPreferenceSet():
            update = {"digest": event.enabled}
        case events.ApiTokenRevoked():
            update = {"tokens": tuple(t.model_copy(update={"revoked": True})
                                      if t.token_id == event.token_id else t
                                      for t in state.tokens)}
        case _:
            assert_never(event)
    return state.model_copy(update={**update, "version": state.version + 1})


ACCOUNT_STREAM_PREFIX = "account/"


def account_stream(account_id: str) -> str:
    return f"{ACCOUNT_STREAM_PREFIX}{account_id}"


# --- a reviewer as the accounts know it --------------------------------------------------

class ReviewerStanding(Frozen):
    """What the program's accounts say of a reviewer when one is assigned: read by the
    city's workflow from the accounts the service keeps, never taken from the caller (a
    caller's command could leave out an affiliation)."""

    email: str
    active_reviewer: bool  # an account with the reviewer role, not disabled
    affiliations: tuple[str, ...] = ()


def as_the_accounts_say(command: commands.AssignReviewer,
                        standing: ReviewerStanding | None) -> commands.AssignReviewer:
    """The assignment with the reviewer's affiliations from their account (so the
    decider's conflict-of-interest rule sees them all); refused unless the reviewer is an
    active reviewer's account (`unknown_reviewer`)."""
    if standing is None or not standing.active_reviewer \
            or standing.email.lower() != command.reviewer.lower():
        raise TransitionRefused(f"{command.reviewer} is not an active reviewer's account",
                                code="unknown_reviewer", facts={"reviewer": command.reviewer})
    return command.model_copy(update={"reviewer": standing.email,
                                      "affiliations": standing.affiliations})
