"""Throttling password checks (sign-in, password change): repeated attempts for an
account or from a client address first slow the answers down, then lock that key for a
while. Success clears the account's key.

Each attempt is counted before its password is checked, in one statement that also
answers whether it may go on: the counter's row is locked for the update, so attempts
sent in parallel are numbered one after another and only the first `LOCK_AFTER` of them
are ever checked. (Counting failures after the check, as before, let 40 attempts in
parallel all read "no failures yet" and all be checked.) A success takes its own attempt
back from the address's count, so a busy address that signs in right is never locked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

SLOW_AFTER = 3  # attempts not known to succeed before answers slow down
LOCK_AFTER = 10  # attempts not known to succeed before the key is locked
LOCK_FOR = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)  # attempts older than this no longer count

# Per key: a standing lock leaves the count as it is (attempts during a lock are not
# checked, and do not lengthen it); a lock that has run out, or a last attempt older than
# FORGET_AFTER, starts the count again; else one more. The attempt that reaches
# LOCK_AFTER is the last one checked, and locks the key for those after it.
_ATTEMPT = """
INSERT INTO wwc_sign_in_failures AS f (key, failures, last_failure, locked_until)
SELECT k, 1, now(), CASE WHEN $2 <= 1 THEN now() + $4::interval END
  FROM unnest($1::text[]) AS k
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN f.locked_until > now() THEN f.failures + 1
                  WHEN f.locked_until <= now() OR f.last_failure < now() - $3::interval
                       THEN 1
                  ELSE f.failures + 1 END,
  last_failure = now(),
  locked_until = CASE WHEN f.locked_until > now() THEN f.locked_until
                      WHEN f.locked_until IS NULL AND f.last_failure >= now() - $3::interval
                           AND f.failures + 1 >= $2 THEN now() + $4::interval
                      END
RETURNING key, failures, locked_until"""


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after} s")
        self.retry_after = retry_after


class SignInThrottle:
    def __init__(self, pool: asyncpg.Pool[Any], *, lock_for: timedelta = LOCK_FOR,
                 slow_step: float = 0.5) -> None:
        self._pool = pool
        self._lock_for = lock_for
        self._slow_step = slow_step

    async def attempt(self, keys: list[str]) -> None:
        """Count an attempt for every key; raise `Throttled` when one of them is past
        its limit (the attempt must not be checked), else wait as long as the counts
        say. Call it before checking the password, and `succeeded` after a success."""
        rows = await self._pool.fetch(_ATTEMPT, keys, LOCK_AFTER, FORGET_AFTER,
                                      self._lock_for)
        now = datetime.now(UTC)
        over = [r["locked_until"] for r in rows if r["failures"] > LOCK_AFTER]
        if over:
            until = max(filter(None, over), default=now + self._lock_for)
            raise Throttled(max(1, int((until - now).total_seconds()) + 1))
        count = max((r["failures"] for r in rows), default=0)
        if count > SLOW_AFTER:
            await asyncio.sleep(min(self._slow_step * (count - SLOW_AFTER), 3.0))

    async def succeeded(self, cleared: str, taken_back: list[str]) -> None:
        """The password was right: `cleared` (the account's key) starts again; each of
        `taken_back` (the address's) forgets this attempt, and its lock if this attempt
        set it."""
        await self._pool.execute(
            """WITH cleared AS (DELETE FROM wwc_sign_in_failures WHERE key = $1)
               UPDATE wwc_sign_in_failures SET failures = greatest(failures - 1, 0),
                      locked_until = CASE WHEN failures - 1 < $3 THEN NULL
                                          ELSE locked_until END
                WHERE key = ANY($2::text[])""", cleared, taken_back, LOCK_AFTER)
