"""The consistency audit: for every city and cohort, the three places its truth lives must
agree: the workflow's state (a query), the fold of its event stream (the log, the source
of truth) and its read-model rows. Every disagreement is named: stream, field, the three
values."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg

from domain import cohort as cohorts
from domain.events import as_city_event, as_cohort_event
from domain.lifecycle import fold
from domain.model import Frozen
from domain.streams import CITY_STREAM_PREFIX, COHORT_STREAM_PREFIX
from domain.views import CityView, city_view
from infra.application import ProgramService
from infra.eventstore.mapper import decode
from infra.platform.errors import NotFound
from infra.postgres.eventstore import PostgresEventStore
from infra.readside import queries
from infra.readside.projections import projector

MISSING = "(missing)"
# What a city's three views must agree on (the program date is the reader's own).
CITY_FIELDS = tuple(f for f in CityView.model_fields if f != "program_date")
RECHECK_AFTER = 1.0  # seconds: a command under way when first looked at has landed by then


class Disagreement(Frozen):
    stream: str
    field: str
    workflow: str
    log: str
    read_model: str

    def describe(self) -> str:
        return (f"{self.stream} {self.field}: workflow {self.workflow}, log {self.log}, "
                f"read model {self.read_model}")


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(getattr(value, "value", value))


class Auditor:
    def __init__(self, program: ProgramService, pool: asyncpg.Pool[Any]) -> None:
        self._program = program
        self._pool = pool
        self._store = PostgresEventStore(pool)

    async def streams(self) -> list[str]:
        return await queries.program_streams(self._pool)

    async def run(self, progress: Callable[[int], None] | None = None) -> list[Disagreement]:
        """Every disagreement that persists past a second look."""
        await projector(self._pool).catch_up_all()
        found: list[Disagreement] = []
        for stream in await self.streams():
            found += await self.check(stream)
            if progress is not None:
                progress(1)
        if not found:
            return []
        await asyncio.sleep(RECHECK_AFTER)
        await projector(self._pool).catch_up_all()
        again: list[Disagreement] = []
        for stream in dict.fromkeys(d.stream for d in found):
            again += await self.check(stream)
        return again

    async def check(self, stream: str) -> list[Disagreement]:
        if stream.startswith(CITY_STREAM_PREFIX):
            return await self._city(stream.removeprefix(CITY_STREAM_PREFIX))
        return await self._cohort(stream.removeprefix(COHORT_STREAM_PREFIX))

    async def _city(self, key: str) -> list[Disagreement]:
        today = self._program.program_today()
        stream = f"{CITY_STREAM_PREFIX}{key}"
        events = [as_city_event(decode(r)) for r in await self._store.read_stream(stream)]
        from_log = city_view(fold(events), today)
        try:
            from_workflow: CityView | None = await self._program.view(key)
        except NotFound:
            from_workflow = None
        from_read_model = await queries.city_view(self._pool, key, today)
        found = _compare(stream, CITY_FIELDS, from_workflow, from_log, from_read_model)
        registry = await self._pool.fetchrow(
            "SELECT status, tier FROM wwc_registry WHERE city_key = $1", key)
        for field in ("status", "tier"):
            in_registry = _text(registry[field]) if registry else MISSING
            if in_registry != _text(getattr(from_log, field)):
                found.append(Disagreement(
                    stream=stream, field=f"registry.{field}",
                    workflow=_text(getattr(from_workflow, field)) if from_workflow else MISSING,
                    log=_text(getattr(from_log, field)), read_model=in_registry))
        return found

    async def _cohort(self, cohort_id: str) -> list[Disagreement]:
        stream = f"{COHORT_STREAM_PREFIX}{cohort_id}"
        state = cohorts.CohortState()
        for recorded in await self._store.read_stream(stream):
            state = cohorts.evolve(state, as_cohort_event(decode(recorded)))
        log = {"announced_on": state.announced_on,
               "cities": tuple(sorted(c.city_key for c in state.cities))}
        try:
            result = await self._program.cohort(cohort_id)
            workflow: dict[str, Any] | None = {
                "announced_on": result.announced_on,
                "cities": tuple(sorted(c.city_key for c in result.cities))}
        except NotFound:
            workflow = None
        row = await self._pool.fetchrow(
            "SELECT announced_on FROM wwc_cohorts WHERE cohort_id = $1", cohort_id)
        members = await self._pool.fetch(
            "SELECT city_key FROM wwc_cohort_cities WHERE cohort_id = $1 ORDER BY city_key",
            cohort_id)
        read_model = None if row is None else {
            "announced_on": row["announced_on"],
            "cities": tuple(m["city_key"] for m in members)}
        return _compare(stream, ("announced_on", "cities"), workflow, log, read_model)


def _value(source: Any, field: str) -> str:
    if source is None:
        return MISSING
    return _text(source[field] if isinstance(source, dict) else getattr(source, field))


def _compare(stream: str, fields: tuple[str, ...], workflow: Any, log: Any,
             read_model: Any) -> list[Disagreement]:
    found = []
    for field in fields:
        values = (_value(workflow, field), _value(log, field), _value(read_model, field))
        if len(set(values)) > 1:
            found.append(Disagreement(stream=stream, field=field, workflow=values[0],
                                      log=values[1], read_model=values[2]))
    return found

