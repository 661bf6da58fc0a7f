"""`wwc users` and `wwc tokens`: the program's accounts and API tokens, for operators on
the server (the API's admin routes do the same over HTTP). Passwords and tokens made up
here are printed once, on this terminal only.

Each command that changes something takes --request-id, as the program's commands do: a
retry of one that ended "unavailable" finds what it did. An account or token is named by
its request id; when the retry finds it made, the password or token it made was never
printed (the command failed before), so the retry replaces it with a new one and prints
that."""

from __future__ import annotations

from typing import Annotated

import typer

from domain.accounts import CityToJoin, CreateAccount, Role
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
from infra.identity.directory import Account, AccountDirectory, account_id_for, token_id_for
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


@users_app.command("add")
@async_command
async def add_user(
    email: Annotated[str, typer.Argument(help="The person's e-mail (their sign-in).")],
    role: Annotated[Role, typer.Option(help="city_editor, reviewer, operator or admin.")],
    city: Annotated[list[str] | None, typer.Option(
        help="City key a city editor acts for, a city that has joined (repeatable).")]
    = None,
    joining: Annotated[list[str] | None, typer.Option(
        help="A city still to join that a city editor acts for, by the name its join will "
             "give, e.g. 'Rock Hill, SC' (repeatable; with --country).")] = None,
    country: Annotated[str | None, typer.Option(
        help="The country of the --joining cities (ISO code, e.g. US).")] = None,
    affiliation: Annotated[list[str] | None, typer.Option(
        help="City key a reviewer is affiliated with, so never reviews (repeatable).")]
    = None,
    name: Annotated[str | None, typer.Option(help="Display name (default: the e-mail).")]
    = None,
    language: Annotated[str, typer.Option(help="en, es or pt.")] = "en",
    request_id: RequestId = None,
) -> None:
    """Create an account; its one-time password is printed once."""
    settings = cli_settings()
    if bool(joining) != bool(country):
        raise UsageError("--joining and --country go together (e.g. --joining 'Rock Hill, "
                         "SC' --country US)")
    command = CreateAccount(
        email=email, display_name=name or email, role=role, cities=tuple(city or ()),
        cities_to_join=tuple(CityToJoin(name=n, country=country or "") for n in joining or ()),
        affiliations=tuple(affiliation or ()), language=language)
    request = Request(request_id)
    named = request.update_id(command.email, "CreateAccount")
    with retryable(request):
        async with open_pool(settings, size=2) as pool:
            directory = AccountDirectory(pool)
            found = await directory.find_by_email(command.email)
            if found is not None and found.account_id == account_id_for(named):
                account, password = found, new_secret()
                await directory.set_password(account.account_id, password)
                typer.echo("nothing new recorded: this request created the account; its "
                           "password was never shown, so this one replaces it")
            else:
                account, made_up = await directory.create(
                    command, None, SERVER_OPERATOR, program_today(settings.data_dir),
                    request_id=named)
                password = made_up or ""
    typer.echo(f"created {account.email} ({account.role.value}, {account.account_id})")
    typer.echo(f"one-time password: {password}")


@users_app.command("list")
@async_command
async def list_users(as_json: Annotated[bool, JsonOption] = False) -> None:
    """Every account: e-mail, role, cities or affiliations, and whether it is disabled."""
    async with open_pool(cli_settings(), size=2) as pool:
        directory = AccountDirectory(pool)
        await directory.caught_up()
        found = await directory.page(limit=10_000)
    if as_json:
        echo_json([a.model_dump(mode="json") for a in found])
        return
    for account in found:
        bound = ", ".join(account.cities or account.affiliations)
        typer.echo(f"{shown(account.email):<32} {account.role.value:<12} {shown(bound):<30} "
                   f"{'disabled' if account.disabled else ''}".rstrip())


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
