"""Saving a reviewer's sheet in its own stream (`review-sheet/<key>`), without a workflow
update: why, and what the city's workflow still owns, is in `domain/review_sheets.py`.

As a draft's save (`drafts.py`): a save reads the stream's last event, asks the domain
whether it may be made, and appends at the version it read, so two saves over the same
version never both land; its event id comes from the request's id and that version, so a
retried request finds its own save and answers as the first time."""

from __future__ import annotations

import uuid
from datetime import date

from activities.ports import ConcurrencyError, NewEvent
from domain import commands, events
from domain.catalog import StandardCatalog
from domain.errors import DomainError, ErrorCategory
from domain.review_sheets import SheetState, decide_save, sheet_after, verdicts_of
from domain.streams import review_sheet_stream
from domain.views import CityView
from infra.application.drafts import DraftLog
from infra.eventstore.mapper import decode
from infra.eventstore.model import RecordedEvent
from infra.platform.errors import CommandRefused
from workflows.actors import RequestContext

# Save ids: uuid5(namespace, "<stream>:<version>:<request id>"), apart from the
# workflows' "<stream>:<version>" ids (the completion's seal), as drafts' are.
SHEET_SAVE_NAMESPACE = uuid.UUID("5b0c7e1e-2d4a-4f6e-9c3b-7a1d8e2f4c60")


def save_id(key: str, version: int, request_id: str) -> uuid.UUID:
    return uuid.uuid5(SHEET_SAVE_NAMESPACE,
                      f"{review_sheet_stream(key)}:{version}:{request_id}")


class ReviewSheets:
    def __init__(self, log: DraftLog, catalog: StandardCatalog) -> None:
        self.log = log
        self.catalog = catalog

    async def read(self, key: str) -> SheetState:
        state, _ = await self._read(key)
        return state

    async def _read(self, key: str) -> tuple[SheetState, RecordedEvent | None]:
        last = await self.log.last_event(review_sheet_stream(key))
        if last is None:
            return SheetState(), None
        return sheet_after(last.stream_version, events.as_review_sheet_event(decode(last))), last

    async def save(self, key: str, command: commands.SaveReviewSheet, view: CityView, *,
                   today: date, context: RequestContext,
                   request_id: str) -> tuple[SheetState, bool]:
        """Save `command`'s verdicts for the city `view` shows; the sheet after it, and
        whether this call stored it (False: a retry found its own save, the last one)."""
        sheet, last = await self._read(key)
        expected = command.expected_version
        if (expected in (None, sheet.version - 1) and last is not None
                and last.event_id == save_id(key, sheet.version, request_id)):
            # This request's id made the last save already: a retry after its answer was
            # lost gets the same answer; other verdicts under the same id are refused.
            if sheet.verdicts != verdicts_of(command):
                raise CommandRefused("idempotency_key_reused",
                                     "this request id (Idempotency-Key) was used for "
                                     "another request", ErrorCategory.INVALID_INPUT)
            return sheet, False
        standard = self.catalog.get(view.standard_id) if view.standard_id else None
        try:
            saved_event = decide_save(sheet, command, application=view.application,
                                      stage=view.stage, standard=standard, now=today)
        except DomainError as error:
            raise CommandRefused.from_domain(error) from None
        version = sheet.version + 1
        new = NewEvent(event_id=save_id(key, version, request_id),
                       event_type=saved_event.TYPE, schema_version=saved_event.SCHEMA_VERSION,
                       data=events.event_to_data(saved_event),
                       metadata={"actor": context.actor_id, "actor_role": context.actor_role,
                                 "correlation_id": context.correlation_id or request_id,
                                 "causation_id": "SaveReviewSheet"})
        try:
            await self.log.append(review_sheet_stream(key), sheet.version, [new])
        except ConcurrencyError:
            # Another save (or the completion's seal) took this version after our read.
            raise CommandRefused(
                "stale_version", "the review sheet changed while it was being saved; "
                "reload it") from None
        return sheet_after(version, saved_event), True


def etag(sheet: SheetState) -> str:
    """The sheet's version: its stream's version when it was read."""
    return f'W/"s{sheet.version}"'
