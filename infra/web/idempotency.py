"""Idempotent POSTs: a POST with an `Idempotency-Key` runs once per account and key; a
retry gets the first answer (`Idempotent-Replayed: true`).

It runs after the route's guard (`routing.GuardedRoute`), so nothing is replayed to a
caller who is not signed in (a revoked token, an ended session: they get the answer any
unauthenticated call gets), and a key is the signed-in account's own: rows are bound to
the account id and the route, never to a digest of the credentials. Public routes (the
sign-in) take no key at all: nothing of theirs is worth replaying, and the row would hold
the password's digest.

- The key is claimed before the request runs, in one statement (an insert of a pending
  row), so retries sent in parallel run it once: the others wait briefly for the first
  answer, then get 409 `idempotency_in_progress` with Retry-After.
- The same key with another route or body is refused (422 `idempotency_key_reused`).
- An answer that carries a secret (an API token, a made-up password: routes declared with
  `answer_holds_secret`) is never kept: the row records that the request was done, and a
  retry gets 409 `idempotency_secret_not_kept` (the secret was shown once).
- Server errors (5xx) are not kept: the claim is given back, and a retry runs again (the
  commands' Temporal update ids, derived from the same key, still run a command once).
- Rows expire after 24 hours (`KEPT_FOR`): each claim sweeps a few expired rows and
  takes over its own key's expired row; a pending row whose request never finished (its
  process died) is taken over after `ABANDONED_AFTER`."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
from fastapi import Request, Response

from infra.web.problems import error_answer, is_unexpected, problem

KEY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
KEPT_FOR = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=2)  # longer than any request may run
WAIT_FOR_FIRST = 3.0  # seconds a retry waits for the first request's answer
SWEEP_BATCH = 100

# One round trip: sweep a few expired rows (never this key's: its own row is taken over
# below, and one statement may not touch a row twice), then claim the key: a new pending
# row, or this key's row when it has expired or was abandoned. RETURNING answers only
# when this request claimed it.
_CLAIM = """
WITH swept AS (
    DELETE FROM wwc_idempotency WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM wwc_idempotency
         WHERE created_at < now() - $5::interval AND NOT (account_id = $1 AND key = $2)
         LIMIT $7 FOR UPDATE SKIP LOCKED)))
INSERT INTO wwc_idempotency AS i (account_id, key, route, request)
VALUES ($1, $2, $3, $4)
ON CONFLICT (account_id, key) DO UPDATE
   SET route = EXCLUDED.route, request = EXCLUDED.request, status = NULL,
       content_type = NULL, body = NULL, created_at = now()
 WHERE i.created_at < now() - $5::interval
    OR (i.status IS NULL AND i.created_at < now() - $6::interval)
RETURNING true"""

Handler = Callable[[Request], Awaitable[Response]]


def _problem(status: int, detail: str, code: str,
             headers: dict[str, str] | None = None) -> Response:
    return problem(status, detail, code=code, kind="invalid_input" if status == 422
                   else "refused", headers=headers)


class IdempotentPosts:
    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    async def run(self, request: Request, account_id: str, route: str, handle: Handler,
                  *, keep_answer: bool = True, content: bytes | None = None) -> Response:
        """`handle(request)` once for this account and the request's key. The request is
        told apart from another by its path and body; a route that streamed its body
        elsewhere (a document upload) gives what stands for it instead (`content`: its
        query and the body's SHA-256), never reading the body here."""
        key = request.headers[KEY_HEADER]
        if len(key) > MAX_KEY_LENGTH:
            return problem(400, f"{KEY_HEADER} may have at most {MAX_KEY_LENGTH} characters")
        # The body first: a body cut off (over the size limit, or the client left) raises
        # here, before anything is claimed for the key.
        body = await request.body() if content is None else content
        fingerprint = hashlib.sha256(request.url.path.encode() + b"\n" + body).digest()
        deadline = time.monotonic() + WAIT_FOR_FIRST
        pause = 0.02
        while True:
            claimed = await self._pool.fetchval(
                _CLAIM, account_id, key, route, fingerprint, KEPT_FOR, ABANDONED_AFTER,
                SWEEP_BATCH)
            if claimed:
                return await self._first(request, account_id, key, handle, keep_answer)
            row = await self._pool.fetchrow(
                "SELECT route, request, status, content_type, body FROM wwc_idempotency "
                "WHERE account_id = $1 AND key = $2", account_id, key)
            if row is None:
                continue  # given back (the first answer was a server error): claim again
            if row["route"] != route or bytes(row["request"]) != fingerprint:
                return _problem(422, f"this {KEY_HEADER} was used for another request",
                                "idempotency_key_reused")
            if row["status"] is not None:
                return self._replay(row)
            if time.monotonic() > deadline:
                return _problem(409, f"a request with this {KEY_HEADER} is still running; "
                                "retry shortly for its answer", "idempotency_in_progress",
                                {"Retry-After": "1"})
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.25)

    async def _first(self, request: Request, account_id: str, key: str, handle: Handler,
                     keep_answer: bool) -> Response:
        try:
            response = await handle(request)
        except Exception as error:
            if is_unexpected(error):
                await self._give_back(account_id, key)
                raise  # answered and logged as every unexpected error is
            response = await error_answer(request, error)
        body = getattr(response, "body", None)
        if response.status_code >= 500 or not isinstance(body, bytes):
            await self._give_back(account_id, key)
            return response
        # Kept before it is sent: a client that retries the moment it has the first
        # answer must find it.
        await self._pool.execute(
            "UPDATE wwc_idempotency SET status = $3, content_type = $4, body = $5 "
            "WHERE account_id = $1 AND key = $2", account_id, key, response.status_code,
            response.headers.get("content-type"),
            body if keep_answer or response.status_code >= 300 else None)
        return response

    async def _give_back(self, account_id: str, key: str) -> None:
        await self._pool.execute(
            "DELETE FROM wwc_idempotency WHERE account_id = $1 AND key = $2 "
            "AND status IS NULL", account_id, key)

    @staticmethod
    def _replay(row: Any) -> Response:
        if row["body"] is None:
            return _problem(
                409, f"this request was done (it answered {row['status']}), and its answer "
                "held a secret that is shown only once: it was not kept. List what it made "
                "(GET /api/tokens, GET /api/accounts) and start again if need be.",
                "idempotency_secret_not_kept")
        return Response(bytes(row["body"]), status_code=row["status"],
                        media_type=row["content_type"],
                        headers={"Idempotent-Replayed": "true"})
