"""Reading the rows the program's numbers are made of (`numbers.py` makes them): every
city's events up to a day, from the log itself, and the announced certifications, from
the certification periods (the rows the registry's and open data's `?as_of=` read)."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from domain.streams import CITY_STREAM_PREFIX
from infra.eventstore.mapper import current_data
from infra.eventstore.model import START, RecordedEvent
from infra.postgres.eventstore import fetch_log_page
from infra.readside import queries
from infra.readside.numbers import FACT_TYPES, ProgramNumbers, program_numbers
from infra.readside.rows import CityFact

PAGE = 5000
# The bulky parts of application events: no figure needs a report or the answers.
OMITTED = ("report", "answers")
# The read models the certifications come from (bring them up to date first).
READ_MODELS = ("periods", "registry")


def city_fact(recorded: RecordedEvent) -> CityFact:
    """What the numbers read of a city's event (upcast first, as every reader does)."""
    data = current_data(recorded)
    tier = data.get("tier")
    return CityFact(
        city_key=recorded.stream_id.removeprefix(CITY_STREAM_PREFIX),
        type=recorded.event_type, on=date.fromisoformat(data["on"]),
        reviewer=data.get("reviewer"), clarification=data.get("clarification_id"),
        deadline=data.get("key"), kind=data.get("kind"), step=data.get("step"),
        certified=None if tier is None else tier != "none")


async def city_facts(pool: asyncpg.Pool[Any], up_to: date) -> list[CityFact]:
    """Every city's events of the kinds the numbers read, dated `up_to` or before, in
    the order they were recorded (a stream's own order within it)."""
    found: list[CityFact] = []
    after = START
    while page := await fetch_log_page(pool, after, PAGE, FACT_TYPES, OMITTED):
        found += [fact for recorded in page
                  if recorded.stream_id.startswith(CITY_STREAM_PREFIX)
                  and (fact := city_fact(recorded)).on <= up_to]
        if len(page) < PAGE:
            break
        after = page[-1].cursor
    return found


async def numbers_as_of(pool: asyncpg.Pool[Any], day: date) -> ProgramNumbers:
    """The figures at the end of `day`. The certification periods and the registry
    (`READ_MODELS`) must be brought up to date first, as each door does its own way."""
    certifications = await queries.announced_certifications(pool, hashes=False)
    return program_numbers(await city_facts(pool, day), certifications, day)
