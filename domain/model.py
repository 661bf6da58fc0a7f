"""The base of the domain's value objects: immutable pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class Frozen(BaseModel):
    """An immutable value: state, views and results are replaced, never changed."""

    model_config = ConfigDict(frozen=True)


class StrictFrozen(BaseModel):
    """Immutable, and refusing unknown fields: for what arrives from outside (commands,
    standard files), where a misspelt field must be an error rather than ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _without_nul(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text may not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _without_nul(key)
            _without_nul(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _without_nul(item)


class Input(StrictFrozen):
    """What people send: refused whole if any text in it holds a NUL character, which no
    name, answer or link has and PostgreSQL cannot store."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        _without_nul(data)
        return data
