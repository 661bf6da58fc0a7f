"""Evidence documents at every door (the API and the portal through it, the CLI): taking a
file in, keeping its bytes, recording it; removing it; serving it back checked.

Taking one in is four steps, each refusing with the domain's code before the next costs
anything (`ready` -> `stage` -> `judge` -> `keep`):

1. before a byte is read: the application is open and assessed, the criterion is the
   standard's, the name is cleaned (domain/documents.py);
2. the bytes stream into the blob store's spool (never whole in memory), refused past
   the operator's limit as they arrive;
3. the type is judged from the spool's first bytes (domain/sniffing.py), and the size
   against the city's limit, now that the hash says whether the bytes are new;
4. under the city's lock (one upload of a city at a time, in every process: uploads
   sent together were each checked in step 3 against the documents recorded before any
   of them), the city's limit is checked again against the documents recorded now; the
   bytes are kept under their hash, then the city's workflow records
   `evidence.document_added`. In that order: a refused or failed command leaves bytes
   that no event names (the collector of unreferenced bytes removes them after its
   grace), never an event naming bytes that are not kept.

A spool not kept is always discarded. The same bytes sent again (a retry, or the same
file twice) are kept once and recorded once (`nothing_new` says so)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from domain import commands
from domain.carry_over import check_valid_through
from domain.city_state import Application
from domain.documents import EvidenceDocument, MediaType, check_size, clean_name, too_large
from domain.errors import DomainError
from domain.evidence import attached, check_upload, may_attach
from domain.sniffing import media_type_of
from domain.views import CommandAnswer
from infra.application.port import Program
from infra.blobs.port import BlobCorrupted, BlobMissing, BlobStore, BlobTooLarge, StagedBlob
from infra.platform.errors import CommandRefused, NotFound
from infra.platform.keylocks import KeyLocks
from infra.readside.documents import NamedDocument
from workflows.actors import RequestContext

Check = Literal["unchanged", "changed", "missing"]
# How long a document's check is believed while its stored size and time stand (a file
# altered by hand changes its time; one altered and its time set back is caught within
# this): a public certificate page must not rehash megabytes at every visit.
CHECK_KEPT_FOR = 300.0  # seconds


class DocumentIndex(Protocol):
    """Where the log says which bytes a city attached (`infra.readside.documents`)."""

    async def city_document(self, key: str, sha256: str) -> NamedDocument | None: ...


class Locks(Protocol):
    """Named locks that hold across processes (`infra.postgres.locks.AdvisoryLocks`)."""

    def hold(self, name: str) -> AbstractAsyncContextManager[None]: ...


@dataclass(frozen=True)
class Intake:
    """An upload the program may take, before its bytes are read."""

    key: str
    criterion: str
    name: str
    application: Application
    valid_through: date | None = None  # the last day it proves the criterion


@dataclass(frozen=True)
class Kept:
    """A document taken in: as recorded (or as it already was), and the city's view."""

    criterion: str
    document: EvidenceDocument
    answer: CommandAnswer


def _refused(error: DomainError) -> CommandRefused:
    return CommandRefused.from_domain(error)


class Evidence:
    def __init__(self, program: Program, blobs: BlobStore,
                 index: DocumentIndex | None = None, *, locks: Locks | None = None) -> None:
        """`locks` hold a city's uploads one at a time from the check of its limit to
        the record: those of every process that takes documents in (the API's, `wwc
        evidence add`: `AdvisoryLocks`), or the limit does not hold. None: this process's
        own (for one that never takes documents in, or a test's)."""
        self.program = program
        self.blobs = blobs
        self.locks: Locks = locks if locks is not None else KeyLocks()
        self.index = index
        self._checks: dict[str, tuple[float, int | None, datetime | None, Check]] = {}

    # --- taking a document in ------------------------------------------------------------

    async def ready(self, key: str, criterion: str, raw_name: str,
                    valid_through: date | None = None) -> Intake:
        """Step 1: refuse before anything is read (the name, the stage, the criterion,
        the valid-through date)."""
        try:
            name = clean_name(raw_name)
            check_valid_through(valid_through, self.program.program_today(), "valid_through")
        except DomainError as error:
            raise _refused(error) from None
        app = await self._open_application(key)
        try:
            may_attach(app, self.program.catalog[app.standard_id], criterion)
        except DomainError as error:
            raise _refused(error) from None
        return Intake(key=key, criterion=criterion, name=name, application=app,
                      valid_through=valid_through)

    async def stage(self, chunks: AsyncIterable[bytes],
                    declared: int | None = None) -> StagedBlob:
        """Step 2: the bytes into the spool, refused past the operator's limit (at once
        when the caller `declared` more)."""
        limit = self.program.rules.document_max_bytes
        if declared is not None and declared > limit:
            raise _refused(too_large(limit))
        try:
            return await self.blobs.stage(chunks, limit=limit)
        except BlobTooLarge:
            raise _refused(too_large(limit)) from None

    def judge(self, intake: Intake, staged: StagedBlob) -> MediaType:
        """Step 3: the type, from the first bytes; the size against the city's limit."""
        try:
            check_size(staged.size, self.program.rules.document_max_bytes)  # empty first
            media_type = media_type_of(staged.head, intake.name,
                                       complete=staged.size <= len(staged.head))
            check_upload(staged.size, staged.sha256, intake.application.documents,
                         self.program.rules)
        except DomainError as error:
            raise _refused(error) from None
        return media_type

    async def keep(self, intake: Intake, staged: StagedBlob, media_type: MediaType, *,
                   context: RequestContext, update_id: str | None) -> Kept:
        """Step 4: under the city's lock, the city's limit checked against the documents
        recorded now; the bytes kept under their hash, then the event recorded."""
        async with self.locks.hold(f"wwc-city-documents:{intake.key}"):
            app = await self._open_application(intake.key)
            try:
                check_upload(staged.size, staged.sha256, app.documents, self.program.rules)
            except DomainError as error:
                raise _refused(error) from None
            await self.blobs.commit(staged)
            answer = await self.program.send(intake.key, commands.AddDocument(
                criterion=intake.criterion, name=intake.name, media_type=media_type,
                size=staged.size, sha256=staged.sha256, valid_through=intake.valid_through),
                context=context, update_id=update_id)
        document = (attached(app, intake.criterion, staged.sha256)
                    if answer.nothing_new else None) or EvidenceDocument(
            name=intake.name, media_type=media_type, size=staged.size, sha256=staged.sha256,
            added_on=answer.program_date, added_by=context.actor_id,
            valid_through=intake.valid_through)
        return Kept(criterion=intake.criterion, document=document, answer=answer)

    async def add(self, key: str, criterion: str, raw_name: str,
                  chunks: AsyncIterable[bytes], *, context: RequestContext,
                  update_id: str | None = None, declared: int | None = None,
                  valid_through: date | None = None) -> Kept:
        """All four steps (the CLI's door; the API runs them one by one, keeping its
        Idempotency-Key between the third and the fourth)."""
        intake = await self.ready(key, criterion, raw_name, valid_through)
        staged = await self.stage(chunks, declared)
        try:
            media_type = self.judge(intake, staged)
            return await self.keep(intake, staged, media_type, context=context,
                                   update_id=update_id)
        finally:
            await self.blobs.discard(staged)  # nothing left once kept; else not kept

    async def _open_application(self, key: str) -> Application:
        app = await self.program.application(key)
        if app is None:
            raise CommandRefused("no_application", "the city has no application open "
                                 "(reapply to open one)")
        return app

    # --- removing one ----------------------------------------------------------------------

    async def remove(self, key: str, criterion: str, sha256: str, *,
                     context: RequestContext, update_id: str | None = None) -> CommandAnswer:
        """Take a document off a criterion of the open application (an event); a
        document not attached there is not found."""
        app = await self.program.application(key)
        if app is None or attached(app, criterion, sha256) is None:
            raise NotFound(f"{criterion} of city {key!r} has no document {sha256[:12]}")
        return await self.program.send(key, commands.RemoveDocument(
            criterion=criterion, sha256=sha256), context=context, update_id=update_id)

    # --- serving one back ------------------------------------------------------------------

    async def find(self, key: str, sha256: str) -> NamedDocument:
        """The city's document with these bytes, as the log names it; not found for bytes
        the city never attached (another city's, or none at all)."""
        found = await self.index.city_document(key, sha256) if self.index else None
        if found is None:
            raise NotFound(f"city {key!r} has no document {sha256[:12]}")
        return found

    async def open(self, sha256: str) -> AsyncIterator[bytes]:
        """The bytes, checked against their hash before the first chunk comes: a stored
        file altered by hand is refused (`document_altered`), never served as the one
        recorded."""
        chunks = aiter(self.blobs.read(sha256))
        try:
            first = await anext(chunks, b"")
        except BlobMissing:
            raise NotFound(f"the bytes of document {sha256[:12]} are not kept "
                           "(restore them from a backup)") from None
        except BlobCorrupted as error:
            raise CommandRefused(
                "document_altered", f"the stored file of document {sha256[:12]} no longer "
                f"matches its hash (it now hashes to {error.actual[:12]}): it was altered "
                "after it was recorded; restore it from a backup") from None
        return _then(first, chunks)

    async def check(self, sha256: str) -> Check:
        """Whether the stored bytes still hash to their key. A result is kept while the
        blob's size and time stand (at most `CHECK_KEPT_FOR`): reading them again costs
        a look at the file, not a rehash."""
        size, stored_at = await self.blobs.size(sha256), await self.blobs.stored_at(sha256)
        kept = self._checks.get(sha256)
        now = time.monotonic()
        if kept is not None and kept[1:3] == (size, stored_at) and now - kept[0] < CHECK_KEPT_FOR:
            return kept[3]
        try:
            result: Check = "unchanged" if await self.blobs.verify(sha256) is None else "changed"
        except BlobMissing:
            result = "missing"
        self._checks[sha256] = (now, size, stored_at, result)
        if len(self._checks) > 10_000:
            self._checks.pop(next(iter(self._checks)))
        return result


async def _then(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk
