"""The supervisor's rules with a child that only pretends: a death is seen and said, the
restart waits the backoff, a failed restart doubles the wait up to its ceiling, and a
closed supervisor restarts nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from infra.ops.supervisor import Backoff, Child, Supervisor

FAST = Backoff(first=0.05, longest=0.2, steady=10.0)


class Pretend(Child):
    def __init__(self, failures: int = 0) -> None:
        self.name = "the pretend server"
        self.running = True
        self.failures = failures
        self.attempts: list[float] = []

    def alive(self) -> bool:
        return self.running

    def how_it_ended(self) -> str:
        return "was killed by SIGKILL"

    async def restart(self) -> str:
        self.attempts.append(time.monotonic())
        if self.failures:
            self.failures -= 1
            raise RuntimeError("port in use")
        self.running = True
        return "pid 2"


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "not reached"
        await asyncio.sleep(0.01)


async def test_a_dead_child_is_said_and_started_again() -> None:
    child, said = Pretend(), list[str]()
    async with Supervisor([child], said.append, every=0.01, backoff=FAST).running():
        await asyncio.sleep(0.05)
        assert child.attempts == []  # alive: left alone
        child.running = False
        await until(lambda: child.running)
    assert said == ["the pretend server was killed by SIGKILL; starting it again in 0.05 s",
                    "the pretend server is back (pid 2)"]


async def test_failed_restarts_back_off_doubling_to_the_ceiling() -> None:
    child, said = Pretend(failures=4), list[str]()
    async with Supervisor([child], said.append, every=0.01, backoff=FAST).running():
        child.running = False
        await until(lambda: child.running)
    waits = [later - earlier for earlier, later in zip(child.attempts, child.attempts[1:],
                                                       strict=False)]
    assert len(child.attempts) == 5
    # 0.1, 0.2, then the ceiling (0.2), with the scheduler's slack.
    for wait, expected in zip(waits, (0.1, 0.2, 0.2, 0.2), strict=True):
        assert expected <= wait < expected + 0.15, waits
    assert said[1] == "the pretend server did not start again (port in use); next try in 0.1 s"
    assert said[-1] == "the pretend server is back (pid 2)"


async def test_a_second_death_soon_after_waits_longer() -> None:
    child, said = Pretend(), list[str]()
    async with Supervisor([child], said.append, every=0.01, backoff=FAST).running():
        child.running = False
        await until(lambda: child.running)
        child.running = False
        await until(lambda: child.running)
    assert "starting it again in 0.1 s" in said[2]


async def test_nothing_is_restarted_once_closed() -> None:
    child, said = Pretend(), list[str]()
    async with Supervisor([child], said.append, every=0.01, backoff=FAST).running():
        await asyncio.sleep(0.03)
    child.running = False
    await asyncio.sleep(0.2)
    assert (child.attempts, said) == ([], [])
