"""CPU time by process kind, from /proc: what a benchmark phase cost each part of the
stack (the service, the Temporal server, PostgreSQL, the load generator), so a figure per
request can say where the time went rather than only how long a request took.

Only the benchmark's own processes are counted: this process's descendants (`wwc up`,
its Temporal dev server, the workers, wrk) and the PostgreSQL serving the benchmark's data
dir (pg_ctl daemonises it, so it is nobody's child) with its backends. The machines these
run on are shared: counting every process called `temporal` or `postgres` charged another
job's test servers to the benchmark's requests (3 ms of "Temporal CPU" per draft save
where the benchmark's own server spent 0.2)."""

from __future__ import annotations

import os
import resource
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Process:
    ppid: int
    comm: str
    cmdline: str
    seconds: float  # user + system CPU so far


def kind_of(pid: int, process: Process, me: int) -> str | None:
    comm, cmdline = process.comm, process.cmdline
    if pid == me or comm == "wrk":
        return "load generator"
    if comm.startswith("postgres") or "postgres" in cmdline.split(" ")[0]:
        return "postgresql"
    if comm == "temporal" or "temporal" in cmdline.split(" ")[0].rsplit("/", 1)[-1]:
        return "temporal server"
    if " up" in cmdline and "wwc" in cmdline:
        return "wwc up (API + worker)"
    if " worker" in cmdline and "wwc" in cmdline:
        return "wwc worker"
    return None


def ours(processes: Mapping[int, Process], me: int, data_dir: Path | None) -> set[int]:
    """The benchmark's processes: `me` and its descendants, and the processes whose
    command line names a path under `data_dir` (the PostgreSQL server) with theirs."""
    roots = {me}
    if data_dir is not None:
        under = f"{data_dir}/"
        roots |= {pid for pid, process in processes.items() if under in process.cmdline}
    children: dict[int, list[int]] = defaultdict(list)
    for pid, process in processes.items():
        children[process.ppid].append(pid)
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children[pid])
    return found


def _processes() -> dict[int, Process]:
    table = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After "pid (comm)": ppid is the 2nd field, utime and stime the 12th and 13th.
        table[int(pid)] = Process(int(fields[1]), comm, cmdline,
                                  (int(fields[11]) + int(fields[12])) / _TICKS)
    return table


def _machine_busy() -> float:
    """CPU seconds every core of the machine has been busy (user, nice, system, irq,
    softirq: not idle, I/O wait or time stolen by the hypervisor)."""
    user, nice, system, _idle, _iowait, irq, softirq = (
        int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8])
    return (user + nice + system + irq + softirq) / _TICKS


def snapshot(data_dir: Path | None = None) -> dict[str, float]:
    """CPU seconds so far of the benchmark's processes (see `ours`; `data_dir` is the
    data dir of the stack it started), by kind, and of the machine's other jobs (all the
    rest). A process that ends between two snapshots drops out, but for the load
    generator's (wrk, waited for): the benchmark's other processes live through its
    phases."""
    busy = _machine_busy()
    me = os.getpid()
    seconds: dict[str, float] = defaultdict(float)
    # wrk runs to its end between two snapshots: its time is its waited-for parent's.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds["load generator"] += children.ru_utime + children.ru_stime
    mine = seconds["load generator"]
    processes = _processes()
    for pid in ours(processes, me, data_dir):
        process = processes.get(pid)
        if process is None:
            continue
        mine += process.seconds
        kind = kind_of(pid, process, me)
        if kind is not None:
            seconds[kind] += process.seconds
    seconds["other jobs"] = busy - mine
    return seconds


def per_request(before: dict[str, float], after: dict[str, float],
                requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request, by process kind."""
    spent = {kind: after[kind] - before.get(kind, 0.0) for kind in sorted(after)}
    return {kind: seconds * 1000 / max(requests, 1) for kind, seconds in spent.items()
            if seconds > 0}
