"""Domain errors. Each carries a stable machine code, a sentence an operator can act on,
and its category: whether the input itself is wrong, or the program's rules refuse it
now. Front doors map the category to what their users expect (an exit code, an HTTP
status) without keeping lists of codes."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

# What a refusal is about, as values rather than words: the criterion, the stage, a date
# (a key ending in `_on`, ISO form), a count. The front doors that speak the reader's
# language build their sentence from the code and these (infra/i18n/refusals.py); the
# message stays the English sentence operators and scripts read.
Facts = Mapping[str, str | int]


class ErrorCategory(StrEnum):
    INVALID_INPUT = "invalid_input"  # fix the input and try again
    REFUSED = "refused"  # the input is fine; the city's state or the rules say no


class DomainError(Exception):
    """A command or input the program's rules refuse. Nothing is recorded for it."""

    code = "refused"
    category = ErrorCategory.REFUSED

    def __init__(self, message: str, *, code: str | None = None,
                 facts: Facts | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.facts: dict[str, str | int] = dict(facts or {})
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class StandardError(DomainError):
    """A standard file contradicts itself, or a standard cannot be used for what was asked."""

    code = "invalid_standard"
    category = ErrorCategory.INVALID_INPUT


class AssessmentError(DomainError):
    """A self-assessment or review names something the standard does not have."""

    code = "invalid_assessment"
    category = ErrorCategory.INVALID_INPUT


class InvalidCommand(DomainError):
    """A command's value is out of the program's bounds (e.g. a date years ahead)."""

    code = "invalid_command"
    category = ErrorCategory.INVALID_INPUT


class IneligibleCity(DomainError):
    code = "ineligible"


class TransitionRefused(DomainError):
    """The command is not allowed in the city's current state."""

    code = "not_allowed"
