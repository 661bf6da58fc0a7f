"""The scorer: one point per criterion met, prerequisites and checklists respected, tiers
compared in exact rational arithmetic, gates applied on top."""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

from domain.answers import Answers, check_answers
from domain.model import Frozen
from domain.standard import ComponentTierRule, PercentTierRule, Standard
from domain.tiers import CERTIFIED_TIERS, Tier


class PracticeScore(Frozen):
    code: str
    name: str
    met: int
    total: int


class GateResult(Frozen):
    id: str
    label: str
    met: bool
    options_met: tuple[str, ...]


class ScoreResult(Frozen):
    standard: str
    tier: Tier
    # The tier the criteria alone would earn; differs from `tier` when a gate is not met.
    criteria_tier: Tier
    points: int
    total: int
    practices: tuple[PracticeScore, ...]
    components_worked: tuple[str, ...] = ()
    gates: tuple[GateResult, ...] = ()
    met: tuple[str, ...]
    # Claimed as met, but a prerequisite is not met, so they earn nothing.
    blocked: tuple[str, ...] = ()

    @property
    def share(self) -> Fraction:
        return Fraction(self.points, self.total)

    @property
    def percent(self) -> float:
        return round(float(self.share * 100), 2)


def claimed_codes(standard: Standard, answers: Answers) -> set[str]:
    return {code for code in standard.codes if answers.answer(code).claimed(standard, code)}


def met_codes(standard: Standard, claimed: Iterable[str]) -> set[str]:
    """Criteria met: claimed, and every prerequisite (transitively) met."""
    claimed_set = set(claimed)
    memo: dict[str, bool] = {}

    def is_met(code: str) -> bool:
        if code not in memo:
            criterion = standard.criterion(code)
            # Prerequisites are acyclic (checked when the standard loads), so this recursion ends.
            memo[code] = code in claimed_set and all(is_met(p) for p in criterion.prerequisites)
        return memo[code]

    return {code for code in standard.codes if is_met(code)}


def criteria_tier(standard: Standard, met: set[str]) -> Tier:
    rule = standard.tiers
    earned = Tier.NONE
    if isinstance(rule, PercentTierRule):
        share = Fraction(len(met), standard.total)
        for tier in CERTIFIED_TIERS:
            if share >= rule.threshold(tier):
                earned = tier
    else:
        worked = len(components_worked(standard, met, rule))
        for tier in CERTIFIED_TIERS:
            if worked >= rule.required(tier):
                earned = tier
    return earned


def components_worked(
    standard: Standard, met: set[str], rule: ComponentTierRule
) -> tuple[str, ...]:
    worked = []
    for component in standard.components:
        codes = [c.code for c in standard.criteria if c.component == component.code]
        if codes and Fraction(sum(c in met for c in codes), len(codes)) * 100 >= (
            rule.component_share
        ):
            worked.append(component.code)
    return tuple(worked)


def needed_for(standard: Standard, rule: PercentTierRule, tier: Tier) -> int:
    """Criteria a city must meet for `tier` under a percent rule (exact ceiling)."""
    return math.ceil(rule.threshold(tier) * standard.total)


def evaluate_gates(standard: Standard, answers: Answers) -> tuple[GateResult, ...]:
    results = []
    for gate in standard.gates:
        met_options = tuple(o.id for o in gate.options if answers.outcomes.get(o.id, False))
        results.append(
            GateResult(
                id=gate.id,
                label=gate.label,
                met=len(met_options) >= gate.at_least,
                options_met=met_options,
            )
        )
    return tuple(results)


def apply_gates(standard: Standard, tier: Tier, gates: tuple[GateResult, ...]) -> Tier:
    """Lower `tier` to the highest tier whose gates are all met."""
    failed = {g.id for g in gates if not g.met}
    while tier is not Tier.NONE and any(
        gate.id in failed and tier in gate.tiers for gate in standard.gates
    ):
        tier = CERTIFIED_TIERS[CERTIFIED_TIERS.index(tier) - 1] if tier is not Tier.SILVER else (
            Tier.NONE
        )
    return tier


def score(standard: Standard, answers: Answers) -> ScoreResult:
    """Score reviewed (or self-reported) answers under `standard`."""
    standard.require_complete()
    check_answers(standard, answers, require_evidence=False)
    claimed = claimed_codes(standard, answers)
    met = met_codes(standard, claimed)
    by_criteria = criteria_tier(standard, met)
    gates = evaluate_gates(standard, answers)
    practices = tuple(
        PracticeScore(
            code=p.code,
            name=p.name,
            met=sum(1 for c in standard.criteria if c.practice == p.code and c.code in met),
            total=sum(1 for c in standard.criteria if c.practice == p.code),
        )
        for p in standard.practices
    )
    rule = standard.tiers
    return ScoreResult(
        standard=standard.id,
        tier=apply_gates(standard, by_criteria, gates),
        criteria_tier=by_criteria,
        points=len(met),
        total=standard.total,
        practices=practices,
        components_worked=(
            components_worked(standard, met, rule) if isinstance(rule, ComponentTierRule) else ()
        ),
        gates=gates,
        met=tuple(c for c in standard.codes if c in met),
        blocked=tuple(c for c in standard.codes if c in claimed and c not in met),
    )
