"""A command sent again whose effect already holds records nothing, and says why; one
that would mean something else is still refused (domain/lifecycle.py: `already_holds`).

The issue's finding: a plain rerun of `wwc review record` after "unavailable" recorded
`criterion_reviewed` twice, and of `wwc review assign` `reviewer_assigned` twice."""

from __future__ import annotations

from datetime import date

import pytest

from domain import commands as c
from domain import events as e
from domain.errors import TransitionRefused
from domain.lifecycle import already_holds, decide
from domain.rules import ProgramRules
from tests.factories import CATALOG, WWC_2022, CityDriver, answers

JOIN = c.JoinNetwork(name="Rochester, MN", country="US", population=120_000)
D0 = date(2023, 1, 10)
D1 = date(2023, 1, 11)
CLAIMED = answers(WWC_2022, ["DM1", "DM2", "DM3"])


def under_review() -> CityDriver:
    city = CityDriver()
    city(JOIN, D0)
    city(c.SubmitAssessment(answers=CLAIMED), D0)
    city(c.AssignReviewer(reviewer="rfa"), D0)
    return city


def twice(city: CityDriver, command: c.CityCommand, on: date = D1) -> list[e.Event]:
    """Give `command`, then the same again: what the second one recorded."""
    assert city(command, on), f"{type(command).__name__} recorded nothing the first time"
    before = city.state
    again = city(command, on)
    if not again:
        assert city.state == before
        assert already_holds(city.state, command), "no reason given for recording nothing"
    return again


def test_the_same_reviewer_assigned_again_records_nothing() -> None:
    city = under_review()
    assert city(c.AssignReviewer(reviewer="rfa"), D1) == []
    assert already_holds(city.state, c.AssignReviewer(reviewer="rfa")) == (
        "rfa is already assigned to application 1")
    # Another reviewer is a new assignment.
    assert [type(x) for x in city(c.AssignReviewer(reviewer="other"), D1)] == [
        e.ReviewerAssigned]


def test_an_affiliated_reviewer_is_refused_even_when_assigned_before() -> None:
    city = under_review()
    with pytest.raises(TransitionRefused, match="conflict of interest"):
        city(c.AssignReviewer(reviewer="rfa", affiliations=("us-rochester-mn",)), D1)


def test_the_same_verdict_recorded_again_records_nothing() -> None:
    city = under_review()
    assert twice(city, c.RecordCriterionReview(code="DM1", met=True)) == []
    assert already_holds(city.state, c.RecordCriterionReview(code="DM1", met=True)) == (
        "DM1 was already recorded as met")
    # Another verdict, or the same one with another note, is recorded.
    assert len(city(c.RecordCriterionReview(code="DM1", met=False), D1)) == 1
    assert len(city(c.RecordCriterionReview(code="DM1", met=False, note="stale"), D1)) == 1
    assert city(c.RecordCriterionReview(code="DM1", met=False, note="stale"), D1) == []
    assert len(city(c.RecordCriterionReview(code="DM1", met=False), D1)) == 1  # note gone


def test_a_sheet_sent_again_records_only_the_verdicts_that_differ() -> None:
    city = under_review()
    sheet = c.RecordReviews(reviews=(c.RecordCriterionReview(code="DM1", met=True),
                                     c.RecordCriterionReview(code="DM2", met=False)))
    assert twice(city, sheet) == []
    assert already_holds(city.state, sheet) == (
        "every review on the sheet (2) was already recorded as given")
    changed = c.RecordReviews(reviews=(c.RecordCriterionReview(code="DM1", met=True),
                                       c.RecordCriterionReview(code="DM2", met=True),
                                       c.RecordCriterionReview(code="DM3", met=True)))
    assert [(ev.code, ev.answer.met) for ev in city(changed, D1)] == [
        ("DM2", True), ("DM3", True)]


def test_the_same_question_still_open_is_not_asked_twice() -> None:
    city = under_review()
    ask = c.RequestClarification(criterion="DM2", question="Is it current?")
    assert twice(city, ask) == []
    assert len(city(c.RequestClarification(criterion="DM2", question="Since when?"), D1)) == 1
    city(c.AnswerClarification(clarification_id=1, answer="yes"), D1)
    city(c.AnswerClarification(clarification_id=2, answer="May"), D1)
    # Answered: asking it again is a new question.
    assert len(city(ask, D1)) == 1


def test_the_same_answer_again_records_nothing_and_another_is_refused() -> None:
    city = under_review()
    city(c.RequestClarification(criterion="DM2", question="Is it current?"), D1)
    answer = c.AnswerClarification(clarification_id=1, answer="Yes", evidence=("https://x/y",))
    assert twice(city, answer) == []
    with pytest.raises(TransitionRefused, match="already answered"):
        city(answer.model_copy(update={"answer": "No"}), D1)
    with pytest.raises(TransitionRefused, match="already answered"):
        city(answer.model_copy(update={"evidence": ()}), D1)


def test_submitting_the_same_answers_again_records_nothing() -> None:
    city = CityDriver()
    city(JOIN, D0)
    submit = c.SubmitAssessment(answers=CLAIMED)
    assert twice(city, submit) == []
    assert city(c.SubmitAssessment(), D1) == []  # "what was saved": submitted already
    with pytest.raises(TransitionRefused, match="cannot submit"):
        city(c.SubmitAssessment(answers=answers(WWC_2022, 5)), D1)


def test_completing_again_with_the_same_outcomes_records_nothing() -> None:
    city = under_review()
    for code in CLAIMED.criteria:
        city(c.RecordCriterionReview(code=code, met=True), D0)
    assert twice(city, c.CompleteReview()) == []
    assert city(c.CompleteReview(outcomes=dict(CLAIMED.outcomes)), D1) == []
    with pytest.raises(TransitionRefused, match="cannot complete the review"):
        city(c.CompleteReview(outcomes={"air_quality": True}), D1)


def test_deciding_a_decided_application_records_nothing() -> None:
    city = under_review()
    for code in CLAIMED.criteria:
        city(c.RecordCriterionReview(code=code, met=True), D0)
    city(c.CompleteReview(), D0)
    assert decide(city.state, c.Decide(), D1, standards=CATALOG, rules=ProgramRules()) == []
    assert already_holds(city.state, c.Decide()) is None  # not decided yet: it would score
    city.score_and_decide(D1)
    assert city.state.application is None  # 3 of 43: not certified, the cycle closed
    with pytest.raises(TransitionRefused, match="no application in progress"):
        city(c.Decide(), D1)

    claimed = answers(WWC_2022, 25)
    certified = CityDriver()
    certified(JOIN, D0)
    certified(c.SubmitAssessment(answers=claimed), D0)
    certified(c.AssignReviewer(reviewer="rfa"), D0)
    certified(c.RecordReviews(reviews=tuple(c.RecordCriterionReview(code=code, met=True)
                                            for code in claimed.criteria)), D0)
    certified(c.CompleteReview(), D0)
    certified.score_and_decide(D1)
    assert already_holds(certified.state, c.Decide()) == (
        "application 1 was already decided: silver (58.14 %)")
    assert certified(c.Decide(), D1) == []


def test_withdrawing_again_for_the_same_reason_records_nothing() -> None:
    city = CityDriver()
    city(JOIN, D0)
    assert twice(city, c.Withdraw(reason="council decision")) == []
    with pytest.raises(TransitionRefused, match="withdrawn"):
        city(c.Withdraw(reason="another reason"), D1)
    city(JOIN, date(2024, 1, 1))  # rejoined: a withdrawal is news again
    assert len(city(c.Withdraw(reason="council decision"), date(2024, 2, 1))) == 1


def test_histories_from_before_decide_a_repeat_as_then() -> None:
    """`record_repeats`: a workflow run begun before this rule replays its recorded
    commands to the same events (their input says so: workflows/messages.py, CityInput)."""
    city = under_review()
    review = c.RecordCriterionReview(code="DM1", met=True)
    city(review, D1)
    old = {"standards": CATALOG, "rules": ProgramRules(), "record_repeats": True}
    assert [type(x) for x in decide(city.state, review, D1, **old)] == [  # type: ignore[arg-type]
        e.CriterionReviewed]
    assert len(decide(city.state, c.AssignReviewer(reviewer="rfa"), D1, **old)) == 1  # type: ignore[arg-type]
    city(c.RequestClarification(criterion="DM2", question="?"), D1)
    city(c.AnswerClarification(clarification_id=1, answer="yes"), D1)
    with pytest.raises(TransitionRefused, match="already answered"):
        decide(city.state, c.AnswerClarification(clarification_id=1, answer="yes"), D1,
               **old)  # type: ignore[arg-type]
