"""Exit codes and the one-line error output every `wwc` command shares."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    UNEXPECTED = 1
    USAGE = 2  # bad flags or arguments (Click's own code)
    INVALID_INPUT = 3  # unreadable/malformed file, unknown standard, criterion or outcome
    REFUSED = 4  # the program's rules refuse the command in the city's current state
    UNAVAILABLE = 5  # PostgreSQL or Temporal cannot be reached
    NOT_FOUND = 6  # no such city or cohort
    INTEGRITY = 7  # `wwc verify` found a broken hash chain


class CliError(Exception):
    def __init__(self, message: str, exit_code: Exit) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
