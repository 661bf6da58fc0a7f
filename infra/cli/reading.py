"""Reading the program: a city's live status, the registry, a city's event history, its
report, and registry exports. Lists read the projections (brought up to date first);
history and reports read the event store itself."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from domain import events
from domain.report import Report
from domain.streams import DRAFT_STREAM_PREFIX, city_stream
from infra.bootstrap import open_program
from infra.cli.common import (
    JsonOption,
    async_command,
    cell,
    city_key_arg,
    cli_settings,
    echo_json,
    json_safe,
    print_view,
    shown,
)
from infra.eventstore.mapper import current_data, decode
from infra.ops.service_health import service_health
from infra.platform.clockfile import program_today
from infra.platform.errors import NotFound, Unavailable, UsageError
from infra.postgres.eventstore import PostgresEventStore
from infra.postgres.service_database import open_pool
from infra.readside import queries
from infra.readside.as_of import certified_as_of, city_as_of
from infra.readside.history import city_records, summarize
from infra.readside.numbers import as_of_day
from infra.readside.projections import projector
from infra.readside.report_formats import report_json, report_markdown
from infra.readside.rows import RegistryRow
from infra.standards.folder import StandardsFolder

City = Annotated[str, typer.Argument(help="City key, e.g. us-boston-ma.",
                                     callback=city_key_arg)]
export_app = typer.Typer(help="Export read models.", no_args_is_help=True)

REGISTRY_COLUMNS = ("city_key", "name", "country", "status", "tier", "standard_id",
                    "cohort_id", "awarded_on", "expires_on", "last_outcome",
                    "last_decision_tier", "last_percent", "honor_roll", "applications")


@async_command
async def status_command(
    city: Annotated[str | None, typer.Argument(
        help="City key, e.g. us-boston-ma (see `wwc list`).", callback=lambda v: (
            city_key_arg(v) if v else None))] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The city as it stood at the end of this day (YYYY-MM-DD), from "
                        "its event log.")] = None,
    service: Annotated[bool, typer.Option(
        "--service", help="The service instead: `wwc up`, PostgreSQL, Temporal, the "
                          "worker, the API, each read model's lag (exit 5 if a part is "
                          "down).")] = False,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """The city's live state, from its workflow (or as of a past day, from its events);
    with --service, the service's own health."""
    if service:
        await _service_status(as_json)
        return
    if city is None:
        raise UsageError("give a city key, or --service")
    if as_of is not None:
        day = _date_option("--as-of", as_of)
        async with open_pool(cli_settings()) as pool:
            print_view(await city_as_of(PostgresEventStore(pool), city, day), as_json)
        return
    async with open_program(cli_settings()) as program:
        print_view(await program.view(city), as_json, program.program_today())


async def _service_status(as_json: bool) -> None:
    """Each part as it is (nothing is started to answer); exit 5 when one is down. The
    operator standard files skipped are listed too (they leave the service running)."""
    settings = cli_settings()
    health = await service_health(settings)
    skipped = StandardsFolder(settings.effective_standards_dir).problems()
    if as_json:
        echo_json({**health.as_json(), "standards": [p.model_dump() for p in skipped]})
    else:
        typer.echo(f"{'wwc up:':<12} " + (f"running (pid {health.up_pid})"
                                          if health.up_pid else "not running"))
        for name, part in health.parts().items():
            typer.echo(f"{name + ':':<12} {part.state}  {shown(part.detail)}")
        for name, lag in health.lag.items():
            typer.echo(f"  read model {name:<12} {lag:>8,} events behind")
        for problem in skipped:
            typer.echo(f"  standard file skipped: {shown(problem.file)}: "
                       f"{shown(problem.problem)}")
    if not health.ok:
        down = [name for name, part in health.parts().items() if not part.ok]
        raise Unavailable(f"not running as it should: {', '.join(down)}")


def _date_option(flag: str, value: str) -> date:
    """The day asked for, refused as `wwc stats` and the API refuse it (exit 3)."""
    return as_of_day(value, program_today(cli_settings().data_dir), field=flag)


async def _fresh_registry(**filters: Any) -> list[RegistryRow]:
    async with open_pool(cli_settings()) as pool:
        await projector(pool).catch_up_all()
        return await queries.registry(pool, **filters)


@async_command
async def list_command(
    status: Annotated[str | None, typer.Option(help="e.g. certified, renewal_due, lapsed.")] = None,
    tier: Annotated[str | None, typer.Option(help="silver, gold, platinum or none.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO code, e.g. BR.")] = None,
    expiring_before: Annotated[str | None, typer.Option(
        help="Only certifications expiring before this date (YYYY-MM-DD).")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Who was certified at the end of this day (YYYY-MM-DD), at which "
                        "tier, until when.")] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """The certification registry, filtered (or the certified cities as of a day)."""
    if as_of is not None:
        day = _date_option("--as-of", as_of)
        async with open_pool(cli_settings()) as pool:
            held = await certified_as_of(pool, day, tier=tier, country=country,
                                         limit=100_000)
        if as_json:
            echo_json([row.model_dump() for row in held])
            return
        table = Table("City (key)", "Tier", "Since", "Until", "Cohort", box=box.SIMPLE,
                      title=f"Certified on {day} ({len(held)} cities)", pad_edge=False)
        for row in held:
            table.add_row(cell(row.city_key), row.tier, str(row.awarded_on),
                          str(row.expires_on), cell(row.cohort_id))
        Console().print(table)
        return
    before = None
    if expiring_before:
        try:
            before = date.fromisoformat(expiring_before)
        except ValueError:
            raise UsageError(f"--expiring-before {expiring_before!r} is not a date "
                             "(YYYY-MM-DD)") from None
    rows = await _fresh_registry(status=status, tier=tier, country=country,
                                 expiring_before=before)
    if as_json:
        echo_json([exported(row) for row in rows])
        return
    print_registry(Console(), rows)


def exported(row: RegistryRow) -> dict[str, object]:
    """A registry row as `wwc list --json` and `wwc export registry` give it: the
    REGISTRY_COLUMNS, in their order."""
    return {column: getattr(row, column) for column in REGISTRY_COLUMNS}


def print_registry(console: Console, rows: list[RegistryRow]) -> None:
    # Compact on purpose: it must stay readable in an 80-column terminal.
    table = Table("City (key)", "Tier", "Status", "Expires", "Last outcome", box=box.SIMPLE,
                  title=f"Registry ({len(rows)} cities)", pad_edge=False)
    for row in rows:
        table.add_row(cell(row.city_key), row.tier, row.status.replace("_", " "),
                      str(row.expires_on or ""), (row.last_outcome or "").replace("_", " "))
    console.print(table)


@async_command
async def history_command(city: City, as_json: Annotated[bool, JsonOption] = False) -> None:
    """The city's domain events as a timeline, with the Temporal workflow and run ids."""
    async with open_pool(cli_settings()) as pool:
        timeline = await city_records(PostgresEventStore(pool), city)
    if not timeline:
        raise NotFound(f"no events for city {city!r} (has it joined?)")
    if as_json:
        echo_json([{"stream": ev.stream_id, "version": ev.stream_version, "position": ev.position,
                    "type": ev.event_type, "date": current_data(ev).get("on"),
                    "data": current_data(ev), "metadata": ev.metadata,
                    "recorded_at": ev.recorded_at.isoformat()} for ev in timeline])
        return
    runs = list(dict.fromkeys(ev.metadata.get("run_id", "") for ev in timeline))
    console = Console()
    table = Table("v", "Date", "Event", "Details", "Run", title=f"{city_stream(city)}")
    for ev in timeline:
        run_id = ev.metadata.get("run_id", "")
        draft = ev.stream_id.startswith(DRAFT_STREAM_PREFIX)
        table.add_row(f"{'draft ' if draft else ''}{ev.stream_version}",
                      str(current_data(ev).get("on", "")),
                      ev.event_type, cell(summarize(ev)),
                      f"{runs.index(run_id) + 1}" if run_id else "")
    console.print(table)
    console.print(f"Temporal workflow id: {city_stream(city)}")
    for index, run_id in enumerate(r for r in runs if r):
        console.print(f"  run {index + 1}: {run_id}")
    console.print(f"Open one with: temporal workflow show --workflow-id {city_stream(city)} "
                  "--run-id RUN_ID (add --address HOST:PORT; `wwc up` prints it)")


async def _latest_report(city: str) -> tuple[Report, str]:
    async with open_pool(cli_settings()) as pool:
        stream = [decode(ev) for ev in
                  await PostgresEventStore(pool).read_stream(city_stream(city))]
    decided = [ev for ev in stream if isinstance(ev, events.CertificationDecided)]
    joined = [ev for ev in stream if isinstance(ev, events.CityJoined)]
    if not decided:
        raise NotFound(f"city {city!r} has no decision yet, so no report")
    return decided[-1].report, joined[-1].name if joined else city


@async_command
async def report_command(
    city: City,
    html_file: Annotated[Path | None, typer.Option(
        "--html", help="Also write an HTML report with a per-practice chart to this file.")] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """The customised report of the city's latest decision (Markdown on stdout)."""
    report, stored_name = await _latest_report(city)
    name = shown(stored_name)
    standard = StandardsFolder(cli_settings().effective_standards_dir).load()[
        report.score.standard]
    if as_json:
        echo_json(report_json(report))
    else:
        typer.echo(report_markdown(standard, report, city=name))
    if html_file is not None:
        html_file.write_text(report_html(report_markdown(standard, report, city=name), report))
        typer.echo(f"wrote {html_file}", err=True)


def report_html(markdown: str, report: Report) -> str:
    """A self-contained page: the report's text and an SVG bar chart of criteria met per
    practice (no script, no external asset)."""
    bars = []
    width = 420
    for index, practice in enumerate(report.score.practices):
        y = 10 + index * 28
        share = practice.met / practice.total if practice.total else 0.0
        bars.append(
            f'<text x="0" y="{y + 14}" font-size="12">{html.escape(practice.name)}</text>'
            f'<rect x="230" y="{y}" width="{width * 0.45:.0f}" height="18" fill="#e5e7eb"/>'
            f'<rect x="230" y="{y}" width="{width * 0.45 * share:.0f}" height="18" '
            f'fill="#2563eb"/><text x="{236 + width * 0.45:.0f}" y="{y + 14}" font-size="12">'
            f'{practice.met}/{practice.total}</text>')
    height = 20 + 28 * len(report.score.practices)
    chart = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 60}" height="{height}" '
             f'role="img" aria-label="Criteria met per practice">{"".join(bars)}</svg>')
    body = []
    for line in markdown.splitlines():
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
            if line == "## Criteria met per practice":
                body.append(chart)
        elif line.startswith("- "):
            body.append(f"<li>{_inline_html(line[2:])}</li>")
        elif line.startswith("|") or not line.strip():
            continue
        else:
            body.append(f"<p>{_inline_html(line)}</p>")
    return ("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Data-practice "
            "report</title><body style=\"font-family: sans-serif; max-width: 48em; "
            f"margin: 2em auto\">{''.join(body)}</body></html>\n")


def _inline_html(text: str) -> str:
    """The report's inline Markdown as HTML: `code` and **strong** (escaped first, so
    nothing a city typed becomes markup)."""
    escaped = html.escape(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)


@export_app.command("registry")
@async_command
async def export_registry_command(
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    output: Annotated[Path | None, typer.Option(help="File to write (default stdout).")] = None,
) -> None:
    """Export the certification registry as CSV or JSON."""
    if fmt not in ("csv", "json"):
        raise UsageError(f"--format must be csv or json, not {fmt!r}")
    rows = [exported(row) for row in await _fresh_registry()]
    if fmt == "json":
        text = json_safe(json.dumps(rows, indent=2, default=str, ensure_ascii=False)) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=REGISTRY_COLUMNS)
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
        text = buffer.getvalue()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {len(rows)} cities to {output}", err=True)


# A spreadsheet runs a cell that starts with one of these as a formula
# (`=HYPERLINK(...)`, `@SUM(...)`); a tab or carriage return first hides it behind one.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A registry value for a CSV cell: stored text with its control characters escaped,
    and a leading apostrophe where a spreadsheet would take it for a formula (the
    OWASP advice). Numbers and dates are left as they are."""
    if not isinstance(value, str):
        return value
    text = shown(value)
    return f"'{text}" if value.startswith(_FORMULA_STARTS) else text


@async_command
async def cohorts_command(as_json: Annotated[bool, JsonOption] = False) -> None:
    """Cohorts and the cities announced in them."""
    async with open_pool(cli_settings()) as pool:
        await projector(pool).catch_up("cohorts")
        cohorts = await queries.cohorts(pool)
    if as_json:
        echo_json([cohort.model_dump() for cohort in cohorts])
        return
    for cohort in cohorts:
        when = cohort.announced_on or f"due {cohort.announce_on}"
        typer.echo(f"{cohort.cohort_id} ({when}): " + (", ".join(
            f"{shown(c.name)} [{c.tier}]" for c in cohort.cities) or "no cities"))
