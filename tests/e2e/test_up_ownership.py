"""`wwc up` owns what it starts: a `wwc up` killed with SIGKILL leaves its servers running
with no worker, which `wwc status --service` says; the next `wwc up` stops or adopts them,
says so, and serves; Ctrl-C stops everything within 5 s. A read command that has to start
the embedded PostgreSQL stops it again, and `wwc down` stops what was left running."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from infra.postgres.db import embedded_server_url
from infra.temporal.environment import start_dev_server
from tests.e2e.conftest import WWC, RunWwc, clean_env

pytestmark = pytest.mark.e2e
CTRL_C_WITHIN = 5.0


def serving_from(data_dir: Path) -> list[str]:
    """The processes serving from `data_dir`: a dev server on its database, PostgreSQL on
    its folder (their command lines name them)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if process.info["status"] != psutil.STATUS_ZOMBIE and \
                any(str(data_dir) in part for part in cmdline):
            found.append(f"{process.info['pid']}: {' '.join(cmdline)[:150]}")
    return found


def start_up(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([WWC, "up"], env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while "wwc is up" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"wwc up did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return process


def test_a_killed_wwc_up_is_cleaned_up_by_the_next_whose_ctrl_c_stops_all_in_5_s(
    wwc: RunWwc, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    env = clean_env(data_dir)
    first = start_up(env, tmp_path / "first.log")
    left_dev_server = json.loads((data_dir / "temporal.json").read_text())["pid"]
    first.kill()
    first.wait()
    second = None
    try:
        assert len(serving_from(data_dir)) == 2, serving_from(data_dir)  # left running
        health = wwc("status", "--service", "--json", env=env)
        assert health.returncode == 5, health.stdout
        parts = json.loads(health.stdout)
        assert (parts["up"]["running"], parts["postgres"], parts["temporal"],
                parts["worker"], parts["api"]) == (False, "ok", "ok", "down", "down")

        second_log = tmp_path / "second.log"
        second = start_up(env, second_log)
        said = second_log.read_text()
        assert f"a previous `wwc up` (pid {first.pid}) ended without stopping" in said
        assert f"stopped the Temporal dev server left running (pid {left_dev_server}" in said
        assert "PostgreSQL is already running" in said
        assert not psutil.pid_exists(left_dev_server) or \
            psutil.Process(left_dev_server).status() == psutil.STATUS_ZOMBIE
        joined = wwc("join", "--name", "Phoenix, AZ", "--country", "US", "--population",
                     "1600000", env=env)
        assert joined.returncode == 0, joined.stderr
        assert wwc("status", "--service", env=env).returncode == 0

        asked = time.monotonic()
        second.send_signal(signal.SIGINT)
        code = second.wait(timeout=60)
        took = time.monotonic() - asked
        assert (code, took < CTRL_C_WITHIN) == (0, True), \
            f"exit {code} after {took:.1f} s:\n{second_log.read_text()[-2000:]}"
        assert "stopped" in second_log.read_text()
        assert serving_from(data_dir) == []
        print(f"Ctrl-C: everything stopped in {took:.1f} s")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
        wwc("down", env=env)


def test_a_read_command_stops_the_postgres_it_started_and_down_stops_leftovers(
    wwc: RunWwc, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    env = clean_env(data_dir)
    try:
        listed = wwc("list", "--json", env=env)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == []
        assert serving_from(data_dir) == []

        # Servers left running for the data directory (as by a killed `wwc up`).
        embedded_server_url(data_dir.resolve() / "postgres")
        start_dev_server(data_dir.resolve())
        assert len(serving_from(data_dir)) == 2
        down = wwc("down", env=env)
        assert down.returncode == 0, down.stderr
        assert "stopped the Temporal dev server" in down.stdout
        assert "stopped PostgreSQL" in down.stdout
        assert serving_from(data_dir) == []
        again = wwc("down", env=env)
        assert "nothing was running" in again.stdout
    finally:
        if serving_from(data_dir):
            wwc("down", env=env)
