"""One way to say what is wrong with an input pydantic refused: every problem with the
place it was found, in one line."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(error: ValidationError) -> str:
    """e.g. `criteria.DM1.met: Input should be a valid boolean; name: Field required`."""
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{location}: {message}" if location else message)
    return "; ".join(problems)
