"""Signing in and out, and who am I. A session lives on the server; the browser holds its
id in an HttpOnly, SameSite=Lax cookie (Secure behind https) and a CSRF token it sends
back in a header with every state-changing request."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from infra.identity.directory import Account
from infra.web import signing_in
from infra.web.access import Rule
from infra.web.api.models import (
    DigestPreference,
    Me,
    PasswordChange,
    PasswordChanged,
    PasswordResetAccepted,
    PasswordResetRequest,
    SignedIn,
    SignIn,
)
from infra.web.routing import SESSION_COOKIE, caller_of, route
from infra.web.services import services

router = APIRouter()
def me(account: Account) -> Me:
    return Me(account_id=account.account_id, email=account.email,
              display_name=account.display_name, role=account.role, cities=account.cities,
              affiliations=account.affiliations, language=account.language,
              digest=account.digest, disabled=account.disabled, invited=account.invited,
              must_change_password=account.must_change_password)


async def open_session(request: Request, response: Response, email: str,
                       password: str) -> SignedIn:
    """Sign in, as the portal's form post does too (`infra.web.signing_in`)."""
    account, opened = await signing_in.open_session(request, response, email, password)
    return SignedIn(account=me(account), csrf_token=opened.csrf_token)


@route(router, "POST", "/api/session", Rule.PUBLIC, response_model=SignedIn,
       summary="Sign in", responses={200: {"description": "Signed in; the cookie is set"}})
async def sign_in(request: Request, response: Response, body: SignIn) -> SignedIn:
    """Check the password, open a new session (a new id every time) and set its cookie.
    Repeated failures slow down and then lock the account and the client address (each
    attempt is counted before its password is checked, so parallel attempts are counted
    too). No Idempotency-Key: a retry signs in again."""
    return await open_session(request, response, body.email, body.password)


@route(router, "DELETE", "/api/session", Rule.SELF, status_code=204,
       summary="Sign out")
async def sign_out(request: Request) -> Response:
    """End this session (its cookie no longer opens anything)."""
    if session_id := request.cookies.get(SESSION_COOKIE):
        await services(request).sessions.close(session_id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@route(router, "PUT", "/api/me/password", Rule.SELF, response_model=PasswordChanged,
       summary="Change my password")
async def change_password(request: Request, body: PasswordChange) -> PasswordChanged:
    """The current password, then the new one (12 to 1,024 characters). Wrong current
    passwords are throttled as sign-ins are (per account and per address). On success
    the account's other sessions end and every API token of the account is revoked (the
    answer lists them): issue new ones. An account whose password an admin set (a
    one-time password) may call this, and nothing else, until it has."""
    found = services(request)
    ended, revoked = await signing_in.change_password(request, body.current_password,
                                                      body.new_password)
    await found.after_write("accounts")  # the revoked tokens stop working at once
    return PasswordChanged(sessions_ended=ended, tokens_revoked=tuple(revoked))


@route(router, "POST", "/api/password-reset", Rule.PUBLIC, status_code=202,
       response_model=PasswordResetAccepted, summary="Forgot my password")
async def forgot_password(request: Request, body: PasswordResetRequest) -> Response:
    """A link to choose a new password is mailed to the account with this e-mail (in its
    language; it works once, for one hour). The answer is the same, and as quick,
    whether or not an account has the e-mail. Requests are throttled as sign-ins are
    (per e-mail and per address: 429 with Retry-After)."""
    after = await signing_in.forgot_password(request, body.email)
    return JSONResponse(PasswordResetAccepted(detail=signing_in.FORGOT_ANSWER).model_dump(),
                        status_code=202, background=after)


@route(router, "PUT", "/api/me/digest", Rule.SIGNED_IN, response_model=Me,
       summary="Turn my weekly digest on or off")
async def set_digest(request: Request, body: DigestPreference) -> Me:
    """The operators' weekly digest can be turned off; operational mail (deadlines,
    decisions) always goes."""
    found = services(request)
    caller = caller_of(request)
    account = caller.signed_in
    await found.directory.set_digest(account.account_id, body.enabled, caller.context(),
                                     found.program.program_today())
    changed = await found.directory.get(account.account_id)
    assert changed is not None
    return me(changed)


@route(router, "GET", "/api/me", Rule.SELF, response_model=Me, summary="Who am I")
async def whoami(request: Request) -> Me:
    """The signed-in account: role, cities, affiliations, language, and whether it must
    change its one-time password first."""
    return me(caller_of(request).signed_in)
