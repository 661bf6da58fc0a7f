"""The ports the activities depend on, and the vocabulary of appending events. Adapters in
`infra/` implement them and the composition root (`infra/temporal/worker.py`) injects them, so no
activity imports `infra` and workflow tests can run on the in-memory event store.

Nothing here does I/O: workflows may import these models (they build `NewEvent`s)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.accounts import ReviewerStanding
from domain.catalog import StandardCatalog
from domain.model import Frozen
from domain.notices import Notice
from domain.rules import ProgramRules
from domain.tiers import Tier


class NewEvent(BaseModel):
    """An event to append. The caller (the workflow) chooses `event_id`, so a retried
    append is recognised and stores nothing twice."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    event_type: str
    schema_version: int = Field(ge=1)
    data: dict[str, Any]
    # correlation_id, causation_id, actor, workflow_id, run_id (when there is one).
    metadata: dict[str, Any] = Field(default_factory=dict)


class AppendResult(Frozen):
    stream_id: str
    positions: tuple[int, ...]
    next_expected_version: int
    # True when the whole batch was already stored (an idempotent retry).
    duplicate: bool = False


class EventStoreError(Exception):
    pass


class ConcurrencyError(EventStoreError):
    """The stream is not at the expected version; nothing was written."""

    def __init__(self, stream_id: str, expected: int, actual: int | None) -> None:
        at = f"is at version {actual}" if actual is not None else "has moved on"
        super().__init__(f"stream {stream_id} {at}, expected {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class IdempotencyConflict(EventStoreError):
    """An event id is already stored with different content; nothing was written."""


class UnstorableEvent(EventStoreError):
    """The database refuses a value in the events (a number or a text it cannot hold);
    nothing was written, and no retry will change that."""


class StoredEvent(Protocol):
    """An event as the store has it (what an append needs to know of one)."""

    @property
    def event_type(self) -> str: ...

    @property
    def data(self) -> dict[str, Any]: ...

    @property
    def metadata(self) -> dict[str, Any]: ...


class EventAppender(Protocol):
    """The writing half of the event store (`infra.eventstore.EventStore` is the whole),
    and the read an append needs to tell an earlier attempt's events from another's."""

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult: ...

    async def read_stream(self, stream_id: str,
                          from_version: int = 1) -> Sequence[StoredEvent]: ...


class CityRef(Frozen):
    city_key: str
    name: str
    tier: Tier


class AwaitingAnnouncement(Protocol):
    """The certified decisions not yet announced, by city name."""

    async def cities(self) -> list[CityRef]: ...


class MailRequest(Frozen):
    """The messages one event causes. `cause` names the event (`<stream>@<version>`):
    each message's id derives from it, so a retried activity finds what it already sent."""

    city_key: str
    cause: str
    notices: tuple[Notice, ...]
    reviewer: str | None = None


class MailResult(Frozen):
    sent: int  # delivered by this attempt
    already_sent: int  # found delivered by an earlier attempt
    held: int = 0  # recorded, but no mail server is configured to send them


class DigestRequest(Frozen):
    """The operators' weekly digest for the week ending `week_ending` (its message ids
    derive from the week, so a retry sends nothing twice)."""

    week_ending: date
    rules: ProgramRules = ProgramRules()


class RecordedMail(Frozen):
    """Messages already recorded in the outbox under `cause` (a person's invitation or
    password reset, recorded with the event that caused it), to be sent."""

    cause: str


class Postbox(Protocol):
    """Where the program's messages go: recipients found, rendered in each one's language,
    recorded in the outbox, sent once (`infra.mail`)."""

    async def deliver(self, request: MailRequest,
                      progress: Callable[[], None] = ...) -> MailResult:
        """`progress` is called after each message (the activity's heartbeat)."""

    async def deliver_digest(self, request: DigestRequest,
                             progress: Callable[[], None] = ...) -> MailResult: ...

    async def deliver_recorded(self, request: RecordedMail,
                               progress: Callable[[], None] = ...) -> MailResult: ...


class StandardsSource(Protocol):
    """The standards the program knows now (shipped ones and the operator's files)."""

    def load(self) -> StandardCatalog: ...


class ReviewerAccounts(Protocol):
    """The program's accounts as the service keeps them: what they say of a reviewer."""

    async def standing(self, email: str) -> ReviewerStanding | None:
        """None when no account has that e-mail."""
