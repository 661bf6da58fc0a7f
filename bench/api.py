"""API benchmark: 32 concurrent clients against the running service (`wwc up` on a
throwaway data directory), beside a bare FastAPI route answering JSON of the same size in
the same run. Read routes: a registry page and a city's status, in rounds with the bare
route; a write: saving an assessment draft (each writer its own city, with If-Match).
Prints throughput, p50/p99 and the CPU each request cost each process. Not a test.

    .venv/bin/python -m bench.api                           # 10 s per route
    .venv/bin/python -m bench.api --seconds 15 --writers 4,8,16,32

Targets on a 2-core machine: reads at 0.5 or more of the bare route's throughput with
p99 under 50 ms; draft saves p99 under 250 ms. Load comes from wrk when it is installed
(`apt-get install wrk`; draft saves with `wrk_saves.lua`), else from httpx in this
process, which then limits every figure, the baseline's too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import cpu
from bench.args import positive_int, positive_seconds
from domain.answers import Answers, CriterionAnswer
from infra.standards.folder import load_catalog

ADMIN = ("admin@bench.test", "bench admin password")
WWC = str(Path(sys.executable).parent / "wwc")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"no answer from {url}")


def answers(count: int) -> dict[str, Any]:
    standard = load_catalog()["wwc-2022"]
    return Answers(criteria={code: CriterionAnswer(met=True, evidence=("https://x.test/e",))
                             for code in standard.codes[:count]},
                   outcomes={"broadband": True}).model_dump(mode="json")


def setup(base: str, certified: int, drafts: int) -> dict[str, Any]:
    """Accounts, `certified` announced cities (for the registry) and `drafts` cities in
    assessment (one per client, for the writes), all through the API."""
    http = httpx.Client(base_url=base, timeout=120)
    signed = http.post("/api/session", json={"email": ADMIN[0], "password": ADMIN[1]})
    csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
    keys = [f"us-bench-city-{n}-bt" for n in range(certified + drafts)]
    tokens = {}
    for who, role, extra in (("ops", "operator", {}), ("rev", "reviewer", {}),
                             ("ed", "city_editor", {"cities_to_join": [
                                 {"name": f"Bench City {n}, BT", "country": "US"}
                                 for n in range(len(keys))]})):
        email = f"{who}@bench.test"
        # A password of its own: a made-up one is one-time, and a token of an account
        # that must still change it opens nothing else.
        http.post("/api/accounts", headers=csrf, json={
            "email": email, "display_name": who, "role": role,
            "password": "a bench password long enough", **extra}).raise_for_status()
        token = http.post("/api/tokens", headers=csrf, json={"email": email, "name": "b"})
        tokens[who] = {"Authorization": f"Bearer {token.json()['token']}"}
    claimed = answers(31)
    for n, key in enumerate(keys):
        http.post("/api/cities", headers=tokens["ops"], json={
            "name": f"Bench City {n}, BT", "country": "US", "population": 100_000,
        }).raise_for_status()
        if n >= certified:
            continue
        for path, body, who in (
                ("assessment/submit", {"answers": claimed}, "ed"),
                ("reviewer", {"reviewer": "rev@bench.test"}, "ops"),
                ("reviews", {"reviews": [{"code": c, "met": True}
                                         for c in claimed["criteria"]]}, "rev"),
                ("review/complete", {}, "rev"), ("decision", None, "ops")):
            http.post(f"/api/cities/{key}/{path}", headers=tokens[who],
                      json=body).raise_for_status()
    # A date within the program's cohort horizon (a far one is refused), announced at once.
    announce_on = (date.today() + timedelta(days=30)).isoformat()
    http.post("/api/cohorts", headers=tokens["ops"], json={
        "cohort_id": "bench", "announce_on": announce_on}).raise_for_status()
    http.post("/api/cohorts/bench/announce", headers=tokens["ops"]).raise_for_status()
    page = http.get("/api/registry", params={"limit": 50})
    return {"tokens": tokens, "certified": keys[:certified], "drafts": keys[certified:],
            "page_bytes": len(page.content)}


Request = Callable[[httpx.AsyncClient, int], Awaitable[bool]]


@dataclass
class Figures:
    per_second: float  # requests completed over the time the load actually ran
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str
    requests: int
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per request, by process kind
    vs_bare: float = 0.0  # throughput over the bare route's

    @classmethod
    def of(cls, latencies: list[float], seconds: float, errors: int) -> Figures:
        ordered = sorted(latencies)

        def at(q: float) -> float:
            return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000

        return cls(len(ordered) / seconds, at(0.5), at(0.99), errors, "httpx", len(ordered))


def load_seconds(seconds: float, *, whole: bool) -> float:
    """How long one load run lasts when `seconds` are asked of it. wrk's `-d` takes whole
    seconds (it refuses `3.33333s`, a third of the default 10 s split over 3 rounds), so
    for wrk the nearest whole second, at least 1; httpx runs the fraction as it is.
    Either way the rates are computed from the time the load actually ran."""
    return max(1, math.floor(seconds + 0.5)) if whole else seconds


def wrk_command(clients: int, threads: int, seconds: float, *args: str) -> list[str]:
    return ["wrk", f"-t{threads}", f"-c{clients}",
            f"-d{load_seconds(seconds, whole=True):g}s", "--latency", *args]


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_load(url: str, headers: dict[str, str], clients: int, seconds: float) -> Figures:
    """GET load from wrk (C, two threads): the load generator costs far less than the
    server, so the figures are the server's rather than a Python client's."""
    flags = [f for name, value in headers.items() for f in ("-H", f"{name}: {value}")]
    out = subprocess.run(wrk_command(clients, 2, seconds, *flags, url), capture_output=True,
                         text=True, check=True).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> Figures:
    # wrk's rate is its completed requests over the time it measured itself running.
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"^\s*(\d+) requests in ", out, re.M).group(1))  # type: ignore[union-attr]

    def percentile(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert found, out
        return float(found.group(1)) * _UNITS[found.group(2)]

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Figures(rate, percentile("50"), percentile("99"), int(bad.group(1)) if bad else 0,
                   "wrk", requests)


def wrk_saves(base: str, state: dict[str, Any], clients: int, seconds: float,
              data_dir: Path) -> Figures:
    """Draft saves from wrk (`wrk_saves.lua`): a thread and a connection per client, each
    saving its own city's draft with the ETag its last save answered. The CPU figures
    are wrk's run alone: the ETags' loads before it (a workflow query each, seconds on a
    loaded machine) are not saves."""
    # Saves in flight when an earlier run's wrk stopped still land (a closed connection
    # does not cancel the server's append): let them, or an ETag read now would be stale.
    time.sleep(2)
    etags = [httpx.get(f"{base}/api/cities/{key}/application", headers=state["tokens"]["ed"])
             .headers["ETag"] for key in state["drafts"][:clients]]
    cities = ", ".join(f'{{key = "{key}", etag = {json.dumps(etag)}}}'
                       for key, etag in zip(state["drafts"], etags, strict=False))
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(f"cities = {{{cities}}}\n"
                      f"auth = {json.dumps(state['tokens']['ed']['Authorization'])}\n"
                      f"body = {json.dumps(json.dumps(answers(5)))}\n"
                      + (Path(__file__).parent / "wrk_saves.lua").read_text())
    before = cpu.snapshot(data_dir)
    out = subprocess.run(wrk_command(clients, clients, seconds, "-s", str(script), base),
                         capture_output=True, text=True, check=True).stdout
    after = cpu.snapshot(data_dir)
    script.unlink()
    figures = parse_wrk(out)
    figures.cpu_ms = cpu.per_request(before, after, figures.requests)
    return figures


async def load(clients: int, seconds: float,
               request: Callable[[httpx.AsyncClient, int], Awaitable[bool]]) -> Figures:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        for n in range(clients):  # warm the connections
            await request(http, n)
        end = time.perf_counter() + seconds
        started = time.perf_counter()

        async def client(n: int) -> None:
            nonlocal errors
            while True:  # at least one request each, however short the run
                began = time.perf_counter()
                ok = await request(http, n)
                latencies.append(time.perf_counter() - began)
                errors += not ok
                if time.perf_counter() >= end:
                    break

        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    return Figures.of(latencies, elapsed, errors)


async def measure(base: str, bare: str, state: dict[str, Any], clients: int,
                  seconds: float, rounds: int, writers: list[int],
                  data_dir: Path) -> dict[str, Figures]:
    tokens = state["tokens"]
    city = state["certified"][0]
    etags: dict[int, str] = {}
    draft = answers(5)

    async def bare_route(http: httpx.AsyncClient, n: int) -> bool:
        return (await http.get(f"{bare}/bare")).status_code == 200

    async def registry(http: httpx.AsyncClient, n: int) -> bool:
        answer = await http.get(f"{base}/api/registry", params={"limit": 50})
        return answer.status_code == 200

    async def status(http: httpx.AsyncClient, n: int) -> bool:
        answer = await http.get(f"{base}/api/cities/{city}", headers=tokens["ed"])
        return answer.status_code == 200

    async def save_draft(http: httpx.AsyncClient, n: int) -> bool:
        key = state["drafts"][n]
        if n not in etags:
            loaded = await http.get(f"{base}/api/cities/{key}/application",
                                    headers=tokens["ed"])
            etags[n] = loaded.headers["ETag"]
        answer = await http.put(f"{base}/api/cities/{key}/assessment", json=draft,
                                headers={**tokens["ed"], "If-Match": etags[n]})
        if answer.status_code == 200:
            etags[n] = answer.headers["ETag"]
        return answer.status_code == 200

    results = {}
    reads: list[tuple[str, str, dict[str, str], Request]] = [
             ("bare FastAPI route", f"{bare}/bare", {}, bare_route),
             ("registry page", f"{base}/api/registry?limit=50", {}, registry),
             ("city status", f"{base}/api/cities/{city}", tokens["ed"], status)]
    # The reads in rounds, each round every route in turn, so a slow spell of the machine
    # (these figures move by a tenth from run to run) falls on the baseline as on the
    # routes; each figure is its route's median round, each ratio the median of the
    # rounds' ratios to the bare route in the same round.
    wrk = shutil.which("wrk") is not None
    each = load_seconds(seconds / rounds, whole=wrk)
    by_round: dict[str, list[Figures]] = {name: [] for name, *_ in reads}
    for turn in range(rounds):
        print(f"  round {turn + 1} of {rounds}: {clients} clients for {each:g} s per route",
              flush=True)
        for name, url, headers, request in reads:
            before = cpu.snapshot(data_dir)
            figures = (await asyncio.to_thread(wrk_load, url, headers, clients, each)
                       if wrk else await load(clients, each, request))
            figures.cpu_ms = cpu.per_request(before, cpu.snapshot(data_dir), figures.requests)
            by_round[name].append(figures)
    for name, rounds_of in by_round.items():
        ratios = [r.per_second / bare_round.per_second
                  for r, bare_round in zip(rounds_of, by_round["bare FastAPI route"],
                                           strict=True)]
        results[name] = replace(median_of(rounds_of), vs_bare=statistics.median(ratios))
    for count in writers:
        name = ("save assessment draft" if writers == [clients]
                else f"save draft, {count} writers")
        print(f"  {name}: {count} writers for {load_seconds(seconds, whole=wrk):g} s",
              flush=True)
        etags.clear()  # each run loads its drafts afresh (see wrk_saves)
        await asyncio.sleep(2)
        if wrk:
            saves = await asyncio.to_thread(wrk_saves, base, state, count, seconds, data_dir)
        else:
            before = cpu.snapshot(data_dir)
            saves = await load(count, seconds, save_draft)
            saves.cpu_ms = cpu.per_request(before, cpu.snapshot(data_dir), saves.requests)
        results[name] = saves
        saves.vs_bare = saves.per_second / results["bare FastAPI route"].per_second
    return results


def median_of(rounds: list[Figures]) -> Figures:
    """The round with the median throughput (its latencies and CPU with it)."""
    return sorted(rounds, key=lambda r: r.per_second)[len(rounds) // 2]


def main(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="wwc-bench-api-"))
    port, bare_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WWC_")}
    env |= {"WWC_DATA_DIR": str(data_dir), "WWC_HTTP_ADDRESS": f"127.0.0.1:{port}",
            "WWC_ADMIN_EMAIL": ADMIN[0], "WWC_ADMIN_PASSWORD": ADMIN[1],
            "WWC_LOG_LEVEL": "warning", "WWC_LOG_FORMAT": "json"}
    log = data_dir / "up.log"
    server = subprocess.Popen([WWC, "up"], env=env, stdout=log.open("w"),
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    bare_server = None
    workers: list[subprocess.Popen[bytes]] = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/readyz", server, log)
        # Workers of their own beside `wwc up` (whose worker shares a process with the
        # API), started before the cities so their workflows spread over all of them.
        workers = [subprocess.Popen([WWC, "worker"], env=env, stdin=subprocess.DEVNULL,
                                    stdout=(data_dir / f"worker{n}.log").open("w"),
                                    stderr=subprocess.STDOUT)
                   for n in range(args.workers)]
        if workers:
            time.sleep(3)  # polling before the first city joins
        writers = args.writers or [args.clients]
        print(f"setting up {args.certified} certified cities and {max(writers)} drafts "
              "through the API", flush=True)
        state = setup(base, args.certified, max(writers))
        bare_server = subprocess.Popen(
            [sys.executable, "-m", "bench.bare_api", "--port", str(bare_port), "--size",
             str(state["page_bytes"])], stdin=subprocess.DEVNULL)
        bare = f"http://127.0.0.1:{bare_port}"
        wait_for(f"{bare}/bare", bare_server, log)
        results = asyncio.run(measure(base, bare, state, args.clients, args.seconds,
                                      args.rounds, writers, data_dir))
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGINT)
            worker.wait(timeout=60)
        if bare_server is not None:
            bare_server.terminate()
            bare_server.wait(timeout=30)
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    print()
    print(f"registry page: {state['page_bytes']:,} bytes of JSON (the bare route answers as "
          "many)")
    print(f"{'route':<26}{'req/s':>9}{'vs bare':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          "  load from")
    for name, figures in results.items():
        print(f"{name:<26}{figures.per_second:>9.0f}{figures.vs_bare:>9.2f}"
              f"{figures.p50_ms:>9.1f}{figures.p99_ms:>9.1f}{figures.errors:>8}  "
              f"{figures.tool}")
    print()
    print("CPU per request, ms, by process of the benchmark's own (the machine has "
          f"{os.cpu_count()} cores; the bare route's server is not counted); other jobs:\n"
          "what the rest of the machine spent meanwhile, not ours, but a busy machine "
          "slows every figure")
    kinds = sorted({kind for figures in results.values() for kind in figures.cpu_ms})
    print(f"{'route':<26}" + "".join(f"{kind[:14]:>16}" for kind in kinds))
    for name, figures in results.items():
        print(f"{name:<26}" + "".join(f"{figures.cpu_ms.get(kind, 0.0):>16.2f}"
                                      for kind in kinds))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=positive_seconds, default=10.0,
                        help="load time of each route, split over the read routes' rounds "
                             "(wrk runs whole seconds: each run is rounded, at least 1 s; "
                             "rates are over the time actually run) (default 10)")
    parser.add_argument("--clients", type=positive_int, default=32)
    parser.add_argument("--writers", type=lambda text: [positive_int(n) for n in text.split(",")],
                        default=[],
                        help="concurrent draft savers, one run each: e.g. 8,16,32 (default: "
                             "as many as --clients)")
    parser.add_argument("--rounds", type=positive_int, default=3,
                        help="rounds of the read routes, each route in turn (default 3)")
    parser.add_argument("--workers", type=int, default=0,
                        help="`wwc worker` processes to run beside `wwc up` (default 0: the "
                             "embedded stack as a newcomer runs it)")
    parser.add_argument("--certified", type=positive_int, default=20,
                        help="certified cities in the registry (default 20)")
    main(parser.parse_args())
