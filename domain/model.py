"""The base of the domain's value objects: immutable pydantic models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """An immutable value: state, views and results are replaced, never changed."""

    model_config = ConfigDict(frozen=True)


class StrictFrozen(BaseModel):
    """Immutable, and refusing unknown fields: for what arrives from outside (commands,
    standard files), where a misspelt field must be an error rather than ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")
