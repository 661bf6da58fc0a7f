from itertools import combinations
from typing import Any

import pytest

from domain.answers import Answers, CriterionAnswer
from domain.errors import AssessmentError
from domain.report import build_report
from domain.scoring import score
from domain.standard import Standard
from domain.tiers import Tier
from tests.factories import WWC_2017, WWC_2022, answers, small_standard


@pytest.mark.parametrize(
    ("points", "tier"),
    [(0, Tier.NONE), (21, Tier.NONE), (22, Tier.SILVER), (29, Tier.SILVER), (30, Tier.GOLD),
     (36, Tier.GOLD), (37, Tier.PLATINUM), (43, Tier.PLATINUM)],
)
def test_wwc_2022_thresholds_are_exact_at_every_edge(points: int, tier: Tier) -> None:
    result = score(WWC_2022, answers(WWC_2022, points))
    assert (result.points, result.total, result.tier) == (points, 43, tier)


def test_the_outcome_gate_withholds_every_tier() -> None:
    result = score(WWC_2022, answers(WWC_2022, 40, outcomes={}))
    assert result.criteria_tier is Tier.PLATINUM
    assert result.tier is Tier.NONE
    assert not result.gates[0].met


def test_any_one_outcome_meets_the_gate() -> None:
    for outcome in ("air_quality", "broadband", "sdg_priority"):
        result = score(WWC_2022, answers(WWC_2022, 30, outcomes={outcome: True}))
        assert result.tier is Tier.GOLD


def test_per_practice_breakdown_counts_met_criteria() -> None:
    result = score(WWC_2022, answers(WWC_2022, ["DM1", "DM2", "OD3", "EVAL4"]))
    by_code = {p.code: (p.met, p.total) for p in result.practices}
    assert by_code["DM"] == (2, 9)
    assert by_code["OD"] == (1, 4)
    assert by_code["EVAL"] == (1, 4)
    assert by_code["RDC"] == (0, 8)


def test_a_checklist_criterion_is_met_when_enough_items_are() -> None:
    standard = small_standard(criteria=[
        {"code": "A1", "label": "inventory", "practice": "A", "checklist": {
            "at_least": 3, "items": [{"id": i, "label": i} for i in ("w", "x", "y", "z")]}},
        {"code": "B1", "label": "other", "practice": "B"},
    ], tiers={"rule": "percent", "silver": 50, "gold": 70, "platinum": 90})
    two = Answers(criteria={"A1": CriterionAnswer(items=("w", "x"))})
    three = Answers(criteria={"A1": CriterionAnswer(items=("w", "x", "z"))})
    assert score(standard, two).points == 0
    assert score(standard, three).points == 1


def test_unknown_checklist_item_is_refused() -> None:
    standard = small_standard(criteria=[
        {"code": "A1", "label": "inventory", "practice": "A", "checklist": {
            "at_least": 1, "items": [{"id": "w", "label": "w"}]}},
    ])
    with pytest.raises(AssessmentError, match="criterion A1: unknown checklist item q"):
        score(standard, Answers(criteria={"A1": CriterionAnswer(items=("q",))}))


def _chain_standard() -> Standard:
    """B6 needs A1; A2 needs A1; everything else independent."""
    criteria: list[dict[str, Any]] = [{"code": f"{'A' if i <= 5 else 'B'}{i}", "label": str(i),
                 "practice": "A" if i <= 5 else "B"} for i in range(1, 11)]
    criteria[1]["prerequisites"] = ["A1"]
    criteria[5]["prerequisites"] = ["A1"]
    return small_standard(criteria=criteria)


def test_a_criterion_whose_prerequisite_is_unmet_earns_nothing() -> None:
    standard = small_standard(criteria=[
        {"code": "A1", "label": "base", "practice": "A"},
        {"code": "A2", "label": "needs base", "practice": "A", "prerequisites": ["A1"]},
        {"code": "A3", "label": "needs A2", "practice": "A", "prerequisites": ["A2"]},
    ])
    result = score(standard, answers(standard, ["A2", "A3"]))
    assert result.points == 0
    assert result.blocked == ("A2", "A3")
    assert score(standard, answers(standard, ["A1", "A2", "A3"])).points == 3


@pytest.mark.parametrize(("worked", "tier"), [(1, Tier.NONE), (2, Tier.SILVER),
                                              (3, Tier.GOLD), (4, Tier.PLATINUM)])
def test_the_launch_standard_counts_components_worked(worked: int, tier: Tier) -> None:
    result = score(WWC_2017, answers(WWC_2017, worked, outcomes={}))
    assert result.tier is tier
    assert len(result.components_worked) == worked


def test_report_names_strengths_areas_and_the_next_tier_path() -> None:
    met = [c for c in WWC_2022.codes if c.startswith(("DM", "LC", "OD"))]  # 20 criteria
    report = build_report(WWC_2022, answers(WWC_2022, met))
    assert report.score.tier is Tier.NONE
    assert report.strengths == ("DM", "LC", "OD")
    assert "PA" in report.improve
    assert "DM" not in report.improve
    assert report.next_tier is not None
    assert report.next_tier.tier is Tier.SILVER
    assert len(report.next_tier.criteria) == 2  # 22 of 43 is silver
    assert set(report.next_tier.criteria).isdisjoint(met)


def test_next_tier_path_lists_the_gate_when_it_is_what_is_missing() -> None:
    report = build_report(WWC_2022, answers(WWC_2022, 25, outcomes={}))
    assert report.next_tier is not None
    assert report.next_tier.tier is Tier.SILVER
    assert report.next_tier.criteria == ()
    assert report.next_tier.gates == ("outcome",)


def test_platinum_has_no_next_tier() -> None:
    assert build_report(WWC_2022, answers(WWC_2022, 43)).next_tier is None


def test_next_tier_path_respects_prerequisites_and_prefers_unlocking() -> None:
    standard = _chain_standard()
    # The city claims A2 and B6, both blocked by A1, plus A3 and A4: 2 points, 4 claimed.
    claimed = answers(standard, ["A2", "B6", "A3", "A4"])
    report = build_report(standard, claimed)
    assert report.score.points == 2
    assert report.next_tier is not None
    # Silver needs 5: meeting A1 alone unlocks A2 and B6 (2 + 3 = 5).
    assert report.next_tier.criteria == ("A1",)


def test_next_tier_path_is_the_smallest_set_by_brute_force() -> None:
    standard = _chain_standard()
    claimed = answers(standard, ["B6", "A3"])
    report = build_report(standard, claimed)
    assert report.next_tier is not None
    path = set(report.next_tier.criteria)
    unclaimed = [c for c in standard.codes if c not in {"B6", "A3"}]

    def reaches(extra: set[str]) -> bool:
        result = score(standard, answers(standard, ["B6", "A3", *extra]))
        return result.tier.rank >= target.rank

    target = report.next_tier.tier
    assert reaches(path)
    smallest = next(size for size in range(len(unclaimed) + 1)
                    if any(reaches(set(s)) for s in combinations(unclaimed, size)))
    assert len(path) == smallest
