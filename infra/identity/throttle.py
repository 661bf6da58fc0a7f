"""Sign-in throttling: repeated failures for an account or from a client address first
slow the answers down, then lock that key for a while. Success clears the account's key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

SLOW_AFTER = 3  # failures before answers slow down
LOCK_AFTER = 10  # failures before the key is locked
LOCK_FOR = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)  # failures older than this no longer count


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after


class SignInThrottle:
    def __init__(self, pool: asyncpg.Pool[Any], *, lock_for: timedelta = LOCK_FOR,
                 slow_step: float = 0.5) -> None:
        self._pool = pool
        self._lock_for = lock_for
        self._slow_step = slow_step

    async def before_attempt(self, keys: list[str]) -> None:
        """Raise `Throttled` if a key is locked; else wait as long as its failures say."""
        rows = await self._pool.fetch(
            "SELECT failures, locked_until FROM wwc_sign_in_failures WHERE key = ANY($1) "
            "AND last_failure > now() - $2::interval", keys, FORGET_AFTER)
        now = datetime.now(UTC)
        locked = [r["locked_until"] for r in rows if r["locked_until"] and r["locked_until"] > now]
        if locked:
            raise Throttled(max(1, int((max(locked) - now).total_seconds()) + 1))
        failures = max((r["failures"] for r in rows), default=0)
        if failures >= SLOW_AFTER:
            await asyncio.sleep(min(self._slow_step * (failures - SLOW_AFTER + 1), 3.0))

    async def failed(self, keys: list[str]) -> None:
        for key in keys:
            await self._pool.execute(
                """INSERT INTO wwc_sign_in_failures AS f (key, failures, last_failure)
                   VALUES ($1, 1, now())
                   ON CONFLICT (key) DO UPDATE SET
                     failures = CASE WHEN f.last_failure < now() - $3::interval THEN 1
                                     ELSE f.failures + 1 END,
                     last_failure = now(),
                     locked_until = CASE WHEN f.failures + 1 >= $2 THEN now() + $4::interval
                                         ELSE f.locked_until END""",
                key, LOCK_AFTER, FORGET_AFTER, self._lock_for)

    async def succeeded(self, key: str) -> None:
        await self._pool.execute("DELETE FROM wwc_sign_in_failures WHERE key = $1", key)
