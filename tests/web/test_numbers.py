"""The operators' numbers in process: the small program of `tests/numbers_program.py`
recorded into the web's database so that it ends on the web's today, then the page
(`/portal/numbers`), each chart's CSV file, `GET /api/stats` and `wwc stats --json` (the
Typer command itself, on a thread: it runs its own event loop) asked for the same days.
They agree, figure by figure; an event recorded after a day changes none of that day's
figures (and does change today's); a day that is not one, or is still to come, is
refused."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from domain import commands as c
from domain.accounts import Role
from domain.streams import city_stream
from infra.cli import app as wwc
from infra.cli.common import forget_settings
from infra.i18n.formats import LocaleFormats
from infra.readside.numbers import CHARTS
from tests.factories import WWC_2022, CityDriver, answers
from tests.integration.test_projections import History
from tests.numbers_program import BASE, program
from tests.web.conftest import Web

FIGURES_DAY = date(2024, 6, 30)  # mid-program, on BASE's calendar


@dataclass
class Program:
    operator: dict[str, str]
    history: History
    shift: timedelta


@pytest.fixture(scope="module")
async def recorded(web: Web) -> Program:
    shift = web.today - BASE
    history = History(web.pool)
    for stream, events in program(shift).items():
        await history.record(stream, events)
    operator = await web.token(await web.account("ops@numbers.test", Role.OPERATOR))
    return Program(operator=operator, history=history, shift=shift)


@pytest.fixture(scope="module")
async def http(web: Web, recorded: Program) -> AsyncIterator[httpx.AsyncClient]:
    async with web.client(recorded.operator) as client:
        yield client


async def stats_json(web: Web, tmp_path: Path, *args: str) -> dict[str, Any]:
    """`wwc stats ARGS --json` against the web's database."""
    env = {"WWC_DATABASE_URL": web.services.settings.database_url or "",
           "WWC_DATA_DIR": str(tmp_path)}

    def run() -> Any:
        forget_settings()
        return CliRunner().invoke(wwc, ["stats", *args, "--json"], env=env)

    result = await asyncio.to_thread(run)
    forget_settings()
    assert result.exit_code == 0, (result.output, result.exception)
    found: dict[str, Any] = json.loads(result.output)
    return found


def csv_rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def as_text(value: Any) -> str:
    """A JSON value as a CSV cell holds it."""
    return "" if value is None else str(value)


class Tables(HTMLParser):
    """Each `data-table` table's body rows, as the cells' text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and (name := dict(attrs).get("data-table")):
            self._table = name
            self.tables[name] = []
        elif self._table and tag == "tbody":
            self._body = True
        elif self._body and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            if self._row and not self._cell:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table, self._body = None, False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def shown(value: Any, field: str, formats: LocaleFormats) -> str:
    """A JSON value as the English page writes it."""
    if value is None:
        return "—"
    if isinstance(value, int):
        return formats.number(value)
    if field == "day":
        return formats.date(date.fromisoformat(value))
    if field == "month":
        return formats.month(date.fromisoformat(f"{value}-01"))
    return str(value)


async def test_the_page_each_csv_the_api_and_the_cli_give_the_same_figures(
        web: Web, recorded: Program, http: httpx.AsyncClient, tmp_path: Path) -> None:
    day = (FIGURES_DAY + recorded.shift).isoformat()
    figures = await stats_json(web, tmp_path, "--as-of", day)
    assert figures["as_of"] == day
    api = await http.get("/api/stats", params={"as_of": day})
    assert api.status_code == 200, api.text
    assert api.json() == figures
    # Not an empty program: the figures worked out in tests/unit/test_numbers.py.
    assert figures["certified"][-1] | {"day": day} == {
        "day": day, "silver": 1, "gold": 1, "platinum": 1, "total": 3}
    assert [d["pending"] for d in figures["deadlines"]] == [1, 1]  # Tulsa's, not yet due
    page = await http.get("/portal/numbers", params={"as_of": day, "lang": "en"})
    assert page.status_code == 200, page.text
    assert f'data-as-of="{day}"' in page.text
    parsed = Tables()
    parsed.feed(page.text)
    english = LocaleFormats("en")
    for chart in CHARTS:
        answer = await http.get(f"/portal/numbers/{chart}.csv", params={"as_of": day})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        assert csv_rows(answer.text) == [{k: as_text(v) for k, v in row.items()}
                                         for row in figures[chart]], chart
        # The page's table: the same rows, written as an English reader writes them
        # (a step's and a deadline's name in words).
        table = parsed.tables[chart]
        assert len(table) == len(figures[chart]), chart
        for cells, row in zip(table, figures[chart], strict=True):
            expected = [shown(v, k, english) for k, v in row.items()]
            if chart in ("durations", "deadlines"):
                cells, expected = cells[1:], expected[1:]
            assert cells == expected, chart


async def test_an_event_after_the_day_changes_none_of_its_figures(
        web: Web, recorded: Program, http: httpx.AsyncClient, tmp_path: Path) -> None:
    day = (FIGURES_DAY + recorded.shift).isoformat()
    before = await stats_json(web, tmp_path, "--as-of", day)
    before_csv = {chart: (await http.get(f"/portal/numbers/{chart}.csv",
                                         params={"as_of": day})).text for chart in CHARTS}
    today = await stats_json(web, tmp_path)
    # After the day asked for, a city joins, submits and gets a reviewer: a stage, a
    # step's days and a reviewer that the day's figures must not see.
    city = CityDriver()
    city(c.JoinNetwork(name="Bogotá", country="CO", population=7_900_000),
         web.today - timedelta(days=10))
    city(c.SubmitAssessment(answers=answers(WWC_2022, 20)), web.today - timedelta(days=3))
    city(c.AssignReviewer(reviewer="late@review.test"), web.today)
    await recorded.history.record(city_stream("co-bogota"), city.events)
    assert await stats_json(web, tmp_path, "--as-of", day) == before
    for chart in CHARTS:
        again = await http.get(f"/portal/numbers/{chart}.csv", params={"as_of": day})
        assert again.text == before_csv[chart], chart
    after = await stats_json(web, tmp_path)
    assert after["stages"][-1]["under_review"] == today["stages"][-1]["under_review"] + 1
    assert after["durations"][0]["applications"] == today["durations"][0]["applications"] + 1
    assert "late@review.test" in [row["reviewer"] for row in after["reviewers"]]


@pytest.mark.parametrize("as_of", ["2024-02-30", "yesterday", "20240101", "future"])
async def test_a_day_that_is_not_one_or_still_to_come_is_refused(
        web: Web, http: httpx.AsyncClient, as_of: str) -> None:
    said = "is not a day: write it as YYYY-MM-DD"
    if as_of == "future":
        as_of = (web.today + timedelta(days=1)).isoformat()
        said = "is still to come: ask for today"
    answer = await http.get("/api/stats", params={"as_of": as_of})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith("as_of: ")
    # The page (and a CSV link followed in a browser) says it in the reader's words,
    # never the API's English detail.
    for path in ("/portal/numbers", "/portal/numbers/stages.csv"):
        page = await http.get(path, params={"as_of": as_of, "lang": "en"},
                              headers={"Accept": "text/html,*/*;q=0.8"})
        assert page.status_code == 422, path
        assert said in page.text, path
        assert "as_of:" not in page.text, path
    # A script asking for the CSV gets the problem as JSON, with the API's code.
    scripted = await http.get("/portal/numbers/stages.csv", params={"as_of": as_of})
    assert scripted.headers["content-type"] == "application/problem+json"
    assert scripted.json()["code"] == answer.json()["code"]
    unknown = await http.get("/portal/numbers/everything.csv")
    assert unknown.status_code == 404
