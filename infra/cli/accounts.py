"""`wwc users` and `wwc tokens`: the program's accounts and API tokens, for operators on
the server (the API's admin routes do the same over HTTP). Passwords and tokens made up
here are printed once, on this terminal only.

Each command that changes something takes --request-id, as the program's commands do: a
retry of one that ended "unavailable" finds what it did. An account or token is named by
its request id; when the retry finds it made, the password or token it made was never
printed (the command failed before), so the retry replaces it with a new one and prints
that.

Invitations and password resets are mailed by the running service's worker (`wwc up`,
or `wwc worker`): the command records them, then asks the worker to send them. No link
or password is printed for them: the person chooses theirs by the mailed link."""

from __future__ import annotations

from typing import Annotated

import typer

from domain.accounts import AccountDetails, CityToJoin, CreateAccount, Role
from infra.bootstrap import open_program
from infra.cli.common import (
    JsonOption,
    Request,
    RequestIdOption,
    async_command,
    cli_settings,
    echo_json,
    retryable,
    shown,
)
from infra.identity.directory import (
    Account,
    AccountDirectory,
    Sent,
    account_id_for,
    token_id_for,
)
from infra.identity.secrets import new_secret
from infra.platform.clockfile import program_today
from infra.platform.errors import NotFound, UsageError
from infra.postgres.service_database import open_pool
from workflows.actors import SERVER_OPERATOR

users_app = typer.Typer(help="Accounts of the program's people.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for integrations.", no_args_is_help=True)
RequestId = Annotated[str | None, RequestIdOption]


async def _existing(directory: AccountDirectory, email: str) -> Account:
    account = await directory.find_by_email(email)
    if account is None:
        raise NotFound(f"no account {email!r}")
    return account


CityOption = typer.Option(
    help="City key a city editor acts for, a city that has joined (repeatable; `wwc list` "
         "shows the keys).")
JoiningOption = typer.Option(
    help="A city still to join that a city editor acts for, by the name its join will give, "
         "e.g. 'Rock Hill, SC' (repeatable; with --country).")
CountryOption = typer.Option(help="The country of the --joining cities (ISO code, e.g. US).")
AffiliationOption = typer.Option(
    help="City key a reviewer is affiliated with, so never reviews (repeatable).")
LanguageOption = typer.Option(help="en, es or pt: the language of their pages and mail.")


def _details(email: str, role: Role, city: list[str] | None, joining: list[str] | None,
             country: str | None, affiliation: list[str] | None, name: str | None,
             language: str) -> AccountDetails:
    if bool(joining) != bool(country):
        raise UsageError("--joining and --country go together (e.g. --joining 'Rock Hill, "
                         "SC' --country US)")
    return AccountDetails(
        email=email, display_name=name or email, role=role, cities=tuple(city or ()),
        cities_to_join=tuple(CityToJoin(name=n, country=country or "") for n in joining or ()),
        affiliations=tuple(affiliation or ()), language=language)


async def _mailed(sent: Sent) -> None:
    """Ask the running service's worker to send what was recorded (retried until it
    goes; `wwc outbox --to EMAIL` shows it)."""
    async with open_program(cli_settings()) as program:
        await program.deliver_mail(sent.cause)


@users_app.command("invite")
@async_command
async def invite_user(
    email: Annotated[str, typer.Argument(help="The person's e-mail (their sign-in).")],
    role: Annotated[Role, typer.Option(help="city_editor, reviewer, operator or admin.")],
    city: Annotated[list[str] | None, CityOption] = None,
    joining: Annotated[list[str] | None, JoiningOption] = None,
    country: Annotated[str | None, CountryOption] = None,
    affiliation: Annotated[list[str] | None, AffiliationOption] = None,
    name: Annotated[str | None, typer.Option(help="Display name (default: the e-mail).")]
    = None,
    language: Annotated[str, LanguageOption] = "en",
    request_id: RequestId = None,
) -> None:
    """Invite someone by mail to choose their password.

    Their account is made, and they are mailed (in their language) a link to choose
    their password, which works once, for 7 days. Needs the service running (`wwc up`):
    its worker sends the mail."""
    settings = cli_settings()
    details = _details(email, role, city, joining, country, affiliation, name, language)
    request = Request(request_id)
    named = request.update_id(details.email, "InviteAccount")
    with retryable(request):
        async with open_pool(settings, size=2) as pool:
            directory = AccountDirectory(pool)
            today = program_today(settings.data_dir)
            found = await directory.find_by_email(details.email)
            if found is not None and found.account_id == account_id_for(named) \
                    and found.invited:
                # This request made it; its mail may never have been asked for: a new
                # link (the first one stops working), sent now.
                sent = await directory.resend_invitation(found.account_id, SERVER_OPERATOR,
                                                         today)
                typer.echo("nothing new recorded: this request invited the account; its "
                           "invitation is sent again")
            else:
                sent = await directory.invite(details, SERVER_OPERATOR, today,
                                              request_id=named)
        await _mailed(sent)
    typer.echo(f"invited {sent.account.email} ({sent.account.role.value}, "
               f"{sent.account.account_id}): the link mailed to them works once, until "
               f"{sent.expires_at:%Y-%m-%d %H:%M} UTC")


@users_app.command("reset")
@async_command
async def reset_user(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")],
    request_id: RequestId = None,
) -> None:
    """Mail a link to choose a new password.

    It works once, for one hour; their current password works until they choose the
    new one. For an account still invited, the invitation again. No password is
    printed. Needs the service running."""
    settings = cli_settings()
    with retryable(Request(request_id)):
        async with open_pool(settings, size=2) as pool:
            directory = AccountDirectory(pool)
            account = await _existing(directory, email)
            today = program_today(settings.data_dir)
            sent = await (directory.resend_invitation(account.account_id, SERVER_OPERATOR,
                                                      today) if account.invited else
                          directory.send_reset(account.account_id, SERVER_OPERATOR, today))
        await _mailed(sent)
    what = "the invitation again" if account.invited else "a link to choose a new password"
    typer.echo(f"mailed {what} to {account.email}: it works once, until "
               f"{sent.expires_at:%Y-%m-%d %H:%M} UTC")


@users_app.command("enable")
@async_command
async def enable_user(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")],
    request_id: RequestId = None,
) -> None:
    """Let a disabled account sign in again.

    Its ended sessions and revoked tokens stay so. Enabling an active account records
    nothing."""
    settings = cli_settings()
    with retryable(Request(request_id)):
        async with open_pool(settings, size=2) as pool:
            directory = AccountDirectory(pool)
            account = await _existing(directory, email)
            changed = await directory.enable(account.account_id, SERVER_OPERATOR,
                                             program_today(settings.data_dir))
    typer.echo(f"enabled {account.email}" if changed
               else f"nothing new recorded: {account.email} was not disabled")


@users_app.command("add")
@async_command
async def add_user(
    email: Annotated[str, typer.Argument(help="The person's e-mail (their sign-in).")],
    role: Annotated[Role, typer.Option(help="city_editor, reviewer, operator or admin.")],
    city: Annotated[list[str] | None, CityOption] = None,
    joining: Annotated[list[str] | None, JoiningOption] = None,
    country: Annotated[str | None, CountryOption] = None,
    affiliation: Annotated[list[str] | None, AffiliationOption] = None,
    name: Annotated[str | None, typer.Option(help="Display name (default: the e-mail).")]
    = None,
    language: Annotated[str, LanguageOption] = "en",
    no_password: Annotated[bool, typer.Option(
        "--no-password", help="An integration's account: no password at all, it acts by "
                              "API tokens alone (`wwc tokens create`).")] = False,
    request_id: RequestId = None,
) -> None:
    """Create an account; its one-time password is printed once.

    It must be changed at the first sign-in. (To let the person choose it, `wwc users
    invite` them instead.)"""
    settings = cli_settings()
    command = CreateAccount(**dict(_details(email, role, city, joining, country, affiliation,
                                            name, language)))
    request = Request(request_id)
    named = request.update_id(command.email, "CreateAccount")
    with retryable(request):
        async with open_pool(settings, size=2) as pool:
            directory = AccountDirectory(pool)
            found = await directory.find_by_email(command.email)
            if found is not None and found.account_id == account_id_for(named) \
                    and no_password:
                account, password = found, ""
                typer.echo("nothing new recorded: this request created the account")
            elif found is not None and found.account_id == account_id_for(named):
                account, password = found, new_secret()
                await directory.set_password(account.account_id, password)
                typer.echo("nothing new recorded: this request created the account; its "
                           "password was never shown, so this one replaces it")
            else:
                account, made_up = await directory.create(
                    command, None, SERVER_OPERATOR, program_today(settings.data_dir),
                    request_id=named, tokens_only=no_password)
                password = made_up or ""
    typer.echo(f"created {account.email} ({account.role.value}, {account.account_id})")
    if no_password:
        typer.echo("no password: it acts by API tokens alone (wwc tokens create)")
    else:
        typer.echo("its person must change this password at the first sign-in:")
        typer.echo(f"one-time password: {password}")


def _state(account: Account) -> str:
    if account.disabled:
        return "disabled"
    if account.invited:
        return "invited"
    return "must change password" if account.must_change_password else ""


@users_app.command("list")
@async_command
async def list_users(
    as_json: Annotated[bool, JsonOption] = False,
    search: Annotated[str, typer.Option(
        help="Only accounts whose e-mail or name holds this, or one of whose cities does "
             "(by key or by name).")] = "",
) -> None:
    """Every account: e-mail, role, cities or affiliations, and its state.

    Its state: disabled, invited (no password chosen yet), or must change the password
    an admin set."""
    async with open_pool(cli_settings(), size=2) as pool:
        directory = AccountDirectory(pool)
        await directory.caught_up()
        found = sorted(await directory.page(limit=10_000, search=search),
                       key=lambda a: a.email)
    if as_json:
        echo_json([a.model_dump(mode="json") for a in found])
        return
    for account in found:
        keys = account.cities or account.affiliations
        # A long list in one line reads as noise: its first cities and how many more.
        bound = ", ".join(keys[:3]) + (f" (+{len(keys) - 3} more)" if len(keys) > 3 else "")
        typer.echo(f"{shown(account.email):<32} {account.role.value:<12} {shown(bound):<30} "
                   f"{_state(account)}".rstrip())
    if not found and search:
        typer.echo(f"no account matches {shown(search)!r}")


@users_app.command("disable")
@async_command
async def disable_user(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the account's history).")],
    request_id: RequestId = None,
) -> None:
    """Disable an account: no more sign-ins or tokens, its sessions end at once."""
    settings = cli_settings()
    request = Request(request_id)
    with retryable(request):
        async with open_pool(settings, size=2) as pool:
            directory = AccountDirectory(pool)
            account = await _existing(directory, email)
            # A retry that finds it disabled is done; without one, disabling twice is
            # refused (the account is disabled: by whom, its history says).
            if not (request.retry and account.disabled):
                await directory.disable(account.account_id, reason, SERVER_OPERATOR,
                                        program_today(settings.data_dir))
    typer.echo(f"disabled {email}")
    if request.retry and account.disabled:
        typer.echo(f"nothing new recorded: {email} was already disabled")


@tokens_app.command("create")
@async_command
async def create_token(
    email: Annotated[str, typer.Argument(help="The account the token acts as.")],
    name: Annotated[str, typer.Option(help="What it is for, e.g. 'intake form'.")],
    days: Annotated[int, typer.Option(help="Days until it expires (1 to 366).")] = 90,
    request_id: RequestId = None,
) -> None:
    """Issue an API token; it is printed once and only its hash is kept."""
    settings = cli_settings()
    request = Request(request_id)
    named = request.update_id(email.strip().lower(), "IssueToken")
    with retryable(request):
        async with open_pool(settings, size=2) as pool:
            directory = AccountDirectory(pool)
            account = await _existing(directory, email)
            issued = [t for t in await directory.tokens(account.account_id)
                      if t.token_id == token_id_for(named)]
            if issued:
                info, token = issued[0], await directory.reissue_token(issued[0].token_id)
                typer.echo("nothing new recorded: this request issued the token; it was "
                           "never shown, so this one replaces it")
            else:
                info, token = await directory.issue_token(
                    account.account_id, name, days, SERVER_OPERATOR,
                    program_today(settings.data_dir), request_id=named)
    typer.echo(f"token {info.token_id} for {info.email}, expires {info.expires_on}:")
    typer.echo(token)
    if account.must_change_password:
        # Issued all the same (the admin may mean it for later), but said: it cannot work.
        typer.echo(f"wwc: warning: {shown(info.email)} has a one-time password: this token "
                   "is answered 403 password_change_required until its person changes it, "
                   "and the change revokes it; issue it after the change (or give an "
                   "integration an account of its own: wwc users add EMAIL --role ROLE "
                   "--no-password)", err=True)


@tokens_app.command("list")
@async_command
async def list_tokens(as_json: Annotated[bool, JsonOption] = False) -> None:
    """Every token's record (never the token itself)."""
    async with open_pool(cli_settings(), size=2) as pool:
        found = await AccountDirectory(pool).tokens()
    if as_json:
        echo_json([t.model_dump(mode="json") for t in found])
        return
    for token in found:
        state = "revoked" if token.revoked else f"expires {token.expires_on}"
        typer.echo(f"{token.token_id}  {shown(token.email):<32} {shown(token.name):<24} "
                   f"{state}")


@tokens_app.command("revoke")
@async_command
async def revoke_token(token_id: Annotated[str, typer.Argument(help="The token's id.")],
                       request_id: RequestId = None) -> None:
    """Revoke a token: it stops working at once (revoking it again records nothing)."""
    settings = cli_settings()
    with retryable(Request(request_id)):
        async with open_pool(settings, size=2) as pool:
            directory = AccountDirectory(pool)
            before = [t for t in await directory.tokens() if t.token_id == token_id]
            await directory.revoke_token(token_id, SERVER_OPERATOR,
                                         program_today(settings.data_dir))
    typer.echo(f"revoked {token_id}")
    if before and before[0].revoked:
        typer.echo(f"nothing new recorded: token {token_id} was already revoked")
