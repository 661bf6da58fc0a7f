"""Lifecycle benchmark: N cities through the whole lifecycle on the embedded stack (a
throwaway Temporal dev server and PostgreSQL), beside a bare workflow with the same number
of updates, activities and timers measured in the same run, and beside the same lifecycles
with payloads not sealed (no payload codec), for the codec's cost.

    .venv/bin/python -m bench.lifecycle --cities 1000
    .venv/bin/python -m bench.lifecycle --cities 100 --criteria 22   # quicker

A lifecycle: join, submit, assign a reviewer, the review sheet (one event per claimed
criterion), complete the review, decide, announcement in a cohort, two renewal reminders
and the expiry (durable timers on a compressed program clock). Not part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from temporalio.client import Client
from temporalio.common import HeaderCodecBehavior
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.args import positive_int
from bench.bare import BareWorkflow, bare_noop
from domain import accounts, commands
from domain.answers import Answers, CriterionAnswer
from domain.clock import ProgramClock
from infra.application import ProgramService
from infra.identity.directory import AccountDirectory
from infra.identity.reviewers import ReadModelReviewers
from infra.platform.config import Settings
from infra.platform.logs import configure_logging
from infra.postgres.db import create_pool, embedded_server_url, stop_embedded_server
from infra.postgres.eventstore import PostgresEventStore
from infra.postgres.migrate import migrated_database
from infra.readside.announcements import ReadModelAwaitingAnnouncement
from infra.standards.folder import StandardsFolder, load_catalog
from infra.temporal.codec import SealedPayloadConverter, sealed_data_converter
from infra.temporal.environment import search_attribute_keys, temporal_binary
from infra.temporal.headers import ClientActorInterceptor
from infra.temporal.keys import new_key_line, parse_keys
from infra.temporal.worker import build_worker, workflow_runner
from workflows.actors import SERVER_OPERATOR

IN_FLIGHT = 64
REVIEWER = "bench@review.test"


async def city_lifecycle(ops: ProgramService, n: int, claimed: Answers, label: str = "") -> None:
    # The label keeps each run's cities apart: a city's workflow outlives its lapse.
    view = await ops.join(commands.JoinNetwork(name=f"Bench City {label} {n}".replace("  ", " "),
                                               country="US", population=100_000))
    key = view.city_key
    assert key is not None
    await ops.send(key, commands.SubmitAssessment(answers=claimed))
    await ops.send(key, commands.AssignReviewer(reviewer=REVIEWER))
    await ops.send(key, commands.RecordReviews(reviews=tuple(
        commands.RecordCriterionReview(code=code, met=True) for code in claimed.criteria)))
    await ops.send(key, commands.CompleteReview())
    await ops.send(key, commands.Decide())


async def run_cities(ops: ProgramService, cities: int, criteria: int, pool: asyncpg.Pool,
                     cohort: str, in_flight: int = IN_FLIGHT) -> float:
    standard = load_catalog()["wwc-2022"]
    claimed = Answers(criteria={code: CriterionAnswer(met=True, evidence=("https://x",))
                                for code in standard.codes[:criteria]},
                      outcomes={"broadband": True})
    gate = asyncio.Semaphore(in_flight)
    started = time.perf_counter()

    async def one(n: int) -> None:
        async with gate:
            await city_lifecycle(ops, n, claimed, cohort)

    await asyncio.gather(*(one(n) for n in range(cities)))
    print(f"  {cities} cities decided after {time.perf_counter() - started:.1f} s", flush=True)
    # One cohort announces every certified decision not yet announced, as the program
    # does. (Three cohorts announced at once each asked every awaiting city: 900 signals,
    # 600 of them refused as already announced; that was most of the announcement's time.)
    announcing = datetime.now(UTC)
    decided = time.perf_counter()
    await ops.create_cohort(commands.CreateCohort(
        cohort_id=cohort, announce_on=ops.program_today() + timedelta(days=3650)))
    result = await ops.announce_cohort(cohort)
    assert len(result.cities) == cities, result.skipped
    print(f"  a cohort of {cities} announced after {time.perf_counter() - started:.1f} s "
          f"({time.perf_counter() - decided:.1f} s for the announcement)", flush=True)
    # Reminders and expiry come from the durable timers; wait for every lapse.
    while True:
        lapsed = await pool.fetchval(
            "SELECT count(*) FROM wwc_events WHERE event_type = 'certification.lapsed'")
        if lapsed >= cities:
            break
        await asyncio.sleep(0.2)
    await print_announcement_phases(pool, announcing)
    return time.perf_counter() - started


async def print_announcement_phases(pool: asyncpg.Pool, since: datetime) -> None:
    """Where the announcement's seconds went, from the events' own times: the cities'
    announcements, the cohorts' records, and the renewal work that follows each city."""
    rows = await pool.fetch(
        "SELECT event_type, min(recorded_at) AS first, max(recorded_at) AS last, count(*) "
        "FROM wwc_events WHERE recorded_at >= $1 GROUP BY event_type ORDER BY 2", since)
    print("  after the announcements were asked for (s):")
    for row in rows:
        first = (row["first"] - since).total_seconds()
        last = (row["last"] - since).total_seconds()
        print(f"    {row['event_type']:<40}{row['count']:>6}  from {first:6.1f} to {last:6.1f}")


async def run_bare(client: Client, task_queue: str, count: int, shape: list[int],
                   in_flight: int = IN_FLIGHT) -> float:
    gate = asyncio.Semaphore(in_flight)
    started = time.perf_counter()

    async def one(n: int) -> None:
        async with gate:
            handle = await client.start_workflow(BareWorkflow.run, shape,
                                                 id=f"bare-{uuid.uuid4().hex}",
                                                 task_queue=task_queue)
            for _ in range(shape[0]):
                await handle.execute_update(BareWorkflow.step)
            await handle.result()

    await asyncio.gather(*(one(n) for n in range(count)))
    return time.perf_counter() - started


def service_client(client: Client, data_converter: DataConverter,
                   headers: HeaderCodecBehavior) -> Client:
    """The environment's connection as the service makes one: the actor's header on every
    update, payloads through `data_converter`."""
    config = client.config()
    config["data_converter"] = data_converter
    config["header_codec_behavior"] = headers
    config["interceptors"] = [ClientActorInterceptor()]
    return Client(**config)


async def run_service(client: Client, name: str, url: str, tmp: Path,
                      args: argparse.Namespace) -> tuple[float, int, int, list[asyncpg.Record]]:
    """The cities' lifecycles on a database of their own and a task queue of their own:
    seconds, events, city events and the events by type."""
    pool = await create_pool(await migrated_database(url, name), size=20)
    settings = Settings(database_url=url, data_dir=tmp, task_queue=name, db_pool_size=20)
    await AccountDirectory(pool).create(accounts.CreateAccount(
        email=REVIEWER, display_name="Bench reviewer", role=accounts.Role.REVIEWER), None,
        SERVER_OPERATOR, date(2023, 1, 1))
    # One program day per real millisecond: the three years after an announcement (two
    # reminders, then the expiry) pass in about a second.
    clock = ProgramClock.compressed(datetime.now(UTC), date(2023, 1, 2), speed=86_400_000)
    ops = ProgramService(client, name, catalog=load_catalog(), clock=clock)
    try:
        async with build_worker(client, task_queue=name, store=PostgresEventStore(pool),
                                awaiting=ReadModelAwaitingAnnouncement(pool),
                                standards=StandardsFolder(settings.effective_standards_dir),
                                reviewers=ReadModelReviewers(pool),
                                max_concurrent_activities=settings.db_pool_size):
            print(f"running {args.cities} city lifecycles ({args.criteria} criteria each), "
                  f"{name}", flush=True)
            seconds = await run_cities(ops, args.cities, args.criteria, pool, name,
                                       args.in_flight)
        events = await pool.fetchval("SELECT count(*) FROM wwc_events "
                                     "WHERE stream_id NOT LIKE 'account/%'")
        city_events = await pool.fetchval(
            "SELECT count(*) FROM wwc_events WHERE stream_id LIKE 'city/%'")
        kinds = await pool.fetch("SELECT event_type, count(*) FROM wwc_events "
                                 "GROUP BY event_type ORDER BY 2 DESC")
        return seconds, events, city_events, list(kinds)
    finally:
        await pool.close()


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="wwc-bench-"))
    url = embedded_server_url(tmp / "pg")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(), search_attributes=search_attribute_keys(),
        dev_server_log_level="error")
    keys = parse_keys(new_key_line("bench"), source="bench")
    sealed = service_client(env.client, sealed_data_converter(keys), HeaderCodecBehavior.CODEC)
    plain = service_client(env.client, DataConverter(
        payload_converter_class=SealedPayloadConverter), HeaderCodecBehavior.NO_CODEC)
    try:
        # Rounds of the same lifecycles sealed and without the codec, in alternating order
        # (so neither always runs on a warmer server), each on its own database and task
        # queue; the codec's cost is the median of the rounds' ratios, since a machine
        # shared with other work can slow one run of a pair by more than the codec costs.
        sealed_seconds: list[float] = []
        plain_seconds: list[float] = []
        first: tuple[float, int, int, list[asyncpg.Record]] | None = None
        for round_ in range(args.rounds):
            pair = [("sealed", sealed, sealed_seconds), ("plain", plain, plain_seconds)]
            for label, client, times in (pair if round_ % 2 == 0 else pair[::-1]):
                result = await run_service(client, f"{label}{round_}", url, tmp, args)
                times.append(result[0])
                if label == "sealed" and first is None:
                    first = result
        assert first is not None
        seconds, events, city_events, kinds = first
        updates = 6  # join, submit, assign, review sheet, complete, decide
        per_city = city_events / args.cities
        # Activities per city: one append per update, announcement and timer, the score,
        # two reminder notifications and a lapse one, continue-as-new's catalog (twice),
        # the reviewer's standing.
        shape = [updates, updates + 1 + 3 + 1 + 3 + 2 + 1, 3]
        async with Worker(env.client, task_queue="bare", workflows=[BareWorkflow],
                          activities=[bare_noop], workflow_runner=workflow_runner(),
                          max_concurrent_activities=20):
            print(f"running {args.cities} bare workflows ({shape[0]} updates, {shape[1]} "
                  f"activities, {shape[2]} timers each), regular then local activities",
                  flush=True)
            bare = await run_bare(env.client, "bare", args.cities, [*shape, 0],
                                  args.in_flight)
            bare_local = await run_bare(env.client, "bare", args.cities, [*shape, 1],
                                        args.in_flight)
        print()
        print(f"{'figure':<34}{'ours':>10}{'bare':>10}{'ratio':>8}"
              f"{'bare, local':>13}{'ratio':>8}")
        print(f"{'lifecycles per second':<34}{args.cities / seconds:>10.2f}"
              f"{args.cities / bare:>10.2f}{bare / seconds:>8.2f}"
              f"{args.cities / bare_local:>13.2f}{bare_local / seconds:>8.2f}")
        print(f"{'events per second':<34}{events / seconds:>10.1f}"
              f"   ({events:,} events, {per_city:.0f} per city)")
        print(f"{'wall time (s)':<34}{seconds:>10.1f}{bare:>10.1f}{'':>8}{bare_local:>13.1f}")
        print()
        costs = [s / p - 1 for s, p in zip(sealed_seconds, plain_seconds, strict=True)]
        print(f"{'payload codec, by round':<34}{'sealed':>10}{'plain':>10}{'cost':>8}")
        for round_, (s_, p_, cost) in enumerate(zip(sealed_seconds, plain_seconds, costs,
                                                    strict=True)):
            print(f"{f'  lifecycles per second, round {round_ + 1}':<34}"
                  f"{args.cities / s_:>10.2f}{args.cities / p_:>10.2f}{cost:>8.1%}")
        print(f"{'  median':<34}{args.cities / statistics.median(sealed_seconds):>10.2f}"
              f"{args.cities / statistics.median(plain_seconds):>10.2f}"
              f"{statistics.median(costs):>8.1%}")
        print("events: " + ", ".join(f"{row['event_type']} {row['count']}" for row in kinds))
    finally:
        await env.shutdown()
        stop_embedded_server(tmp / "pg")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cities", type=positive_int, default=1000)
    parser.add_argument("--criteria", type=int, default=31, choices=range(22, 44),
                        metavar="22..43",
                        help="criteria each city claims, each reviewed (default 31: gold; "
                             "22 is the least that certifies)")
    parser.add_argument("--rounds", type=positive_int, default=1,
                        help="rounds of the lifecycles sealed and without the payload codec, "
                             "in alternating order (default 1)")
    parser.add_argument("--in-flight", type=positive_int, default=IN_FLIGHT,
                        help=f"lifecycles under way at once (default {IN_FLIGHT}; fewer on a "
                             "machine shared with other work, where 64 starve workflow tasks "
                             "past their timeout)")
    configure_logging("warning")
    asyncio.run(main(parser.parse_args()))
