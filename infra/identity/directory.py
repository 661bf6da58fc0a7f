"""The account directory: accounts and tokens recorded as events in their own streams
(`account/<id>`), looked up in their read model, with the secrets kept apart.

Every write brings the read model up to date before it returns, so a look-up right after
(by this process or another) sees it, unless a transaction older than the write is still
running somewhere: catch-up readers stop below the oldest one (see
`infra/postgres/eventstore.py`), and see the write once it ends.

Links (an invitation, a password reset) are random secrets mailed to the person: the
account's stream records the link by id with its expiry, `wwc_link_hashes` holds only the
secret's SHA-256, and the message in the outbox holds the secret only until it is sent
(`infra/mail/postbox.py`). What a door gets back is the message's cause, to have it
delivered (`Program.deliver_mail`), never the secret. A link is used under the account's
lock, in one transaction with the new password's hash: two uses at once set one
password, and the other is told the link was used."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from domain import accounts, events
from domain.errors import DomainError
from domain.model import Frozen
from domain.notices import INVITATION_KIND, PASSWORD_RESET_KIND
from domain.streams import city_stream
from infra.eventstore.mapper import decode
from infra.identity import passwords
from infra.identity.secrets import digest, new_secret
from infra.mail.postbox import record_link_mail
from infra.platform.errors import CommandRefused, InvalidInput, NotFound, Unavailable
from infra.postgres.db import Connection
from infra.postgres.eventstore import PostgresEventStore
from infra.readside.projections import projector
from workflows.actors import SERVER_OPERATOR, RequestContext
from workflows.persist import new_events

TOKEN_PREFIX = "wwc_"
# Where a mailed link leads: the portal's page that asks for the new password.
LINK_PATH = "/set-password"
# A link's hash is kept this long after it expired, so its page can say "expired" rather
# than "not a link of ours"; then it is swept.
KEEP_EXPIRED_LINKS = timedelta(days=30)
_KINDS = {accounts.LinkKind.INVITATION: INVITATION_KIND,
          accounts.LinkKind.RESET: PASSWORD_RESET_KIND}


def account_id_for(request_id: str) -> str:
    """The id of the account created under a front door's request id."""
    return f"acc-{hashlib.sha256(f'account:{request_id}'.encode()).hexdigest()[:16]}"


def token_id_for(request_id: str) -> str:
    """The id of the token issued under a front door's request id."""
    return hashlib.sha256(f"token:{request_id}".encode()).hexdigest()[:16]


def link_id_for(request_id: str) -> str:
    """The id of the link sent under a front door's request id."""
    return hashlib.sha256(f"link:{request_id}".encode()).hexdigest()[:16]


def asking(context: RequestContext, *, at: datetime | None = None,
           active_admins: int | None = None) -> accounts.Circumstances:
    """The circumstances of a decision asked for by `context`: the server's own shell
    (`wwc users ...`, the first admin, the demo), anyone (no sign-in: "forgot password",
    a link), or an account in its role."""
    if context.actor_id == SERVER_OPERATOR.actor_id:
        by_account, by_role = "", accounts.SERVER
    elif context.actor_role == "public":
        by_account, by_role = "", accounts.ANYONE
    else:
        by_account, by_role = context.actor_id, context.actor_role
    return accounts.Circumstances(at=at, by_account=by_account, by_role=by_role,
                                  active_admins=active_admins)


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
    # Where its password stands (`domain.accounts.Credential`), and until when its open
    # invitation may be used (while it has no password).
    password_state: str = accounts.Credential.OWN.value
    invited_until: datetime | None = None

    @property
    def must_change_password(self) -> bool:
        """A one-time password an admin set: changed before anything else."""
        return self.password_state == accounts.Credential.ONE_TIME.value

    @property
    def invited(self) -> bool:
        """Invited, and no password chosen yet."""
        return self.password_state == accounts.Credential.NONE.value

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


class LinkFound(Frozen):
    """What a link's secret names, and whether it may still set a password: `problem` is
    the refusal's code (`link_used`, `link_expired`, `link_replaced`, `disabled`) or
    None."""

    account: Account
    link_id: str
    kind: accounts.LinkKind
    expires_at: datetime
    problem: str | None = None


class Sent(Frozen):
    """A link recorded and its message waiting in the outbox under `cause` (hand it to
    `Program.deliver_mail`)."""

    account: Account
    cause: str
    expires_at: datetime


def _account(row: Any) -> Account:
    return Account(account_id=row["account_id"], email=row["email"],
                   display_name=row["display_name"], role=accounts.Role(row["role"]),
                   cities=tuple(row["cities"]), affiliations=tuple(row["affiliations"]),
                   language=row["language"], disabled=row["disabled"],
                   digest=row.get("digest", True),
                   password_state=row.get("password_state") or accounts.Credential.OWN.value,
                   invited_until=row.get("invited_until"))


def _like(text: str) -> str:
    """`text` as a LIKE pattern that finds it anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class AccountDirectory:
    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool
        self._store = PostgresEventStore(pool)

    # --- writes --------------------------------------------------------------------------

    async def _state(self, account_id: str, on: Connection | None = None
                     ) -> accounts.AccountState:
        store = self._store if on is None else PostgresEventStore(on)
        state = accounts.AccountState()
        for recorded in await store.read_stream(accounts.account_stream(account_id)):
            state = accounts.evolve(state, events.as_account_event(decode(recorded)))
        return state

    async def _decide(self, account_id: str, command: accounts.AnyAccountCommand,
                      context: RequestContext, today: date, *,
                      on: Connection | None = None,
                      given: accounts.Circumstances | None = None) -> int:
        """Decide and record `command` on the account's stream; `on`: in the caller's
        transaction (the read model then catches up once it commits, not here). `given`:
        the decision's circumstances (by default, who asks, from `context`). The stream's
        version before the events it recorded."""
        stream = accounts.account_stream(account_id)
        store = self._store if on is None else PostgresEventStore(on)
        state = await self._state(account_id, on)
        try:
            caused = accounts.decide(state, command, account_id, today,
                                     given or asking(context))
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
        return state.version

    async def create(self, command: accounts.CreateAccount, password: str | None,
                     context: RequestContext, today: date, *,
                     request_id: str | None = None,
                     tokens_only: bool = False) -> tuple[Account, str | None]:
        """The new account, and its password when one was made up here (shown once,
        and to be changed at the first sign-in, as one the command calls one-time).
        `request_id` names the account (`account_id_for`), so a retry finds it.
        `tokens_only`: an integration's account, with no password at all: it acts by
        API tokens alone and never signs in."""
        await self._check_cities(command)
        made_up = None
        if password is None and not tokens_only:
            password = made_up = new_secret()
            command = command.model_copy(update={"one_time_password": True})
        hashed = await _hashed(password) if password is not None and not tokens_only else None
        account_id = (account_id_for(request_id) if request_id
                      else f"acc-{uuid.uuid4().hex[:16]}")
        async with _creating(self._pool, command.email) as conn:
            if hashed is not None:
                await _store_hash(conn, account_id, hashed)
            await self._decide(account_id, command, context, today, on=conn)
        await projector(self._pool).catch_up("accounts")
        return self._made(account_id, command), made_up

    async def invite(self, command: accounts.AccountDetails, context: RequestContext,
                     today: date, *, request_id: str | None = None,
                     at: datetime | None = None) -> Sent:
        """Create the account without a password and record the invitation mailed to
        its person (a link valid for `domain.accounts.INVITATION_LIFETIME`, in their
        language). `request_id` names the account and the link, so a retry finds them."""
        await self._check_cities(command)
        account_id = (account_id_for(request_id) if request_id
                      else f"acc-{uuid.uuid4().hex[:16]}")
        link_id = link_id_for(request_id) if request_id else uuid.uuid4().hex[:16]
        invite = accounts.InviteAccount(
            **{name: getattr(command, name) for name in accounts.AccountDetails.model_fields},
            link_id=link_id)
        at = at or datetime.now(UTC)
        async with _creating(self._pool, command.email) as conn:
            version = await self._decide(account_id, invite, context, today, on=conn,
                                         given=asking(context, at=at))
            account = self._made(account_id, command).model_copy(
                update={"password_state": accounts.Credential.NONE.value})
            sent = await self._record_link(conn, account, accounts.LinkKind.INVITATION,
                                           link_id, version + 2,
                                           at + accounts.INVITATION_LIFETIME)
        await projector(self._pool).catch_up("accounts")
        return sent

    async def resend_invitation(self, account_id: str, context: RequestContext, today: date,
                                *, at: datetime | None = None) -> Sent:
        """A new invitation for an account whose person has not chosen a password yet;
        the older link stops working."""
        return await self._send_link(account_id, accounts.LinkKind.INVITATION, context,
                                     today, at or datetime.now(UTC))

    async def send_reset(self, account_id: str, context: RequestContext, today: date, *,
                         at: datetime | None = None) -> Sent:
        """Record a password reset mailed to the account's person (a link valid for
        `domain.accounts.RESET_LIFETIME`); the older link stops working. Refused for a
        disabled account."""
        return await self._send_link(account_id, accounts.LinkKind.RESET, context, today,
                                     at or datetime.now(UTC))

    async def forgot_password(self, email: str, today: date, *,
                              at: datetime | None = None) -> Sent | None:
        """"Forgot password": a reset for the account with this e-mail, when there is
        one that may have it (active); None otherwise, and the caller says the same
        either way, so which e-mails exist stays unknown."""
        account = await self.find_by_email(email)
        if account is None or account.disabled:
            return None
        person = RequestContext(actor_id="anonymous", actor_role="public")
        try:
            return await self.send_reset(account.account_id, person, today, at=at)
        except CommandRefused:
            return None

    async def _send_link(self, account_id: str, kind: accounts.LinkKind,
                         context: RequestContext, today: date, at: datetime) -> Sent:
        account = await self.get(account_id)
        if account is None:
            raise NotFound(f"no account {account_id!r}")
        link_id = uuid.uuid4().hex[:16]
        command: accounts.AnyAccountCommand = (
            accounts.ResendInvitation(link_id=link_id) if kind is accounts.LinkKind.INVITATION
            else accounts.SendPasswordReset(link_id=link_id))
        lifetime = (accounts.INVITATION_LIFETIME if kind is accounts.LinkKind.INVITATION
                    else accounts.RESET_LIFETIME)
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_account(conn, account_id)
            version = await self._decide(account_id, command, context, today, on=conn,
                                         given=asking(context, at=at))
            sent = await self._record_link(conn, account, kind, link_id, version + 1,
                                           at + lifetime)
        await projector(self._pool).catch_up("accounts")
        return sent

    async def _record_link(self, conn: Connection, account: Account,
                           kind: accounts.LinkKind, link_id: str, version: int,
                           expires_at: datetime) -> Sent:
        """The link's secret made and its hash kept, and the message carrying it recorded
        in the outbox (under the cause `<stream>@<version>` of the event that sent it)."""
        secret = new_secret()
        await conn.execute("DELETE FROM wwc_link_hashes WHERE expires_at < now() - $1::interval",
                           KEEP_EXPIRED_LINKS)
        await conn.execute(
            "INSERT INTO wwc_link_hashes (hash, link_id, account_id, kind, expires_at) "
            "VALUES ($1, $2, $3, $4, $5)", digest(secret), link_id, account.account_id,
            kind.value, expires_at)
        cause = f"{accounts.account_stream(account.account_id)}@{version}"
        await record_link_mail(
            conn, cause=cause, kind=_KINDS[kind], recipient=account.email,
            # The page it opens speaks the person's language, as the message does.
            language=account.language, link=f"{LINK_PATH}?token={secret}&lang={account.language}",
            facts={"name": account.display_name, "email": account.email,
                   "expires_on": expires_at.date().isoformat()})
        return Sent(account=account, cause=cause, expires_at=expires_at)

    async def link(self, secret: str, *, at: datetime | None = None) -> LinkFound | None:
        """What the link's secret names, and whether it may still set a password (None:
        no link of ours)."""
        row = await self._find_link(self._pool, secret)
        if row is None:
            return None
        account = await self.get(row["account_id"])
        if account is None:
            return None
        state = await self._state(account.account_id)
        problem = None
        try:
            accounts.decide(state, accounts.UseLink(link_id=row["link_id"]), account.account_id,
                            date.today(), accounts.Circumstances(at=at or datetime.now(UTC),
                                                                 by_role=accounts.ANYONE))
        except DomainError as error:
            problem = error.code
        return LinkFound(account=account, link_id=row["link_id"],
                         kind=accounts.LinkKind(row["kind"]), expires_at=row["expires_at"],
                         problem=problem)

    @staticmethod
    async def _find_link(conn: Connection | asyncpg.Pool[Any], secret: str) -> Any:
        if not secret or len(secret) > 200:
            return None
        return await conn.fetchrow(
            "SELECT link_id, account_id, kind, expires_at FROM wwc_link_hashes "
            "WHERE hash = $1", digest(secret))

    async def use_link(self, secret: str, password: str, today: date, *,
                       at: datetime | None = None) -> Account:
        """Set the account's password by its link, once: the link's use and the new
        password's hash land together under the account's lock, so of two uses at once
        one sets the password and the other is refused `link_used`. Its sessions end and
        its API tokens are revoked, as after any change of password."""
        hashed = await _hashed(password)  # before the lock: it takes a while on purpose
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._find_link(conn, secret)
            if row is None:
                raise CommandRefused("link_unknown", "this is not a link of ours (mistyped, "
                                     "or cut short by the mail program)")
            account_id = row["account_id"]
            await _lock_account(conn, account_id)
            state = await self._state(account_id, conn)
            person = RequestContext(actor_id=account_id,  # the person, by their link
                                    actor_role=state.role.value if state.role else "public")
            await self._decide(account_id, accounts.UseLink(link_id=row["link_id"]), person,
                               today, on=conn, given=asking(person, at=at or datetime.now(UTC)))
            await _store_hash(conn, account_id, hashed)
            await conn.execute("DELETE FROM wwc_sessions WHERE account_id = $1", account_id)
        await projector(self._pool).catch_up("accounts")
        await self.revoke_tokens_of(account_id, person, today)
        account = await self.get(account_id)
        assert account is not None  # its link was found, so its stream exists
        return account

    async def change_password(self, account_id: str, password: str, context: RequestContext,
                              today: date, *, keep_session: str | None = None
                              ) -> tuple[int, list[str]]:
        """The person's new password (the caller checked the current one): recorded, the
        account's other sessions ended (all but `keep_session`, the one asking) and its
        API tokens revoked. How many sessions ended, and the tokens revoked."""
        hashed = await _hashed(password)
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_account(conn, account_id)
            await self._decide(account_id, accounts.ChangePassword(), context, today, on=conn)
            await _store_hash(conn, account_id, hashed)
            ended = await conn.execute(
                "DELETE FROM wwc_sessions WHERE account_id = $1 AND id_hash <> $2",
                account_id, digest(keep_session or ""))
        await projector(self._pool).catch_up("accounts")
        revoked = await self.revoke_tokens_of(account_id, context, today)
        return int(ended.split()[-1]), revoked

    async def set_one_time_password(self, account_id: str, password: str,
                                    context: RequestContext, today: date) -> None:
        """A password set by an admin (or the server's shell): the person must change it
        at the next sign-in."""
        hashed = await _hashed(password)
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_account(conn, account_id)
            await self._decide(account_id, accounts.SetOneTimePassword(), context, today,
                               on=conn)
            await _store_hash(conn, account_id, hashed)
        await projector(self._pool).catch_up("accounts")

    async def set_password(self, account_id: str, password: str) -> None:
        """Replace the stored hash, recording nothing (a password made up for a request
        that was never shown: the account's stream already says what it is)."""
        await self._pool.execute(
            "INSERT INTO wwc_password_hashes (account_id, hash) VALUES ($1, $2) "
            "ON CONFLICT (account_id) DO UPDATE SET hash = EXCLUDED.hash, updated_at = now()",
            account_id, await _hashed(password))

    async def disable(self, account_id: str, reason: str, context: RequestContext,
                      today: date) -> None:
        """No more sign-ins or tokens; its sessions end at once. Refused for the last
        active admin (counted under one lock for every disable, so two admins cannot
        disable each other at once) and for the asking admin's own account."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('wwc-account-admins'))")
            # Counted in the log, under the lock (the read model may be behind it).
            admins = int(await conn.fetchval(_ACTIVE_ADMINS))
            await _lock_account(conn, account_id)
            await self._decide(account_id, accounts.DisableAccount(reason=reason), context,
                               today, on=conn, given=asking(context, active_admins=admins))
            # Signed out everywhere, at once.
            await conn.execute("DELETE FROM wwc_sessions WHERE account_id = $1", account_id)
        await projector(self._pool).catch_up("accounts")

    async def enable(self, account_id: str, context: RequestContext, today: date) -> bool:
        """It may sign in again (its ended sessions and revoked tokens stay so). False
        when it was not disabled: nothing recorded."""
        before = await self._state(account_id)
        await self._decide(account_id, accounts.EnableAccount(), context, today)
        return before.disabled

    async def _check_cities(self, command: accounts.AccountDetails) -> None:
        """A city editor's cities by key are cities that have joined. (A reviewer's
        affiliations may name a city still to join: it is kept from reviewing it once
        it does.)"""
        for key in command.cities:
            if not await self._has_joined(key):
                # A mistyped key would bind the editor to nothing; a city still to join
                # is named instead, and its key made as its join will make it.
                raise InvalidInput(
                    f"cities: {key} has not joined the network (check the key: `wwc list`); "
                    "for a city still to join, give its name and country instead "
                    "(--joining NAME --country CC, or cities_to_join in the API)",
                    code="unknown_city", facts={"city": key})

    @staticmethod
    def _made(account_id: str, command: accounts.AccountDetails) -> Account:
        """The account as its creation's event says (the read model may not show it yet:
        see the module's doc)."""
        return Account(account_id=account_id, email=command.email,
                       display_name=command.display_name, role=command.role,
                       cities=command.bound_cities, affiliations=command.affiliations,
                       language=command.language,
                       password_state=(accounts.Credential.ONE_TIME.value
                                       if getattr(command, "one_time_password", False)
                                       else accounts.Credential.OWN.value))

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

    async def page(self, *, after: str = "", limit: int = 50,
                   search: str = "") -> list[Account]:
        """Accounts by id; `search`: only those whose e-mail or name holds it, or one of
        whose cities (or affiliations) does, by key or by the city's name (case-blind)."""
        rows = await self._pool.fetch(
            """SELECT * FROM wwc_accounts a WHERE account_id > $1
                 AND ($3 = '' OR email ILIKE $4 OR display_name ILIKE $4
                      OR EXISTS (SELECT 1 FROM unnest(a.cities || a.affiliations) k
                                 WHERE k ILIKE $4)
                      OR EXISTS (SELECT 1 FROM wwc_registry r
                                 WHERE r.city_key = ANY(a.cities || a.affiliations)
                                   AND r.name ILIKE $4))
               ORDER BY account_id LIMIT $2""",
            after, limit, search.strip(), _like(search.strip()))
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


# Admins whose latest word on being disabled or enabled is not "disabled".
_ACTIVE_ADMINS = """
SELECT count(*) FROM wwc_events c
 WHERE c.event_type = 'account.created' AND c.data ->> 'role' = 'admin'
   AND NOT COALESCE((SELECT e.event_type = 'account.disabled' FROM wwc_events e
                      WHERE e.stream_id = c.stream_id
                        AND e.event_type IN ('account.disabled', 'account.enabled')
                      ORDER BY e.stream_version DESC LIMIT 1), false)"""


@asynccontextmanager
async def _creating(pool: asyncpg.Pool[Any], email: str) -> AsyncIterator[Connection]:
    """One creation per e-mail at a time, whichever process makes it: the check and the
    event must not interleave with another's, or two accounts would hold one e-mail (and
    the accounts read model, unique by e-mail, would stop for good). All on the one
    connection that holds the lock, in one transaction (the hash, the event and an
    invitation's message land together), so a pool of any size serves it, one
    connection included."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                           f"wwc-account-email:{email}")
        # Asked of the log, not of the read model, which may be behind.
        if await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM wwc_events WHERE event_type = $1 "
                "AND data ->> 'email' = $2)", events.AccountCreated.TYPE, email):
            raise CommandRefused("exists", f"an account for {email} already exists",
                                 facts={"what": email})
        yield conn


async def _hashed(password: str) -> str:
    """The new password's hash, once the domain's bounds accept it."""
    if (problem := accounts.password_problem(password)) is not None:
        raise InvalidInput(problem.message, code="weak_password", facts=passwords.BOUNDS)
    return await passwords.hash_password(password)


async def _store_hash(conn: Connection, account_id: str, hashed: str) -> None:
    await conn.execute(
        "INSERT INTO wwc_password_hashes (account_id, hash) VALUES ($1, $2) "
        "ON CONFLICT (account_id) DO UPDATE SET hash = EXCLUDED.hash, updated_at = now()",
        account_id, hashed)


async def _lock_account(conn: Connection, account_id: str) -> None:
    """Decisions on one account one at a time (held until the transaction ends)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                       f"wwc-account:{account_id}")
