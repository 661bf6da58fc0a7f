"""Health that answers instead of waiting, without servers: a check shared by concurrent
callers and bounded for each, abandoned when it hangs for good; read models failing for
good after a few attempts, logged once per change; a request that runs out of time
answered 503 with what did not answer, its handler left behind; the CLI's bound."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import httpx
import pytest
from starlette.types import Receive, Scope, Send
from structlog.testing import capture_logs

from infra.cli.watchdog import BOUND_COMMANDS, command_name
from infra.ops.health import (
    FAILING_AFTER_ATTEMPTS,
    FAILING_AFTER_SECONDS,
    REMIND_EVERY,
    Flight,
    Health,
    ReadModelHealth,
    Verdict,
)
from infra.platform.errors import describe
from infra.platform.waiting import WAITING, Waiting, waiting_on
from infra.web.deadline import Deadline, unanswered


class Hang:
    """A check that never answers until released, counting its runs."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()

    async def __call__(self) -> str:
        self.runs += 1
        await self.release.wait()
        return "answered"


async def test_concurrent_callers_share_one_check_and_each_waits_at_most_its_bound() -> None:
    check = Hang()
    flight = Flight(check)
    started = time.monotonic()
    answers = await asyncio.gather(*(flight.ask(0.2) for _ in range(20)),
                                   return_exceptions=True)
    assert time.monotonic() - started < 1.0
    assert all(isinstance(a, TimeoutError) and str(a) == "timeout after 0.2 s"
               for a in answers), answers
    assert check.runs == 1
    # Still hanging: the next caller waits on the same check, it does not start another.
    with pytest.raises(TimeoutError):
        await flight.ask(0.05)
    assert check.runs == 1
    # A check that answers while a caller waits is that caller's answer.
    waiting = asyncio.create_task(flight.ask(1.0))
    await asyncio.sleep(0.05)
    check.release.set()
    assert await waiting == "answered"
    # A finished check is never reused: the next caller gets a fresh one.
    assert await flight.ask(1.0) == "answered"
    assert check.runs == 2


async def test_a_check_hanging_past_its_limit_is_abandoned_and_a_fresh_one_starts() -> None:
    check = Hang()
    abandoned = []
    flight = Flight(check, abandon=lambda: abandoned.append(True), abandon_after=0.2)
    with pytest.raises(TimeoutError):
        await flight.ask(0.05)
    await asyncio.sleep(0.3)
    assert abandoned == [True]
    with pytest.raises(TimeoutError):
        await flight.ask(0.05)
    assert check.runs == 2


async def test_a_failing_check_says_why() -> None:
    async def refused() -> None:
        raise ConnectionRefusedError("no")

    with pytest.raises(ConnectionRefusedError):
        await Flight(refused).ask(1.0)


def health_with(postgres: Any, *, answered: bool = False) -> Health:
    """A Health whose PostgreSQL check is `postgres` and whose Temporal answers."""

    async def serving() -> None:
        return None

    health = Health("postgresql://unused", cast(Any, None), within=0.1)
    health.postgres.flight = Flight(postgres)
    health.postgres.answered = answered
    health.temporal = Flight(serving)
    return health


async def test_readiness_shows_the_lag_or_what_kept_postgres_from_answering() -> None:
    async def lags() -> dict[str, int]:
        return {"registry": 3, "pipeline": 12_000}

    verdicts = await health_with(lags).dependencies()
    assert {k: (v.ok, v.said) for k, v in verdicts.items()} == {
        "postgres": (True, "ok"), "temporal": (True, "ok"), "lag": (False, 12_000),
        "read_models": (True, "ok")}
    frozen = await health_with(Hang()).dependencies()
    assert (frozen["postgres"], frozen["lag"]) == (
        Verdict(False, "timeout after 0.1 s"), Verdict(False, None))
    # It answered `SELECT 1` and is counting a large lag: PostgreSQL is not to blame.
    counting = await health_with(Hang(), answered=True).dependencies()
    assert (counting["postgres"], counting["lag"]) == (
        Verdict(True, "ok"), Verdict(False, "not counted in 0.1 s"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_read_model_fails_for_good_after_a_few_attempts_and_says_so_once() -> None:
    clock = Clock()
    health = ReadModelHealth(clock=clock)
    with capture_logs() as logs:
        for attempt in range(1, FAILING_AFTER_ATTEMPTS):
            health.failed("pipeline", RuntimeError("boom"))
            clock.now += 0.25
            assert health.failing_for_good() == {}, attempt  # a passing fault is not one
        for _ in range(40):  # ten seconds of attempts
            health.failed("pipeline", RuntimeError("boom"))
            clock.now += 0.25
        health.succeeded("registry")  # another read model's health is its own
        assert list(health.failing_for_good()) == ["pipeline"]
        assert health.failing_for_good()["pipeline"].startswith(
            f"failing for 10 s ({FAILING_AFTER_ATTEMPTS - 1 + 40} attempts): RuntimeError")
        clock.now += REMIND_EVERY
        health.failed("pipeline", RuntimeError("boom"))
        health.succeeded("pipeline")
        assert health.failing_for_good() == {}
    assert [(e["log_level"], e["event"]) for e in logs] == [
        ("warning", "read model catch-up failed; retrying"),
        ("error", "read model failing: the service is not ready until it recovers "
                  "(wwc projections rebuild NAME once the cause is fixed, if need be)"),
        ("error", "read model still failing"),
        ("info", "read model recovered")]


def test_one_slow_failure_counts_as_failing_for_good_after_the_time_bound() -> None:
    clock = Clock()
    health = ReadModelHealth(clock=clock)
    health.failed("registry", TimeoutError())
    clock.now += FAILING_AFTER_SECONDS
    health.failed("registry", TimeoutError())
    assert list(health.failing_for_good()) == ["registry"]


def test_a_request_that_ran_out_of_time_says_what_did_not_answer() -> None:
    down = {"postgres": Verdict(False, "timeout after 1.0 s"), "temporal": Verdict(True, "ok")}
    up = {"postgres": Verdict(True, "ok"), "temporal": Verdict(True, "ok")}
    assert unanswered("POST", 10, Waiting(), down) == (
        "PostgreSQL did not answer within 10 s (PostgreSQL: timeout after 1.0 s); retry "
        "with the same Idempotency-Key (the command runs at most once; it may still "
        "complete meanwhile)")
    assert unanswered("GET", 10, Waiting("workflow"), up).startswith(
        "no worker answered within 10 s (is `wwc up` or `wwc worker` running")
    assert unanswered("GET", 10, Waiting(), up) == (
        "the request was not answered within 10 s; try again shortly")


async def test_waiting_on_marks_the_requests_own_note_and_restores_it() -> None:
    note = Waiting()
    token = WAITING.set(note)
    try:
        with waiting_on("workflow"):
            assert note.on == "workflow"
        assert note.on is None
    finally:
        WAITING.reset(token)
    with waiting_on("workflow"):  # outside a request: nothing to note
        pass


class FakeHealth:
    within = 0.2

    def __init__(self) -> None:
        self.asked = 0

    async def dependencies(self, within: float | None = None) -> dict[str, Verdict]:
        self.asked += 1
        return {"postgres": Verdict(False, "timeout after 0.2 s"),
                "temporal": Verdict(True, "ok")}


def app_that(behaviour: str, ended: list[str]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if behaviour == "answers late but starts in time":
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await asyncio.sleep(0.8)
                await send({"type": "http.response.body", "body": b"late"})
                return
            if behaviour == "hangs":
                await asyncio.sleep(3600)
            if behaviour == "answers in the last moment":  # after the checks began
                await asyncio.sleep(0.4)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"fine"})
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise

    return app


@pytest.mark.parametrize("behaviour", ["hangs", "answers", "answers in the last moment",
                                       "answers late but starts in time"])
async def test_the_deadline_answers_503_in_time_and_leaves_the_handler(behaviour: str) -> None:
    ended: list[str] = []
    health = FakeHealth()
    app = Deadline(app_that(behaviour, ended), limit=0.5,
                   health_of=lambda: health)  # type: ignore[arg-type, return-value]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as http:
        started = time.monotonic()
        answer = await http.post("/api/cities")
        took = time.monotonic() - started
    if behaviour == "hangs":
        assert 0.45 < took < 1.0, took
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["Retry-After"] == "5"
        assert answer.json()["detail"].startswith(
            "PostgreSQL did not answer within 0.5 s (PostgreSQL: timeout after 0.2 s); "
            "retry with the same Idempotency-Key")
        assert answer.json()["kind"] == "unavailable"
        await asyncio.sleep(0.05)
        assert ended == ["cancelled"]
        assert health.asked == 1
    elif behaviour == "answers":
        assert (answer.status_code, answer.text, health.asked) == (200, "fine", 0)
    elif behaviour == "answers in the last moment":
        assert (answer.status_code, answer.text, health.asked) == (200, "fine", 1)
        await asyncio.sleep(0.2)  # past the deadline: nothing more is sent, nothing fails
    else:  # an answer already under way is not replaced
        assert (answer.status_code, answer.text) == (200, "late")


def test_an_error_without_words_is_still_described() -> None:
    assert describe(TimeoutError()) == \
        "PostgreSQL or Temporal did not answer in time (TimeoutError)"
    assert describe(KeyError()) == "KeyError"


def test_the_cli_bounds_the_commands_that_talk_to_the_service_only() -> None:
    assert command_name(["--debug", "list", "--tier", "gold"]) == "list"
    assert command_name([]) == ""
    assert {"join", "status", "list", "review", "users"} <= BOUND_COMMANDS
    assert not {"up", "serve", "worker", "demo", "projections", "verify", "audit", "backup",
                "restore", "recover", "db", "score"} & BOUND_COMMANDS
