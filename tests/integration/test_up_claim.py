"""Who runs the embedded stack of a data directory: `up.pid` names a `wwc up` only while
that very process runs (a pid reused by another process, or a zombie, is not one), and
one `wwc up` at a time holds the directory (the second is refused, exit 4); a claim over a
killed one's file says whose it was, so the new one can clean up after it. A dev server
`wwc up` started is stopped by its handle, whatever became of `temporal.json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from infra.ops.stack import PID_FILE, claim_up, release_up, running_up
from infra.platform.errors import Refused
from infra.temporal.environment import start_dev_server, stop_dev_server


def record(data_dir: Path, pid: int, started: float | None = None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    content = pid if started is None else {"pid": pid, "started": started, "command": "up"}
    (data_dir / PID_FILE).write_text(json.dumps(content))


def test_a_pid_that_is_not_the_recorded_wwc_up_is_not_running(tmp_path: Path) -> None:
    # This test's own process: alive, but not a `wwc up` (a file with a pid only, as an
    # older `wwc` wrote it: the command line decides).
    me = os.getpid()
    record(tmp_path, me)
    assert running_up(tmp_path) is None
    # A child that ended and was never reaped: `kill(pid, 0)` still finds it.
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    while psutil.Process(zombie.pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.01)
    record(tmp_path, zombie.pid)
    assert running_up(tmp_path) is None
    zombie.wait()
    # A pid alive, but started after the one recorded: reused.
    record(tmp_path, me, started=psutil.Process(me).create_time() - 3600)
    assert running_up(tmp_path) is None


def test_one_claim_at_a_time_and_a_stale_file_is_named(tmp_path: Path) -> None:
    record(tmp_path, 2**22 + 7, started=1.0)  # a killed `wwc up`'s file
    claim = claim_up(tmp_path)
    try:
        assert claim.stale_pid == 2**22 + 7
        written = json.loads((tmp_path / PID_FILE).read_text())
        assert (written["pid"], written["command"]) == (os.getpid(), "up")
        # Another process asking while this one holds it is refused.
        other = subprocess.run(
            [sys.executable, "-c", "import sys; from pathlib import Path; "
             "from infra.ops.stack import claim_up; claim_up(Path(sys.argv[1]))", str(tmp_path)],
            capture_output=True, text=True, timeout=60, check=False)
        assert "the service is already running" in other.stderr, other.stderr
        with pytest.raises(Refused):  # and this very process asking again, too
            claim_up(tmp_path)
    finally:
        release_up(tmp_path, claim)
    assert not (tmp_path / PID_FILE).exists()
    release_up(tmp_path, claim_up(tmp_path))  # free again


def test_a_dev_server_it_started_is_stopped_even_with_its_file_gone(tmp_path: Path) -> None:
    server = start_dev_server(tmp_path)
    assert server.process is not None
    (tmp_path / "temporal.json").unlink()  # e.g. the data directory was cleared meanwhile
    assert stop_dev_server(tmp_path, patience=5, started=[server])
    assert server.process.poll() is not None
