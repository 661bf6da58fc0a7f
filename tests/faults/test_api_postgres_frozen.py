"""The HTTP API while its PostgreSQL is frozen (SIGSTOP on every process) for longer than
a request may wait: `/readyz` answers within about a second that PostgreSQL does not
answer (Temporal does), a write answers 503 with Retry-After and a detail saying what did
not answer within the request's bound, never after the driver's own minute; once the
server resumes everything is ready again, the retried write runs once, and nothing is
lost or recorded twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from domain import events as e
from domain.streams import city_key, city_stream
from infra.bootstrap import running_api
from infra.eventstore.mapper import decode
from infra.identity.directory import AccountDirectory
from infra.ops.first_accounts import ensure_first_admin
from infra.platform.config import Settings
from infra.postgres.eventstore import PostgresEventStore
from infra.web.server import CATCH_UP_EVERY
from tests.faults.postgres import PrivatePostgres, private_postgres
from tests.temporal import TEST_PAYLOAD_KEYS, eventually, postgres_worker, terminate
from workflows.actors import SERVER_OPERATOR

REQUEST_TIMEOUT = 6.0  # WWC_REQUEST_TIMEOUT for this API (the default is 10 s)
FREEZE_SECONDS = 15.0  # well past the bound: a write must not wait for the thaw
READY_WITHIN = 1.0 + 0.75  # the readiness bound, and slack for a loaded 2-core machine
WRITE_WITHIN = REQUEST_TIMEOUT + 2.5
ADMIN_PASSWORD = "correct horse battery staple"
CLI_TIMEOUT = 3.0  # WWC_CLI_TIMEOUT for `wwc list` (the default is 90 s)
WWC = str(Path(sys.executable).parent / "wwc")


@dataclass
class Timed:
    answer: httpx.Response
    seconds: float

    def json(self) -> Any:
        return self.answer.json()


async def timed(http: httpx.AsyncClient, method: str, path: str, *,
                limit: float, **kwargs: Any) -> Timed:
    """The answer and how long it took; a hang past `limit` (+ slack) fails the test
    rather than waiting out the driver's timeouts (what the code before the fix did)."""
    started = time.monotonic()
    try:
        answer = await http.request(method, path, timeout=limit + 5, **kwargs)
    except httpx.TimeoutException:
        raise AssertionError(f"{method} {path}: no answer within {limit + 5:.1f} s") from None
    return Timed(answer, time.monotonic() - started)


async def wwc_list(database_url: str, temporal_env: WorkflowEnvironment,
                   data_dir: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """`wwc list` against the frozen server, and how long it took to give up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WWC_")} | {
        "WWC_DATABASE_URL": database_url, "WWC_DATA_DIR": str(data_dir),
        "WWC_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "WWC_PAYLOAD_KEYS": TEST_PAYLOAD_KEYS, "WWC_CLI_TIMEOUT": str(CLI_TIMEOUT)}
    started = time.monotonic()
    done = await asyncio.to_thread(subprocess.run, [WWC, "list"], env=env, text=True,
                                   capture_output=True, timeout=60, check=False)
    return done, time.monotonic() - started


def join_body(name: str) -> dict[str, Any]:
    return {"name": name, "country": "US", "population": 50_000}


async def joins_stored(pool: Any, names: list[str]) -> dict[str, int]:
    store = PostgresEventStore(pool)
    found = {}
    for name in names:
        kinds = Counter(type(decode(r)) for r in await store.read_stream(
            city_stream(city_key("US", name))))
        found[name] = kinds[e.CityJoined]
    return found


async def test_api_answers_within_its_bounds_while_postgres_is_frozen(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    task_queue = f"apifreeze-{uuid.uuid4().hex[:8]}"
    suffix = uuid.uuid4().hex[:6]
    before, keyed, unkeyed, after = (f"{what} {suffix}, NV" for what in
                                     ("Beforeburg", "Keyburg", "Nokeyburg", "Afterburg"))
    async with private_postgres(tmp_path) as pg:
        settings = Settings.model_validate({
            "database_url": pg.url, "data_dir": tmp_path, "task_queue": task_queue,
            "http_address": "127.0.0.1:0", "admin_password": ADMIN_PASSWORD,
            "request_timeout": REQUEST_TIMEOUT})
        today = datetime.now(UTC).date()
        await ensure_first_admin(pg.pool, settings, today)
        directory = AccountDirectory(pg.pool)
        admin = await directory.find_by_email(settings.admin_email)
        assert admin is not None
        _, token = await directory.issue_token(admin.account_id, "freeze test", 1,
                                               SERVER_OPERATOR, today)
        try:
            async with postgres_worker(temporal_env.client, pg.pool, task_queue), \
                    running_api(settings, temporal_env.client) as url, \
                    httpx.AsyncClient(base_url=url,
                                      headers={"Authorization": f"Bearer {token}"}) as http, \
                    httpx.AsyncClient(base_url=url) as probe:
                # The probes come without credentials, as a load balancer's do (with a
                # token, the caller is looked up in PostgreSQL first).
                ready = await timed(probe, "GET", "/readyz", limit=READY_WITHIN)
                assert ready.answer.status_code == 200, ready.json()
                joined = await timed(http, "POST", "/api/cities", json=join_body(before),
                                     limit=WRITE_WITHIN)
                assert joined.answer.status_code == 201, joined.answer.text
                # The read models settled and the token's owner kept at their generation,
                # so the unkeyed join below reaches its workflow without asking PostgreSQL
                # who is calling (the keyed one asks PostgreSQL for its key first).
                await eventually(lambda: probe.get("/readyz"),
                                 lambda answer: answer.json()["lag"] == 0, within=30)
                await asyncio.sleep(4 * CATCH_UP_EVERY)
                seen_city = await http.get(f"/api/cities/{city_key('US', before)}")
                assert seen_city.status_code == 200, seen_city.text

                frozen = pg.freeze()
                try:
                    frozen_at = time.monotonic()
                    keyed_write = asyncio.create_task(timed(
                        http, "POST", "/api/cities", json=join_body(keyed),
                        headers={"Idempotency-Key": f"freeze-{suffix}"}, limit=WRITE_WITHIN))
                    unkeyed_write = asyncio.create_task(timed(
                        http, "POST", "/api/cities", json=join_body(unkeyed),
                        limit=WRITE_WITHIN))
                    cli = asyncio.create_task(wwc_list(pg.url, temporal_env, tmp_path))
                    await asyncio.sleep(0.5)
                    alive = await timed(probe, "GET", "/healthz", limit=0.5)
                    assert alive.answer.status_code == 200
                    assert alive.seconds < 0.5, alive
                    # Probes one after another, then a burst at once: each answers within
                    # the bound, says which dependency failed, and why.
                    probes = [await timed(probe, "GET", "/readyz", limit=READY_WITHIN)
                              for _ in range(3)]
                    probes += await asyncio.gather(*(
                        timed(probe, "GET", "/readyz", limit=READY_WITHIN) for _ in range(6)))
                    for seen in probes:
                        assert seen.seconds < READY_WITHIN, seen
                        assert seen.answer.status_code == 503, seen.answer.text
                        assert seen.answer.headers.get("Retry-After"), seen.answer.headers
                        body = seen.json()
                        assert body["status"] == "not ready", body
                        assert body["postgres"].startswith("timeout after 1.0 s"), body
                        assert body["temporal"] == "ok", body
                    for write in (await keyed_write, await unkeyed_write):
                        assert write.seconds < WRITE_WITHIN, write
                        assert write.answer.status_code == 503, write.answer.text
                        assert write.answer.headers["content-type"] == \
                            "application/problem+json"
                        assert int(write.answer.headers["Retry-After"]) > 0
                        detail = write.json()["detail"]
                        assert "PostgreSQL" in detail, detail
                        assert f"within {REQUEST_TIMEOUT:.0f} s" in detail, detail
                    # Still frozen: the writes were answered before the thaw, not by it.
                    assert time.monotonic() - frozen_at < FREEZE_SECONDS
                    # The CLI is bound too: it says so and leaves (exit 5, unavailable),
                    # before the thaw (which waits for it: its start-up takes what the loaded
                    # machine gives it).
                    listed, listed_in = await cli
                    assert listed.returncode == 5, listed.stderr
                    assert f"no answer within {CLI_TIMEOUT:.0f} s" in listed.stderr
                    await asyncio.sleep(max(0.0, FREEZE_SECONDS -
                                            (time.monotonic() - frozen_at)))
                finally:
                    PrivatePostgres.thaw(frozen)
                    for pending in (keyed_write, unkeyed_write, cli):
                        pending.cancel()
                thawed_at = time.monotonic()

                async def readiness() -> int:
                    return (await timed(probe, "GET", "/readyz",
                                        limit=READY_WITHIN)).answer.status_code

                await eventually(readiness, lambda status: status == 200, within=30)
                ready_after = time.monotonic() - thawed_at
                # The keyed write again, with its key: it runs now, once.
                retried = await timed(http, "POST", "/api/cities", json=join_body(keyed),
                                      headers={"Idempotency-Key": f"freeze-{suffix}"},
                                      limit=WRITE_WITHIN)
                assert retried.answer.status_code == 201, retried.answer.text
                # The pool serves new work (nothing poisoned by the cancelled calls).
                fresh = await timed(http, "POST", "/api/cities", json=join_body(after),
                                    limit=WRITE_WITHIN)
                assert fresh.answer.status_code == 201, fresh.answer.text
                assert fresh.seconds < 5, fresh
                # The unkeyed join had reached its workflow when it was answered 503: it
                # completes there, once (a client retrying it would need its key).
                names = [before, keyed, unkeyed, after]
                stored = await eventually(lambda: joins_stored(pg.pool, names),
                                          lambda found: all(found.values()), within=60)
                assert stored == dict.fromkeys(names, 1), stored
                done_in = time.monotonic() - frozen_at
                print(f"FAULT API with PostgreSQL frozen {FREEZE_SECONDS:.0f} s: readyz "
                      f"{max(p.seconds for p in probes):.2f} s at most, writes 503 in "
                      f"{max((await keyed_write).seconds, (await unkeyed_write).seconds):.1f}"
                      f" s (bound {REQUEST_TIMEOUT:.0f} s), `wwc list` gave up after "
                      f"{listed_in:.1f} s (bound {CLI_TIMEOUT:.0f} s + start-up), ready "
                      f"{ready_after:.1f} s after the thaw, all done {done_in:.1f} s after "
                      "the freeze began; joins lost 0, duplicated 0")
        finally:
            await terminate(temporal_env.client,
                            {city_stream(city_key("US", n))
                             for n in (before, keyed, unkeyed, after)})
