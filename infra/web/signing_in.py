"""Signing in, as both faces do it (the API's `POST /api/session`, the portal's form
post without JavaScript): the password checked after the attempt is counted, a new
session opened and its cookie set. And "forgot password", as both faces ask for it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import structlog
from fastapi import Request, Response
from pydantic import StringConstraints
from starlette.background import BackgroundTask

from domain.model import ONE_LINE, Input
from infra.identity.directory import Account
from infra.identity.sessions import ABSOLUTE_LIFETIME, OpenedSession
from infra.web.access import Denied
from infra.web.routing import SESSION_COOKIE, caller_of
from infra.web.services import HttpServices, services

log = structlog.get_logger("wwc.http")

# One message for an unknown e-mail and a wrong password: which e-mails exist stays
# unknown to whoever guesses.
WRONG = "wrong e-mail or password"


class SignIn(Input):
    # What both faces take (the API's body, the portal's form checked against it): an
    # e-mail is one line with no control character (no account's can hold one), and
    # neither field may hold a NUL (`Input`).
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3,
                                            max_length=254), ONE_LINE]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


def client_address(request: Request) -> str:
    """The caller's address: the socket's peer, or what a trusted proxy says it is
    (`WWC_TRUSTED_PROXIES`; uvicorn reads X-Forwarded-For only from those)."""
    return request.client.host if request.client else "unknown"


async def password_checked(request: Request, account_key: str, email: str,
                           password: str) -> Account | None:
    """The account if `password` is its own, after counting the attempt against
    `account_key` and the caller's address (`Throttled` when either is past its limit:
    the password is then not checked at all)."""
    found = services(request)
    address_key = f"client:{client_address(request)}"
    await found.throttle.attempt([account_key, address_key])
    account = await found.directory.check_password(email, password)
    if account is not None:
        await found.throttle.succeeded(account_key, [address_key])
    return account


async def open_session(request: Request, response: Response, email: str,
                       password: str) -> tuple[Account, OpenedSession]:
    """Sign in (throttled), open a new session and set its cookie on `response`: the
    API's sign-in and the portal's form post (without JavaScript) both come here."""
    found = services(request)
    account = await password_checked(request, f"email:{email.strip().lower()}", email,
                                     password)
    if account is None:
        raise Denied(401, WRONG)
    opened = await found.sessions.open(account.account_id,
                                       replacing=request.cookies.get(SESSION_COOKIE))
    set_session_cookie(request, response, opened)
    return account, opened


def set_session_cookie(request: Request, response: Response, opened: OpenedSession) -> None:
    found = services(request)
    response.set_cookie(SESSION_COOKIE, opened.session_id, httponly=True, samesite="lax",
                        secure=found.secure_cookies or request.url.scheme == "https",
                        max_age=int(ABSOLUTE_LIFETIME.total_seconds()), path="/")


# "Forgot password" answers this, whether or not an account has the e-mail.
FORGOT_ANSWER = ("If an account has this e-mail, a link to choose a new password is on its "
                 "way to it. The link works once, for one hour.")


async def forgot_password(request: Request, email: str) -> BackgroundTask:
    """Count the request as a sign-in attempt is counted (per e-mail and per address, on
    keys of their own; `Throttled` past the limit), then hand back the work to do after
    the answer has gone: looking the e-mail up, recording a reset and having it mailed.
    The caller answers the same at once, so neither the answer nor its time says whether
    the e-mail has an account."""
    found = services(request)
    # No e-mail holds a NUL (and PostgreSQL takes none): such a request is counted as any.
    email = email.replace("\x00", "").strip().lower()[:254]
    await found.throttle.attempt([f"forgot:{email}", f"forgot-client:{client_address(request)}"])
    return BackgroundTask(_send_reset, found, email, found.program.program_today())


async def _send_reset(found: HttpServices, email: str, today: date) -> None:
    try:
        sent = await found.directory.forgot_password(email, today)
        if sent is not None:
            await found.program.deliver_mail(sent.cause)
    except Exception as error:  # after the answer: nobody to tell but the log (no e-mail)
        log.warning("password reset not sent", error=type(error).__name__)


async def change_password(request: Request, current: str, new: str) -> tuple[int, list[str]]:
    """The signed-in caller's password changed, knowing the current one (wrong ones are
    throttled as sign-ins are, per account and per address): the account's other
    sessions end and its API tokens are revoked. How many sessions ended, and the tokens
    revoked. Both faces come here (`PUT /api/me/password`, the password page)."""
    found = services(request)
    caller = caller_of(request)
    account = caller.signed_in
    if await password_checked(request, f"password:{account.account_id}", account.email,
                              current) is None:
        raise Denied(403, "the current password is wrong", code="wrong_password")
    return await found.directory.change_password(
        account.account_id, new, caller.context(), found.program.program_today(),
        keep_session=request.cookies.get(SESSION_COOKIE))
