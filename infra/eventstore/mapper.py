"""Between stored events and domain events: upcasting on read, decoding. (Encoding is the
workflows' `workflows/persist.py`: events are only ever written there.)

Stored rows are never rewritten; an event whose schema changed is upcast step by step
(version N -> N+1) each time it is read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.events import EVENT_TYPES, Event, event_from_data
from infra.eventstore.model import RecordedEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UpcastError(Exception):
    pass


class Upcasters:
    def __init__(self, current_versions: Mapping[str, int] | None = None) -> None:
        self._current = dict(current_versions) if current_versions is not None else {
            name: cls.SCHEMA_VERSION for name, cls in EVENT_TYPES.items()}
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorate `fn(data_at_from_version) -> data_at_from_version_plus_one`."""

        def add(fn: Upcaster) -> Upcaster:
            if (event_type, from_version) in self._steps:
                raise ValueError(f"{event_type} v{from_version} already has an upcaster")
            self._steps[(event_type, from_version)] = fn
            return fn

        return add

    def upcast(self, event_type: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
        target = self._current.get(event_type, schema_version)
        version = schema_version
        while version < target:
            step = self._steps.get((event_type, version))
            if step is None:
                raise UpcastError(f"no upcaster for {event_type} from schema version {version}")
            data = step(dict(data))
            version += 1
        if version > target:
            raise UpcastError(f"{event_type} v{schema_version} is newer than this code (v{target})")
        return data


# The upcasters of this codebase. None yet: every event is at schema version 1.
UPCASTERS = Upcasters()


def current_data(recorded: RecordedEvent, upcasters: Upcasters = UPCASTERS) -> dict[str, Any]:
    return upcasters.upcast(recorded.event_type, recorded.schema_version, recorded.data)


def decode(recorded: RecordedEvent, upcasters: Upcasters = UPCASTERS) -> Event:
    return event_from_data(recorded.event_type, current_data(recorded, upcasters))
