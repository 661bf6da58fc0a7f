"""`wwc stats`: the program in numbers as of a day, the figures the operators' page
`/portal/numbers` and `GET /api/stats` show (`infra/readside/numbers.py`), as aligned
tables or, with --json, one JSON object (each chart a list of rows, as its CSV file)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra.cli.common import JsonOption, async_command, cell, cli_settings, echo_json
from infra.platform.clockfile import program_today
from infra.postgres.service_database import open_pool
from infra.readside.numbers import CHARTS, Chart, ProgramNumbers, as_of_day
from infra.readside.numbers_reader import READ_MODELS, numbers_as_of
from infra.readside.projections import projector

TITLES: dict[Chart, str] = {
    "certified": "Certified cities at the end of each quarter, by tier",
    "stages": "Applications in each stage at the end of each quarter",
    "durations": "Days between the steps of an application (median and 90th percentile, "
                 "nearest rank)",
    "reviewers": "Reviewer load and review deadlines",
    "deadlines": "Deadlines met, missed and pending",
    "renewals": "Renewals due within a year, by month of expiry",
}


@async_command
async def stats_command(
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="YYYY-MM-DD",
        help="The figures as they stood at the end of this day (default: the program's "
             "today; a later day is refused).")] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """The program in numbers: certified cities and applications by stage at each
    quarter's end, days between an application's steps (median and 90th percentile),
    reviewer load and deadlines met or missed, renewals due within a year. The same
    figures as the portal's /portal/numbers and GET /api/stats."""
    settings = cli_settings()
    day = as_of_day(as_of, program_today(settings.data_dir), field="--as-of")
    async with open_pool(settings) as pool:
        read_models = projector(pool)
        for name in READ_MODELS:
            await read_models.catch_up(name)
        figures = await numbers_as_of(pool, day)
    if as_json:
        echo_json(figures.model_dump(mode="json"))
        return
    print_numbers(Console(), figures)


def print_numbers(console: Console, figures: ProgramNumbers) -> None:
    """Each chart as a table: its fields as columns, numbers aligned on the right."""
    console.print(f"The program in numbers as of {figures.as_of}")
    for chart in CHARTS:
        columns, rows = figures.table(chart)
        table = Table(title=TITLES[chart], box=box.SIMPLE, pad_edge=False,
                      title_justify="left", collapse_padding=True)
        numeric = [all(isinstance(row[i], int | None) for row in rows) and bool(rows)
                   for i in range(len(columns))]
        # The first column (a day, a month, a step, a reviewer) is never cut short; the
        # figures' headings wrap between words, and a long one within a word.
        first = max((len(str(_shown(row[0]))) for row in rows), default=0)
        for index, (name, right) in enumerate(zip(columns, numeric, strict=True)):
            table.add_column(name.replace("_", " "), justify="right" if right else "left",
                             no_wrap=index == 0, min_width=first if index == 0 else None,
                             overflow="fold")
        for row in rows:
            table.add_row(*(_shown(value) for value in row))
        console.print(table)
        if chart == "renewals" and figures.held_past_expiry:
            console.print(f"{figures.held_past_expiry:,} held past their expiry while their "
                          "renewal is decided")


def _shown(value: object) -> str | Text:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    return cell(value)  # a reviewer's address: stored text, never Rich markup
