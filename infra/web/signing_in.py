"""Signing in, as both faces do it (the API's `POST /api/session`, the portal's form
post without JavaScript): the password checked after the attempt is counted, a new
session opened and its cookie set."""

from __future__ import annotations

from fastapi import Request, Response

from infra.identity.directory import Account
from infra.identity.sessions import ABSOLUTE_LIFETIME, OpenedSession
from infra.web.access import Denied
from infra.web.routing import SESSION_COOKIE
from infra.web.services import services

# One message for an unknown e-mail and a wrong password: which e-mails exist stays
# unknown to whoever guesses.
WRONG = "wrong e-mail or password"


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
    response.set_cookie(SESSION_COOKIE, opened.session_id, httponly=True, samesite="lax",
                        secure=found.secure_cookies or request.url.scheme == "https",
                        max_age=int(ABSOLUTE_LIFETIME.total_seconds()), path="/")
    return account, opened
