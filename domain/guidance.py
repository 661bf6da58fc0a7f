"""What counts as evidence for each criterion of a standard, in every language the
program speaks: one or two sentences per criterion that a city reads before claiming it
and a reviewer reads beside its evidence.

Kept apart from the standard (`domain/standards/guidance/<id>.yaml`): it is advice, not
a rule the scorer applies, and a standard stays scoreable whatever its guidance says.
`parse_guidance` checks a file against its standard: every criterion has a sentence in
every language, none is empty, and no code is one the standard lacks; any gap is a
`StandardError` naming the criterion and the language, so a shipped standard never loads
with a criterion left unexplained in one of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationError

from domain.accounts import LANGUAGES
from domain.errors import StandardError
from domain.model import StrictFrozen
from domain.standard import Standard
from domain.validation import describe_validation_error

# One or two sentences: long enough for what a reviewer accepts, short enough to read
# beside the criterion.
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=600)]


class Guidance(StrictFrozen):
    """A standard's guidance: per criterion code, per language, what counts as evidence."""

    standard: str
    notes: str = ""
    criteria: dict[str, dict[Annotated[str, Field(pattern=r"^[a-z]{2}$")], Sentence]]

    def text(self, code: str, language: str) -> str | None:
        """The criterion's guidance in `language` (English for a language it lacks: only
        an operator's standard may lack one); None for a criterion it does not cover."""
        found = self.criteria.get(code)
        if found is None:
            return None
        return found.get(language) or found.get(LANGUAGES[0])


def parse_guidance(data: Mapping[str, Any], standard: Standard, *,
                   origin: str = "guidance") -> Guidance:
    """A decoded guidance file, checked against its standard."""
    try:
        guidance = Guidance.model_validate(data)
    except ValidationError as error:
        raise StandardError(f"{origin}: {describe_validation_error(error)}") from None
    if guidance.standard != standard.id:
        raise StandardError(f"{origin}: guidance for {guidance.standard!r}, not for "
                            f"{standard.id!r}")
    unknown = sorted(set(guidance.criteria) - set(standard.codes))
    if unknown:
        raise StandardError(f"{origin}: {standard.id} has no criterion "
                            f"{', '.join(unknown)}")
    for code in standard.codes:
        given = guidance.criteria.get(code)
        if given is None:
            raise StandardError(f"{origin}: criterion {code} has no guidance")
        missing = [language for language in LANGUAGES if language not in given]
        if missing:
            raise StandardError(f"{origin}: criterion {code} has no guidance in "
                                f"{', '.join(missing)}")
        extra = sorted(set(given) - set(LANGUAGES))
        if extra:
            raise StandardError(f"{origin}: criterion {code} has guidance in "
                                f"{', '.join(extra)}, a language the program does not speak")
    return guidance
