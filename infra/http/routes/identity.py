"""Signing in and out, and who am I. A session lives on the server; the browser holds its
id in an HttpOnly, SameSite=Lax cookie (Secure behind https) and a CSRF token it sends
back in a header with every state-changing request."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from infra.http.access import Denied, Rule
from infra.http.models import (
    DigestPreference,
    Me,
    PasswordChange,
    PasswordChanged,
    SignedIn,
    SignIn,
)
from infra.http.routing import SESSION_COOKIE, caller_of, route
from infra.http.services import services
from infra.identity.directory import Account
from infra.identity.secrets import digest
from infra.identity.sessions import ABSOLUTE_LIFETIME

router = APIRouter()
# One message for an unknown e-mail and a wrong password: which e-mails exist stays
# unknown to whoever guesses.
WRONG = "wrong e-mail or password"


def me(account: Account) -> Me:
    return Me(account_id=account.account_id, email=account.email,
              display_name=account.display_name, role=account.role, cities=account.cities,
              affiliations=account.affiliations, language=account.language,
              digest=account.digest)


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
                       password: str) -> SignedIn:
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
    return SignedIn(account=me(account), csrf_token=opened.csrf_token)


@route(router, "POST", "/api/session", Rule.PUBLIC, response_model=SignedIn,
       summary="Sign in", responses={200: {"description": "Signed in; the cookie is set"}})
async def sign_in(request: Request, response: Response, body: SignIn) -> SignedIn:
    """Check the password, open a new session (a new id every time) and set its cookie.
    Repeated failures slow down and then lock the account and the client address (each
    attempt is counted before its password is checked, so parallel attempts are counted
    too). No Idempotency-Key: a retry signs in again."""
    return await open_session(request, response, body.email, body.password)


@route(router, "DELETE", "/api/session", Rule.SIGNED_IN, status_code=204,
       summary="Sign out")
async def sign_out(request: Request) -> Response:
    """End this session (its cookie no longer opens anything)."""
    if session_id := request.cookies.get(SESSION_COOKIE):
        await services(request).sessions.close(session_id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@route(router, "PUT", "/api/me/password", Rule.SIGNED_IN, response_model=PasswordChanged,
       summary="Change my password")
async def change_password(request: Request, body: PasswordChange) -> PasswordChanged:
    """The current password, then the new one (12 characters at least). Wrong current
    passwords are throttled as sign-ins are (per account and per address). On success
    the account's other sessions end and every API token of the account is revoked (the
    answer lists them): issue new ones."""
    found = services(request)
    caller = caller_of(request)
    account = caller.signed_in
    if await password_checked(request, f"password:{account.account_id}", account.email,
                              body.current_password) is None:
        raise Denied(403, "the current password is wrong")
    await found.directory.set_password(account.account_id, body.new_password)
    ended = await found.pool.execute(
        "DELETE FROM wwc_sessions WHERE account_id = $1 AND id_hash <> $2",
        account.account_id, digest(request.cookies.get(SESSION_COOKIE, "")))
    revoked = await found.directory.revoke_tokens_of(
        account.account_id, caller.context(), found.program.program_today())
    await found.after_write("accounts")  # the revoked tokens stop working at once
    return PasswordChanged(sessions_ended=int(ended.split()[-1]),
                           tokens_revoked=tuple(revoked))


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


@route(router, "GET", "/api/me", Rule.SIGNED_IN, response_model=Me, summary="Who am I")
async def whoami(request: Request) -> Me:
    """The signed-in account: role, cities, affiliations, language."""
    return me(caller_of(request).signed_in)
