"""Fault: a child of `wwc up` is SIGKILLed while 50 cities are mid-lifecycle: first the
Temporal dev server, then PostgreSQL's postmaster. `wwc up` says what died, starts it again
where it was (same port, same database, same socket), and its worker and API carry on:
commands sent meanwhile either succeed once or answer "unavailable" and succeed once when
sent again with their update id; the CLI and the API work afterwards; every city's events
are stored exactly once, every chain verifies, and the audit passes (the harness runs
`wwc verify`'s and `wwc audit`'s code on the store after each fault)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

import httpx
import pytest

from infra.platform.config import Settings
from infra.postgres.db import create_pool
from infra.standards.folder import load_catalog
from infra.temporal.environment import connect_client
from tests.e2e.conftest import WWC, clean_env, wwc_up
from tests.faults.harness import FaultReport, city_names, survive
from tests.faults.postgres import postmaster_pid
from tests.temporal import TrackedProgram, program_clock

pytestmark = pytest.mark.e2e
BACK_WITHIN = 90.0  # seconds for `wwc up` to say a killed server is back


def run_wwc(env: dict[str, str], *args: str) -> str:
    """`wwc ARGS`, which must succeed; its output."""
    done = subprocess.run([WWC, *args], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, (args, done.stderr, done.stdout)
    return done.stdout


def dev_server_pid(data_dir: Path) -> int:
    return int(json.loads((data_dir / "temporal.json").read_text())["pid"])


def socket_url(pgdata: Path) -> str:
    # postmaster.pid's fifth line is the socket's folder (the data folder, or a shorter
    # path when that one is too long for a unix socket).
    socket_dir = (pgdata / "postmaster.pid").read_text().splitlines()[4]
    return f"postgresql://postgres:@/wwc?host={socket_dir}"


def api_ready(env: dict[str, str]) -> None:
    """The API's own pool and Temporal client answer again (`/readyz` checks both)."""
    deadline = time.monotonic() + BACK_WITHIN
    last = "no answer"
    while True:
        try:
            answer = httpx.get(f"http://{env['WWC_HTTP_ADDRESS']}/readyz", timeout=10)
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:300]}"
        except httpx.HTTPError as error:
            last = repr(error)
        assert time.monotonic() < deadline, f"the API is not ready: {last}"
        time.sleep(0.5)


def said(log: Path) -> str:
    return log.read_text()


def killing(pid: Callable[[], int], log: Path, back: str) -> Callable[[], Awaitable[None]]:
    """The fault: SIGKILL the process, then wait for `wwc up` to say it is back."""

    async def fault() -> None:
        seen = len(said(log))
        os.kill(pid(), signal.SIGKILL)
        deadline = time.monotonic() + BACK_WITHIN
        while back not in said(log)[seen:]:
            assert time.monotonic() < deadline, f"`wwc up` never said {back!r}:\n" + \
                said(log)[seen:][-3000:]
            await asyncio.sleep(0.1)

    return fault


async def test_killed_children_of_wwc_up_come_back_and_lose_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    pgdata = data_dir / "postgres"
    env = clean_env(data_dir)
    log = tmp_path / "up.log"
    with wwc_up(env, log):
        client = await connect_client(Settings(data_dir=data_dir),
                                      json.loads((data_dir / "temporal.json").read_text())[
                                          "address"])
        # Workflows take their clock from the command. This one runs at the real pace: no
        # program day turns during the test, so a workflow task that the loaded machine
        # times out and runs again decides the same events (with a day turning between
        # the two runs, the second's dates differ and its append is refused as an
        # idempotency conflict: a fault of its own, not this test's).
        program = TrackedProgram(client, "wwc-certification", catalog=load_catalog(),
                                 clock=program_clock(date(2023, 1, 2),
                                                     ms_per_day=86_400_000),
                                 command_timeout=10)
        pool = await create_pool(socket_url(pgdata), size=4)
        reports: list[FaultReport] = []
        try:
            reports.append(await survive(
                "wwc up's Temporal dev server SIGKILLed", program, pool,
                city_names("Killdeer"), killing(lambda: dev_server_pid(data_dir), log,
                                                "the Temporal dev server is back")))
            assert "the Temporal dev server (pid " in said(log)
            assert "was killed by SIGKILL; starting it again" in said(log)
            await asyncio.to_thread(api_ready, env)
            # The worker took the city's join through the new server.
            assert "us-afterkill-sc: assessing" in await asyncio.to_thread(
                run_wwc, env, "join", "--name", "Afterkill, SC", "--country", "US",
                "--population", "40000")

            reports.append(await survive(
                "wwc up's PostgreSQL SIGKILLed", program, pool, city_names("Pgkill"),
                killing(lambda: postmaster_pid(pgdata), log, "PostgreSQL is back")))
            assert "is no longer running; starting it again" in said(log)
            await asyncio.to_thread(api_ready, env)
            assert "us-afterpg-sc: assessing" in await asyncio.to_thread(
                run_wwc, env, "join", "--name", "Afterpg, SC", "--country", "US",
                "--population", "40000")
        finally:
            await pool.close()
    for report in reports:
        print(report.line())
