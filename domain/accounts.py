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

How people get in, and the rules every door (the API, the portal, `wwc users`) applies
alike, because they are decided here:
- an admin (or the server's own shell) creates, invites, disables, enables and sends a
  password reset; nobody else;
- an invitation is a link mailed to the person, valid for `INVITATION_LIFETIME`; a reset
  link (asked for by the person, or sent by an admin) for `RESET_LIFETIME`; each works
  once, only while it is the account's newest link, and never for a disabled account;
- a password an admin set (a one-time password) must be changed at the next sign-in;
- a password has from `PASSWORD_MIN` to `PASSWORD_MAX` characters;
- an admin cannot disable their own account, nor the last active admin's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
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


# --- rules with numbers ------------------------------------------------------------------

INVITATION_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=1)
PASSWORD_MIN = 12
PASSWORD_MAX = 1024
# What a refusal of a weak password is about (its sentence names them).
PASSWORD_BOUNDS = {"minimum": PASSWORD_MIN, "maximum": PASSWORD_MAX}
# Who decides on an account besides an admin: the server's own shell (`wwc users ...`,
# run by whoever holds the database anyway), and the person, by a link or by signing in.
SERVER = "server"
ANYONE = "anyone"


def password_problem(password: str) -> AssessmentError | None:
    """Why a new password is refused (`weak_password`), or None. Only its length is
    judged: a long passphrase of any characters is what people are asked for."""
    if len(password) < PASSWORD_MIN:
        return AssessmentError(f"a password needs at least {PASSWORD_MIN} characters",
                               code="weak_password", facts=PASSWORD_BOUNDS)
    if len(password) > PASSWORD_MAX:
        return AssessmentError(f"a password may have at most {PASSWORD_MAX:,} characters",
                               code="weak_password", facts=PASSWORD_BOUNDS)
    return None


def may_manage_accounts(role: str) -> bool:
    """Whether a caller in `role` may create, invite, disable, enable and reset accounts."""
    return role in (Role.ADMIN.value, SERVER)


class Circumstances(Frozen):
    """What a decision on an account needs beyond the account's own history, given by
    the door that asks: the real time (links expire by it), who asks (their account id
    and role: a `Role`, `SERVER` or `ANYONE`), and how many active admins there are."""

    at: datetime | None = None
    by_account: str = ""
    by_role: str = SERVER
    active_admins: int | None = None


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


LinkId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class AccountDetails(Input):
    """Who an account is for: what creating it and inviting its person both give."""

    checks_text: ClassVar[bool] = True  # no control or bidi character: domain/model.py

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


class CreateAccount(AccountDetails, AccountCommand):
    """Create the account with a password its creator knows."""

    # The password was set by whoever creates the account (made up and shown to them, or
    # given by them): the person must change it at the next sign-in.
    one_time_password: bool = False


class InviteAccount(AccountDetails, AccountCommand):
    """Create the account without a password and mail its person a link to choose one
    (`link_id` names the link; its secret is the door's, never recorded)."""

    link_id: LinkId


class ResendInvitation(AccountCommand):
    """A new invitation link for an account whose person has not chosen a password yet
    (the older link stops working)."""

    link_id: LinkId


class SendPasswordReset(AccountCommand):
    """A link to choose a new password (the older link stops working)."""

    link_id: LinkId


class UseLink(AccountCommand):
    """The person chose a password by the link `link_id` (the door checked the
    password's bounds and holds it: it never reaches a command)."""

    link_id: str


class ChangePassword(AccountCommand):
    """The person changed their password, knowing the current one."""


class SetOneTimePassword(AccountCommand):
    """An admin (or the server's shell) set the account's password."""


class EnableAccount(AccountCommand):
    """A disabled account may sign in again."""


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


AnyAccountCommand = (CreateAccount | InviteAccount | DisableAccount | IssueToken | RevokeToken
                     | SetDigest | ResendInvitation | SendPasswordReset | UseLink | ChangePassword
                     | SetOneTimePassword | EnableAccount)
# What only an admin (or the server's shell) may decide on an account.
MANAGING = (CreateAccount, InviteAccount, DisableAccount, EnableAccount, ResendInvitation,
            SetOneTimePassword)


# --- state -------------------------------------------------------------------------------

class Token(Frozen):
    token_id: str
    name: str
    expires_on: date
    revoked: bool = False


class Credential(StrEnum):
    NONE = "none"  # invited: no password until the person chooses one by the link
    ONE_TIME = "one_time"  # set by an admin: changed at the next sign-in, before all else
    OWN = "own"  # chosen by the person (accounts made before invitations count as this)


class LinkKind(StrEnum):
    INVITATION = "invitation"
    RESET = "reset"


class LinkStatus(StrEnum):
    OPEN = "open"
    USED = "used"
    REPLACED = "replaced"  # a newer link was sent, or the password changed since


class Link(Frozen):
    link_id: str
    kind: LinkKind
    expires_at: datetime
    status: LinkStatus = LinkStatus.OPEN


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
    password: Credential = Credential.OWN
    links: tuple[Link, ...] = Field(default=())

    @property
    def must_change_password(self) -> bool:
        return self.password is Credential.ONE_TIME

    def link(self, link_id: str) -> Link | None:
        return next((k for k in self.links if k.link_id == link_id), None)


def decide(state: AccountState, command: AnyAccountCommand, account_id: str,
           now: date, given: Circumstances | None = None) -> list[events.AccountEvent]:
    """What `command` records on the account. `now` is the program's date (every event's
    `on`); `given`, what the door knows besides (see `Circumstances`): the real time for
    links, who asks, how many admins are active."""
    given = given or Circumstances()
    if isinstance(command, MANAGING) and not may_manage_accounts(given.by_role):
        raise TransitionRefused("only an admin manages accounts", code="needs_admin")
    match command:
        case InviteAccount():
            created = _created(state, command, account_id, now)
            return [created, events.AccountInvited(
                link_id=command.link_id, expires_at=_at(given) + INVITATION_LIFETIME,
                on=now)]
        case CreateAccount():
            created = _created(state, command, account_id, now)
            return [created, events.OneTimePasswordSet(on=now)] \
                if command.one_time_password else [created]
        case ResendInvitation():
            _require_active(state)
            if state.password is not Credential.NONE:
                raise TransitionRefused(
                    f"{state.email} has chosen a password already: send a password reset "
                    "instead", code="has_password", facts={"email": state.email or ""})
            return [events.AccountInvited(link_id=command.link_id,
                                          expires_at=_at(given) + INVITATION_LIFETIME, on=now)]
        case SendPasswordReset():
            _require_active(state)
            if state.link(command.link_id) is not None:
                raise TransitionRefused(f"link {command.link_id} exists", code="exists",
                                        facts={"what": command.link_id})
            return [events.PasswordResetSent(link_id=command.link_id,
                                             expires_at=_at(given) + RESET_LIFETIME, on=now)]
        case UseLink():
            return [events.LinkUsed(link_id=_usable(state, command.link_id, _at(given)).link_id,
                                    on=now)]
        case ChangePassword():
            _require_active(state)
            return [events.PasswordChanged(on=now)]
        case SetOneTimePassword():
            _require_active(state)
            return [events.OneTimePasswordSet(on=now)]
        case EnableAccount():
            if state.account_id is None:
                raise TransitionRefused("no such account", code="not_found")
            return [events.AccountEnabled(on=now)] if state.disabled else []
        case DisableAccount():
            _require_active(state)
            if given.by_account and given.by_account == state.account_id:
                raise TransitionRefused("an admin cannot disable their own account",
                                        code="own_account")
            if state.role is Role.ADMIN and given.active_admins is not None \
                    and given.active_admins <= 1:
                raise TransitionRefused(
                    f"{state.email} is the last active admin: make another admin first",
                    code="last_admin", facts={"email": state.email or ""})
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


def _created(state: AccountState, command: AccountDetails, account_id: str,
             now: date) -> events.AccountCreated:
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
    return events.AccountCreated(
        account_id=account_id, email=command.email, display_name=command.display_name,
        role=command.role.value, cities=cities,
        affiliations=command.affiliations, language=command.language, on=now)


def _at(given: Circumstances) -> datetime:
    if given.at is None:  # a door's mistake, not the person's: links need the real time
        raise ValueError("a link's decision needs the real time (Circumstances.at)")
    return given.at


def _usable(state: AccountState, link_id: str, at: datetime) -> Link:
    """The link, if it may set the password now: the account's newest, not used, not
    expired, the account not disabled."""
    link = state.link(link_id)
    if state.account_id is None or link is None:
        raise TransitionRefused("no such link", code="link_unknown")
    if link.status is LinkStatus.USED:
        raise TransitionRefused("this link has been used already", code="link_used")
    if link.status is LinkStatus.REPLACED:
        raise TransitionRefused("a newer link was sent, or the password changed since",
                                code="link_replaced")
    if at >= link.expires_at:
        raise TransitionRefused(f"this link expired at {link.expires_at:%Y-%m-%d %H:%M} UTC",
                                code="link_expired",
                                facts={"expired_on": link.expires_at.date().isoformat()})
    _require_active(state)
    return link


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
        case events.AccountEnabled():
            update = {"disabled": False}
        case events.AccountInvited():
            update = {"password": Credential.NONE, "links": _newest(
                state, Link(link_id=event.link_id, kind=LinkKind.INVITATION,
                            expires_at=event.expires_at))}
        case events.PasswordResetSent():
            update = {"links": _newest(state, Link(link_id=event.link_id, kind=LinkKind.RESET,
                                                   expires_at=event.expires_at))}
        case events.LinkUsed():
            update = {"password": Credential.OWN, "links": tuple(
                k.model_copy(update={"status": LinkStatus.USED}) if k.link_id == event.link_id
                else k for k in state.links)}
        case events.OneTimePasswordSet():
            update = {"password": Credential.ONE_TIME, "links": _closed(state.links)}
        case events.PasswordChanged():
            update = {"password": Credential.OWN, "links": _closed(state.links)}
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


def _closed(links: tuple[Link, ...]) -> tuple[Link, ...]:
    """Every open link replaced: after a password is set, no older link may set it."""
    return tuple(k.model_copy(update={"status": LinkStatus.REPLACED})
                 if k.status is LinkStatus.OPEN else k for k in links)


def _newest(state: AccountState, link: Link) -> tuple[Link, ...]:
    """The account's links with `link` the one open (only the newest link works)."""
    return (*_closed(state.links), link)


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
