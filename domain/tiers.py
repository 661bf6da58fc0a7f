"""Certification tiers and reassessment outcomes."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    NONE = "none"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def certified(self) -> bool:
        return self is not Tier.NONE

    def next_up(self) -> Tier | None:
        order = list(Tier)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None


_RANK = {tier: index for index, tier in enumerate(Tier)}
CERTIFIED_TIERS: tuple[Tier, ...] = (Tier.SILVER, Tier.GOLD, Tier.PLATINUM)


class Outcome(StrEnum):
    """How an announced (or lapsed) certification relates to the city's previous one."""

    NEW = "new"
    RECERTIFIED = "recertified"
    MOVED_UP = "moved_up"
    MOVED_DOWN = "moved_down"
    LAPSED = "lapsed"


def classify_outcome(previous: Tier | None, new: Tier) -> Outcome:
    """Outcome of announcing `new` for a city whose certification in force is `previous`."""
    if new is Tier.NONE:
        return Outcome.LAPSED
    if previous is None or previous is Tier.NONE:
        return Outcome.NEW
    if new.rank > previous.rank:
        return Outcome.MOVED_UP
    if new.rank < previous.rank:
        return Outcome.MOVED_DOWN
    return Outcome.RECERTIFIED
