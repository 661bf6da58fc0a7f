"""Percentiles as the program reports them (the operators' numbers: days from joining to
submission, to decision, to announcement).

The definition is the **nearest-rank** method: the p-th percentile of n values is the
value at rank ceil(p/100 x n) of the values sorted from smallest to largest (rank 1 for
p = 0); equivalently, the smallest value with at least p % of the values at or below it.
So every figure is a whole number of days that some application actually took (no
interpolation between two of them), the median of an even count is the lower of its two
middle values, and the figures do not move when a value far from them changes."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from math import ceil


def nearest_rank(values: Iterable[int], percent: int) -> int | None:
    """The `percent`-th percentile of `values` by nearest rank (see the module), or None
    when there are none. `percent` runs from 0 to 100."""
    if not 0 <= percent <= 100:
        raise ValueError(f"a percentile runs from 0 to 100, not {percent}")
    ordered = sorted(values)
    if not ordered:
        return None
    # Exact arithmetic: 90 % of 10 values is rank 9, never 9.000000000000002 -> 10.
    rank = max(1, ceil(Fraction(percent, 100) * len(ordered)))
    return ordered[rank - 1]


def median(values: Iterable[int]) -> int | None:
    """The 50th percentile by nearest rank: of an even count, the lower middle value."""
    return nearest_rank(values, 50)
