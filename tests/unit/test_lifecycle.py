from datetime import date

import pytest

from domain import commands as c
from domain import events as e
from domain.answers import CriterionAnswer
from domain.city_state import Status
from domain.errors import AssessmentError, DomainError, TransitionRefused
from domain.rules import ProgramRules
from domain.tiers import Outcome, Tier
from tests.factories import WWC_2022, CityDriver, answers
from tests.unit.decider import CITY, COHORT, refused

JOIN = c.JoinNetwork(name="Rochester, MN", country="US", population=120_000)
D0 = date(2023, 1, 10)
# What a join records: the city, and its first application under the standard in force.
JOINED = (e.CityJoined(city_key="us-rochester-mn", name="Rochester, MN", country="US",
                       population=120_000, on=D0),
          e.ApplicationOpened(number=1, standard_id="wwc-2022", reapplication=False, on=D0))


def joined() -> CityDriver:
    city = CityDriver()
    city(JOIN, D0)
    return city


def test_join_opens_the_first_application_under_the_standard_in_force() -> None:
    state = CITY.given().when(JOIN, on=D0).then(*JOINED)
    assert state.status is Status.ASSESSING


def test_ineligible_join_is_refused_with_the_reason() -> None:
    CITY.given().when(JOIN.model_copy(update={"population": 20_000}), on=D0).then(
        refused("ineligible", match="population 20,000 is below the 30,000 minimum"))


def test_join_under_an_incomplete_standard_is_refused() -> None:
    with pytest.raises(DomainError, match="wwc-2018 is incomplete"):
        CityDriver()(JOIN, date(2020, 1, 1))


def test_full_lifecycle_review_with_clarification_to_announcement() -> None:
    city = joined()
    claimed = answers(WWC_2022, 31)
    city(c.SaveAssessment(answers=answers(WWC_2022, 5)), D0)
    city(c.SubmitAssessment(answers=claimed), date(2023, 2, 1))
    assert city.state.status is Status.SUBMITTED
    city(c.AssignReviewer(reviewer="reviewer@rfa"), date(2023, 2, 2))
    assert city.state.status is Status.UNDER_REVIEW
    for code in claimed.criteria:
        city(c.RecordCriterionReview(code=code, met=code != "DM3"), date(2023, 3, 1))
    city(c.RequestClarification(criterion="DM2", question="Is the inventory current?"),
         date(2023, 3, 2))
    assert city.state.status is Status.AWAITING_CLARIFICATION
    with pytest.raises(TransitionRefused, match="clarification 1 still awaits"):
        city(c.CompleteReview(), date(2023, 3, 3))
    city(c.AnswerClarification(clarification_id=1, answer="Updated in January",
                               evidence=("https://x/inv",)), date(2023, 3, 4))
    city(c.CompleteReview(), date(2023, 3, 5))
    city.score_and_decide(date(2023, 3, 6))
    decision = city.state.last_decision
    assert decision is not None
    assert (decision.tier, decision.points) == (Tier.GOLD, 30)
    assert city.state.status is Status.AWAITING_ANNOUNCEMENT
    (announced,) = city(c.Announce(cohort_id="2023-06"), date(2023, 6, 20))
    assert isinstance(announced, e.CertificationAnnounced)
    assert announced.outcome is Outcome.NEW
    assert announced.expires_on == date(2026, 6, 20)
    assert city.state.status is Status.CERTIFIED
    assert city.state.tier is Tier.GOLD


def test_a_city_not_certified_keeps_its_report_and_may_reapply() -> None:
    city = joined()
    city.certify(10, D0)
    assert city.state.status is Status.NOT_CERTIFIED
    assert city.state.last_report is not None
    assert city.state.last_report.next_tier is not None
    with pytest.raises(TransitionRefused, match="only a certified decision can be announced"):
        city(c.Announce(cohort_id="x"), D0)
    city(c.Reapply(), date(2024, 1, 1))
    assert city.state.status is Status.ASSESSING


def test_honor_roll_when_the_rule_is_set() -> None:
    city = CityDriver(ProgramRules(honor_roll_percent=40))
    city(JOIN, D0)
    city.certify(20, D0)  # 46.5 %
    assert city.state.last_decision is not None
    assert city.state.last_decision.honor_roll
    plain = joined()
    plain.certify(20, D0)
    assert plain.state.last_decision is not None
    assert not plain.state.last_decision.honor_roll


def test_reminders_then_lapse_without_reapplication() -> None:
    city = joined()
    city.certify(25, D0)
    assert city.state.tier is Tier.SILVER
    with pytest.raises(TransitionRefused, match="due on 2025-07-14"):
        city(c.SendRenewalReminder(lead_days=180), date(2025, 1, 1))
    city(c.SendRenewalReminder(lead_days=180), date(2025, 7, 14))
    assert city.state.status is Status.RENEWAL_DUE
    with pytest.raises(TransitionRefused, match="already sent"):
        city(c.SendRenewalReminder(lead_days=180), date(2025, 7, 15))
    with pytest.raises(TransitionRefused, match="runs until 2026-01-10"):
        city(c.Expire(), date(2026, 1, 9))
    (lapsed,) = city(c.Expire(), date(2026, 1, 10))
    assert isinstance(lapsed, e.CertificationLapsed)
    assert city.state.status is Status.LAPSED
    assert city.state.last_outcome is Outcome.LAPSED


@pytest.mark.parametrize(
    ("first", "second", "outcome"),
    [(25, 31, Outcome.MOVED_UP), (25, 25, Outcome.RECERTIFIED), (38, 25, Outcome.MOVED_DOWN)],
)
def test_reapplication_outcomes(first: int, second: int, outcome: Outcome) -> None:
    city = joined()
    city.certify(first, D0)
    city(c.Reapply(), date(2025, 9, 1))
    assert city.state.status is Status.REAPPLYING
    city.certify(second, date(2025, 12, 1), cohort="next")
    assert city.state.last_outcome is outcome
    assert city.state.certification is not None
    assert city.state.certification.expires_on == date(2028, 12, 1)


def test_certification_holds_past_expiry_while_a_renewal_is_pending() -> None:
    city = joined()
    city.certify(25, D0)
    city(c.Reapply(), date(2025, 12, 1))
    (held,) = city(c.Expire(), date(2026, 1, 10))
    assert isinstance(held, e.CertificationHeldPendingRenewal)
    assert city.state.tier is Tier.SILVER
    city.certify(10, date(2026, 3, 1))  # the renewal fails: the certification lapses
    assert city.state.certification is None
    assert city.state.last_outcome is Outcome.LAPSED


def test_withdrawal_ends_everything_and_allows_rejoining() -> None:
    city = joined()
    city(c.Withdraw(reason="council decision"), D0)
    assert city.state.status is Status.WITHDRAWN
    with pytest.raises(TransitionRefused, match="withdrawn"):
        city(c.Reapply(), D0)
    city(JOIN, date(2024, 1, 1))
    assert city.state.status is Status.ASSESSING
    assert city.state.application is not None
    assert city.state.application.number == 2


REFUSALS = [
    ("join twice", lambda city: city(JOIN, D0), TransitionRefused, "already joined"),
    ("submit with unknown criterion",
     lambda city: city(c.SubmitAssessment(answers=answers(WWC_2022, ["DM1", "ZZ9"])), D0),
     AssessmentError, "unknown criterion code ZZ9"),
    ("submit without evidence",
     lambda city: city(c.SubmitAssessment(answers=answers(WWC_2022, 3, evidence=False)), D0),
     AssessmentError, "criterion DM1 is claimed as met but lacks evidence"),
    ("submit nothing", lambda city: city(c.SubmitAssessment(), D0), AssessmentError,
     "nothing to submit"),
    ("review before submission",
     lambda city: city(c.RecordCriterionReview(code="DM1", met=True), D0), TransitionRefused,
     "cannot record a criterion review: the application is assessing"),
    ("decide before review complete",
     lambda city: city.score_and_decide(D0), TransitionRefused,
     "cannot decide before the review is complete"),
    ("announce undecided", lambda city: city(c.Announce(cohort_id="x"), D0), TransitionRefused,
     "only a certified decision can be announced"),
    ("reapply while open", lambda city: city(c.Reapply(), D0), TransitionRefused,
     "application 1 is still assessing"),
    ("remind without certification",
     lambda city: city(c.SendRenewalReminder(lead_days=60), D0), TransitionRefused,
     "holds no certification"),
    ("expire without certification", lambda city: city(c.Expire(), D0), TransitionRefused,
     "no certification that can expire"),
    ("answer unknown clarification",
     lambda city: city(c.AnswerClarification(clarification_id=4, answer="a"), D0),
     TransitionRefused, "no clarification 4"),
]


@pytest.mark.parametrize(("name", "act", "error", "message"), REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_refused_commands_emit_nothing(name: str, act: object, error: type, message: str) -> None:
    city = joined()
    before = (city.state, len(city.events))
    with pytest.raises(error, match=message):
        act(city)  # type: ignore[operator]
    assert (city.state, len(city.events)) == before


def test_complete_review_requires_every_claimed_criterion_reviewed() -> None:
    in_review = (*JOINED,
                 e.AssessmentSubmitted(answers=answers(WWC_2022, ["DM1", "DM2"]), on=D0),
                 e.ReviewerAssigned(reviewer="r", on=D0),
                 e.CriterionReviewed(code="DM1", answer=CriterionAnswer(met=True), on=D0))
    CITY.given(*in_review).when(c.CompleteReview(), on=D0).then(
        refused("review_incomplete", match="not yet reviewed: DM2"))
    dm2 = e.CriterionReviewed(code="DM2", answer=CriterionAnswer(met=False), on=D0)
    state = CITY.given(*in_review, dm2).when(c.CompleteReview(), on=D0).then(
        e.ReviewCompleted(outcomes={"broadband": True}, on=D0))
    assert state.status is Status.REVIEW_COMPLETE


def test_commands_before_joining_are_refused() -> None:
    CITY.given().when(c.SubmitAssessment(), on=D0).then(
        refused("not_joined", match="has not joined"))


def test_a_review_sheet_records_one_event_per_criterion() -> None:
    city = joined()
    city(c.SubmitAssessment(answers=answers(WWC_2022, ["DM1", "DM2", "DM3"])), D0)
    city(c.AssignReviewer(reviewer="r"), D0)
    sheet = c.RecordReviews(reviews=(c.RecordCriterionReview(code="DM1", met=True),
                                     c.RecordCriterionReview(code="DM2", met=False)))
    emitted = city(sheet, D0)
    assert [(ev.code, ev.answer.met) for ev in emitted] == [("DM1", True), ("DM2", False)]
    with pytest.raises(AssessmentError, match="reviewed twice"):
        city(c.RecordReviews(reviews=(c.RecordCriterionReview(code="DM3"),) * 2), D0)
    with pytest.raises(AssessmentError, match="unknown criterion code Q1"):
        city(c.RecordReviews(reviews=(c.RecordCriterionReview(code="DM3"),
                                      c.RecordCriterionReview(code="Q1"))), D0)
    assert city.state.application is not None
    assert set(city.state.application.reviews) == {"DM1", "DM2"}


def test_a_cohort_cannot_be_dated_in_the_past() -> None:
    today = date(2023, 6, 2)
    COHORT.given().when(c.CreateCohort(cohort_id="2023-06", announce_on=date(2023, 6, 1)),
                        on=today).then(refused("past_date", match="a date already past"))
    COHORT.given().when(c.CreateCohort(cohort_id="2023-06", announce_on=today), on=today).then(
        e.CohortCreated(cohort_id="2023-06", announce_on=today, on=today))
