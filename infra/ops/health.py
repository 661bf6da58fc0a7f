"""Health that answers instead of waiting: PostgreSQL and Temporal each checked within a
bound (`WWC_READINESS_TIMEOUT`, 1 s), and read models that keep failing remembered.

A frozen server (SIGSTOP, a hung disk, a network partition without resets) hangs a query
and even the cancelling of it, so a check is never awaited past its bound: it runs in a
task of its own, the caller waits for it at most `within` seconds and then says
"timeout". One check per dependency is in flight at a time, and every caller that
arrives meanwhile waits on that one (a hundred probes of a frozen server open no new
connection). PostgreSQL is checked on a connection of its own, never one of the pool the
requests use: a pool exhausted by stuck requests must not read as "not ready" when the
server answers, nor a stuck check hold a request's connection. A check still hanging
after `ABANDON_AFTER` seconds is abandoned (its connection closed without waiting), so a
server that comes back elsewhere is found again."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

import asyncpg
import structlog
from temporalio.client import Client

from infra.eventstore.model import START
from infra.platform import metrics
from infra.readside.projections import all_projections

T = TypeVar("T")
log = structlog.get_logger("wwc.health")

ABANDON_AFTER = 30.0  # seconds a hung check may run before its connection is closed
# A read model is failing for good (not ready, and an error in the log) after this many
# consecutive failed catch-ups, or this long after its first failure, whichever is first.
FAILING_AFTER_ATTEMPTS = 3
FAILING_AFTER_SECONDS = 10.0
REMIND_EVERY = 60.0  # seconds between log lines while a read model keeps failing
# Readiness fails when the read models trail the log by more than this many events.
LAG_BOUND = 10_000


TIMEOUT = "timeout after"


def timeout_text(seconds: float) -> str:
    return f"{TIMEOUT} {seconds:.1f} s"


class Flight(Generic[T]):
    """One run of `check` in flight at a time; callers share it and wait at most their
    bound. A run that finished is never reused: the next caller starts a fresh one."""

    def __init__(self, check: Callable[[], Awaitable[T]], *,
                 abandon: Callable[[], None] = lambda: None,
                 abandon_after: float = ABANDON_AFTER) -> None:
        self._check = check
        self._abandon = abandon
        self._abandon_after = abandon_after
        self._running: asyncio.Task[T] | None = None

    async def ask(self, within: float) -> T:
        """The check's result, or its error; TimeoutError when it has none within
        `within` seconds (the check goes on, for the next caller)."""
        running = self._running
        if running is None or running.done():
            running = self._running = asyncio.create_task(self._bounded())
            running.add_done_callback(_swallow)  # a check no caller waited for to the end
        done, _ = await asyncio.wait({running}, timeout=within)
        if not done:
            raise TimeoutError(timeout_text(within))
        return running.result()

    async def _bounded(self) -> T:
        check = asyncio.ensure_future(self._check())
        done, _ = await asyncio.wait({check}, timeout=self._abandon_after)
        if done:
            return check.result()
        # Closed first, then cancelled: cancelling a query on a frozen server would wait
        # for the server to take the cancellation.
        self._abandon()
        check.cancel()
        check.add_done_callback(_swallow)
        raise TimeoutError(f"abandoned after {self._abandon_after:.0f} s")


def _swallow(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class PostgresCheck:
    """`SELECT 1` and each read model's lag, on a connection of the check's own."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: asyncpg.Connection[Any] | None = None
        self.answered = False  # the check in flight had its `SELECT 1` answered
        self.flight: Flight[dict[str, int]] = Flight(self._check, abandon=self.close)

    async def _check(self) -> dict[str, int]:
        self.answered = False
        conn = self._conn
        if conn is None or conn.is_closed():
            conn = self._conn = await asyncpg.connect(
                self._url, timeout=ABANDON_AFTER, command_timeout=ABANDON_AFTER)
        try:
            await conn.fetchval("SELECT 1")
            # The server answers; what may take long now is counting a large lag (after
            # a rebuild was started, say), which is not PostgreSQL failing to answer.
            self.answered = True
            return await projection_lags(conn)
        except Exception:
            if self._conn is conn:  # whatever state it is in, the next check starts clean
                self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None


async def projection_lags(conn: Any) -> dict[str, int]:
    """Events of its types each read model has not applied yet (and the gauge set): what
    `Projector.pending` counts, on the given connection."""
    rows = await conn.fetch("SELECT name, tx_id, position FROM wwc_projection_checkpoints")
    after = {row["name"]: (row["tx_id"], row["position"]) for row in rows}
    lags = {}
    for projection in all_projections():
        tx_id, position = after.get(projection.name, (START.tx_id, START.position))
        lags[projection.name] = int(await conn.fetchval(
            "SELECT count(*) FROM wwc_events WHERE (tx_id, position) > ($1, $2) "
            "AND event_type = ANY($3::text[])", tx_id, position,
            sorted(projection.event_types)))
        metrics.PROJECTION_LAG.labels(projection.name).set(lags[projection.name])
    return lags


@dataclass
class Failing:
    """A read model whose catch-up keeps failing."""

    since: float  # time.monotonic() of the first failure in the row
    attempts: int = 0
    error: str = ""
    reminded: float = 0.0
    for_good: bool = False

    def said(self, now: float) -> str:
        return (f"failing for {now - self.since:.0f} s ({self.attempts} attempts): "
                f"{self.error}")


@dataclass
class ReadModelHealth:
    """What the background catch-up learns of each read model: a read model failing
    for good makes the service not ready, shows in the metrics
    (`wwc_projection_failing`, `wwc_projection_failures_total`) and is logged once when
    it starts failing, once when it is failing for good, every `REMIND_EVERY` seconds
    after, and once when it recovers (not at every attempt)."""

    failing: dict[str, Failing] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def succeeded(self, name: str) -> None:
        found = self.failing.pop(name, None)
        if found is not None:
            metrics.PROJECTION_FAILING.labels(name).set(0)
            log.info("read model recovered", read_model=name, attempts=found.attempts,
                     seconds=round(self.clock() - found.since, 1))

    def failed(self, name: str, error: BaseException) -> None:
        now = self.clock()
        metrics.PROJECTION_FAILURES.labels(name).inc()
        found = self.failing.get(name)
        what = f"{type(error).__name__}: {error}".rstrip(": ")
        if found is None:
            found = self.failing[name] = Failing(since=now, reminded=now)
            log.warning("read model catch-up failed; retrying", read_model=name,
                        error=what)
        found.attempts += 1
        found.error = type(error).__name__
        if not found.for_good and (found.attempts >= FAILING_AFTER_ATTEMPTS
                                   or now - found.since >= FAILING_AFTER_SECONDS):
            found.for_good = True
            found.reminded = now
            metrics.PROJECTION_FAILING.labels(name).set(1)
            log.error("read model failing: the service is not ready until it recovers "
                      "(wwc projections rebuild NAME once the cause is fixed, if need be)",
                      read_model=name, attempts=found.attempts, error=what)
        elif found.for_good and now - found.reminded >= REMIND_EVERY:
            found.reminded = now
            log.error("read model still failing", read_model=name, attempts=found.attempts,
                      seconds=round(now - found.since), error=what)

    def failing_for_good(self) -> dict[str, str]:
        now = self.clock()
        return {name: found.said(now) for name, found in sorted(self.failing.items())
                if found.for_good}


@dataclass(frozen=True)
class Verdict:
    """One line of `/readyz`: whether it holds, and what to show for it."""

    ok: bool
    said: Any


class Health:
    """The service's dependencies as `/readyz`, `/metrics` and a request that ran out of
    time see them."""

    def __init__(self, database_url: str, client: Client, *, within: float = 1.0) -> None:
        self.within = within
        self.postgres = PostgresCheck(database_url)
        self.temporal: Flight[None] = Flight(lambda: _temporal_serving(client))
        self.read_models = ReadModelHealth()

    async def dependencies(self, within: float | None = None) -> dict[str, Verdict]:
        """PostgreSQL (with the read models' lag) and Temporal, checked at once, each
        within its bound; then the read models the background catch-up finds failing."""
        bound = self.within if within is None else within
        postgres, temporal = await asyncio.gather(
            _verdict(self.postgres.flight.ask(bound)), _verdict(self.temporal.ask(bound)))
        verdicts = {"postgres": Verdict(postgres.ok, "ok" if postgres.ok else postgres.said),
                    "temporal": Verdict(temporal.ok, "ok" if temporal.ok else temporal.said)}
        if postgres.ok:
            lag = max(postgres.said.values(), default=0)
            verdicts["lag"] = Verdict(lag <= LAG_BOUND, lag)
        elif self.postgres.answered and str(postgres.said).startswith(TIMEOUT):
            # It answered `SELECT 1`; the lag is still being counted.
            verdicts["postgres"] = Verdict(True, "ok")
            verdicts["lag"] = Verdict(False, f"not counted in {bound:.1f} s")
        else:
            verdicts["lag"] = Verdict(False, None)
        failing = self.read_models.failing_for_good()
        verdicts["read_models"] = Verdict(not failing, failing or "ok")
        return verdicts

    async def lags(self) -> dict[str, int] | None:
        """Each read model's lag, or None when PostgreSQL does not answer in time."""
        with contextlib.suppress(Exception):
            return await self.postgres.flight.ask(self.within)
        return None

    def close(self) -> None:
        self.postgres.close()


async def _temporal_serving(client: Client) -> None:
    if not await client.service_client.check_health(
            timeout=timedelta(seconds=ABANDON_AFTER)):
        raise RuntimeError("not serving")


async def _verdict(check: Awaitable[Any]) -> Verdict:
    try:
        return Verdict(True, await check)
    except TimeoutError as error:
        return Verdict(False, str(error) or "timeout")
    except Exception as error:  # any failure here means "not ready", said plainly
        return Verdict(False, f"unreachable: {type(error).__name__}")
