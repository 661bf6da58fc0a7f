"""The program's staff: operators (reviewers, decisions, cohorts, every city, the audit
trail) and admins (accounts and API tokens)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from domain import accounts, commands
from domain.views import CommandAnswer
from infra.eventstore.model import START, LogCursor
from infra.platform.errors import NotFound
from infra.readside import queries
from infra.readside.numbers import ProgramNumbers, as_of_day
from infra.readside.numbers_reader import READ_MODELS, numbers_as_of
from infra.readside.rows import ReadRow
from infra.web.access import Rule
from infra.web.api.cities import CITY_LINKS, send_command
from infra.web.api.identity import me
from infra.web.api.models import (
    CohortRequest,
    CreatedAccount,
    Invited,
    IssuedToken,
    LinkSent,
    Me,
    NewAccount,
    NewInvitation,
    NewToken,
    Page,
    Reason,
    ReviewerRequest,
    TokenRecord,
)
from infra.web.api.public import decode_cursor, encode_cursor
from infra.web.routing import caller_of, route, update_id
from infra.web.services import services
from workflows.messages import CohortResult

router = APIRouter()


def _jsonable(row: ReadRow) -> dict[str, Any]:
    """A read model's row as the staff's pages answer it: its columns in order, dates in
    ISO form, a percentage as a number."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else
                float(v) if isinstance(v, Decimal) else v) for k, v in row.model_dump().items()}


# --- operators ---------------------------------------------------------------------------

@route(router, "GET", "/api/cities", Rule.OPERATOR, response_model=Page,
       summary="Every city in the program (not only the certified)")
async def all_cities(request: Request, status: Annotated[str | None, Query(max_length=40)]
                     = None, cursor: Annotated[str | None, Query(max_length=200)] = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Page:
    """The registry read model with status, stage and last decision of every city."""
    found = services(request)
    await found.fresh.current("registry")
    after = decode_cursor(cursor)
    rows = [r for r in await queries.registry(found.pool, status=status) if r.city_key > after]
    rows.sort(key=lambda r: r.city_key)
    page = rows[:limit]
    return Page(items=tuple(_jsonable(r) for r in page),
                next_cursor=encode_cursor(page[-1].city_key) if len(rows) > limit else None)


@route(router, "GET", "/api/pipeline", Rule.OPERATOR, response_model=Page,
       summary="Applications by stage, with time in stage")
async def pipeline(request: Request) -> Page:
    """Every open application: its stage, since when, its reviewer."""
    found = services(request)
    await found.fresh.current("pipeline")
    return Page(items=tuple(_jsonable(r) for r in await queries.pipeline(found.pool)))


@route(router, "GET", "/api/reviews", Rule.REVIEWER, response_model=Page,
       summary="My review queue")
async def review_queue(request: Request) -> Page:
    """The applications assigned to me (to an operator: every assigned application)."""
    found = services(request)
    account = caller_of(request).signed_in
    await found.fresh.current("pipeline", "registry")
    reviewer = None if account.role.runs_the_program else account.email
    return Page(items=tuple(_jsonable(r) for r in
                            await queries.reviewer_queue(found.pool, reviewer)))


@route(router, "POST", "/api/cities/{key}/reviewer", Rule.OPERATOR,
       response_model=CommandAnswer, summary="Assign a reviewer",
       links=CITY_LINKS)
async def assign_reviewer(request: Request, key: str, body: ReviewerRequest) -> CommandAnswer:
    """The reviewer is an account with the reviewer role; one affiliated with the city is
    refused (conflict of interest). Both are taken from the accounts, by the application
    layer and again by the city's workflow."""
    return await send_command(request, key, commands.AssignReviewer(reviewer=body.reviewer))


@route(router, "POST", "/api/cities/{key}/decision", Rule.OPERATOR,
       response_model=CommandAnswer, summary="Decide (score the reviewed answers)",
       links=CITY_LINKS)
async def decide(request: Request, key: str) -> CommandAnswer:
    """Scores the reviewed answers and records the tier, or not certified with a report.
    A certified decision stays private until its cohort is announced."""
    return await send_command(request, key, commands.Decide())


@route(router, "POST", "/api/cohorts", Rule.OPERATOR, status_code=201,
       response_model=CohortResult, summary="Create a cohort",
       links={"Announce": ("announce_cohort", {"cohort_id": "$response.body#/cohort_id"})})
async def create_cohort(request: Request, body: CohortRequest) -> CohortResult:
    """On its date it announces every certified decision awaiting announcement."""
    found = services(request)
    await found.program.create_cohort(
        commands.CreateCohort(cohort_id=body.cohort_id, announce_on=body.announce_on),
        request_id=update_id(request, f"{body.cohort_id}:create"))
    await found.after_write("cohorts")
    return await found.program.cohort(body.cohort_id)


@route(router, "POST", "/api/cohorts/{cohort_id}/announce", Rule.OPERATOR,
       response_model=CohortResult, summary="Announce a cohort now")
async def announce_cohort(request: Request, cohort_id: str) -> CohortResult:
    """Announce now instead of on the cohort's date."""
    found = services(request)
    result = await found.program.announce_cohort(
        cohort_id, update_id=update_id(request, f"{cohort_id}:announce"))
    await found.after_write("city_views", "periods", "registry", "cohorts")
    return result


@route(router, "GET", "/api/audit", Rule.OPERATOR, response_model=Page,
       summary="Who did what, across the program")
async def audit(request: Request, cursor: Annotated[str | None, Query(max_length=200)] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Page:
    """The event log a page at a time (oldest first): stream, type, date, actor, role
    and correlation id of each event, never its content."""
    found = services(request)
    after = decode_cursor(cursor)
    tx_id, _, position = after.partition(":")
    start = LogCursor(int(tx_id), int(position)) if tx_id.isdigit() and position.isdigit() \
        else START
    page = await found.store.read_all(start, limit=limit)
    items = tuple({"position": r.position, "stream_id": r.stream_id, "type": r.event_type,
                   "on": r.data.get("on"), "actor": r.metadata.get("actor", ""),
                   "actor_role": r.metadata.get("actor_role", ""),
                   "correlation_id": r.metadata.get("correlation_id", ""),
                   "recorded_at": r.recorded_at.isoformat()} for r in page)
    last = page[-1].cursor if len(page) == limit else None
    return Page(items=items,
                next_cursor=encode_cursor(f"{last.tx_id}:{last.position}") if last else None)


@route(router, "GET", "/api/stats", Rule.OPERATOR, response_model=ProgramNumbers,
       summary="The program in numbers, as of a day")
async def stats(request: Request, as_of: Annotated[str | None, Query(
        max_length=32, description="The figures at the end of that day (YYYY-MM-DD); "
                                   "none: today.")] = None) -> ProgramNumbers:
    """Certified cities and applications by stage at each quarter's end, days between an
    application's steps (median and 90th percentile, nearest rank), reviewer load and
    deadlines met or missed, renewals due within a year: what `wwc stats --json` and the
    portal's `/portal/numbers` give. A day after the program's today is refused (422)."""
    found = services(request)
    day = as_of_day(as_of, found.program.program_today())
    await found.fresh.current(*READ_MODELS)
    return await numbers_as_of(found.pool, day)


# --- admins ------------------------------------------------------------------------------

@route(router, "GET", "/api/accounts", Rule.ADMIN, response_model=list[Me],
       summary="Accounts")
async def list_accounts(request: Request, cursor: Annotated[str | None, Query(max_length=200)]
                        = None, limit: Annotated[int, Query(ge=1, le=200)] = 100,
                        search: Annotated[str, Query(max_length=200)] = "") -> list[Me]:
    """Accounts by id, a page at a time (no secret is ever answered). `search`: only
    those whose e-mail or name holds it, or one of whose cities does (by key or name)."""
    directory = services(request).directory
    await directory.caught_up()
    return [me(a) for a in await directory.page(after=decode_cursor(cursor), limit=limit,
                                                search=search)]


@route(router, "POST", "/api/accounts/invitations", Rule.ADMIN, status_code=201,
       response_model=Invited, summary="Invite someone: an account and a mailed link",
       links={"Disable": ("disable_account",
                          {"account_id": "$response.body#/account/account_id"})})
async def invite_account(request: Request, body: NewInvitation) -> Invited:
    """Creates the account without a password and mails its person (in the account's
    language) a link to choose one: it works once, for 7 days. Nothing secret is
    answered. With an Idempotency-Key a retry answers as the first time."""
    found = services(request)
    sent = await found.directory.invite(body, caller_of(request).context(),
                                        found.program.program_today())
    await found.program.deliver_mail(sent.cause)
    return Invited(account=me(sent.account), link_expires_at=sent.expires_at)


@route(router, "POST", "/api/accounts/{account_id}/invitation", Rule.ADMIN, status_code=202,
       response_model=LinkSent, summary="Send an invitation again")
async def resend_invitation(request: Request, account_id: str) -> LinkSent:
    """For an account whose person has not chosen a password yet: a new link (7 days);
    the older one stops working. Refused (`has_password`) once they have: send a
    password reset instead."""
    found = services(request)
    sent = await found.directory.resend_invitation(
        await _existing(request, account_id), caller_of(request).context(),
        found.program.program_today())
    await found.program.deliver_mail(sent.cause)
    return LinkSent(link_expires_at=sent.expires_at)


@route(router, "POST", "/api/accounts/{account_id}/password-reset", Rule.ADMIN,
       status_code=202, response_model=LinkSent, summary="Send a password reset link")
async def send_password_reset(request: Request, account_id: str) -> LinkSent:
    """Mails the account's person a link to choose a new password (one hour, once); no
    password is shown to anyone. The current password works until the new one is
    chosen; then the account's sessions end and its API tokens are revoked."""
    found = services(request)
    sent = await found.directory.send_reset(
        await _existing(request, account_id), caller_of(request).context(),
        found.program.program_today())
    await found.program.deliver_mail(sent.cause)
    return LinkSent(link_expires_at=sent.expires_at)


@route(router, "POST", "/api/accounts/{account_id}/enable", Rule.ADMIN, status_code=204,
       summary="Enable a disabled account")
async def enable_account(request: Request, account_id: str) -> Response:
    """It may sign in again (its ended sessions and revoked tokens stay so). Enabling an
    active account records nothing."""
    found = services(request)
    await found.directory.enable(await _existing(request, account_id),
                                 caller_of(request).context(), found.program.program_today())
    await found.after_write("accounts")
    return Response(status_code=204)


async def _existing(request: Request, account_id: str) -> str:
    if await services(request).directory.get(account_id) is None:
        raise NotFound(f"no account {account_id!r}")
    return account_id


@route(router, "POST", "/api/accounts", Rule.ADMIN, status_code=201,
       response_model=CreatedAccount, summary="Create an account", answer_holds_secret=True,
       links={"Disable": ("disable_account",
                          {"account_id": "$response.body#/account/account_id"})})
async def create_account(request: Request, body: NewAccount) -> CreatedAccount:
    """A city editor needs its cities; a reviewer may list its affiliations. Without a
    password one is made up and answered this once (so a retry under the same
    Idempotency-Key is answered 409 `idempotency_secret_not_kept`, never the password);
    its person must change it at the first sign-in, as a given password with
    `one_time_password: true`. (To let the person choose it, invite them instead.)"""
    found = services(request)
    command = accounts.CreateAccount(**body.model_dump(exclude={"password"}))
    account, password = await found.directory.create(
        command, body.password, caller_of(request).context(), found.program.program_today())
    return CreatedAccount(account=me(account), password=password)


@route(router, "POST", "/api/accounts/{account_id}/disable", Rule.ADMIN, status_code=204,
       summary="Disable an account")
async def disable_account(request: Request, account_id: str, body: Reason) -> Response:
    """It can no longer sign in or use its tokens; its sessions end at once. An admin
    cannot disable their own account (`own_account`) nor the last active admin's
    (`last_admin`)."""
    found = services(request)
    if await found.directory.get(account_id) is None:
        raise NotFound(f"no account {account_id!r}")
    await found.directory.disable(account_id, body.reason, caller_of(request).context(),
                                  found.program.program_today())
    await found.after_write("accounts")  # its tokens stop working at once
    return Response(status_code=204)


@route(router, "GET", "/api/tokens", Rule.ADMIN, response_model=list[TokenRecord],
       summary="API tokens")
async def list_tokens(request: Request) -> list[TokenRecord]:
    """Every token's record (never the token itself)."""
    return [TokenRecord(token_id=t.token_id, email=t.email, name=t.name,
                        expires_on=t.expires_on, issued_on=t.issued_on, revoked=t.revoked)
            for t in await services(request).directory.tokens()]


@route(router, "POST", "/api/tokens", Rule.ADMIN, status_code=201, response_model=IssuedToken,
       summary="Issue an API token", answer_holds_secret=True,
       links={"Revoke": ("revoke_token", {"token_id": "$response.body#/token_id"})})
async def issue_token(request: Request, body: NewToken) -> IssuedToken:
    """A token acting as the account (its role, its cities), expiring after `days`. The
    token is answered this once; only its hash is kept (a retry under the same
    Idempotency-Key is answered 409 `idempotency_secret_not_kept`, never the token)."""
    found = services(request)
    account = await found.directory.find_by_email(body.email)
    if account is None:
        raise NotFound(f"no account {body.email!r}")
    info, token = await found.directory.issue_token(
        account.account_id, body.name, body.days, caller_of(request).context(),
        found.program.program_today())
    return IssuedToken(token_id=info.token_id, email=info.email, name=info.name,
                       expires_on=info.expires_on, token=token)


@route(router, "DELETE", "/api/tokens/{token_id}", Rule.ADMIN, status_code=204,
       summary="Revoke an API token")
async def revoke_token(request: Request, token_id: str) -> Response:
    """It stops working at once."""
    found = services(request)
    await found.directory.revoke_token(token_id, caller_of(request).context(),
                                       found.program.program_today())
    await found.after_write("accounts")
    return Response(status_code=204)
