"""A certification standard as data: practices, criteria, the tier rule and any gates.

Standards are shipped as YAML files (see `domain/standards/`) and operators may add their
own; `parse_standard` validates one and turns every contradiction into a `StandardError`
that names the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from domain.errors import StandardError
from domain.model import StrictFrozen
from domain.tiers import CERTIFIED_TIERS, Tier
from domain.validation import describe_validation_error

_CODE = r"^[A-Za-z][A-Za-z0-9_.-]*$"


# Our own paraphrases in the program's other languages, by language code ("es", "pt");
# English is the `name`/`label` itself, and a language missing here falls back to it.
Translations = dict[Annotated[str, Field(pattern=r"^[a-z]{2}$")], str]


class Practice(StrictFrozen):
    code: Annotated[str, Field(pattern=_CODE)]
    name: str
    names: Translations = Field(default_factory=dict)

    def name_in(self, language: str) -> str:
        return self.names.get(language, self.name)


class Component(StrictFrozen):
    """A part of the launch standard (Commit, Measure, Take Stock, Act)."""

    code: Annotated[str, Field(pattern=_CODE)]
    name: str


class ChecklistItem(StrictFrozen):
    id: Annotated[str, Field(pattern=_CODE)]
    label: str


class Checklist(StrictFrozen):
    """A criterion met when at least `at_least` of its items are."""

    at_least: Annotated[int, Field(ge=1)]
    items: tuple[ChecklistItem, ...]


class Criterion(StrictFrozen):
    code: Annotated[str, Field(pattern=_CODE)]
    label: str
    labels: Translations = Field(default_factory=dict)
    practice: str
    component: str | None = None
    checklist: Checklist | None = None
    prerequisites: tuple[str, ...] = ()
    # Named pieces of supporting documentation a "yes" answer must link to; None means the
    # standard's default.
    evidence: tuple[str, ...] | None = None

    def label_in(self, language: str) -> str:
        return self.labels.get(language, self.label)


class PercentTierRule(StrictFrozen):
    """Tier by the share of criteria met; thresholds are whole or decimal percentages."""

    rule: Literal["percent"]
    silver: Fraction
    gold: Fraction
    platinum: Fraction

    def threshold(self, tier: Tier) -> Fraction:
        return {Tier.SILVER: self.silver, Tier.GOLD: self.gold, Tier.PLATINUM: self.platinum}[
            tier
        ] / 100


class ComponentTierRule(StrictFrozen):
    """Tier by how many components the city works across (the 2017 launch rule).

    A component counts as worked when the share of its criteria met reaches
    `component_share` (a percentage; 100 = all of them)."""

    rule: Literal["components"]
    silver: Annotated[int, Field(ge=1)]
    gold: Annotated[int, Field(ge=1)]
    platinum: Annotated[int, Field(ge=1)]
    component_share: Fraction = Fraction(100)

    def required(self, tier: Tier) -> int:
        return {Tier.SILVER: self.silver, Tier.GOLD: self.gold, Tier.PLATINUM: self.platinum}[
            tier
        ]


TierRule = Annotated[PercentTierRule | ComponentTierRule, Field(discriminator="rule")]


class GateOption(StrictFrozen):
    id: Annotated[str, Field(pattern=_CODE)]
    label: str
    labels: Translations = Field(default_factory=dict)

    def label_in(self, language: str) -> str:
        return self.labels.get(language, self.label)


class Gate(StrictFrozen):
    """A requirement besides the criteria, e.g. the 2022 outcome benchmark: at least
    `at_least` of the options must be met for any tier listed in `tiers`."""

    id: Annotated[str, Field(pattern=_CODE)]
    label: str
    labels: Translations = Field(default_factory=dict)
    options: tuple[GateOption, ...]
    at_least: Annotated[int, Field(ge=1)] = 1
    tiers: tuple[Tier, ...] = CERTIFIED_TIERS

    def label_in(self, language: str) -> str:
        return self.labels.get(language, self.label)


class Standard(StrictFrozen):
    id: Annotated[str, Field(pattern=_CODE)]
    title: str
    effective_from: date
    # An incomplete standard is kept for the record (its criteria are only partly known)
    # and cannot be used to score.
    complete: bool = True
    declared_criteria: int | None = None
    notes: str = ""
    sources: tuple[str, ...] = ()
    practices: tuple[Practice, ...]
    components: tuple[Component, ...] = ()
    criteria: tuple[Criterion, ...]
    default_evidence: tuple[str, ...] = ("supporting documentation",)
    tiers: TierRule
    gates: tuple[Gate, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Standard:
        _check_consistency(self)
        return self

    # --- lookups -------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return len(self.criteria)

    def criterion(self, code: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.code == code:
                return criterion
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.criteria)

    def evidence_slots(self, criterion: Criterion) -> tuple[str, ...]:
        return criterion.evidence if criterion.evidence is not None else self.default_evidence

    def gate_option_ids(self) -> set[str]:
        return {option.id for gate in self.gates for option in gate.options}

    def require_complete(self) -> None:
        if not self.complete:
            known = f"{self.total} of {self.declared_criteria}" if self.declared_criteria else (
                f"{self.total}"
            )
            raise StandardError(
                f"standard {self.id} is incomplete ({known} criteria known) and cannot be used "
                "to score; name a complete standard",
                code="standard_incomplete", facts={"standard": self.id},
            )


def _duplicates(values: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({v for v in values if v in seen or seen.add(v)})  # type: ignore[func-returns-value]


def _check_consistency(standard: Standard) -> None:
    where = f"standard {standard.id}"
    for kind, values in (
        ("practice", [p.code for p in standard.practices]),
        ("component", [c.code for c in standard.components]),
        ("criterion", [c.code for c in standard.criteria]),
        ("gate", [g.id for g in standard.gates]),
    ):
        if dup := _duplicates(values):
            raise ValueError(f"{where}: duplicate {kind} code {', '.join(dup)}")
    if not standard.criteria:
        raise ValueError(f"{where}: no criteria")
    practices = {p.code for p in standard.practices}
    components = {c.code for c in standard.components}
    codes = set(standard.codes)
    for criterion in standard.criteria:
        at = f"{where}, criterion {criterion.code}"
        if criterion.practice not in practices:
            raise ValueError(f"{at}: unknown practice {criterion.practice!r}")
        if criterion.component is not None and criterion.component not in components:
            raise ValueError(f"{at}: unknown component {criterion.component!r}")
        for prerequisite in criterion.prerequisites:
            if prerequisite not in codes:
                raise ValueError(f"{at}: unknown prerequisite {prerequisite!r}")
            if prerequisite == criterion.code:
                raise ValueError(f"{at}: is its own prerequisite")
        if criterion.checklist is not None:
            checklist = criterion.checklist
            if dup := _duplicates([item.id for item in checklist.items]):
                raise ValueError(f"{at}: duplicate checklist item {', '.join(dup)}")
            if checklist.at_least > len(checklist.items):
                raise ValueError(
                    f"{at}: checklist needs {checklist.at_least} items but lists only "
                    f"{len(checklist.items)}"
                )
    _check_acyclic(standard)
    _check_tier_rule(standard, where)
    for gate in standard.gates:
        if gate.at_least > len(gate.options):
            raise ValueError(
                f"{where}, gate {gate.id}: needs {gate.at_least} options but lists "
                f"{len(gate.options)}"
            )
    if standard.declared_criteria is not None and standard.declared_criteria < standard.total:
        raise ValueError(
            f"{where}: declares {standard.declared_criteria} criteria but lists {standard.total}"
        )
    if standard.complete and standard.declared_criteria not in (None, standard.total):
        raise ValueError(
            f"{where}: marked complete but lists {standard.total} of "
            f"{standard.declared_criteria} declared criteria"
        )


def _check_tier_rule(standard: Standard, where: str) -> None:
    rule = standard.tiers
    if isinstance(rule, PercentTierRule):
        values = [rule.silver, rule.gold, rule.platinum]
        if not all(0 < v <= 100 for v in values):
            raise ValueError(f"{where}: tier thresholds must lie in (0, 100] percent")
    else:
        values = [Fraction(rule.silver), Fraction(rule.gold), Fraction(rule.platinum)]
        if not standard.components:
            raise ValueError(f"{where}: a components tier rule needs components")
        if rule.platinum > len(standard.components):
            raise ValueError(
                f"{where}: platinum needs {rule.platinum} components but the standard has "
                f"{len(standard.components)}"
            )
        if not 0 < rule.component_share <= 100:
            raise ValueError(f"{where}: component_share must lie in (0, 100] percent")
        for criterion in standard.criteria:
            if criterion.component is None:
                raise ValueError(
                    f"{where}, criterion {criterion.code}: a components tier rule needs every "
                    "criterion to name its component"
                )
    if not values[0] < values[1] < values[2]:
        raise ValueError(
            f"{where}: tier thresholds out of order (silver < gold < platinum required, got "
            f"{', '.join(str(v) for v in values)})"
        )


def _check_acyclic(standard: Standard) -> None:
    edges = {c.code: c.prerequisites for c in standard.criteria}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(code: str, path: list[str]) -> None:
        if state.get(code) == 2:
            return
        if state.get(code) == 1:
            cycle = " -> ".join([*path[path.index(code) :], code])
            raise ValueError(f"standard {standard.id}: prerequisite cycle {cycle}")
        state[code] = 1
        for prerequisite in edges[code]:
            visit(prerequisite, [*path, code])
        state[code] = 2

    for code in edges:
        visit(code, [])


def parse_standard(data: Mapping[str, Any], *, origin: str = "standard") -> Standard:
    """Validate a decoded standard file; any problem becomes one precise `StandardError`."""
    try:
        return Standard.model_validate(data)
    except ValidationError as error:
        raise StandardError(f"{origin}: {describe_validation_error(error)}") from None
