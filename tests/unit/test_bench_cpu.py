"""The API benchmark charges its requests with its own processes' CPU only: on a machine
shared with other jobs, another job's Temporal dev server once read as 3 ms of Temporal
CPU per draft save (bench/cpu.py). The second test spawns two short processes named
`temporal`, one of the benchmark's and one that is not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench import cpu

DATA_DIR = Path("/tmp/wwc-bench-api-abc")


def test_ours_are_the_benchmarks_descendants_and_its_data_dirs_servers() -> None:
    def process(ppid: int, cmdline: str) -> cpu.Process:
        return cpu.Process(ppid, cmdline.split(" ")[0].rsplit("/", 1)[-1], cmdline, 1.0)

    table = {
        100: process(1, "python -m bench.api --seconds 10"),
        101: process(100, "/w/.venv/bin/python /w/.venv/bin/wwc up"),
        102: process(101, f"temporal server start-dev --db-filename {DATA_DIR}/temporal.db"),
        103: process(100, "wrk -t32 -c32 -d10s"),
        # pg_ctl daemonises the server: nobody's child, found by its data dir.
        200: process(1, f"postgres -D {DATA_DIR}/postgres -k {DATA_DIR}/postgres"),
        201: process(200, "postgres: postgres wwc [local] idle"),
        # Another job's: a test suite's Temporal, another benchmark whose data dir's name
        # begins with ours, a wwc up of another checkout.
        299: process(1, "/o/.venv/bin/python .venv/bin/pytest"),
        300: process(299, "/o/.venv/bin/temporal server start-dev --port 42167"),
        400: process(1, f"postgres -D {DATA_DIR}xy/postgres"),
        401: process(400, "postgres: postgres wwc [local] idle"),
        500: process(1, "/work/main/.venv/bin/python /work/main/.venv/bin/wwc up"),
    }
    assert cpu.ours(table, 100, DATA_DIR) == {100, 101, 102, 103, 200, 201}
    assert cpu.ours(table, 100, None) == {100, 101, 102, 103}


BURN = """import os, sys, time
from pathlib import Path
Path(sys.argv[2] + ".pid").write_text(str(os.getpid()))
while time.process_time() < float(sys.argv[1]):
    pass
Path(sys.argv[2]).touch()
time.sleep(120)
"""


def test_another_jobs_temporal_server_is_not_charged(tmp_path: Path) -> None:
    temporal = tmp_path / "temporal"  # its processes' name, as the benchmark sees it
    temporal.symlink_to(sys.executable)
    before = cpu.snapshot()
    # Another job's: started through a shell that exits, so it is nobody's of ours.
    subprocess.run(["sh", "-c", '"$0" -c "$1" 0.8 "$2" &', temporal, BURN,
                    tmp_path / "theirs"], check=True)
    mine = subprocess.Popen([temporal, "-c", BURN, "0.1", tmp_path / "mine"])
    try:
        deadline = time.monotonic() + 60
        while not ((tmp_path / "mine").exists() and (tmp_path / "theirs").exists()):
            assert time.monotonic() < deadline, "the burners did not finish"
            time.sleep(0.05)
        after = cpu.snapshot()
    finally:
        mine.kill()
        mine.wait()
        deadline = time.monotonic() + 10
        while not (tmp_path / "theirs.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(int((tmp_path / "theirs.pid").read_text()), signal.SIGKILL)
    spent = cpu.per_request(before, after, 1)
    # Mine burned 0.1 s and its start (/proc counts whole ticks); theirs 0.8 s, counted
    # as the other jobs'.
    assert 50 <= spent["temporal server"] < 400
    assert spent["other jobs"] >= 600
