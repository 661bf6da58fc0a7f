"""Saving a city's assessment draft in its own stream (`draft/<key>`), without a workflow
update: why, and what the city's workflow still owns, is in `domain/drafts.py`.

A save reads the stream's last event (one index probe), asks the domain whether the save
may be made, and appends at the version it read, so two editors saving over the same
version never both land. The event id comes from the request's id and that version: a
retried request (the same Idempotency-Key or update id) finds its own save and answers as
the first time, storing nothing twice."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Protocol

from activities.ports import AppendResult, ConcurrencyError, NewEvent
from domain import commands, events
from domain.carry_over import CarriedOver, accepted_evidence, carry_over, last_review
from domain.catalog import StandardCatalog
from domain.city_state import Stage
from domain.drafts import DraftState, decide_save, draft_after, prefilled
from domain.errors import DomainError, ErrorCategory
from domain.lifecycle import fold
from domain.streams import city_stream, draft_stream
from domain.views import CityView
from infra.eventstore.mapper import decode
from infra.eventstore.model import RecordedEvent
from infra.platform.errors import CommandRefused
from workflows.actors import RequestContext

# Save ids: uuid5(namespace, "<stream>:<version>:<request id>"). Not the workflows'
# "<stream>:<version>" ids: a seal and a save at one version must never look alike, or
# the store would take one for a retry of the other.
DRAFT_SAVE_NAMESPACE = uuid.UUID("0d5e7a52-7f43-4c1b-a3c6-2b8f6f0a9e31")


class DraftLog(Protocol):
    """What drafts need of the event store (`PostgresEventStore` is one)."""

    async def last_event(self, stream_id: str) -> RecordedEvent | None: ...

    async def read_stream(self, stream_id: str,
                          from_version: int = 1) -> list[RecordedEvent]: ...

    async def append(self, stream_id: str, expected_version: int,
                     events: list[NewEvent]) -> AppendResult: ...


def save_id(key: str, version: int, request_id: str) -> uuid.UUID:
    return uuid.uuid5(DRAFT_SAVE_NAMESPACE, f"{draft_stream(key)}:{version}:{request_id}")


class Drafts:
    def __init__(self, log: DraftLog, catalog: StandardCatalog) -> None:
        self.log = log
        self.catalog = catalog

    async def read(self, key: str, application: int | None = None) -> DraftState:
        """The draft; for `application` (the city's open one), before its first save,
        the answers carried over from the last review when it is a reapplication."""
        state, _ = await self._read(key)
        if application is None or state.application == application:
            return state
        return prefilled(state, application, await self.carried(key, application))

    async def carried(self, key: str, application: int) -> CarriedOver:
        """What `application` carries over from the city's last review: nothing unless
        it is the city's open reapplication, being assessed (domain/carry_over.py)."""
        history = [decode(e) for e in await self.log.read_stream(city_stream(key))]
        opened = fold(history).application
        if (opened is None or opened.number != application or not opened.reapplication
                or opened.stage is not Stage.ASSESSING):
            return CarriedOver()
        standard = self.catalog.get(opened.standard_id)
        if standard is None:
            return CarriedOver()
        return carry_over(last_review(history), standard, opened.opened_on)

    async def _read(self, key: str) -> tuple[DraftState, RecordedEvent | None]:
        last = await self.log.last_event(draft_stream(key))
        if last is None:
            return DraftState(), None
        return draft_after(last.stream_version, events.as_draft_event(decode(last))), last

    async def save(self, key: str, command: commands.SaveAssessment, view: CityView, *,
                   today: date, context: RequestContext,
                   request_id: str) -> tuple[DraftState, bool]:
        """Save `command`'s answers for the city `view` shows; the draft after it, and
        whether this call stored it (False: a retry found its own save, the last one)."""
        draft, last = await self._read(key)
        if view.application is not None and draft.application != view.application:
            draft = prefilled(draft, view.application,
                              await self.carried(key, view.application))
        expected = command.expected_version
        if (expected in (None, draft.version - 1) and last is not None
                and last.event_id == save_id(key, draft.version, request_id)):
            # This request's id made the last save already: a retry after its answer was
            # lost gets the same answer; other answers under the same id are refused.
            if draft.answers != command.answers:
                raise CommandRefused("idempotency_key_reused",
                                     "this request id (Idempotency-Key) was used for "
                                     "another request", ErrorCategory.INVALID_INPUT)
            return draft, False
        standard = self.catalog.get(view.standard_id) if view.standard_id else None
        try:
            saved = decide_save(draft, command, application=view.application,
                                stage=view.stage, standard=standard, now=today)
        except DomainError as error:
            raise CommandRefused.from_domain(error) from None
        version = draft.version + 1
        new = NewEvent(event_id=save_id(key, version, request_id), event_type=saved.TYPE,
                       schema_version=saved.SCHEMA_VERSION, data=events.event_to_data(saved),
                       metadata={"actor": context.actor_id, "actor_role": context.actor_role,
                                 "correlation_id": context.correlation_id or request_id,
                                 "causation_id": "SaveAssessment"})
        try:
            await self.log.append(draft_stream(key), draft.version, [new])
        except ConcurrencyError:
            # Another save (or the submission's seal) took this version after our read.
            raise CommandRefused(
                "stale_version", "the assessment changed while this draft was being saved; "
                "reload it") from None
        return draft_after(version, saved), True


async def accepted_last_cycle(log: DraftLog, key: str) -> dict[str, frozenset[str]]:
    """The evidence the city's last decided review accepted, per criterion (links and
    documents' SHA-256), for the review screen."""
    history = [decode(e) for e in await log.read_stream(city_stream(key))]
    return accepted_evidence(last_review(history))


def etag(draft: DraftState) -> str:
    """The draft's version: its stream's version when it was read."""
    return f'W/"v{draft.version}"'
