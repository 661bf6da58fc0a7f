"""What each review found, read back from a city's events (domain/reviews.py): the
reviewer's history of reviews, and each criterion the decision does not count as met
with the reviewer's note."""

from __future__ import annotations

from datetime import date

from domain import commands as c
from domain.reviews import findings, last_decided, review_records
from tests.factories import WWC_2022, CityDriver, answers

DAY = date(2026, 2, 2)
JOIN = c.JoinNetwork(name="Recife", country="BR", population=1_488_920)


def reviewed(driver: CityDriver, reviewer: str, verdicts: dict[str, tuple[bool, str]],
             claimed: int) -> None:
    driver(c.SubmitAssessment(answers=answers(WWC_2022, claimed)), DAY)
    driver(c.AssignReviewer(reviewer=reviewer), DAY)
    driver(c.RecordReviews(reviews=tuple(
        c.RecordCriterionReview(code=code, met=met, note=note)
        for code, (met, note) in verdicts.items())), DAY)
    driver(c.CompleteReview(), DAY)


def test_each_reviewed_application_is_kept_with_its_decision_and_notes() -> None:
    city = CityDriver()
    city(JOIN, DAY)
    codes = WWC_2022.codes[:4]
    reviewed(city, "ana@rfa.test", {codes[0]: (True, ""), codes[1]: (False, "Link is 404."),
                                    codes[2]: (True, "Good."), codes[3]: (False, "")}, 4)
    city.score_and_decide(DAY)  # 2 of 43: not certified, the application closes
    city(c.Reapply(), DAY)
    city(c.SubmitAssessment(answers=answers(WWC_2022, 3)), DAY)
    city(c.AssignReviewer(reviewer="otro@rfa.test"), DAY)

    first, second = review_records(city.events)
    assert (first.number, first.reviewer, first.city_name) == (1, "ana@rfa.test", "Recife")
    assert first.decision is not None
    assert first.decision.tier.value == "none"
    assert (first.open, second.open, second.reviewer) == (False, True, "otro@rfa.test")
    assert last_decided([first, second]) is first

    found = {f.code: f for f in findings(WWC_2022, first)}
    assert list(found) == list(codes)  # the claimed ones, in the standard's order
    assert (found[codes[1]].met, found[codes[1]].note) == (False, "Link is 404.")
    assert (found[codes[3]].met, found[codes[3]].note) == (False, "")
    assert (found[codes[2]].met, found[codes[2]].note) == (True, "Good.")


def test_a_withdrawal_closes_a_review_without_a_decision() -> None:
    city = CityDriver()
    city(JOIN, DAY)
    reviewed(city, "ana@rfa.test", {WWC_2022.codes[0]: (True, "")}, 1)
    city(c.Withdraw(reason="budget"), DAY)
    [record] = review_records(city.events)
    assert (record.withdrawn_on, record.decision, record.open) == (DAY, None, False)


def test_an_application_never_reviewed_is_no_review() -> None:
    city = CityDriver()
    city(JOIN, DAY)
    city(c.SubmitAssessment(answers=answers(WWC_2022, 2)), DAY)
    assert review_records(city.events) == []
