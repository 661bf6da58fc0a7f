"""Event store benchmark: every figure beside a bare-asyncpg ceiling measured in the same run.

    .venv/bin/python bench/event_store.py              # 1,000,000-event log (a few minutes)
    .venv/bin/python bench/event_store.py --events 100000

Runs on a throwaway embedded PostgreSQL unless WWC_BENCH_DATABASE_URL names a server (a
fresh database is created there and dropped afterwards). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg

from activities.ports import NewEvent
from domain import commands
from domain.answers import Answers, CriterionAnswer
from domain.streams import city_stream
from infra.eventstore.model import START
from infra.postgres.db import (
    create_pool,
    embedded_server_url,
    keep_session,
    stop_embedded_server,
)
from infra.postgres.eventstore import PostgresEventStore, fetch_log_page
from infra.postgres.migrate import migrated_database
from infra.readside.projections import projector
from infra.standards.folder import load_catalog
from workflows.persist import new_events

EVENTS_PER_CITY = 100


def city_template() -> list[tuple[str, int, dict[str, Any]]]:
    """A real ~100-event city history (three application cycles) from the domain decider."""
    from domain.city_state import CityState
    from domain.lifecycle import decide, evolve
    from domain.report import build_report
    from domain.rules import ProgramRules

    catalog, rules = load_catalog(), ProgramRules()
    state, events = CityState(), []

    def run(command: commands.CityCommand, on: date) -> None:
        nonlocal state
        for event in decide(state, command, on, standards=catalog, rules=rules):
            state = evolve(state, event)
            events.append(event)

    def cycle(met: int, start: date) -> None:
        standard = catalog["wwc-2022"]
        claimed = Answers(criteria={code: CriterionAnswer(met=True, evidence=("https://x",))
                                    for code in standard.codes[:met]},
                          outcomes={"broadband": True})
        run(commands.SubmitAssessment(answers=claimed), start)
        run(commands.AssignReviewer(reviewer="reviewer"), start)
        for code in claimed.criteria:
            run(commands.RecordCriterionReview(code=code, met=True), start)
        run(commands.CompleteReview(), start)
        app = state.application
        assert app is not None
        run(commands.RecordDecision(report=build_report(standard, app.reviewed_answers())), start)
        run(commands.Announce(cohort_id=f"{start.year}"), start)

    run(commands.JoinNetwork(name="Template", country="US", population=100_000), date(2023, 1, 2))
    cycle(31, date(2023, 2, 1))
    run(commands.SendRenewalReminder(lead_days=180), date(2025, 8, 5))
    run(commands.Reapply(), date(2025, 9, 1))
    cycle(31, date(2025, 10, 1))
    run(commands.Reapply(), date(2026, 9, 1))
    cycle(35, date(2026, 10, 1))
    encoded = new_events("city/bench", 0, events, {})
    return [(e.event_type, e.schema_version, e.data) for e in encoded][:EVENTS_PER_CITY]


def city_events(template: list[tuple[str, int, dict[str, Any]]], n: int) -> list[NewEvent]:
    key = f"us-bench-{n}"
    out = []
    for event_type, version, data in template:
        if event_type == "city.joined":
            data = {**data, "city_key": key, "name": f"Bench {n}"}
        out.append(NewEvent(event_id=uuid.uuid4(), event_type=event_type,
                            schema_version=version, data=data))
    return out


async def fill(pool: asyncpg.Pool[Any], cities: int, writers: int) -> float:
    template = city_template()
    store = PostgresEventStore(pool)
    queue = list(range(cities))
    done = 0
    started = time.perf_counter()

    async def writer() -> None:
        nonlocal done
        while queue:
            n = queue.pop()
            await store.append(city_stream(f"us-bench-{n}"), 0, city_events(template, n))
            done += 1
            if done % 1000 == 0:
                rate = done * EVENTS_PER_CITY / (time.perf_counter() - started)
                print(f"  filled {done * EVENTS_PER_CITY:>9,} events ({rate:,.0f}/s)",
                      flush=True)

    await asyncio.gather(*(writer() for _ in range(writers)))
    return time.perf_counter() - started


# The smallest table an event could go in: one index, no hash columns. Inserting here
# measures what our schema itself costs (the unique event id, the unique stream version
# and the log order are indexes a plain table does not pay for).
MINIMAL_TABLE = """CREATE TABLE IF NOT EXISTS bench_minimal (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, stream_id text NOT NULL,
    stream_version integer NOT NULL, event_id uuid NOT NULL, event_type text NOT NULL,
    data jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())"""

# The ceiling for the target: the same row into the same table (1,000,000 events in it,
# every index in place) by one plain INSERT, with none of the store's work: no version
# check, no hash chain (constant hashes), no idempotency. The gap between this and ours is
# what appending as an event store costs.
SAME_TABLE_INSERT = """INSERT INTO wwc_events (stream_id, stream_version, event_id, event_type,
                        schema_version, data, metadata, recorded_at, prev_hash, hash)
SELECT $1, $2 + e.ord::int, e.id, $4, 1, $5::jsonb, '{}', now(), '\\x00', '\\x00'
  FROM unnest($3::uuid[]) WITH ORDINALITY AS e(id, ord)"""
SAME_TABLE_INSERT_ONE = """INSERT INTO wwc_events (stream_id, stream_version, event_id,
                        event_type, schema_version, data, metadata, recorded_at, prev_hash, hash)
VALUES ($1, $2 + 1, $3, $4, 1, $5::jsonb, '{}', now(), '\\x00', '\\x00')"""
MINIMAL_INSERT = """INSERT INTO bench_minimal (stream_id, stream_version, event_id, event_type,
                                               data)
SELECT $1, $2 + e.ord::int, e.id, $4, $5::jsonb
  FROM unnest($3::uuid[]) WITH ORDINALITY AS e(id, ord)"""
MINIMAL_INSERT_ONE = """INSERT INTO bench_minimal (stream_id, stream_version, event_id,
                                                   event_type, data)
VALUES ($1, $2 + 1, $3, $4, $5::jsonb)"""


ROUNDS = 5
_next_offset: dict[Callable[[int, int], Awaitable[None]], int] = {}


async def rate(total_ops: int, writers: int, op: Callable[[int, int], Awaitable[None]]) -> float:
    """Run about `total_ops` calls of op(writer, i) over `writers` concurrent tasks, at least
    one each (a small --appends split over rounds and 16 writers leaves less than one);
    ops/second over the calls actually made."""
    per_writer = max(1, total_ops // writers)
    offset = _next_offset.get(op, 0)  # a stream continues where its last round ended
    _next_offset[op] = offset + per_writer

    async def run(w: int) -> None:
        for i in range(offset, offset + per_writer):
            await op(w, i)

    started = time.perf_counter()
    await asyncio.gather(*(run(w) for w in range(writers)))
    return per_writer * writers / (time.perf_counter() - started)


AppendRow = tuple[str, float, float, float, float]


async def append_rates(pool: asyncpg.Pool[Any], bare_pool: asyncpg.Pool[Any],
                       ops: int) -> list[AppendRow]:
    """(label, ours, INSERT same table, INSERT minimal table, COPY) in events/s."""
    warm = PostgresEventStore(pool)
    cold = PostgresEventStore(pool, remember_heads=False)
    await pool.execute(MINIMAL_TABLE)
    payload = {"on": "2024-01-01", "reviewer": "r"}
    # Bare asyncpg with its default codecs: jsonb travels as the JSON text itself.
    raw_payload = json.dumps(payload)
    kind = "review.reviewer_assigned"
    rows: list[AppendRow] = []
    for batch, store, label in [(1, warm, "1-event"), (1, cold, "1-event, cold head"),
                                (10, warm, "10-event")]:
        for writers in (1, 4, 16):
            tag = uuid.uuid4().hex[:6]

            async def ours(w: int, i: int, batch: int = batch, tag: str = tag,
                           store: PostgresEventStore = store) -> None:
                events = [NewEvent(event_id=uuid.uuid4(), event_type=kind, schema_version=1,
                                   data=payload) for _ in range(batch)]
                await store.append(f"bench/{tag}/{w}", i * batch, events)

            def plain_insert(one: str, many: str, prefix: str, batch: int = batch,
                             tag: str = tag) -> Callable[[int, int], Awaitable[None]]:
                async def insert(w: int, i: int) -> None:
                    # One statement is one transaction: the cheapest way to commit a batch.
                    if batch == 1:
                        await bare_pool.execute(one, f"{prefix}/{tag}/{w}", i, uuid.uuid4(),
                                                kind, raw_payload)
                    else:
                        await bare_pool.execute(many, f"{prefix}/{tag}/{w}", i * batch,
                                                [uuid.uuid4() for _ in range(batch)], kind,
                                                raw_payload)
                return insert

            insert_same = plain_insert(SAME_TABLE_INSERT_ONE, SAME_TABLE_INSERT, "same")
            insert_minimal = plain_insert(MINIMAL_INSERT_ONE, MINIMAL_INSERT, "min")

            async def bare_copy(w: int, i: int, batch: int = batch, tag: str = tag) -> None:
                records = [(f"copy/{tag}/{w}", i * batch + k + 1, uuid.uuid4(), kind,
                            raw_payload) for k in range(batch)]
                async with bare_pool.acquire() as conn:
                    await conn.copy_records_to_table(
                        "bench_minimal", records=records,
                        columns=["stream_id", "stream_version", "event_id", "event_type",
                                 "data"])

            n = ops if batch == 1 else ops // 4
            # Interleaved rounds, median of each: the machine's commit latency drifts.
            ops_by_name = {"ours": ours, "same": insert_same, "minimal": insert_minimal,
                           "copy": bare_copy}
            # Each round starts with the next contender, so none always runs first after
            # a checkpoint (when the first touch of each page is written in full).
            samples: dict[str, list[float]] = {name: [] for name in ops_by_name}
            order = list(ops_by_name)
            for r in range(ROUNDS):
                for name in order[r % len(order):] + order[:r % len(order)]:
                    samples[name].append(await rate(n // ROUNDS, writers, ops_by_name[name])
                                         * batch)
            median = {name: statistics.median(values) for name, values in samples.items()}
            rows.append((f"append {label}, {writers:>2} writers", median["ours"],
                         median["same"], median["minimal"], median["copy"]))
    return rows


async def catch_up_rate(pool: asyncpg.Pool[Any]) -> tuple[float, float, int]:
    """Best of two interleaved passes each (the first pass also warms the cache)."""
    ours_rates, raw_rates, count = [], [], 0
    for _ in range(2):
        started, cursor, count = time.perf_counter(), START, 0
        while page := await fetch_log_page(pool, cursor, 5000):
            count += len(page)
            cursor = page[-1].cursor
        ours_rates.append(count / (time.perf_counter() - started))
        # The ceiling: paging by position alone, raw rows, no gap-free horizon, no records.
        started, last, raw = time.perf_counter(), 0, 0
        while rows := await pool.fetch(
                "SELECT position, tx_id, stream_id, stream_version, event_id, event_type, "
                "schema_version, data, metadata, recorded_at FROM wwc_events "
                "WHERE position > $1 ORDER BY position LIMIT 5000", last):
            raw += len(rows)
            last = rows[-1]["position"]
        raw_rates.append(raw / (time.perf_counter() - started))
    return max(ours_rates), max(raw_rates), count


async def stream_latency(pool: asyncpg.Pool[Any], cities: int,
                         samples: int = 1000) -> tuple[list[float], list[float]]:
    store = PostgresEventStore(pool)
    picks = [city_stream(f"us-bench-{random.randrange(cities)}") for _ in range(samples)]
    ours, bare = [], []
    for stream in picks:
        t = time.perf_counter()
        events = await store.read_stream(stream)
        ours.append(time.perf_counter() - t)
        assert len(events) == EVENTS_PER_CITY
        t = time.perf_counter()
        await pool.fetch("SELECT * FROM wwc_events WHERE stream_id = $1 "
                         "ORDER BY stream_version", stream)
        bare.append(time.perf_counter() - t)
    return ours, bare


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


async def main(args: argparse.Namespace) -> None:
    external = os.environ.get("WWC_BENCH_DATABASE_URL")
    tmp = Path(tempfile.mkdtemp(prefix="wwc-bench-"))
    admin = external or embedded_server_url(tmp / "pg")
    name = f"wwc_bench_{uuid.uuid4().hex[:8]}"
    url = await migrated_database(admin, name)
    try:
        pool = await create_pool(url, size=20)
        cities = max(1, args.events // EVENTS_PER_CITY)  # the stream reads need one city
        print(f"filling a log of {cities * EVENTS_PER_CITY:,} events "
              f"({cities:,} cities x {EVENTS_PER_CITY})", flush=True)
        seconds = await fill(pool, cities, writers=4)
        print(f"  done in {seconds:.0f} s; vacuum and checkpoint, so neither runs during the "
              "measurements\n", flush=True)
        await pool.execute("VACUUM (ANALYZE) wwc_events")
        try:
            await pool.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError:
            print("  (no CHECKPOINT: the role lacks pg_checkpoint; figures may be noisier)")

        print("appends, events/s. Ceilings, bare asyncpg, one statement per transaction: "
              "INSERT of the same row into\nwwc_events (the target's ceiling), INSERT into "
              "a one-index table, COPY into that table.")
        print(f"{'figure':<44}{'ours':>9}{'INSERT':>9}{'ratio':>7}{'minimal':>9}{'ratio':>7}"
              f"{'COPY':>9}{'ratio':>7}")
        # Bare asyncpg, pooled the way ours is (no reset round trip on release), so the
        # ratio compares what each side sends, not how its connections are managed.
        bare_pool = await asyncpg.create_pool(url, min_size=1, max_size=20, reset=keep_session)
        assert bare_pool is not None
        for label, ours, same, minimal, copy in await append_rates(pool, bare_pool,
                                                                   args.appends):
            print(f"{label:<44}{ours:>9,.0f}{same:>9,.0f}{ours / same:>7.2f}"
                  f"{minimal:>9,.0f}{ours / minimal:>7.2f}{copy:>9,.0f}{ours / copy:>7.2f}",
                  flush=True)

        ours, raw, count = await catch_up_rate(pool)
        print(f"{'catch-up read, gap-free (events/s)':<44}{ours:>12,.0f}{raw:>12,.0f}"
              f"{ours / raw:>8.2f}   (ceiling: raw rows paged by position)")

        keeper = projector(pool)
        started = time.perf_counter()
        rebuilt = sum([await keeper.rebuild(n) for n in ("registry", "pipeline")])
        rebuild_rate = rebuilt / (time.perf_counter() - started)
        print(f"{'projection rebuild, registry+pipeline (ev/s)':<44}{rebuild_rate:>12,.0f}"
              f"{ours:>12,.0f}{rebuild_rate / ours:>8.2f}   (ceiling: gap-free read alone; "
              f"{rebuilt:,} events applied)")

        ours_lat, bare_lat = await stream_latency(pool, cities)
        for q in (50, 99):
            a, b = pct(ours_lat, q), pct(bare_lat, q)
            print(f"{f'stream read p{q}, 100 of {count:,} events (ms)':<44}{a:>12.2f}{b:>12.2f}"
                  f"{a / b:>8.2f}   (ceiling: bare asyncpg fetch)")
        await pool.close()
        await bare_pool.close()
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
        if not external:
            stop_embedded_server(tmp / "pg")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000,
                        help="size of the log to fill first (default 1,000,000)")
    parser.add_argument("--appends", type=int, default=20_000,
                        help="single-event appends per configuration, over 5 rounds "
                             "(default 20,000; 10-event batches do a quarter as many)")
    asyncio.run(main(parser.parse_args()))
