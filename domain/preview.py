"""What a city sees while it fills its self-assessment: the tier its answers would earn as
they stand, the smallest set of criteria that would reach the next tier, and what is still
missing before it may submit. The same scorer the decision uses, on the draft's claims."""

from __future__ import annotations

from collections.abc import Mapping, Sized

from domain.answers import Answers, evidence_given
from domain.model import Frozen
from domain.report import NextTier, next_tier_path
from domain.scoring import ScoreResult, score
from domain.standard import Standard


class MissingEvidence(Frozen):
    code: str
    needed: tuple[str, ...]  # the named pieces of documentation a "met" answer links to
    given: int


class Preview(Frozen):
    score: ScoreResult
    next_tier: NextTier | None
    missing_evidence: tuple[MissingEvidence, ...]

    @property
    def ready_to_submit(self) -> bool:
        return not self.missing_evidence


def preview(standard: Standard, answers: Answers,
            documents: Mapping[str, Sized] | None = None) -> Preview:
    """Answers naming unknown criteria or items are refused by `score` (AssessmentError).
    A criterion's evidence is its links and the documents attached to it (`documents`)."""
    result = score(standard, answers)
    missing = []
    for code, answer in answers.criteria.items():
        if answer.claimed(standard, code):
            slots = standard.evidence_slots(standard.criterion(code))
            given = evidence_given(answer, (documents or {}).get(code))
            if given < len(slots):
                missing.append(MissingEvidence(code=code, needed=slots, given=given))
    order = {code: i for i, code in enumerate(standard.codes)}
    missing.sort(key=lambda m: order[m.code])
    return Preview(score=result, next_tier=next_tier_path(standard, answers, result),
                   missing_evidence=tuple(missing))
