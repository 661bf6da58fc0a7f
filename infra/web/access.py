"""Who may call what: the one place the API's access rules live. Every route declares a
`Rule` (`infra.web.routing.route` refuses to register one without it, and the
authorization-matrix test walks the route table).

Answers to a caller who may not: no identity at all is 401; an account without the role
is 403; a city (or its application) that is not the caller's is 404, exactly as if it did
not exist, so city keys cannot be probed.

An account whose password an admin set (a one-time password) reaches nothing but its own
sign-in and password (`Rule.SELF`) until it chooses its own: every other route answers
403 `password_change_required`, by session or by API token alike (a page sends the
browser to the password page instead)."""

from __future__ import annotations

from enum import StrEnum

from domain.accounts import Role
from domain.views import CityView
from infra.identity.directory import Account


class Rule(StrEnum):
    PUBLIC = "public"  # anyone, signed in or not
    # Any active account, one that must change its one-time password first included: its
    # own password, who it is, signing out.
    SELF = "self"
    SIGNED_IN = "signed_in"  # any active account
    CITY = "city"  # the city's editors, the reviewer assigned to it, the program's staff
    CITY_EDITOR = "city_editor"  # the city's editors and the program's staff
    ASSIGNED_REVIEWER = "assigned_reviewer"  # the reviewer assigned to it, and the staff
    # One review of the city (the application in the path): the reviewer who did it (or
    # does it), and the staff; another reviewer's review is not found.
    ITS_REVIEWER = "its_reviewer"
    REVIEWER = "reviewer"  # reviewers (their own queue) and the program's staff
    OPERATOR = "operator"  # program operations
    ADMIN = "admin"  # accounts, tokens and standards

    @property
    def is_city_rule(self) -> bool:
        return self in (Rule.CITY, Rule.CITY_EDITOR, Rule.ASSIGNED_REVIEWER,
                        Rule.ITS_REVIEWER)


PASSWORD_CHANGE_REQUIRED = "password_change_required"


class Denied(Exception):
    """Not for this caller: `status` is 401, 403 or 404 (see the module's doc); `code`
    when the refusal has one of its own (`password_change_required`)."""

    def __init__(self, status: int, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def check_role(account: Account | None, rule: Rule) -> None:
    """The part of a rule that depends on the caller alone."""
    if rule is Rule.PUBLIC:
        return
    if account is None:
        raise Denied(401, "sign in, or send an API token (Authorization: Bearer ...)")
    if rule is Rule.SELF:
        return
    if account.must_change_password:
        raise Denied(403, "this account must change the one-time password an admin set "
                          "before anything else (PUT /api/me/password)",
                     code=PASSWORD_CHANGE_REQUIRED)
    if rule.is_city_rule or rule is Rule.SIGNED_IN:
        return
    allowed = {
        Rule.REVIEWER: {Role.REVIEWER, Role.OPERATOR, Role.ADMIN},
        Rule.OPERATOR: {Role.OPERATOR, Role.ADMIN},
        Rule.ADMIN: {Role.ADMIN},
    }[rule]
    if account.role not in allowed:
        raise Denied(403, f"this needs the {rule.value.replace('_', ' ')} role")


def may_see_city(account: Account, rule: Rule, city_key: str, view: CityView | None, *,
                 reviewed_by: str | None = None) -> bool:
    """Whether a city rule lets `account` at this city (its view, if it has joined);
    `reviewed_by`: for `ITS_REVIEWER`, the reviewer of the review in question."""
    if account.role.runs_the_program:
        return True
    if rule is Rule.ITS_REVIEWER:
        return account.role is Role.REVIEWER and reviewed_by == account.email
    editor = account.role is Role.CITY_EDITOR and city_key in account.cities
    assigned = (account.role is Role.REVIEWER and view is not None
                and view.reviewer == account.email)
    if rule is Rule.CITY:
        return editor or assigned
    if rule is Rule.CITY_EDITOR:
        return editor
    if rule is Rule.ASSIGNED_REVIEWER:
        return assigned
    raise ValueError(f"{rule} is not a city rule")


def not_found(city_key: str) -> Denied:
    return Denied(404, f"no city {city_key!r}")
