"""Self-assessment answers: what a city (or, after review, the review team) says is met.

The hand-written file format accepts, per criterion code, `true`/`false`, a list of the
checklist items met, or `{met, items, evidence}`; evidence links may also sit in a
top-level `evidence` map. `Answers` is the normalised form the scorer and the lifecycle use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sized
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.errors import AssessmentError
from domain.model import Input, StrictFrozen
from domain.standard import Standard
from domain.validation import describe_validation_error


class CriterionAnswer(StrictFrozen):
    met: bool = False
    # For checklist criteria: the items met. None means "not answered item by item".
    items: tuple[str, ...] | None = None
    evidence: tuple[str, ...] = ()
    # The links valid only until a day (a policy in force until it is revised), by link:
    # at reapplication, a link past its day is not carried over (domain/carry_over.py).
    valid_through: dict[str, date] = {}

    def claimed(self, standard: Standard, code: str) -> bool:
        """Whether the answer says the criterion is met (before prerequisites)."""
        checklist = standard.criterion(code).checklist
        if checklist is not None and self.items is not None:
            return len(set(self.items)) >= checklist.at_least
        return self.met


class Answers(Input):
    criteria: dict[str, CriterionAnswer] = Field(default_factory=dict)
    outcomes: dict[str, bool] = Field(default_factory=dict)

    def answer(self, code: str) -> CriterionAnswer:
        return self.criteria.get(code, _NOT_MET)


_NOT_MET = CriterionAnswer()


class SelfAssessmentFile(BaseModel):
    """The document a city (or an operator on its behalf) writes by hand."""

    model_config = ConfigDict(extra="forbid")

    standard: str
    city: str | None = None
    criteria: dict[str, bool | list[str] | CriterionAnswer]
    outcomes: dict[str, bool] = Field(default_factory=dict)
    evidence: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("criteria")
    @classmethod
    def _not_empty(
        cls, value: dict[str, bool | list[str] | CriterionAnswer]
    ) -> dict[str, bool | list[str] | CriterionAnswer]:
        if not value:
            raise ValueError("no criteria answered")
        return value

    def to_answers(self) -> Answers:
        criteria: dict[str, CriterionAnswer] = {}
        for code, raw in self.criteria.items():
            extra = tuple(self.evidence.get(code, ()))
            if isinstance(raw, bool):
                answer = CriterionAnswer(met=raw, evidence=extra)
            elif isinstance(raw, list):
                answer = CriterionAnswer(met=False, items=tuple(raw), evidence=extra)
            else:
                answer = raw.model_copy(update={"evidence": (*raw.evidence, *extra)})
            criteria[code] = answer
        for code in self.evidence:
            if code not in criteria:
                criteria[code] = CriterionAnswer(evidence=tuple(self.evidence[code]))
        return Answers(criteria=criteria, outcomes=dict(self.outcomes))


def parse_self_assessment(data: Any, *, origin: str = "self-assessment") -> SelfAssessmentFile:
    if not isinstance(data, Mapping):
        raise AssessmentError(f"{origin}: expected a mapping with 'standard' and 'criteria'")
    try:
        return SelfAssessmentFile.model_validate(data)
    except ValidationError as error:
        raise AssessmentError(f"{origin}: {describe_validation_error(error)}") from None


def evidence_given(answer: CriterionAnswer, documents: Sized | None) -> int:
    """How many pieces of evidence an answer gives: its links and its documents."""
    return len(answer.evidence) + (len(documents) if documents is not None else 0)


def check_answers(standard: Standard, answers: Answers, *, require_evidence: bool,
                  documents: Mapping[str, Sized] | None = None) -> None:
    """Refuse answers naming unknown criteria, items or outcomes, and (when asked) claimed
    criteria without their supporting documentation: each evidence slot is filled by a
    link or by a document attached to the criterion (`documents`, per criterion code)."""
    known = set(standard.codes)
    unknown = sorted(set(answers.criteria) - known)
    if unknown:
        raise AssessmentError(
            f"unknown criterion code {', '.join(unknown)} for standard {standard.id}",
            code="unknown_criterion", facts={"criterion": ", ".join(unknown)},
        )
    for code, answer in answers.criteria.items():
        checklist = standard.criterion(code).checklist
        if answer.items is not None:
            if checklist is None:
                raise AssessmentError(f"criterion {code} has no checklist; answer true or false")
            item_ids = {item.id for item in checklist.items}
            if bad := sorted(set(answer.items) - item_ids):
                raise AssessmentError(
                    f"criterion {code}: unknown checklist item {', '.join(bad)} "
                    f"(known: {', '.join(sorted(item_ids))})"
                )
        if require_evidence and answer.claimed(standard, code):
            slots = standard.evidence_slots(standard.criterion(code))
            given = evidence_given(answer, (documents or {}).get(code))
            if given < len(slots):
                raise AssessmentError(
                    f"criterion {code} is claimed as met but lacks evidence: "
                    f"{', '.join(slots)} ({given} of {len(slots)} links or documents given)",
                    code="missing_evidence", facts={
                        "criterion": code, "needed": ", ".join(slots),
                        "given": given, "wanted": len(slots)},
                )
    options = standard.gate_option_ids()
    if bad := sorted(set(answers.outcomes) - options):
        known_options = ", ".join(sorted(options)) or "none"
        raise AssessmentError(
            f"unknown outcome {', '.join(bad)} for standard {standard.id} "
            f"(known: {known_options})"
        )
