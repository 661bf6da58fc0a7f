"""The errors every front door shares, and the one classifier that says what kind each
is. The CLI turns a kind into an exit code and the HTTP API into a status; neither keeps
a list of codes of its own.

Adapters (the database, Temporal, the embedded stack, files) raise these neutral errors;
domain errors carry their category (`domain.errors.ErrorCategory`), which maps here."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ValidationError

from activities.ports import UnstorableEvent
from domain.errors import DomainError, ErrorCategory, Facts
from domain.validation import describe_validation_error


class ErrorKind(StrEnum):
    USAGE = "usage"  # the call itself is malformed (flags, arguments, a request's shape)
    INVALID_INPUT = "invalid_input"  # a file, standard, criterion or field is wrong
    REFUSED = "refused"  # the program's rules refuse it in the city's current state
    UNAVAILABLE = "unavailable"  # PostgreSQL or Temporal cannot be reached
    NOT_FOUND = "not_found"  # no such city or cohort
    INTEGRITY = "integrity"  # the event log's hash chain is broken
    UNEXPECTED = "unexpected"  # a bug: reported with its details only under --debug

    @property
    def exit_code(self) -> int:
        return _EXIT_CODES[self]

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS[self]


_EXIT_CODES = {ErrorKind.UNEXPECTED: 1, ErrorKind.USAGE: 2, ErrorKind.INVALID_INPUT: 3,
               ErrorKind.REFUSED: 4, ErrorKind.UNAVAILABLE: 5, ErrorKind.NOT_FOUND: 6,
               ErrorKind.INTEGRITY: 7}
_HTTP_STATUS = {ErrorKind.UNEXPECTED: 500, ErrorKind.USAGE: 400, ErrorKind.INVALID_INPUT: 422,
                ErrorKind.REFUSED: 409, ErrorKind.UNAVAILABLE: 503, ErrorKind.NOT_FOUND: 404,
                ErrorKind.INTEGRITY: 500}


class ServiceError(Exception):
    """An error with a sentence for the user, its kind and (for refusals) a stable code
    and the facts it is about (see `domain.errors.Facts`)."""

    kind = ErrorKind.UNEXPECTED

    def __init__(self, message: str, *, code: str | None = None,
                 kind: ErrorKind | None = None, facts: Facts | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.facts: dict[str, str | int] = dict(facts or {})
        if kind is not None:
            self.kind = kind

    def __str__(self) -> str:
        return self.message


class UsageError(ServiceError):
    kind = ErrorKind.USAGE


class InvalidInput(ServiceError):
    kind = ErrorKind.INVALID_INPUT


class Refused(ServiceError):
    kind = ErrorKind.REFUSED


class Unavailable(ServiceError):
    kind = ErrorKind.UNAVAILABLE


class NotFound(ServiceError):
    kind = ErrorKind.NOT_FOUND


class IntegrityBroken(ServiceError):
    kind = ErrorKind.INTEGRITY


class CommandRefused(ServiceError):
    """A command the domain refused (nothing was recorded): its code, its message, and
    whether the input was wrong or the rules said no."""

    def __init__(self, code: str, message: str,
                 category: ErrorCategory = ErrorCategory.REFUSED,
                 facts: Facts | None = None) -> None:
        super().__init__(message, code=code, kind=_BY_CATEGORY[category], facts=facts)
        self.category = category

    @classmethod
    def from_domain(cls, error: DomainError) -> CommandRefused:
        return cls(error.code, error.message, error.category, error.facts)


_BY_CATEGORY = {ErrorCategory.INVALID_INPUT: ErrorKind.INVALID_INPUT,
                ErrorCategory.REFUSED: ErrorKind.REFUSED}


def classify(error: BaseException) -> ErrorKind:
    """What kind of error this is, for any error a front door may meet."""
    if isinstance(error, ServiceError):
        return error.kind
    if isinstance(error, DomainError):
        return _BY_CATEGORY[error.category]
    if isinstance(error, ValidationError):
        return ErrorKind.INVALID_INPUT
    if isinstance(error, UnstorableEvent):  # a value the database refuses (e.g. a draft's)
        return ErrorKind.INVALID_INPUT
    if _unreachable(error):
        return ErrorKind.UNAVAILABLE
    return ErrorKind.UNEXPECTED


def _unreachable(error: BaseException) -> bool:
    """A server we depend on is down or restarting (met mid-request, not at connect)."""
    import asyncpg
    from temporalio.service import RPCError, RPCStatusCode

    if isinstance(error, RPCError):
        return error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)
    return isinstance(error, ConnectionError | TimeoutError | asyncpg.PostgresConnectionError
                      | asyncpg.CannotConnectNowError | asyncpg.InterfaceError)


def describe(error: BaseException) -> str:
    """The one-line message a user sees, with the refusal code when there is one."""
    if isinstance(error, ValidationError):
        return describe_validation_error(error)
    message = error.message if isinstance(error, ServiceError | DomainError) else str(error)
    if not message:  # a driver's bare TimeoutError says nothing: never an empty line
        message = (f"PostgreSQL or Temporal did not answer in time ({type(error).__name__})"
                   if classify(error) is ErrorKind.UNAVAILABLE else type(error).__name__)
    code = error.code if isinstance(error, ServiceError | DomainError) else None
    return f"{message} [{code}]" if code and classify(error) in _CODED else message


# Kinds whose code helps the user (and scripts) tell one refusal from another.
_CODED = frozenset({ErrorKind.REFUSED, ErrorKind.INVALID_INPUT})
