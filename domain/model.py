"""The base of the domain's value objects: immutable pydantic models."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, model_validator

from domain.text import control_problem, escape_controls, single_line_problem


class Frozen(BaseModel):
    """An immutable value: state, views and results are replaced, never changed."""

    model_config = ConfigDict(frozen=True)


class StrictFrozen(BaseModel):
    """Immutable, and refusing unknown fields: for what arrives from outside (commands,
    standard files), where a misspelt field must be an error rather than ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _place(path: str, key: object) -> str:
    # A key as a message names it: escaped, so a control character is never echoed.
    text = escape_controls(str(key))
    return f"{path}.{text}" if path else text


def _text_problem(value: Any, path: str, *, strict: bool) -> str | None:
    """The first text in `value` that may not be sent, as `place: why`; None if all is
    well. NUL always (no name, answer or link has it, and PostgreSQL cannot store it);
    with `strict`, control and bidi-override characters too (domain/text.py), also in
    the models `value` holds."""
    if isinstance(value, str):
        problem = ("text may not contain NUL characters" if "\x00" in value
                   else control_problem(value) if strict else None)
        return f"{path}: {problem}" if problem and path else problem
    if isinstance(value, dict):
        for key, item in value.items():
            place = _place(path, key)
            found = (_text_problem(key, f"{place} (a key)", strict=strict)
                     if isinstance(key, str) else None)
            if found is None:
                found = _text_problem(item, place, strict=strict)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if (found := _text_problem(item, _place(path, index), strict=strict)) is not None:
                return found
    elif strict and isinstance(value, BaseModel):
        for name in type(value).model_fields:
            found = _text_problem(getattr(value, name), _place(path, name), strict=strict)
            if found is not None:
                return found
    return None


def made_here(info: ValidationInfo) -> bool:
    """Whether a value is being made by a front door (Python mode), rather than read back
    from a workflow's history (JSON mode), where a bound added since must not be applied
    to what was already accepted (see `Input`)."""
    return info.mode == "python"


class Input(StrictFrozen):
    """What people send: refused whole if any text in it holds a NUL character, which no
    name, answer or link has and PostgreSQL cannot store.

    A command (`checks_text`) is held to more: no control or bidi-override character in
    any of its text (domain/text.py), checked where it is made, at every front door (the
    CLI, the API, files: pydantic's Python mode). A command read back from a workflow's
    history (JSON mode, the Temporal data converter) was checked when it was made and is
    not judged again: histories recorded before a rule was added must still replay."""

    checks_text: ClassVar[bool] = False

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: Any, info: ValidationInfo) -> Any:
        strict = cls.checks_text and made_here(info)
        if (problem := _text_problem(data, "", strict=strict)) is not None:
            raise ValueError(problem)
        return data


def _single_line(value: str, info: ValidationInfo) -> str:
    if made_here(info) and (problem := single_line_problem(value)) is not None:
        raise ValueError(problem)
    return value


# A name, an e-mail, an id, a link: one line, no tab, no control or bidi character.
# `ONE_LINE` goes beside other constraints (`Annotated[str, StringConstraints(...), ONE_LINE]`).
ONE_LINE = AfterValidator(_single_line)
SingleLine = Annotated[str, ONE_LINE]


def longest(limit: int) -> AfterValidator:
    """At most `limit` characters, where the text is made (a bound added after texts were
    recorded: see `made_here`)."""

    def check(value: str, info: ValidationInfo) -> str:
        if made_here(info) and len(value) > limit:
            raise ValueError(f"may have at most {limit:,} characters")
        return value

    return AfterValidator(check)
