"""Domain errors. Each carries a stable machine code and a sentence an operator can act on."""

from __future__ import annotations


class DomainError(Exception):
    """A command or input the program's rules refuse. Nothing is recorded for it."""

    code = "refused"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class StandardError(DomainError):
    """A standard file contradicts itself, or a standard cannot be used for what was asked."""

    code = "invalid_standard"


class AssessmentError(DomainError):
    """A self-assessment or review names something the standard does not have."""

    code = "invalid_assessment"


class IneligibleCity(DomainError):
    code = "ineligible"


class TransitionRefused(DomainError):
    """The command is not allowed in the city's current state."""

    code = "not_allowed"
