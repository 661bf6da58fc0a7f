"""Getting in without anyone passing a password around: "forgot password", the page a
mailed link opens (an invitation, or a reset) where the person chooses a password, and
the page where a signed-in person changes theirs (first of all when an admin set it).

Each is a plain form (no JavaScript needed). A link's secret travels in its URL's query
(never logged: the access log writes paths only) and then in the form's hidden field; the
page is sent with `Referrer-Policy: no-referrer`, so nothing it loads or links to learns
the secret."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.accounts import INVITATION_LIFETIME, RESET_LIFETIME, LinkKind
from infra.i18n.words import N_
from infra.identity.directory import LinkFound
from infra.identity.throttle import Throttled
from infra.platform.errors import CommandRefused, ServiceError
from infra.web import signing_in
from infra.web.access import Denied, Rule
from infra.web.portal.redirects import safe_next
from infra.web.portal.render import (
    INVALID_FIELD,
    form_of,
    page,
    portal,
    posted,
    problem_of,
    refused_field,
)
from infra.web.problems import Problem
from infra.web.services import services

router = APIRouter()
FORGOT_SENT = N_("If an account has this e-mail, a link to choose a new password is on its "
                 "way to it. The link works once, for one hour.")
DIFFERENT = N_("The two passwords are not the same: type the new one twice.")
WRONG_CURRENT = N_("The current password is wrong.")
# The forms' fields by name, as their labels say them (a refusal names the field).
LINK_FIELDS = {"password": N_("New password")}
PASSWORD_FIELDS = {"current_password": N_("Current password"),
                   "new_password": N_("New password"), "confirm": N_("The new password again")}
# A dead link's page: why, in the reader's words (the refusal's code says which).
NO_SECRETS = {"Referrer-Policy": "no-referrer"}
_TOKEN = Annotated[str, Query(max_length=200)]


def _from_this_site(request: Request) -> None:
    """A form of another site must not post these for the browser (a reset mailed to a
    victim's address over and over, a password set in a browser that did not ask)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        raise Denied(403, "use this site's own form")


# --- forgot password ---------------------------------------------------------------------

@page(router, "/forgot-password", Rule.PUBLIC)
async def forgot_page(request: Request) -> HTMLResponse:
    """Ask for a link to choose a new password, by e-mail."""
    return await portal(request).render(request, "forgot_password.html", email="",
                                        sent=False, problem=None)


@posted(router, "/forgot-password", Rule.PUBLIC)
async def forgot_form(request: Request) -> Response:
    """The same answer whether or not an account has the e-mail, at once: the look-up
    and the mail happen after it has gone (`signing_in.forgot_password`)."""
    _from_this_site(request)
    email = (await form_of(request)).get("email", "").strip()[:254]
    shown = portal(request)
    try:
        after = await signing_in.forgot_password(request, email)
    except Throttled as throttled:
        return await shown.render(
            request, "forgot_password.html", status=429,
            headers={"Retry-After": str(throttled.retry_after)}, email=email, sent=False,
            problem=Problem(title="Too many requests", status=429, detail=str(throttled),
                            code="throttled"))
    answer = await shown.render(request, "forgot_password.html", email=email, sent=True,
                                problem=None)
    answer.background = after
    return answer


# --- a mailed link: choose a password ----------------------------------------------------

@page(router, "/set-password", Rule.PUBLIC)
async def link_page(request: Request, token: _TOKEN = "") -> HTMLResponse:
    """The page a mailed link opens: the form to choose a password while the link works;
    else what became of the link (used, expired, replaced by a newer one, unknown)."""
    found = await services(request).directory.link(token)
    return await _link_page(request, token, found)


@posted(router, "/set-password", Rule.PUBLIC)
async def link_form(request: Request) -> Response:
    """The chosen password, set by the link once (two posts at once set one password),
    then the person is signed in and lands on the portal."""
    _from_this_site(request)
    form = await form_of(request)
    token, password = form.get("token", "")[:200], form.get("password", "")[:1100]
    found_link = await services(request).directory.link(token)
    if found_link is None or found_link.problem is not None:
        return await _link_page(request, token, found_link)
    if password != form.get("confirm", ""):
        return await _link_page(request, token, found_link, status=422, said=DIFFERENT)
    if (field := refused_field({"password": password}, LINK_FIELDS)) is not None:
        return await _link_page(request, token, found_link, status=422, said=INVALID_FIELD,
                                field=field)
    found = services(request)
    try:
        account = await found.directory.use_link(token, password,
                                                 found.program.program_today())
    except CommandRefused as refused:
        if (refused.code or "").startswith("link_") or refused.code == "disabled":
            # Used (or closed) meanwhile, by another post of the same link: say so.
            return await _link_page(request, token, await found.directory.link(token))
        return await _link_page(request, token, found_link, status=refused.kind.http_status,
                                refusal=problem_of(refused))
    except ServiceError as refused:
        return await _link_page(request, token, found_link, status=refused.kind.http_status,
                                refusal=problem_of(refused))
    await found.after_write("accounts")
    response = RedirectResponse("/portal", status_code=303)
    opened = await found.sessions.open(account.account_id)
    signing_in.set_session_cookie(request, response, opened)
    return response


async def _link_page(request: Request, token: str, found: LinkFound | None, *,
                     status: int = 200, said: str | None = None, field: str = "",
                     refusal: Problem | None = None) -> HTMLResponse:
    problem = "link_unknown" if found is None else found.problem
    if problem is not None:
        status = 404 if found is None else 410
    hours = int(RESET_LIFETIME.total_seconds() // 3600)
    return await portal(request).render(
        request, "set_password.html", status=status, headers=NO_SECRETS, token=token,
        link=found, problem=problem, said=said, field=field, refusal=refusal,
        invitation=found is not None and found.kind is LinkKind.INVITATION,
        invitation_days=INVITATION_LIFETIME.days, reset_hours=hours)


# --- my password -------------------------------------------------------------------------

@page(router, "/account/password", Rule.SELF)
async def password_page(request: Request, next: Annotated[str | None, Query(max_length=500)]
                        = None) -> HTMLResponse:
    """Change my password (first of all when an admin set it: then nothing else opens
    until it is changed)."""
    return await portal(request).render(request, "password.html", next_url=safe_next(next),
                                        said=None, refusal=None)


@posted(router, "/account/password", Rule.SELF)
async def password_form(request: Request) -> Response:
    """The current password, the new one twice; then on to `next` (a path on this site),
    the account's other sessions ended and its API tokens revoked."""
    form = await form_of(request)
    target = safe_next(form.get("next"))
    shown = portal(request)
    current, new = form.get("current_password", "")[:1100], form.get("new_password", "")[:1100]
    if new != form.get("confirm", ""):
        return await shown.render(request, "password.html", status=422, next_url=target,
                                  said=DIFFERENT, refusal=None)
    if not current:  # nothing to check (and no attempt to count)
        return await shown.render(request, "password.html", status=422, next_url=target,
                                  said=WRONG_CURRENT, refusal=None)
    if (field := refused_field(form, PASSWORD_FIELDS)) is not None:
        # What the API's password change refuses (a NUL): refused before the current
        # password is checked (and the attempt counted), naming the field.
        return await shown.render(request, "password.html", status=422, next_url=target,
                                  said=INVALID_FIELD, field=field, refusal=None)
    try:
        await signing_in.change_password(request, current, new)
    except Throttled as throttled:
        return await shown.render(
            request, "password.html", status=429,
            headers={"Retry-After": str(throttled.retry_after)}, next_url=target, said=None,
            refusal=Problem(title="Too many requests", status=429, detail=str(throttled),
                            code="throttled"))
    except Denied:  # the form's input is wrong: 422, as any field is (the rule let it in)
        return await shown.render(request, "password.html", status=422, next_url=target,
                                  said=WRONG_CURRENT, refusal=None)
    except ServiceError as refused:
        return await shown.render(request, "password.html", status=refused.kind.http_status,
                                  next_url=target, said=None, refusal=problem_of(refused))
    await services(request).after_write("accounts")
    return RedirectResponse(target, status_code=303)

