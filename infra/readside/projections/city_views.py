"""Each city's view, folded from its events by the domain's own `evolve` (so it equals the
workflow's view exactly, version included), with the state kept to fold the next page."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from domain.city_state import CityState
from domain.events import CITY_EVENTS, as_city_event
from domain.lifecycle import evolve
from domain.streams import CITY_STREAM_PREFIX
from domain.views import city_view
from infra.eventstore.mapper import decode
from infra.eventstore.model import RecordedEvent
from infra.postgres.db import Connection


class CityViewProjection:
    name = "city_views"
    tables: tuple[str, ...] = ("wwc_city_views",)
    event_types = frozenset(cls.TYPE for cls in CITY_EVENTS)
    omit_data_keys: tuple[str, ...] = ()  # the fold needs every field

    async def apply(self, conn: Connection, page: Sequence[RecordedEvent]) -> None:
        mine = [e for e in page if e.stream_id.startswith(CITY_STREAM_PREFIX)]
        if not mine:
            return
        keys = list(dict.fromkeys(e.stream_id[len(CITY_STREAM_PREFIX):] for e in mine))
        states = {r["city_key"]: CityState.model_validate(r["state"]) for r in await conn.fetch(
            "SELECT city_key, state FROM wwc_city_views WHERE city_key = ANY($1::text[])",
            keys)}
        last_day = {}
        for recorded in mine:
            key = recorded.stream_id[len(CITY_STREAM_PREFIX):]
            event = as_city_event(decode(recorded))
            states[key] = evolve(states.get(key, CityState()), event)
            last_day[key] = event.on
        await conn.executemany(
            "INSERT INTO wwc_city_views (city_key, version, state, view) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (city_key) DO UPDATE SET "
            "version = EXCLUDED.version, state = EXCLUDED.state, view = EXCLUDED.view",
            [(key, states[key].version,
              orjson.loads(states[key].model_dump_json()),
              orjson.loads(city_view(states[key], last_day[key]).model_dump_json()))
             for key in keys])
