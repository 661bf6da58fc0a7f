"""Builders shared by the tests: standards, answers and a lifecycle driven to a stage."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from domain import commands as c
from domain.answers import Answers, CriterionAnswer
from domain.catalog import StandardCatalog
from domain.city_state import CityState
from domain.lifecycle import decide, evolve
from domain.report import build_report
from domain.rules import ProgramRules
from domain.standard import Standard, parse_standard
from infra.standards.folder import load_catalog

CATALOG: StandardCatalog = load_catalog()
WWC_2022: Standard = CATALOG["wwc-2022"]
WWC_2017: Standard = CATALOG["wwc-2017"]


def answers(
    standard: Standard,
    met: Iterable[str] | int,
    *,
    outcomes: dict[str, bool] | None = None,
    evidence: bool = True,
) -> Answers:
    """Answers claiming `met` (codes, or the first N criteria), with evidence links."""
    codes = list(standard.codes[:met]) if isinstance(met, int) else list(met)
    return Answers(
        criteria={
            code: CriterionAnswer(met=True, evidence=(f"https://city.example/{code}",)
                                  if evidence else ())
            for code in codes
        },
        outcomes=outcomes if outcomes is not None else (
            {"broadband": True} if standard.gates else {}),
    )


def small_standard(**overrides: Any) -> Standard:
    """Ten criteria in two practices, silver 50 %, gold 70 %, platinum 90 %."""
    data: dict[str, Any] = {
        "id": "test-10",
        "title": "Ten-criterion test standard",
        "effective_from": date(2020, 1, 1),
        "practices": [{"code": "A", "name": "Alpha"}, {"code": "B", "name": "Beta"}],
        "criteria": [
            {"code": f"{'A' if i <= 5 else 'B'}{i}", "label": f"criterion {i}",
             "practice": "A" if i <= 5 else "B"}
            for i in range(1, 11)
        ],
        "tiers": {"rule": "percent", "silver": 50, "gold": 70, "platinum": 90},
    }
    data.update(overrides)
    return parse_standard(data)


class CityDriver:
    """Runs commands through the pure decider, folding accepted events, as the workflow does."""

    def __init__(self, rules: ProgramRules | None = None) -> None:
        self.rules = rules or ProgramRules()
        self.state = CityState()
        self.events: list[Any] = []

    def __call__(self, command: Any, on: date) -> list[Any]:
        emitted = decide(self.state, command, on, standards=CATALOG, rules=self.rules)
        for event in emitted:
            self.state = evolve(self.state, event)
        self.events.extend(emitted)
        return emitted

    def score_and_decide(self, on: date) -> list[Any]:
        app = self.state.application
        assert app is not None
        report = build_report(CATALOG[app.standard_id], app.reviewed_answers(),
                              honor_roll_percent=self.rules.honor_roll_percent)
        return self(c.RecordDecision(report=report), on)

    def certify(self, met: int, start: date, *, cohort: str = "c") -> None:
        """From an open application in assessment to an announced decision."""
        app = self.state.application
        assert app is not None
        standard = CATALOG[app.standard_id]
        submitted = answers(standard, met)
        self(c.SubmitAssessment(answers=submitted), start)
        self(c.AssignReviewer(reviewer="rfa"), start)
        for code in submitted.criteria:
            self(c.RecordCriterionReview(code=code, met=True), start)
        self(c.CompleteReview(), start)
        self.score_and_decide(start)
        if self.state.application is not None:
            self(c.Announce(cohort_id=cohort), start)
