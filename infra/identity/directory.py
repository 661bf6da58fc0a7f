"""The account directory: accounts and tokens recorded as events in their own streams
(`account/<id>`), looked up in their read model, with the secrets kept apart.

Every write brings the read model up to date before it returns, so a look-up right after
(by this process or another) sees it, unless a transaction older than the write is still
running somewhere: catch-up readers stop below the oldest one (see
`infra/postgres/eventstore.py`), and see the write once it ends."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg

from domain import accounts, events
from domain.errors import DomainError
from domain.model import Frozen
from domain.streams import city_stream
from infra.eventstore.mapper import decode
from infra.identity import passwords
from infra.identity.secrets import digest, new_secret
from infra.platform.errors import CommandRefused, InvalidInput, NotFound, Unavailable
from infra.postgres.db import Connection
from infra.postgres.eventstore import PostgresEventStore
from infra.readside.projections import projector
from workflows.actors import RequestContext
from workflows.persist import new_events

TOKEN_PREFIX = "wwc_"


def account_id_for(request_id: str) -> str:
    """The id of the account created under a front door's request id."""
    return f"acc-{hashlib.sha256(f'account:{request_id}'.encode()).hexdigest()[:16]}"


def token_id_for(request_id: str) -> str:
    """The id of the token issued under a front door's request id."""
    return hashlib.sha256(f"token:{request_id}".encode()).hexdigest()[:16]


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
                      context: RequestContext, today: date, *,
                      on: Connection | None = None) -> None:
        """Decide and record `command` on the account's stream; `on`: in the caller's
        transaction (the read model then catches up once it commits, not here)."""
        stream = accounts.account_stream(account_id)
        store = self._store if on is None else PostgresEventStore(on)
        state = accounts.AccountState()
        for recorded in await store.read_stream(stream):
            state = accounts.evolve(state, events.as_account_event(decode(recorded)))
        try:
            caused = accounts.decide(state, command, account_id, today)
        except DomainError as error:
            raise CommandRefused.from_domain(error) from None
        if caused:
            metadata = {"actor": context.actor_id, "actor_role": context.actor_role,
                        "correlation_id": context.correlation_id,
                        "causation_id": type(command).__name__}
            await store.append(stream, state.version,
                               new_events(stream, state.version, caused, metadata))
        if on is None:
            await projector(self._pool).catch_up("accounts")

    async def create(self, command: accounts.CreateAccount, password: str | None,
                     context: RequestContext, today: date, *,
                     request_id: str | None = None) -> tuple[Account, str | None]:
        """The new account, and its password when one was made up here (shown once).
        `request_id` names the account (`account_id_for`), so a retry finds it."""
        for key in command.cities:
            if not await self._has_joined(key):
                # A mistyped key would bind the editor to nothing; a city still to join
                # is named instead, and its key made as its join will make it.
                raise InvalidInput(
                    f"cities: {key} has not joined the network (check the key: `wwc list`); "
                    "for a city still to join, give its name and country instead "
                    "(--joining NAME --country CC, or cities_to_join in the API)",
                    code="unknown_city", facts={"city": key})
        made_up = None
        if password is None:
            password = made_up = new_secret()
        if (problem := passwords.weakness(password)) is not None:
            raise InvalidInput(problem, code="weak_password", facts=passwords.BOUNDS)
        hashed = await passwords.hash_password(password)
        account_id = (account_id_for(request_id) if request_id
                      else f"acc-{uuid.uuid4().hex[:16]}")
        # One creation per e-mail at a time, whichever process makes it: the check and the
        # event must not interleave with another's, or two accounts would hold one e-mail
        # (and the accounts read model, unique by e-mail, would stop for good). All on the
        # one connection that holds the lock, in one transaction (the hash and the event
        # land together), so a pool of any size serves it, one connection included.
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                               f"wwc-account-email:{command.email}")
            # Asked of the log, not of the read model, which may be behind.
            if await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM wwc_events WHERE event_type = $1 "
                    "AND data ->> 'email' = $2)", events.AccountCreated.TYPE, command.email):
                raise CommandRefused("exists", f"an account for {command.email} already exists",
                                     facts={"what": command.email})
            await conn.execute(
                "INSERT INTO wwc_password_hashes (account_id, hash) VALUES ($1, $2) "
                "ON CONFLICT (account_id) DO UPDATE SET hash = EXCLUDED.hash, "
                "updated_at = now()", account_id, hashed)
            await self._decide(account_id, command, context, today, on=conn)
        await projector(self._pool).catch_up("accounts")
        # As its event says (the read model may not show it yet: see the module's doc).
        account = Account(account_id=account_id, email=command.email,
                          display_name=command.display_name, role=command.role,
                          cities=command.bound_cities, affiliations=command.affiliations,
                          language=command.language)
        return account, made_up

    async def set_password(self, account_id: str, password: str) -> None:
        if (problem := passwords.weakness(password)) is not None:
            raise InvalidInput(problem, code="weak_password", facts=passwords.BOUNDS)
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
                          context: RequestContext, today: date, *,
                          request_id: str | None = None) -> tuple[TokenInfo, str]:
        """The token's record, and the token itself: shown once, stored only as a hash.
        `request_id` names the token (`token_id_for`), so a retry finds it."""
        if not 1 <= days <= 366:
            raise InvalidInput("a token lasts from 1 to 366 days", code="invalid_token")
        token_id = token_id_for(request_id) if request_id else uuid.uuid4().hex[:16]
        token = await self._new_secret(token_id)
        await self._decide(account_id, accounts.IssueToken(
            token_id=token_id, name=name, expires_on=today + timedelta(days=days)),
            context, today)
        return await self._recorded_token(account_id, token_id), token

    async def _recorded_token(self, account_id: str, token_id: str) -> TokenInfo:
        """The token's row once the read model shows it. A catch-up reads the log only
        below the oldest transaction still writing, so while another request's append is
        in flight the token just recorded may not be applied yet: catch up again, briefly,
        until it is (that transaction commits or aborts within moments); the token works
        only once its row is there."""
        delay = 0.01
        for _ in range(40):
            found = [t for t in await self.tokens(account_id) if t.token_id == token_id]
            if found:
                return found[0]
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)
            await projector(self._pool).catch_up("accounts")
        raise Unavailable("the token was recorded but the accounts read model has not "
                          "caught up with it yet: retry with the same request id")

    async def reissue_token(self, token_id: str) -> str:
        """A new secret for a token whose first was never shown (its request ended
        "unavailable"): the token itself, the one never shown no longer works."""
        return await self._new_secret(token_id)

    async def _new_secret(self, token_id: str) -> str:
        token = f"{TOKEN_PREFIX}{token_id}.{new_secret()}"
        await self._pool.execute(
            "INSERT INTO wwc_token_hashes (token_id, hash) VALUES ($1, $2) "
            "ON CONFLICT (token_id) DO UPDATE SET hash = EXCLUDED.hash", token_id, digest(token))
        return token

    async def revoke_token(self, token_id: str, context: RequestContext, today: date) -> None:
        row = await self._pool.fetchrow(
            "SELECT account_id FROM wwc_api_tokens WHERE token_id = $1", token_id)
        if row is None:
            raise NotFound(f"no token {token_id!r}")
        await self._decide(row["account_id"], accounts.RevokeToken(token_id=token_id),
                           context, today)

    async def revoke_tokens_of(self, account_id: str, context: RequestContext,
                               today: date) -> list[str]:
        """Revoke every token of the account still in force (an event each, as `wwc
        tokens revoke` records); the ids revoked."""
        revoked = []
        for token in await self.tokens(account_id):
            if not token.revoked and token.expires_on > today:
                await self.revoke_token(token.token_id, context, today)
                revoked.append(token.token_id)
        return revoked

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

    async def caught_up(self) -> None:
        """Bring the accounts read model up to date (before listing it)."""
        await projector(self._pool).catch_up("accounts")

    async def is_empty(self) -> bool:
        """No account was ever created: asked of the log, not of the read model, which may
        be empty for other reasons (being rebuilt, or behind)."""
        return not await self._pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM wwc_events WHERE event_type = $1)",
            events.AccountCreated.TYPE)

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
