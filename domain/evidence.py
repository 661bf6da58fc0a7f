"""Attaching evidence documents to a city's open application, and removing them.

**Where the events go: the city's own stream.** `evidence.document_added` and
`evidence.document_removed` are events of `city/<key>`, decided by the city's workflow
like any command, not of the draft's stream (`draft/<key>`) that the answers are saved
to without a workflow update. The choice, weighed:

- The draft's stream exists because answers are saved at every pause in typing: a
  workflow update per save would fill the workflow's history with keystrokes
  (`domain/drafts.py`). Documents come a few a criterion, an upload a minute at most:
  what the city's chain is for, like a clarification's answer.
- Every document's SHA-256 is then in the city's hash chain the moment it is attached
  (and its removal too), not only the ones submitted: `wwc verify` checks the chain, and
  `wwc verify --documents` recomputes each stored file's hash against these events. Kept
  in the draft's stream they would be in a chain of their own until the seal, and a
  document removed before submitting never in the city's.
- The workflow holds the application's documents in its state, so the submission checks
  them under the same lock as everything else (a claimed criterion's evidence slots are
  filled by links or documents), the submission (`assessment.submitted`) names them per
  criterion, and the decision (`certification.decided`) names those the review saw: what
  a certificate lists and checks. No second stream has to be sealed in step with the
  draft's.
- Running workflows replay as before: the new events come only from the new updates
  (`add_document`, `remove_document`), and the fields added to the submission and the
  decision default to none, so a history recorded before documents decides the same.

Documents are attached while the application is assessed (the draft is open); after the
submission they are what the review sees. The bytes are kept by the blob store before
the event is recorded (`infra/application/documents.py`): a refused or failed command
leaves bytes no event names, which the collector of unreferenced bytes removes after its
grace period, never an event naming bytes that are not kept.

The size limits are checked where the bytes arrive, by `check_upload` (every door runs
it: the API, the portal through it, the CLI), with the rules of the service that took the
upload: the workflow never sees the bytes, and a limit an operator raises applies at once,
also to cities whose workflows started under the old one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from domain import commands, events
from domain.carry_over import check_valid_through
from domain.city_state import Application, Stage
from domain.documents import Documents, EvidenceDocument, check_size, distinct_bytes, in_mb
from domain.errors import AssessmentError, DomainError, TransitionRefused
from domain.rules import ProgramRules
from domain.standard import Standard


class DocumentsFull(DomainError):
    """The application's documents would take more than the city may keep."""

    code = "city_documents_too_large"


def check_upload(size: int, sha256: str, attached: Documents, rules: ProgramRules) -> None:
    """Refuse a file of `size` bytes that is empty or over the operator's limit, or that
    would take the application's documents (`attached`) past the city's limit (the same
    bytes attached already take nothing more)."""
    check_size(size, rules.document_max_bytes)
    if any(d.sha256 == sha256 for docs in attached.values() for d in docs):
        return
    used = distinct_bytes(attached)
    if used + size > rules.city_documents_max_bytes:
        limit = in_mb(rules.city_documents_max_bytes)
        raise DocumentsFull(
            f"the application's documents would take more than the {limit} MB a city may "
            f"keep ({in_mb(used)} MB already)", facts={"limit": limit, "used": in_mb(used)})


def attached(app: Application, criterion: str, sha256: str) -> EvidenceDocument | None:
    """The document with these bytes on `criterion`, if it is attached."""
    return next((d for d in app.documents.get(criterion, ()) if d.sha256 == sha256), None)


def may_attach(app: Application, standard: Standard, criterion: str) -> None:
    """Refuse unless a document may be attached to `criterion` now: the application is
    being assessed and its standard has the criterion. (A door asks before it reads a
    byte of the file.)"""
    _require_assessing(app, "add a document")
    _require_criterion(standard, criterion)


def decide_add(app: Application, standard: Standard, command: commands.AddDocument,
               now: date, actor: str) -> list[events.CityEvent]:
    """The document `command` names attached to its criterion by `actor`; nothing when
    those bytes are attached to it already (`already_attached`)."""
    may_attach(app, standard, command.criterion)
    check_valid_through(command.valid_through, now, "valid_through")
    if attached(app, command.criterion, command.sha256) is not None:
        return []
    return [events.DocumentAdded(criterion=command.criterion, name=command.name,
                                 media_type=command.media_type, size=command.size,
                                 sha256=command.sha256, by=actor, on=now,
                                 valid_through=command.valid_through)]


def decide_remove(app: Application, command: commands.RemoveDocument,
                  now: date) -> list[events.CityEvent]:
    _require_assessing(app, "remove a document")
    found = attached(app, command.criterion, command.sha256)
    if found is None:
        raise TransitionRefused(
            f"{command.criterion} has no document {command.sha256[:12]}",
            code="unknown_document", facts={"criterion": command.criterion})
    return [events.DocumentRemoved(criterion=command.criterion, sha256=command.sha256,
                                   name=found.name, on=now)]


def already_attached(app: Application | None, command: commands.AddDocument) -> str | None:
    """Why adding the document records nothing: the same bytes are on that criterion."""
    if app is None or app.stage is not Stage.ASSESSING:
        return None
    found = attached(app, command.criterion, command.sha256)
    if found is None:
        return None
    return f"{command.criterion} already has this document ({found.name})"


def documents_after(documents: Documents,
                    event: events.DocumentAdded | events.DocumentRemoved) -> Documents:
    """An application's documents after one of these events."""
    match event:
        case events.DocumentAdded():
            added = EvidenceDocument(name=event.name, media_type=event.media_type,
                                     size=event.size, sha256=event.sha256, added_on=event.on,
                                     added_by=event.by, valid_through=event.valid_through)
            return {**documents,
                    event.criterion: (*documents.get(event.criterion, ()), added)}
        case events.DocumentRemoved():
            kept = tuple(d for d in documents.get(event.criterion, ())
                         if d.sha256 != event.sha256)
            rest = {code: docs for code, docs in documents.items() if code != event.criterion}
            return {**rest, event.criterion: kept} if kept else rest


def needed_bytes(history: Iterable[events.Event]) -> set[str]:
    """The documents' bytes a city's log (`history`, in order) still needs kept: every
    document submitted (so reviewed and decided on, and listed by a certificate), and
    those attached to the application open now. A document removed from a draft, or left
    on an application withdrawn before its submission, is needed no more: the collector
    of unreferenced bytes may take it after its grace (infra/blobs/collect.py)."""
    submitted: set[str] = set()
    attached: dict[tuple[str, str], str] = {}
    for event in history:
        match event:
            case events.DocumentAdded():
                attached[(event.criterion, event.sha256)] = event.sha256
            case events.DocumentRemoved():
                attached.pop((event.criterion, event.sha256), None)
            case events.AssessmentSubmitted():
                submitted |= {d.sha256 for docs in event.documents.values() for d in docs}
            case events.ApplicationOpened() | events.CityWithdrew():
                attached.clear()
    return submitted | set(attached.values())


def _require_assessing(app: Application, action: str) -> None:
    if app.stage is not Stage.ASSESSING:
        raise TransitionRefused(
            f"cannot {action}: the application is {app.stage.value.replace('_', ' ')} "
            "(allowed when assessing)", code="wrong_stage", facts={"stage": app.stage.value})


def _require_criterion(standard: Standard, code: str) -> None:
    if code not in standard.codes:
        raise AssessmentError(f"unknown criterion code {code} for standard {standard.id}",
                              code="unknown_criterion", facts={"criterion": code})

