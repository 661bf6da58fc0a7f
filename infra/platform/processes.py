"""Processes of the embedded stack, looked at through psutil: is a pid recorded in a file
still the process that wrote it, and stopping one (with its process group) in bounded time.

A pid alone proves little: a process that died leaves its pid to be reused, and a child
nobody waited for lingers as a zombie that `kill(pid, 0)` still finds. So a recorded pid
counts as running only when the process exists, is not a zombie, and is the one meant
(its start time, or what its command line names)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable

import psutil


def live_process(pid: int, *, started: float | None = None,
                 looks_like: Callable[[list[str]], bool] | None = None) -> bool:
    """Whether `pid` runs and is the process meant: started at `started` (psutil's create
    time, as recorded by the process itself) and with a command line `looks_like` accepts."""
    if pid <= 0:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        if started is not None and abs(process.create_time() - started) > 0.5:
            return False  # the pid was reused by a later process
        return looks_like is None or looks_like(process.cmdline())
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # it exists; another user's process we may not inspect


def create_time(pid: int) -> float:
    return float(psutil.Process(pid).create_time())


def wait_gone(pid: int, within: float, *, reaped: bool = False) -> bool:
    """Wait up to `within` seconds for `pid` to end; True when it has. Our own child is
    reaped here. Another's ends as a zombie until its parent (init, for a daemon) reaps it,
    which may take a second: that counts as ended, unless `reaped` asks for its pid to be
    gone too (a server about to start again on the same files checks that pid)."""
    deadline = time.monotonic() + within
    try:
        process = psutil.Process(pid)
        if process.ppid() == os.getpid():
            process.wait(within)
            return True
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    while psutil.pid_exists(pid) if reaped else live_process(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def stop_process(pid: int, *, group: bool, gentle: signal.Signals = signal.SIGTERM,
                 patience: float = 2.0, firm: signal.Signals | None = None,
                 firm_patience: float = 1.0) -> None:
    """Send `gentle`, wait up to `patience` s; then `firm` (if given) and up to
    `firm_patience` s; then SIGKILL. With `group`, every signal goes to the process group
    `pid` leads (a server started in a session of its own, with whatever it forked)."""

    def send(sig: signal.Signals) -> None:
        if group:
            try:
                os.killpg(pid, sig)
                return
            except ProcessLookupError:
                pass  # not a group leader after all (or gone): the process itself
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    send(gentle)
    if wait_gone(pid, patience):
        return
    if firm is not None:
        send(firm)
        if wait_gone(pid, firm_patience):
            return
    send(signal.SIGKILL)
    wait_gone(pid, 2.0)
