"""`wwc demo`: the program's published history replayed through the real service."""

from __future__ import annotations

import asyncio
import shutil
import time
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from domain.accounts import CityToJoin, Role
from domain.rules import ProgramRules
from domain.standard import Standard
from domain.streams import city_key
from infra.bootstrap import build_program
from infra.cli.common import cli_settings
from infra.cli.progress import progress_bar
from infra.cli.reading import print_registry
from infra.mail.catcher import MailCatcher
from infra.ops.demo import (
    CohortDifference,
    DemoRun,
    Scenario,
    YearEnd,
    certified_by_year,
    compare_with_record,
    demo_clock,
    install_standards,
    load_scenario,
    record_hint,
    scenario_catalog,
)
from infra.ops.first_accounts import create_demo_accounts
from infra.ops.stack import claim_up, embedded_stack, release_up
from infra.platform.clockfile import save_clock
from infra.platform.config import Settings
from infra.platform.logs import configure_logging
from infra.postgres.db import stop_embedded_server
from infra.postgres.service_database import open_pool
from infra.readside import queries
from infra.readside.projections import projector
from infra.readside.rows import CohortRow, RegistryRow
from infra.temporal.environment import cluster_config, connect_client, stop_dev_server


def default_scenario() -> Path:
    return Path(str(resources.files("infra.ops") / "scenarios" / "wwc-history.yaml"))


def demo_command(
    scenario: Annotated[Path | None, typer.Option(
        help="Scenario file (default: the program's published history, 2017 to today).")] = None,
    days_per_second: Annotated[float | None, typer.Option(
        help="Program days per real second (default: the scenario's).")] = None,
) -> None:
    """Replay a scenario through the real service on the embedded stack, from an empty
    program in WWC_DATA_DIR; afterwards `wwc up` serves its data for inspection."""
    settings = cli_settings()
    data_dir = settings.data_dir.resolve()
    claim = claim_up(data_dir, "demo")  # refused while `wwc up` (or a demo) runs here
    try:
        _demo(settings, data_dir, scenario, days_per_second)
    finally:
        release_up(data_dir, claim)


def _demo(settings: Settings, data_dir: Path, scenario: Path | None,
          days_per_second: float | None) -> None:
    path = scenario or default_scenario()
    plan, extra = load_scenario(path)
    if days_per_second is not None:
        plan = plan.model_copy(update={"days_per_second": days_per_second})
    console = Console()
    if settings.database_url or cluster_config(settings) is not None:
        console.print("The demo always runs on the embedded stack; WWC_DATABASE_URL and "
                      "the Temporal cluster settings are ignored for it.")
    settings = settings.model_copy(update={"database_url": None, "temporal_address": None,
                                           "read_temporal_env_config": False,
                                           "data_dir": data_dir})
    configure_logging("warning", settings.log_format)
    reset_data_dir(data_dir, console)
    asyncio.run(_play(settings, plan, extra, path, console))


def reset_data_dir(data_dir: Path, console: Console) -> None:
    stop_dev_server(data_dir)
    stop_embedded_server(data_dir / "postgres")
    for name in ("postgres", "standards", "mail"):
        shutil.rmtree(data_dir / name, ignore_errors=True)
    for pattern in ("temporal.db*", "clock.json", "temporal.json"):
        for file in data_dir.glob(pattern):
            file.unlink()
    console.print(f"Starting an empty program in {data_dir}")


async def _play(settings: Settings, plan: Scenario, extra: list[Standard], path: Path,
                console: Console) -> None:
    # The demo's mail goes to a local catcher, as `wwc up`'s does (DATA_DIR/mail).
    with MailCatcher(settings.data_dir / "mail") as catcher:
        await _play_on(settings.model_copy(update={"smtp_url": catcher.url}), plan, extra,
                       path, console)


async def _play_on(settings: Settings, plan: Scenario, extra: list[Standard], path: Path,
                   console: Console) -> None:
    from infra.bootstrap import running_worker  # loaded by the command that runs it only

    started = time.monotonic()
    async with embedded_stack(settings) as stack:
        install_standards(settings.data_dir, path, plan)
        end = plan.end_date(date.today())
        clock = demo_clock(plan, end, datetime.now(UTC))
        save_clock(settings.data_dir, clock)
        client = await connect_client(stack.settings, stack.temporal_address)
        rules = ProgramRules(honor_roll_percent=plan.honor_roll_percent)
        program = build_program(stack.settings, client, catalog=scenario_catalog(extra),
                                clock=clock, rules=rules)
        run = DemoRun(program, plan, end)
        # The accounts first: each city's mail (reminders, decisions, deadlines) has
        # someone to go to, in the demo's mail catcher.
        by_key = {city_key(c.country, c.name): c for k in plan.cohorts for c in k.cities}
        cities = tuple(CityToJoin(name=by_key[key].name, country=by_key[key].country)
                       for key in sorted(by_key))
        async with open_pool(stack.settings) as pool:
            password, accounts = await create_demo_accounts(pool, stack.settings, plan.start,
                                                            cities)
        console.print(f"[bold]{plan.title}[/bold]: {plan.start} to {end}, "
                      f"{sum(len(k.cities) for k in plan.cohorts)} assessments in "
                      f"{len(plan.cohorts)} cohorts, {plan.days_per_second:g} program days a "
                      "second")
        async with running_worker(stack.settings, client):
            # The program's clock starts now, when everything is ready: started before the
            # accounts and the worker (seconds on a busy machine, months of program time),
            # it had run past the first cohorts' dates before their creation was sent.
            program.clock = demo_clock(plan, end, datetime.now(UTC))
            save_clock(settings.data_dir, program.clock)
            with progress_bar(console) as bar:
                task = bar.add_task("program", total=(end - plan.start).days)

                def on_day(day: date) -> None:
                    bar.update(task, completed=(day - plan.start).days,
                               description=f"program {day:%Y-%m}")

                await run.play(on_day)
            async with open_pool(stack.settings) as pool:
                await projector(pool).catch_up_all()
                rows = await queries.registry(pool)
                cohorts = await queries.cohorts(pool)
                counts = await queries.counts_by_tier(pool)
                periods = await pool.fetch(
                    "SELECT tier, awarded_on, ended_on FROM wwc_certification_periods")
                events = await pool.fetchval("SELECT count(*) FROM wwc_events")
                mail = await pool.fetch(
                    "SELECT kind, count(*) AS n FROM wwc_outbox GROUP BY kind ORDER BY kind")
                deadlines = await pool.fetch(
                    "SELECT data->>'kind' || ' ' || (data->>'step') AS what, count(*) AS n "
                    "FROM wwc_events WHERE event_type = 'application.deadline_reached' "
                    "GROUP BY 1 ORDER BY 1")
        years = certified_by_year(((p["tier"], p["awarded_on"], p["ended_on"])
                                   for p in periods), plan.start, end)
        _summary(console, end, rows, cohorts, counts, years, int(events), run.problems,
                 time.monotonic() - started)
        _against_the_record(console, plan, cohorts)
        _mail(console, settings.data_dir / "mail", mail, deadlines)
        _portal(console, stack.settings.http_address, password, accounts, len(cities))


def _mail(console: Console, folder: Path, mail: list[Any], deadlines: list[Any]) -> None:
    fired = ", ".join(f"{r['what']} {r['n']}" for r in deadlines) or "none"
    console.print(f"Deadlines fired along the way: {fired}.")
    table = Table("Message", "Sent", title=f"Mail (each message once, kept in {folder})")
    for row in mail:
        table.add_row(str(row["kind"]), str(row["n"]))
    console.print(table)


def _portal(console: Console, address: str, password: str,
            accounts: list[tuple[str, Role]], cities: int) -> None:
    console.print(f"\nThe portal: run `wwc up`, open http://{address}/ and sign in at "
                  f"http://{address}/sign-in with one of these demo accounts, password "
                  f"[bold]{password}[/bold] (shown this once):")
    for email, role in accounts:
        bound = f" (for all {cities} cities)" if role is Role.CITY_EDITOR else ""
        console.print(f"  {role.value.replace('_', ' '):<12} {email}{bound}")


def _summary(console: Console, end: date, rows: list[RegistryRow],
             cohorts: list[CohortRow], counts: dict[str, int],
             years: list[YearEnd], events: int, problems: list[str], seconds: float) -> None:
    console.print()
    print_registry(console, rows)
    table = Table("Cohort", "Announced", "Cities", title="Cohorts (from the event store)")
    for cohort in cohorts:
        table.add_row(cohort.cohort_id, str(cohort.announced_on or "not yet"),
                      str(cohort.city_count))
    console.print(table)
    _certified_by_year(console, years)
    tiers = ", ".join(f"{tier} {counts.get(tier, 0)}" for tier in ("platinum", "gold", "silver"))
    lapsed = sum(1 for r in rows if r.status == "lapsed")
    console.print(f"As of {end}: certified {tiers}; not certified {counts.get('none', 0)} "
                  f"(of which lapsed {lapsed}). {events:,} events recorded in "
                  f"{seconds:.0f} s.")
    certified = sum(counts.get(tier, 0) for tier in ("platinum", "gold", "silver"))
    if years and years[-1].total != certified:
        # Both are read from the event store's read models once the run has settled; a
        # step still under way (a late timer) moves one before the other is read.
        console.print(f"[yellow]note:[/yellow] the year table counts {years[-1].total} "
                      f"certified on {end}, this line {certified}: the program was still "
                      "recording steps when they were read.")
    for problem in problems:
        console.print(f"[yellow]refused:[/yellow] {problem}")
    example = next((r.city_key for r in rows if r.tier != "none"),
                   rows[0].city_key if rows else "CITY")
    console.print("\nInspect it: `wwc up` (serves this data and prints the Temporal UI, "
                  "portal and API addresses; the API's docs are at /docs), then e.g."
                  f"\n  wwc history {example}"
                  f"\n  wwc report {example}"
                  "\n  wwc list --tier gold\n  wwc verify")


def _against_the_record(console: Console, plan: Scenario, cohorts: list[CohortRow]) -> None:
    """Each cohort's announced cities against the scenario's: a busy machine can move a
    city to another cohort, and the reader should know the run is not the record. Not a
    failure of the demo (its purpose is to show the program), so no exit code of its own."""
    differences: list[CohortDifference] = compare_with_record(
        plan, {row.cohort_id: [city.city_key for city in row.cities] for row in cohorts})
    if not differences:
        console.print("Every cohort announced the cities the record gives it.")
        return
    for difference in differences:
        console.print(f"[yellow]not as recorded:[/yellow] {difference.describe()}")
    console.print(f"[yellow]{record_hint(differences, plan.days_per_second)}[/yellow]")


def _certified_by_year(console: Console, years: list[YearEnd]) -> None:
    table = Table("Year", "On", "Platinum", "Gold", "Silver", "Certified",
                  title="Certified cities at the end of each year (from the event store)")
    for year in years:
        table.add_row(str(year.year), str(year.on),
                      *(str(year.tiers[tier]) for tier in ("platinum", "gold", "silver")),
                      str(year.total))
    console.print(table)
