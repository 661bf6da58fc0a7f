"""The customised report every assessed city receives, certified or not: points per
practice, strengths, areas to improve, and the smallest set of unmet criteria that would
lift the city to the next tier."""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from itertools import combinations

from domain.answers import Answers
from domain.model import Frozen
from domain.scoring import (
    ScoreResult,
    claimed_codes,
    met_codes,
    needed_for,
    score,
)
from domain.standard import ComponentTierRule, PercentTierRule, Standard
from domain.tiers import Tier

# A practice is a strength when more than half of its criteria are met.
STRENGTH_SHARE = Fraction(1, 2)
# Above this many "unlocking" candidates the exact search would be slow; a greedy choice
# is used instead (real standards have few prerequisites, so this is not reached).
_EXACT_SEARCH_LIMIT = 12


class NextTier(Frozen):
    tier: Tier
    criteria: tuple[str, ...]
    gates: tuple[str, ...] = ()


class Report(Frozen):
    score: ScoreResult
    strengths: tuple[str, ...]
    improve: tuple[str, ...]
    next_tier: NextTier | None
    honor_roll: bool = False


def build_report(
    standard: Standard, answers: Answers, *, honor_roll_percent: Fraction | None = None
) -> Report:
    result = score(standard, answers)
    strengths = tuple(
        p.code for p in result.practices if p.total and Fraction(p.met, p.total) > STRENGTH_SHARE
    )
    improve = tuple(p.code for p in result.practices if p.met < p.total and p.code not in strengths)
    honor_roll = (
        honor_roll_percent is not None
        and result.tier is Tier.NONE
        and result.share * 100 >= honor_roll_percent
    )
    return Report(
        score=result,
        strengths=strengths,
        improve=improve,
        next_tier=next_tier_path(standard, answers, result),
        honor_roll=honor_roll,
    )


def next_tier_path(standard: Standard, answers: Answers, result: ScoreResult) -> NextTier | None:
    target = result.tier.next_up()
    if target is None:
        return None
    gates = tuple(
        g.id
        for g, gate in zip(result.gates, standard.gates, strict=True)
        if not g.met and target in gate.tiers
    )
    claimed = claimed_codes(standard, answers)
    if result.criteria_tier.rank >= target.rank:
        return NextTier(tier=target, criteria=(), gates=gates)
    rule = standard.tiers
    if isinstance(rule, PercentTierRule):
        needed = needed_for(standard, rule, target)
        chosen = _smallest_for_points(standard, answers, claimed, needed)
    else:
        chosen = _cheapest_components(standard, answers, claimed, rule, target)
    order = {code: i for i, code in enumerate(standard.codes)}
    return NextTier(tier=target, criteria=tuple(sorted(chosen, key=order.__getitem__)), gates=gates)


def _missing_items(standard: Standard, answers: Answers, code: str) -> int:
    """How far an unmet criterion is from met: checklist items still missing (1 otherwise)."""
    checklist = standard.criterion(code).checklist
    items = answers.answer(code).items
    if checklist is None or items is None:
        return checklist.at_least if checklist else 1
    return max(checklist.at_least - len(set(items)), 0)


def _ancestors(standard: Standard, codes: Iterable[str]) -> set[str]:
    found: set[str] = set()
    stack = list(codes)
    while stack:
        for prerequisite in standard.criterion(stack.pop()).prerequisites:
            if prerequisite not in found:
                found.add(prerequisite)
                stack.append(prerequisite)
    return found


def _fill(
    standard: Standard,
    answers: Answers,
    done: set[str],
    pool: set[str],
    points_needed: int,
    within: set[str] | None = None,
) -> set[str] | None:
    """Pick criteria from `pool` one at a time, each with its prerequisites already met,
    nearest to met first, until `points_needed` criteria (of `within`, if given) are met."""
    chosen: set[str] = set()
    order = {code: i for i, code in enumerate(standard.codes)}

    def points() -> int:
        met = met_codes(standard, done | chosen)
        return len(met if within is None else met & within)

    while points() < points_needed:
        met = met_codes(standard, done | chosen)
        available = [
            code
            for code in pool - chosen
            if all(p in met for p in standard.criterion(code).prerequisites)
        ]
        if not available:
            return None
        # Inside the target component first, then nearest to met, then the standard's order.
        available.sort(
            key=lambda c: (within is not None and c not in within,
                           _missing_items(standard, answers, c), order[c])
        )
        chosen.add(available[0])
    return chosen


def _smallest_for_points(
    standard: Standard, answers: Answers, claimed: set[str], needed: int
) -> set[str]:
    """Smallest set of unclaimed criteria whose meeting brings the count of met criteria to
    `needed`. Only criteria that unblock claimed-but-blocked ones can earn more than one
    point each, so every subset of those is tried and the rest is filled one point a pick."""
    unclaimed = set(standard.codes) - claimed
    blocked = claimed - met_codes(standard, claimed)
    unlockers = _ancestors(standard, blocked) & unclaimed
    plain = unclaimed - unlockers
    best: set[str] | None = None
    if len(unlockers) <= _EXACT_SEARCH_LIMIT:
        for size in range(len(unlockers) + 1):
            for subset in combinations(sorted(unlockers), size):
                picked = set(subset)
                filled = _fill(standard, answers, claimed | picked, plain, needed)
                if filled is not None and (best is None or len(picked | filled) < len(best)):
                    best = picked | filled
    if best is None:
        best = _fill(standard, answers, claimed, unclaimed, needed) or unclaimed
    return best


def _cheapest_components(
    standard: Standard,
    answers: Answers,
    claimed: set[str],
    rule: ComponentTierRule,
    target: Tier,
) -> set[str]:
    met = met_codes(standard, claimed)
    worked = 0
    costs: list[tuple[int, int, set[str]]] = []
    for index, component in enumerate(standard.components):
        codes = {c.code for c in standard.criteria if c.component == component.code}
        needed = math.ceil(rule.component_share / 100 * len(codes))
        if len(codes & met) >= needed:
            worked += 1
            continue
        chosen = _fill(
            standard, answers, claimed, set(standard.codes) - claimed, needed, within=codes
        )
        if chosen is not None:
            costs.append((len(chosen), index, chosen))
    missing = rule.required(target) - worked
    union: set[str] = set()
    for _, _, chosen in sorted(costs, key=lambda c: (c[0], c[1]))[:missing]:
        union |= chosen
    return union
