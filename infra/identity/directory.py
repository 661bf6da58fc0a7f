"""The account directory: accounts and tokens recorded as events in their own streams
(`account/<id>`), looked up in their read model, with the secrets kept apart.

Every write brings the read model up to date before it returns, so a look-up right after
(by this process or another) sees it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg

from domain import accounts, events
from domain.city import city_stream
from domain.errors import DomainError
from domain.model import Frozen
from infra.errors import CommandRefused, InvalidInput, NotFound
from infra.eventstore.mapper import decode
from infra.eventstore.postgres import PostgresEventStore
from infra.identity import passwords
from infra.identity.secrets import digest, new_secret
from infra.projections import projector
from workflows.actors import RequestContext
from workflows.persist import new_events

TOKEN_PREFIX = "wwc_"


class Account(Frozen):
    account_id: str
    email: str
    display_name: str
    role: accounts.Role
    cities: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    language: str = "en"
    disabled: bool = False
    digest: bool = True  # receives the operators' weekly digest

    def context(self, correlation_id: str = "") -> RequestContext:
        return RequestContext(actor_id=self.account_id, actor_role=self.role.value,
                              correlation_id=correlation_id)


class TokenInfo(Frozen):
    token_id: str
    account_id: str
    email: str
    name: str
    expires_on: date
    revoked: bool
    issued_on: date


def _account(row: Any) -> Account:
    return Account(account_id=row["account_id"], email=row["email"],
                   display_name=row["display_name"], role=accounts.Role(row["role"]),
                   cities=tuple(row["cities"]), affiliations=tuple(row["affiliations"]),
                   language=row["language"], disabled=row["disabled"],
                   digest=row.get("digest", True))


class AccountDirectory:
    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool
        self._store = PostgresEventStore(pool)

    # --- writes --------------------------------------------------------------------------

    async def _decide(self, account_id: str, command: accounts.AnyAccountCommand,
                      context: RequestContext, today: date) -> None:
        stream = accounts.account_stream(account_id)
        state = accounts.AccountState()
        for recorded in await self._store.read_stream(stream):
            state = accounts.evolve(state, events.as_account_event(decode(recorded)))
        try:
            caused = accounts.decide(state, command, account_id, today)
        except DomainError as error:
            raise CommandRefused.from_domain(error) from None
        if caused:
            metadata = {"actor": context.actor_id, "actor_role": context.actor_role,
                        "correlation_id": context.correlation_id,
                        "causation_id": type(command).__name__}
            await self._store.append(stream, state.version,
                                     new_events(stream, state.version, caused, metadata))
        await projector(self._pool).catch_up("accounts")

    async def create(self, command: accounts.CreateAccount, password: str | None,
                     context: RequestContext, today: date) -> tuple[Account, str | None]:
        """The new account, and its password when one was made up here (shown once)."""
        if await self.find_by_email(command.email) is not None:
            raise CommandRefused("exists", f"an account for {command.email} already exists")
        for key in command.cities:
            if not await self._has_joined(key):
                # A mistyped key would bind the editor to nothing; a city still to join
                # is named instead, and its key made as its join will make it.
                raise InvalidInput(
                    f"cities: {key} has not joined the network (check the key: `wwc list`); "
                    "for a city still to join, give its name and country instead "
                    "(--joining NAME --country CC, or cities_to_join in the API)",
                    code="unknown_city")
        made_up = None
        if password is None:
            password = made_up = new_secret()
        if (problem := passwords.weakness(password)) is not None:
            raise InvalidInput(problem, code="weak_password")
        account_id = f"acc-{uuid.uuid4().hex[:16]}"
        # The hash first: should the event fail, an orphan hash opens nothing.
        await self._pool.execute(
            "INSERT INTO wwc_password_hashes (account_id, hash) VALUES ($1, $2)",
            account_id, await passwords.hash_password(password))
        await self._decide(account_id, command, context, today)
        account = await self.get(account_id)
        assert account is not None
        return account, made_up

    async def set_password(self, account_id: str, password: str) -> None:
        if (problem := passwords.weakness(password)) is not None:
            raise InvalidInput(problem, code="weak_password")
        await self._pool.execute(
            "INSERT INTO wwc_password_hashes (account_id, hash) VALUES ($1, $2) "
            "ON CONFLICT (account_id) DO UPDATE SET hash = EXCLUDED.hash, updated_at = now()",
            account_id, await passwords.hash_password(password))

    async def disable(self, account_id: str, reason: str, context: RequestContext,
                      today: date) -> None:
        await self._decide(account_id, accounts.DisableAccount(reason=reason), context, today)
        # Signed out everywhere, at once.
        await self._pool.execute("DELETE FROM wwc_sessions WHERE account_id = $1", account_id)

    async def set_digest(self, account_id: str, enabled: bool, context: RequestContext,
                         today: date) -> None:
        await self._decide(account_id, accounts.SetDigest(enabled=enabled), context, today)

    async def issue_token(self, account_id: str, name: str, days: int,
                          context: RequestContext, today: date) -> tuple[TokenInfo, str]:
        """The token's record, and the token itself: shown once, stored only as a hash."""
        if not 1 <= days <= 366:
            raise InvalidInput("a token lasts from 1 to 366 days", code="invalid_token")
        token_id = uuid.uuid4().hex[:16]
        secret = new_secret()
        token = f"{TOKEN_PREFIX}{token_id}.{secret}"
        await self._pool.execute("INSERT INTO wwc_token_hashes (token_id, hash) VALUES ($1, $2)",
                                 token_id, digest(token))
        await self._decide(account_id, accounts.IssueToken(
            token_id=token_id, name=name, expires_on=today + timedelta(days=days)),
            context, today)
        info = next(t for t in await self.tokens() if t.token_id == token_id)
        return info, token

    async def revoke_token(self, token_id: str, context: RequestContext, today: date) -> None:
        row = await self._pool.fetchrow(
            "SELECT account_id FROM wwc_api_tokens WHERE token_id = $1", token_id)
        if row is None:
            raise NotFound(f"no token {token_id!r}")
        await self._decide(row["account_id"], accounts.RevokeToken(token_id=token_id),
                           context, today)

    async def _has_joined(self, key: str) -> bool:
        """Whether the city's stream has events (it joined, whatever became of it since)."""
        return bool(await self._pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM wwc_events WHERE stream_id = $1)", city_stream(key)))

    # --- reads ---------------------------------------------------------------------------

    async def get(self, account_id: str) -> Account | None:
        row = await self._pool.fetchrow("SELECT * FROM wwc_accounts WHERE account_id = $1",
                                        account_id)
        return _account(row) if row else None

    async def find_by_email(self, email: str) -> Account | None:
        await projector(self._pool).catch_up("accounts")
        row = await self._pool.fetchrow("SELECT * FROM wwc_accounts WHERE email = $1",
                                        email.strip().lower())
        return _account(row) if row else None

    async def page(self, *, after: str = "", limit: int = 50) -> list[Account]:
        rows = await self._pool.fetch(
            "SELECT * FROM wwc_accounts WHERE account_id > $1 ORDER BY account_id LIMIT $2",
            after, limit)
        return [_account(r) for r in rows]

    async def is_empty(self) -> bool:
        await projector(self._pool).catch_up("accounts")
        return not await self._pool.fetchval("SELECT EXISTS (SELECT 1 FROM wwc_accounts)")

    async def tokens(self, account_id: str | None = None) -> list[TokenInfo]:
        rows = await self._pool.fetch(
            "SELECT t.*, a.email FROM wwc_api_tokens t JOIN wwc_accounts a USING (account_id) "
            "WHERE $1::text IS NULL OR t.account_id = $1 ORDER BY t.issued_on, t.token_id",
            account_id)
        return [TokenInfo(token_id=r["token_id"], account_id=r["account_id"], email=r["email"],
                          name=r["name"], expires_on=r["expires_on"], revoked=r["revoked"],
                          issued_on=r["issued_on"]) for r in rows]

    # --- authentication ------------------------------------------------------------------

    async def check_password(self, email: str, password: str) -> Account | None:
        """The account if the password is its own and it is active; None otherwise (the
        caller gives one message for both)."""
        account = await self.find_by_email(email)
        stored = None
        if account is not None:
            stored = await self._pool.fetchval(
                "SELECT hash FROM wwc_password_hashes WHERE account_id = $1",
                account.account_id)
        if not await passwords.verify_password(stored, password):
            return None
        return account if account is not None and not account.disabled else None

    async def check_token(self, token: str, today: date) -> Account | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        row = await self._pool.fetchrow(
            "SELECT a.* FROM wwc_token_hashes h JOIN wwc_api_tokens t USING (token_id) "
            "JOIN wwc_accounts a USING (account_id) WHERE h.hash = $1 AND NOT t.revoked "
            "AND t.expires_on > $2 AND NOT a.disabled", digest(token), today)
        return _account(row) if row else None
