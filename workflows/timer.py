"""A durable timer on the program clock that can be re-armed: both workflows wait on one.

It fires when the program date comes (the clock may run fast in a demo or a test), and
wakes early when poked: the clock was re-timed (`set_clock`) or what is due changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.clock import ProgramClock, midnight


class ProgramTimer:
    def __init__(self, clock: ProgramClock) -> None:
        self.clock = clock
        self._poked = False

    def today(self) -> date:
        return self.clock.today(workflow.now())

    def poke(self) -> None:
        """Wake the waiter: the next wait is computed afresh."""
        self._poked = True

    def set_clock(self, clock: ProgramClock) -> None:
        self.clock = clock
        self.poke()

    def is_due(self, on: date) -> bool:
        delay = self.clock.real_delay(workflow.now(), midnight(on))
        return delay is not None and delay <= timedelta(0)

    async def wait(self, due: date | None, *, stop: Callable[[], bool],
                   summary: str | None) -> bool:
        """Wait until the program date `due` (None: no date, only a poke or `stop`), a
        poke, or `stop()`. True when it returns because the date came."""
        delay = None
        if due is not None:
            delay = self.clock.real_delay(workflow.now(), midnight(due))
            # Temporal rejects zero-length waits; a timer already due fires at once.
            delay = None if delay is None else max(delay, timedelta(milliseconds=1))
        try:
            await workflow.wait_condition(lambda: stop() or self._poked, timeout=delay,
                                          timeout_summary=summary)
            return False
        except TimeoutError:
            return True
        finally:
            self._poked = False
