"""One way to say what is wrong with an input pydantic refused: every problem with the
place it was found, in one line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

# Input errors of our own with a stable code, like a refusal's: the code is the error's
# type, its facts the context values not marked `where` (the English place it was found).
CODED = frozenset({"invalid_link"})


def describe_validation_error(error: ValidationError) -> str:
    """e.g. `criteria.DM1.met: Input should be a valid boolean; name: Field required`."""
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{location}: {message}" if location else message)
    return "; ".join(problems)


def validation_code(errors: Sequence[Any]) -> tuple[str, dict[str, str | int]] | None:
    """The code and facts of a validation error whose problems are all one coded kind
    (`CODED`), e.g. a link that is not http(s); None for any other."""
    kinds = {item.get("type") for item in errors}
    if len(kinds) != 1 or (kind := kinds.pop()) not in CODED:
        return None
    context = errors[0].get("ctx") or {}
    return str(kind), {k: v for k, v in context.items()
                       if k not in ("where", "shown") and isinstance(v, str | int)}
