"""Browser sessions, kept on the server: the cookie holds a random id, the table only its
digest. A session ends at its absolute expiry, after an idle spell, or at sign-out; each
sign-in makes a new id (no fixation). Each session has its own CSRF token, derived from
its id (`csrf_token_for`) so that every page rendered for the session can carry it, while
the table keeps only its digest and whoever lacks the cookie cannot compute it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from domain.model import Frozen
from infra.identity.secrets import digest, new_secret, same

ABSOLUTE_LIFETIME = timedelta(hours=12)
IDLE_LIFETIME = timedelta(minutes=30)


def csrf_token_for(session_id: str) -> str:
    """The session's CSRF token: a keyed hash of its 256-bit random id."""
    mac = hmac.new(session_id.encode(), b"wwc csrf token", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


class Session(Frozen):
    account_id: str
    csrf_hash: bytes
    expires_at: datetime

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and same(token, self.csrf_hash)


class OpenedSession(Frozen):
    session_id: str  # for the cookie only: never logged, never in a body
    csrf_token: str


class Sessions:
    def __init__(self, pool: asyncpg.Pool[Any], *, absolute: timedelta = ABSOLUTE_LIFETIME,
                 idle: timedelta = IDLE_LIFETIME) -> None:
        self._pool = pool
        self._absolute = absolute
        self._idle = idle

    async def open(self, account_id: str, replacing: str | None = None) -> OpenedSession:
        session_id = new_secret()
        csrf = csrf_token_for(session_id)
        async with self._pool.acquire() as conn, conn.transaction():
            if replacing:
                await conn.execute("DELETE FROM wwc_sessions WHERE id_hash = $1",
                                   digest(replacing))
            # Old sessions are swept here rather than by a job: sign-ins are rare enough.
            await conn.execute("DELETE FROM wwc_sessions WHERE expires_at < now() "
                               "OR last_seen_at < now() - $1::interval", self._idle)
            await conn.execute(
                "INSERT INTO wwc_sessions (id_hash, account_id, csrf_hash, expires_at) "
                "VALUES ($1, $2, $3, $4)", digest(session_id), account_id, digest(csrf),
                datetime.now(UTC) + self._absolute)
        return OpenedSession(session_id=session_id, csrf_token=csrf)

    async def resolve(self, session_id: str) -> Session | None:
        """The live session with this id (its idle clock restarted), or None."""
        row = await self._pool.fetchrow(
            "UPDATE wwc_sessions SET last_seen_at = now() WHERE id_hash = $1 "
            "AND expires_at > now() AND last_seen_at > now() - $2::interval "
            "RETURNING account_id, csrf_hash, expires_at", digest(session_id), self._idle)
        if row is None:
            return None
        return Session(account_id=row["account_id"], csrf_hash=bytes(row["csrf_hash"]),
                       expires_at=row["expires_at"])

    async def close(self, session_id: str) -> None:
        await self._pool.execute("DELETE FROM wwc_sessions WHERE id_hash = $1",
                                 digest(session_id))
