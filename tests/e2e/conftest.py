from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

WWC = str(Path(sys.executable).parent / "wwc")
REPO = Path(__file__).resolve().parents[2]

RunWwc = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def wwc() -> RunWwc:
    """Run the installed `wwc` console script as a user would, capturing its output."""

    def run(*args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([WWC, *args], capture_output=True, text=True, timeout=timeout,
                              cwd=REPO, env=env, check=False)

    return run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any WWC_ setting, on its own data directory and
    API port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WWC_")}
    return env | {"WWC_DATA_DIR": str(data_dir), "WWC_LOG_FORMAT": "json",
                  "WWC_HTTP_ADDRESS": f"127.0.0.1:{free_port()}", **extra}


@contextmanager
def wwc_up(env: dict[str, str], log: Path) -> Iterator[None]:
    """`wwc up` running until the block exits, then stopped with Ctrl-C (exit 0)."""
    process = subprocess.Popen([WWC, "up"], env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while "wwc is up" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"wwc up did not start:\n{log.read_text()}")
        time.sleep(0.2)
    try:
        yield
    except BaseException:
        # A failing test still stops what it started (Ctrl-C, then a kill).
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
    assert "stopped" in log.read_text()
