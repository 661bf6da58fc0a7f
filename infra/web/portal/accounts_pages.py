"""The accounts page, for admins: every account with its state, found by name, e-mail or
city, and the list as CSV for the same search; inviting someone (their cities picked
from the cities that have joined, never typed); and one account's page, where an admin
sends a password reset (or the invitation again), disables or enables it. Each is a
plain form (no script needed); the rules are the domain's (only admins, not one's own
account, not the last admin)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from domain.accounts import (
    INVITATION_LIFETIME,
    LANGUAGES,
    AccountDetails,
    CityToJoin,
    Role,
)
from infra.i18n.catalogs import NAMES
from infra.i18n.words import N_
from infra.identity.directory import Account, account_id_for
from infra.platform.errors import CommandRefused, NotFound, ServiceError
from infra.readside import queries
from infra.readside.rows import RegistryRow
from infra.web.access import Rule
from infra.web.portal.csv_files import csv_response
from infra.web.portal.render import (
    INVALID_FIELD,
    form_list,
    form_of,
    new_nonce,
    page,
    portal,
    posted,
    problem_of,
)
from infra.web.problems import Problem
from infra.web.routing import caller_of, route
from infra.web.services import services

router = APIRouter()
# What an account's row says of it (its status in words).
STATUSES = (N_("active"), N_("invited"), N_("invitation expired"),
            N_("must change password"), N_("disabled"))
# The form's fields by name, as its labels say them (a refusal names the field).
FIELDS = {"email": N_("E-mail"), "display_name": N_("Name"), "role": N_("Role"),
          "language": N_("Language"), "cities": N_("Cities"),
          "affiliations": N_("Cities"), "cities_to_join": N_("A city still to join")}
# What just happened, said on the page an action leads back to.
DONE = {"invited": N_("Invitation sent to %(email)s: the link in it works once, for 7 days."),
        "reset": N_("A link to choose a new password was sent to %(email)s (it works once, "
                    "for one hour)."),
        "resent": N_("The invitation was sent again to %(email)s; the older link no longer "
                     "works."),
        "disabled": N_("%(email)s is disabled: its sessions have ended."),
        "enabled": N_("%(email)s may sign in again.")}
_SEARCH = Annotated[str, Query(max_length=200)]
_DONE = Annotated[str | None, Query(max_length=20)]


def status_of(account: Account, now: datetime) -> str:
    if account.disabled:
        return "disabled"
    if account.invited:
        expired = account.invited_until is not None and account.invited_until <= now
        return "invitation expired" if expired else "invited"
    if account.must_change_password:
        return "must change password"
    return "active"


@page(router, "/portal/accounts", Rule.ADMIN)
async def accounts_page(request: Request, q: _SEARCH = "", done: _DONE = None,
                        who: Annotated[str | None, Query(max_length=64)] = None
                        ) -> HTMLResponse:
    """Every account (no secret is shown), found by `q` (a name, an e-mail, a city's name
    or key), and the invitation form. `done`, `who`: what an action just did, to whom."""
    found = services(request)
    notice = None
    if done in DONE and who and (account := await found.directory.get(who)) is not None:
        notice = (done, account.email)
    return await _accounts(request, q=q, notice=notice)


async def _accounts(request: Request, *, q: str = "", notice: tuple[str, str] | None = None,
                    refusal: Problem | None = None, said: str | None = None,
                    field: str = "", form: dict[str, Any] | None = None,
                    status: int = 200) -> HTMLResponse:
    listed, cities = await _found(request, q)
    return await portal(request).render(
        request, "portal/accounts.html", status=status, accounts=listed, q=q,
        names={c.city_key: c.name for c in cities}, cities=cities,
        roles=[r.value for r in Role], notice=notice, done=DONE, refusal=refusal, said=said,
        field=field, form=form or {"role": Role.CITY_EDITOR.value, "language": "en", "cities": []},
        status_of=status_of, now=_now(), nonce=new_nonce(),
        invitation_days=INVITATION_LIFETIME.days)


async def _found(request: Request, q: str) -> tuple[list[Account], list[RegistryRow]]:
    """The accounts `q` finds, as the page lists them (and its CSV), and the cities that
    have joined (to name an account's cities)."""
    found = services(request)
    await found.directory.caught_up()
    await found.fresh.current("registry")
    cities = await queries.registry(found.pool)
    # By e-mail, as people look one up (the API pages them by id).
    listed = sorted(await found.directory.page(limit=500, search=q), key=lambda a: a.email)
    return listed, cities


def _now() -> datetime:
    return datetime.now(UTC)


@route(router, "GET", "/portal/accounts.csv", Rule.ADMIN, include_in_schema=False)
async def accounts_csv(request: Request, q: _SEARCH = "") -> Response:
    """The accounts the page lists for the same search (`q`), with the same columns: who,
    their role, cities (by name), language and state. Nothing secret is in an `Account`
    (no password, hash, link or token), and nothing but these columns is written."""
    listed, cities = await _found(request, q)
    language = portal(request).language(request, caller_of(request))
    _ = language.gettext
    names = {c.city_key: c.name for c in cities}
    at = _now()
    return csv_response(
        [_("E-mail"), _("Name"), _("Role"), _("Cities"), _("Language"), _("Status")],
        ([a.email, a.display_name, _(a.role.value.replace("_", " ")),
          "; ".join(names.get(k, k) for k in a.cities or a.affiliations),
          NAMES.get(a.language, a.language), _(status_of(a, at))] for a in listed),
        filename=f"accounts-{services(request).program.program_today().isoformat()}.csv")


@posted(router, "/portal/accounts/invite", Rule.ADMIN)
async def invite_form(request: Request) -> Response:
    """Invite someone: the account is made and its person mailed a link to choose their
    password (in the account's language). Posted twice (a double click, a retry), it
    invites once."""
    form = await form_of(request)
    chosen = await form_list(request, "cities")
    kept = {**form, "cities": chosen}
    found = services(request)
    try:
        details = _details(form, chosen)
    except ValidationError as error:
        where = error.errors()[0]["loc"]
        field = FIELDS.get(str(where[0]) if where else "", FIELDS["email"])
        return await _accounts(request, form=kept, status=422, said=INVALID_FIELD,
                               field=field)
    nonce = form.get("nonce", "")[:64]
    request_id = (hashlib.sha256(f"{caller_of(request).signed_in.account_id}:invite:{nonce}"
                                 .encode()).hexdigest()[:32] if nonce else None)
    try:
        sent = await found.directory.invite(details, caller_of(request).context(),
                                            found.program.program_today(),
                                            request_id=request_id)
    except CommandRefused as refused:
        made = await found.directory.get(account_id_for(request_id)) if request_id else None
        if refused.code == "exists" and made is not None:  # this very form, posted again
            return _done("invited", made.account_id)
        return await _accounts(request, form=kept, status=refused.kind.http_status,
                               refusal=problem_of(refused))
    except ServiceError as refused:
        return await _accounts(request, form=kept, status=refused.kind.http_status,
                               refusal=problem_of(refused))
    await found.program.deliver_mail(sent.cause)
    await found.after_write("accounts")
    return _done("invited", sent.account.account_id)


def _details(form: dict[str, str], chosen: list[str]) -> AccountDetails:
    """The invitation's details as the form gives them: the picked cities are a city
    editor's cities, or a reviewer's affiliations (the role decides; the domain refuses
    them for another role)."""
    role = form.get("role", "")
    to_join = ([CityToJoin(name=form["join_name"], country=form.get("join_country", ""))]
               if form.get("join_name", "").strip() else [])
    reviewer = role == Role.REVIEWER.value
    return AccountDetails(
        email=form.get("email", ""), display_name=form.get("display_name", ""), role=role,
        cities=() if reviewer else tuple(chosen),
        affiliations=tuple(chosen) if reviewer else (), cities_to_join=tuple(to_join),
        language=form.get("language", "en") if form.get("language") in LANGUAGES else "en")


def _done(what: str, account_id: str, *, to_account: bool = False) -> RedirectResponse:
    where = f"/portal/accounts/{account_id}" if to_account else "/portal/accounts"
    return RedirectResponse(f"{where}?done={what}&who={account_id}", status_code=303)


# --- one account -------------------------------------------------------------------------

@page(router, "/portal/accounts/{account_id}", Rule.ADMIN)
async def account_page(request: Request, account_id: str, done: _DONE = None
                       ) -> HTMLResponse:
    """One account: who it is for, its cities (by name), its state, and what an admin
    may do with it."""
    return await _account(request, account_id, done=done)


async def _account(request: Request, account_id: str, *, done: str | None = None,
                   refusal: Problem | None = None, status: int = 200) -> HTMLResponse:
    found = services(request)
    account = await found.directory.get(account_id)
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    await found.fresh.current("registry")
    names = {c.city_key: c for c in await queries.registry(found.pool)}
    return await portal(request).render(
        request, "portal/account.html", status=status, person=account,
        state=status_of(account, _now()), cities=_named(account.cities, names),
        affiliations=_named(account.affiliations, names),
        notice=(done, account.email) if done in DONE else None, done=DONE, refusal=refusal,
        own=account.account_id == caller_of(request).signed_in.account_id,
        tokens=[t for t in await found.directory.tokens(account.account_id) if not t.revoked])


def _named(keys: tuple[str, ...], names: dict[str, RegistryRow]) -> list[tuple[str, str]]:
    """Each city's key and name (a city still to join: its key alone)."""
    return [(key, names[key].name if key in names else "") for key in keys]


@posted(router, "/portal/accounts/{account_id}/reset", Rule.ADMIN)
async def reset_form(request: Request, account_id: str) -> Response:
    """Mail the account's person a link to choose a new password (no password is shown
    to anyone); for an account still invited, the invitation again."""
    found = services(request)
    account = await found.directory.get(account_id)
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    today, context = found.program.program_today(), caller_of(request).context()
    try:
        sent = await (found.directory.resend_invitation(account_id, context, today)
                      if account.invited else
                      found.directory.send_reset(account_id, context, today))
    except ServiceError as refused:
        return await _account(request, account_id, refusal=problem_of(refused),
                              status=refused.kind.http_status)
    await found.program.deliver_mail(sent.cause)
    await found.after_write("accounts")
    return _done("resent" if account.invited else "reset", account_id, to_account=True)


@posted(router, "/portal/accounts/{account_id}/disable", Rule.ADMIN)
async def disable_form(request: Request, account_id: str) -> Response:
    """Disable the account (with the reason, recorded): it can no longer sign in, its
    sessions end at once and its tokens stop working. It can be enabled again."""
    found = services(request)
    reason = (await form_of(request)).get("reason", "").strip()[:500]
    try:
        await found.directory.disable(account_id, reason, caller_of(request).context(),
                                      found.program.program_today())
    except ValidationError:
        return await _account(request, account_id, status=422, refusal=Problem(
            title="Invalid input", status=422, detail="reason", code="reason_needed"))
    except ServiceError as refused:
        return await _account(request, account_id, refusal=problem_of(refused),
                              status=refused.kind.http_status)
    await found.after_write("accounts")
    return _done("disabled", account_id, to_account=True)


@posted(router, "/portal/accounts/{account_id}/enable", Rule.ADMIN)
async def enable_form(request: Request, account_id: str) -> Response:
    """Let a disabled account sign in again."""
    found = services(request)
    try:
        await found.directory.enable(account_id, caller_of(request).context(),
                                     found.program.program_today())
    except ServiceError as refused:
        return await _account(request, account_id, refusal=problem_of(refused),
                              status=refused.kind.http_status)
    await found.after_write("accounts")
    return _done("enabled", account_id, to_account=True)
