from datetime import date
from typing import Any

import pytest

from domain.errors import StandardError
from domain.standard import ComponentTierRule, PercentTierRule, parse_standard
from tests.factories import CATALOG, WWC_2017, WWC_2022, small_standard


def test_wwc_2022_has_43_criteria_in_8_practices_with_the_published_bands() -> None:
    assert WWC_2022.total == 43
    assert len(WWC_2022.practices) == 8
    per_practice = {p.code: sum(c.practice == p.code for c in WWC_2022.criteria)
                    for p in WWC_2022.practices}
    assert per_practice == {"DM": 9, "LC": 7, "OD": 4, "PA": 5, "BF": 3, "RDC": 8, "CI": 3,
                            "EVAL": 4}
    rule = WWC_2022.tiers
    assert isinstance(rule, PercentTierRule)
    assert [rule.silver, rule.gold, rule.platinum] == [51, 68, 85]


def test_wwc_2022_outcome_gate_needs_one_of_three_outcomes_for_every_tier() -> None:
    (gate,) = WWC_2022.gates
    assert gate.at_least == 1
    assert {o.id for o in gate.options} == {"air_quality", "broadband", "sdg_priority"}
    assert [t.value for t in gate.tiers] == ["silver", "gold", "platinum"]


def test_wwc_2017_counts_components() -> None:
    rule = WWC_2017.tiers
    assert isinstance(rule, ComponentTierRule)
    assert [c.name for c in WWC_2017.components] == ["Commit", "Measure", "Take Stock", "Act"]
    assert (rule.silver, rule.gold, rule.platinum) == (2, 3, 4)


def test_wwc_2018_is_shipped_incomplete_and_refuses_to_score() -> None:
    standard = CATALOG["wwc-2018"]
    assert not standard.complete
    assert standard.declared_criteria == 45
    with pytest.raises(StandardError, match=r"incomplete \(11 of 45 criteria known\)"):
        standard.require_complete()


def test_standard_in_force_follows_effective_dates() -> None:
    assert CATALOG.in_force(date(2017, 6, 1)).id == "wwc-2017"
    assert CATALOG.in_force(date(2020, 6, 1)).id == "wwc-2018"
    assert CATALOG.in_force(date(2022, 8, 1)).id == "wwc-2022"
    with pytest.raises(StandardError, match="no standard was in force"):
        CATALOG.in_force(date(2016, 1, 1))


def test_unknown_standard_lists_the_known_ones() -> None:
    with pytest.raises(StandardError, match=r"unknown standard 'x' \(known: wwc-2017"):
        CATALOG["x"]


def _criteria(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"code": "A1", "label": "a", "practice": "A"}, *extra]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"criteria": _criteria({"code": "A2", "label": "b", "practice": "A",
                                 "prerequisites": ["Z9"]})},
         "criterion A2: unknown prerequisite 'Z9'"),
        ({"criteria": _criteria({"code": "A1", "label": "again", "practice": "A"})},
         "duplicate criterion code A1"),
        ({"tiers": {"rule": "percent", "silver": 70, "gold": 60, "platinum": 90}},
         "tier thresholds out of order"),
        ({"criteria": _criteria({"code": "A2", "label": "b", "practice": "A", "checklist": {
            "at_least": 3, "items": [{"id": "x", "label": "x"}, {"id": "y", "label": "y"}]}})},
         "criterion A2: checklist needs 3 items but lists only 2"),
        ({"criteria": _criteria({"code": "A2", "label": "b", "practice": "Q"})},
         "criterion A2: unknown practice 'Q'"),
        ({"criteria": [{"code": "A1", "label": "a", "practice": "A", "prerequisites": ["A2"]},
                       {"code": "A2", "label": "b", "practice": "A", "prerequisites": ["A1"]}]},
         "prerequisite cycle A1 -> A2 -> A1"),
        ({"tiers": {"rule": "percent", "silver": 50, "gold": 70, "platinum": 120}},
         r"must lie in \(0, 100\]"),
        ({"complete": True, "declared_criteria": 45}, "marked complete but lists"),
    ],
)
def test_contradictory_standard_files_are_rejected_precisely(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(StandardError, match=message):
        small_standard(**overrides)


def test_a_missing_field_names_its_location() -> None:
    with pytest.raises(StandardError, match=r"^my.yaml: .*title: Field required"):
        parse_standard({"id": "x", "effective_from": "2020-01-01", "practices": [],
                        "criteria": [], "tiers": {"rule": "percent", "silver": 1, "gold": 2,
                                                  "platinum": 3}}, origin="my.yaml")
