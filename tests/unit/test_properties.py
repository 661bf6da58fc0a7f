"""Property tests: the rules that must hold for every input, not just the examples."""

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.answers import Answers
from domain.city_state import CityState
from domain.errors import DomainError
from domain.events import event_from_data, event_to_data
from domain.lifecycle import already_holds, decide, evolve, fold
from domain.report import build_report
from domain.rules import ProgramRules
from domain.scoring import score
from domain.standard import Standard
from tests.factories import CATALOG, WWC_2017, WWC_2022, answers, small_standard


def _chained() -> Standard:
    criteria: list[dict[str, Any]] = [
        {"code": f"{'A' if i <= 5 else 'B'}{i}", "label": str(i),
         "practice": "A" if i <= 5 else "B"} for i in range(1, 11)]
    criteria[1]["prerequisites"] = ["A1"]
    criteria[2]["prerequisites"] = ["A2"]
    criteria[7]["prerequisites"] = ["A1", "B6"]
    return small_standard(criteria=criteria)


STANDARDS = [WWC_2022, WWC_2017, _chained()]


@st.composite
def standard_and_claims(draw: st.DrawFn) -> tuple[Standard, set[str], dict[str, bool]]:
    standard = draw(st.sampled_from(STANDARDS))
    claimed = draw(st.sets(st.sampled_from(standard.codes)))
    outcomes = {o: draw(st.booleans()) for o in sorted(standard.gate_option_ids())}
    return standard, claimed, outcomes


@given(standard_and_claims(), st.data())
def test_meeting_one_more_criterion_never_lowers_the_tier(
    case: tuple[Standard, set[str], dict[str, bool]], data: st.DataObject
) -> None:
    standard, claimed, outcomes = case
    extra = data.draw(st.sampled_from(standard.codes))
    before = score(standard, answers(standard, claimed, outcomes=outcomes))
    after = score(standard, answers(standard, claimed | {extra}, outcomes=outcomes))
    assert after.tier.rank >= before.tier.rank
    assert after.points >= before.points


@given(standard_and_claims())
def test_the_next_tier_path_reaches_the_next_tier(
    case: tuple[Standard, set[str], dict[str, bool]]
) -> None:
    standard, claimed, outcomes = case
    report = build_report(standard, answers(standard, claimed, outcomes=outcomes))
    step = report.next_tier
    if step is None:
        return
    assert set(step.criteria).isdisjoint(claimed)
    lifted_outcomes = dict(outcomes)
    for gate_id in step.gates:
        gate = next(g for g in standard.gates if g.id == gate_id)
        lifted_outcomes.update({o.id: True for o in gate.options[: gate.at_least]})
    lifted = score(standard, answers(standard, claimed | set(step.criteria),
                                     outcomes=lifted_outcomes))
    assert lifted.tier.rank >= step.tier.rank


# --- the decider --------------------------------------------------------------------------

JOIN = c.JoinNetwork(name="Gilbert, AZ", country="US", population=270_000)
SOME = answers(WWC_2022, 10)
GOLD = answers(WWC_2022, 31)
MOVES: list[Any] = [
    JOIN,
    c.SaveAssessment(answers=SOME),
    c.TouchDraft(),
    c.SubmitAssessment(answers=GOLD),
    c.SubmitAssessment(answers=SOME),
    c.SubmitAssessment(),
    c.SubmitAssessment(answers=answers(WWC_2022, 3, evidence=False)),
    c.AssignReviewer(reviewer="r"),
    "review-all",
    c.RecordCriterionReview(code="DM1", met=False),
    c.RecordCriterionReview(code="NOPE", met=True),
    c.RecordReviews(reviews=(c.RecordCriterionReview(code="DM3", met=True),
                             c.RecordCriterionReview(code="DM4", met=False))),
    c.RequestClarification(criterion="DM2", question="?"),
    c.AnswerClarification(clarification_id=1, answer="yes"),
    c.AnswerClarification(clarification_id=2, answer="yes"),
    c.CompleteReview(),
    c.CompleteReview(outcomes={}),
    "decide",
    c.Announce(cohort_id="cohort"),
    c.SendRenewalReminder(lead_days=180),
    c.SendRenewalReminder(lead_days=60),
    c.Expire(),
    c.Reapply(),
    c.Withdraw(reason="budget"),
]
RULES = ProgramRules(honor_roll_percent=40)


def _advance(state: CityState, days: int) -> Any:
    """The natural next step for the city, so that sequences reach deep states."""
    app = state.application
    if state.profile is None or state.withdrawn:
        return JOIN
    if app is None:
        return c.Reapply() if days % 3 else c.Expire()
    stage = app.stage.value
    if stage == "assessing":
        return c.SubmitAssessment(answers=GOLD if days % 2 else SOME)
    if stage == "submitted":
        return c.AssignReviewer(reviewer="r")
    if stage == "under_review":
        return "review-all" if set(app.answers.criteria) - set(app.reviews) else (
            c.CompleteReview())
    if stage == "awaiting_clarification":
        return c.AnswerClarification(clarification_id=len(app.clarifications), answer="done")
    return "decide" if stage == "review_complete" else c.Announce(cohort_id=f"cohort-{days}")


def _expand(move: Any, state: CityState, days: int = 0) -> list[c.CityCommand]:
    app = state.application
    if move == "advance":
        return _expand(_advance(state, days), state)
    if move == "review-all":
        claimed = app.answers.criteria if app else {}
        return [c.RecordCriterionReview(code=code, met=True) for code in claimed]
    if move == "decide":
        if app is None:
            return [c.RecordDecision(report=build_report(WWC_2022, SOME))]
        return [c.RecordDecision(report=build_report(CATALOG[app.standard_id],
                                                     app.reviewed_answers()))]
    return [move]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(MOVES) | st.just("advance"), st.integers(0, 500)),
                max_size=60))
def test_folding_accepted_events_reproduces_the_deciders_state(
    moves: list[tuple[Any, int]]
) -> None:
    state, recorded, today = CityState(), [], date(2023, 1, 1)
    for move, days in moves:
        today += timedelta(days=days)
        for command in _expand(move, state, days):
            before = state
            try:
                emitted = decide(state, command, today, standards=CATALOG, rules=RULES)
            except DomainError:
                assert state == before  # a refused command changes nothing
                continue
            # Accepted and nothing recorded: only a command whose effect already held
            # (and a draft touched twice a day).
            assert emitted or already_holds(state, command) or isinstance(
                command, c.TouchDraft), f"{type(command).__name__} accepted, emitted nothing"
            for event in emitted:
                state = evolve(state, event)
            recorded.extend(emitted)
    assert fold(recorded) == state
    # ... and so does folding them after the round trip through their stored JSON form.
    stored = [event_from_data(ev.TYPE, event_to_data(ev)) for ev in recorded]
    assert fold(stored) == state
    assert state.version == len(recorded)


# The commands a retry or a rerun may send again.
REPEATABLE = (c.AssignReviewer, c.RecordCriterionReview, c.RecordReviews, c.RequestClarification,
              c.AnswerClarification, c.SubmitAssessment, c.CompleteReview, c.Withdraw)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(MOVES) | st.just("advance"), st.integers(0, 500)),
                max_size=40), st.sampled_from(MOVES) | st.just("advance"), st.integers(0, 30))
def test_a_command_applied_twice_in_a_row_records_nothing_the_second_time(
    moves: list[tuple[Any, int]], repeated: Any, later: int
) -> None:
    """Wherever a city stands: a repeatable command accepted once, given again (the same
    day or later) records nothing and says why."""
    state, today = CityState(), date(2023, 1, 1)
    for move, days in moves:
        today += timedelta(days=days)
        for command in _expand(move, state, days):
            try:
                emitted = decide(state, command, today, standards=CATALOG, rules=RULES)
            except DomainError:
                continue
            for event in emitted:
                state = evolve(state, event)
    for command in _expand(repeated, state):
        if not isinstance(command, REPEATABLE):
            continue
        try:
            emitted = decide(state, command, today, standards=CATALOG, rules=RULES)
        except DomainError:
            continue
        for event in emitted:
            state = evolve(state, event)
        again = decide(state, command, today + timedelta(days=later), standards=CATALOG,
                       rules=RULES)
        assert again == [], f"{command!r} recorded {again!r} the second time"
        assert already_holds(state, command)


@given(st.sampled_from(MOVES), st.integers(0, 2000))
def test_a_refused_command_emits_nothing_on_a_fresh_city(move: Any, days: int) -> None:
    state = CityState()
    for command in _expand(move, state):
        try:
            emitted = decide(state, command, date(2023, 1, 1) + timedelta(days=days),
                             standards=CATALOG, rules=RULES)
        except DomainError:
            continue
        assert isinstance(command, c.JoinNetwork)  # the only command a stranger may give
        assert len(emitted) == 2


def test_answers_round_trip_through_json() -> None:
    assert Answers.model_validate_json(GOLD.model_dump_json()) == GOLD
