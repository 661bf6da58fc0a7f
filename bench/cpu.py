"""CPU time by process kind, from /proc: what a benchmark phase cost each part of the
stack (the service, the Temporal server, PostgreSQL, the load generator), so a figure per
request can say where the time went rather than only how long a request took."""

from __future__ import annotations

import os
import resource
from collections import defaultdict
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _kind(pid: str, me: int) -> str | None:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    if int(pid) == me or comm == "wrk":
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


def snapshot() -> dict[str, float]:
    """CPU seconds so far of every process of a known kind. A process that ends between
    two snapshots drops out, but for the load generator's (wrk, waited for): the
    benchmark's other processes live through its phases."""
    me = os.getpid()
    seconds: dict[str, float] = defaultdict(float)
    # wrk runs to its end between two snapshots: its time is its waited-for parent's.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds["load generator"] += children.ru_utime + children.ru_stime
    for pid in filter(str.isdigit, os.listdir("/proc")):
        kind = _kind(pid, me)
        if kind is None:
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime and stime are the 14th and 15th fields; after "pid (comm)" they are 12, 13.
        seconds[kind] += (int(fields[11]) + int(fields[12])) / _TICKS
    return seconds


def per_request(before: dict[str, float], after: dict[str, float],
                requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request, by process kind."""
    spent = {kind: after[kind] - before.get(kind, 0.0) for kind in sorted(after)}
    return {kind: seconds * 1000 / max(requests, 1) for kind, seconds in spent.items()
            if seconds > 0}
