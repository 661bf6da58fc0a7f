"""What a reapplication carries over from the last review (domain/carry_over.py): the
criteria reviewed as met that the new standard still has, their evidence still valid on
the reapplication's day; and the draft's rule that nothing is submitted until each
carried-over criterion is confirmed (domain/drafts.py)."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from domain import commands as c
from domain import events as e
from domain.answers import Answers, CriterionAnswer
from domain.carry_over import (
    CarriedOver,
    LastReview,
    carry_over,
    check_valid_through,
    last_review,
)
from domain.documents import EvidenceDocument
from domain.drafts import (
    DraftState,
    decide_save,
    draft_after,
    newly_confirmed,
    prefilled,
    submission,
)
from domain.errors import AssessmentError, TransitionRefused
from domain.evidence import needed_bytes
from infra.cli import app as wwc
from infra.platform.errors import classify
from tests.factories import WWC_2022, CityDriver, answers, small_standard

DAY = date(2026, 3, 2)
LINK = "https://city.example/policy"


def doc(sha: str, through: date | None) -> EvidenceDocument:
    return EvidenceDocument(name=f"{sha}.pdf", media_type="application/pdf", size=10,
                            sha256=sha * 64, added_on=date(2024, 1, 1), added_by="acc-1",
                            valid_through=through)


def review(answers: dict[str, CriterionAnswer],
           documents: dict[str, tuple[EvidenceDocument, ...]] | None = None) -> LastReview:
    return LastReview(standard_id="test-10", decided_on=date(2024, 6, 1), answers=answers,
                      documents=documents or {})


def test_evidence_expired_the_day_before_is_not_carried_but_valid_on_the_day_is() -> None:
    answer = CriterionAnswer(met=True, evidence=(LINK, "https://city.example/old"),
                             valid_through={LINK: DAY,
                                            "https://city.example/old": DAY - timedelta(1)})
    carried = carry_over(review({"A1": answer},
                                {"A1": (doc("a", DAY), doc("b", DAY - timedelta(1)),
                                        doc("c", None))}), small_standard(), DAY)
    assert carried.answers.criteria["A1"].evidence == (LINK,)
    assert carried.answers.criteria["A1"].valid_through == {LINK: DAY}
    assert [d.sha256[0] for d in carried.documents["A1"]] == ["a", "c"]
    assert carried.carried == ("A1",)


def test_a_criterion_whose_evidence_all_expired_is_carried_without_evidence() -> None:
    answer = CriterionAnswer(met=True, evidence=(LINK,), valid_through={LINK: date(2025, 1, 1)})
    carried = carry_over(review({"A2": answer}), small_standard(), DAY)
    assert carried.answers.criteria["A2"] == CriterionAnswer(met=True)
    assert "A2" not in carried.documents


def test_a_code_gone_from_the_new_standard_is_dropped_and_said_so() -> None:
    carried = carry_over(review({"A1": CriterionAnswer(met=True), "ZZ9": CriterionAnswer(
        met=True)}, {"ZZ9": (doc("d", None),)}), small_standard(), DAY)
    assert carried.carried == ("A1",)
    assert carried.dropped == ("ZZ9",)
    assert "ZZ9" not in carried.documents


def test_nothing_to_carry_without_a_last_review() -> None:
    assert carry_over(None, small_standard(), DAY) == CarriedOver()


def test_the_last_review_is_the_met_verdicts_of_the_last_decided_application() -> None:
    city = CityDriver()
    city(c.JoinNetwork(name="Rochester, MN", country="US", population=120_000), DAY)
    assert last_review(city.events) is None  # nothing decided yet
    city.certify(5, DAY)  # DM1..DM5 reviewed as met, with their links
    found = last_review(city.events)
    assert found is not None
    assert sorted(found.answers) == ["DM1", "DM2", "DM3", "DM4", "DM5"]
    assert found.answers["DM1"].evidence == ("https://city.example/DM1",)
    # A later application, reviewed but not decided, does not replace it.
    city(c.Reapply(), DAY + timedelta(days=400))
    city(c.SubmitAssessment(answers=answers(WWC_2022, 2)), DAY + timedelta(days=400))
    city(c.AssignReviewer(reviewer="rfa"), DAY + timedelta(days=400))
    city(c.RecordCriterionReview(code="DM1", met=False), DAY + timedelta(days=400))
    assert last_review(city.events) == found


@given(st.dictionaries(st.sampled_from([*WWC_2022.codes[:8], "GONE1", "GONE2"]),
                       st.integers(-3, 3), max_size=10))
def test_carried_codes_are_in_the_new_standard_and_evidence_valid_on_the_day(
        offsets: dict[str, int]) -> None:
    answers = {code: CriterionAnswer(met=True, evidence=(f"https://x.example/{code}",),
                                     valid_through={f"https://x.example/{code}":
                                                    DAY + timedelta(days=days)})
               for code, days in offsets.items()}
    carried = carry_over(review(answers), WWC_2022, DAY)
    assert set(carried.carried) == set(offsets) & set(WWC_2022.codes)
    assert set(carried.carried) | set(carried.dropped) == set(offsets)
    for code, answer in carried.answers.criteria.items():
        assert bool(answer.evidence) == (offsets[code] >= 0)


@pytest.mark.parametrize(("through", "ok"), [
    (DAY - timedelta(1), False), (DAY, True), (date(2036, 3, 2), True),
    (date(2036, 3, 3), False)])
def test_valid_through_bounds(through: date, ok: bool) -> None:
    if ok:
        check_valid_through(through, DAY, "valid_through")
    else:
        with pytest.raises(AssessmentError) as refused:
            check_valid_through(through, DAY, "valid_through")
        assert refused.value.code == "invalid_valid_through"


# --- the draft: carried over until confirmed ---------------------------------------------

CARRIED = CarriedOver(answers=Answers(criteria={"DM1": CriterionAnswer(met=True),
                                                "DM2": CriterionAnswer(met=True)}),
                      carried=("DM1", "DM2"))


def save(draft: DraftState, answers: Answers, confirmed: tuple[str, ...] = ()) -> DraftState:
    saved = decide_save(draft, c.SaveAssessment(answers=answers, confirmed=confirmed),
                        application=2, stage="assessing", standard=WWC_2022, now=DAY)
    return draft_after(draft.version + 1, saved)


def test_a_reapplication_draft_starts_prefilled_and_marked() -> None:
    sealed = draft_after(3, e.DraftSealed(application=1, on=DAY))
    draft = prefilled(sealed, 2, CARRIED)
    assert (draft.version, draft.application, draft.carried) == (3, 2, ("DM1", "DM2"))
    assert draft.answers == CARRIED.answers
    assert prefilled(sealed, 2, CarriedOver()) == sealed  # nothing carried: as it was


def test_the_submission_is_refused_until_every_carried_criterion_is_confirmed() -> None:
    draft = prefilled(draft_after(3, e.DraftSealed(application=1, on=DAY)), 2, CARRIED)
    with pytest.raises(TransitionRefused) as refused:
        submission(c.SubmitAssessment(), 2, draft, DAY, standard=WWC_2022)
    assert refused.value.code == "unconfirmed_carry_over"
    assert refused.value.facts == {"criterion": "DM1, DM2"}
    # Saving keeps the marks; confirming one leaves the other.
    kept = save(draft, CARRIED.answers)
    assert kept.carried == ("DM1", "DM2")
    one = save(kept, CARRIED.answers, confirmed=("DM1",))
    assert one.carried == ("DM2",)
    with pytest.raises(TransitionRefused, match="DM2"):
        submission(c.SubmitAssessment(), 2, one, DAY, standard=WWC_2022)
    # An answer unclaimed needs no confirmation; then the submission goes.
    done = save(one, Answers(criteria={"DM1": CriterionAnswer(met=True),
                                       "DM2": CriterionAnswer(met=False)}))
    assert done.carried == ()
    assert submission(c.SubmitAssessment(), 2, done, DAY, standard=WWC_2022).answers == done.answers


def test_a_save_refuses_a_link_valid_through_a_past_day() -> None:
    past = Answers(criteria={"DM1": CriterionAnswer(
        met=True, evidence=(LINK,), valid_through={LINK: DAY - timedelta(1)})})
    with pytest.raises(AssessmentError) as refused:
        save(DraftState(), past)
    assert refused.value.code == "invalid_valid_through"


def test_a_link_day_passed_since_it_was_saved_does_not_block_the_drafts_next_saves() -> None:
    """A link valid through DAY, saved then; the day passes while the draft is open. Every
    later save used to be refused (invalid_valid_through) until the date was cleared; now
    the date kept as saved is not judged again, and a new or changed one still is."""
    on_day = Answers(criteria={"DM1": CriterionAnswer(
        met=True, evidence=(LINK,), valid_through={LINK: DAY})})
    draft = save(DraftState(), on_day)
    later = DAY + timedelta(days=30)

    def save_on(answers: Answers, day: date) -> e.DraftSaved:
        return decide_save(draft, c.SaveAssessment(answers=answers), application=2,
                           stage="assessing", standard=WWC_2022, now=day)

    more = Answers(criteria={**on_day.criteria, "DM2": CriterionAnswer(met=True)})
    assert save_on(more, later).answers == more
    # Given with the submission as it stands in the draft: the same.
    assert submission(c.SubmitAssessment(answers=more), 2, draft, later,
                      standard=WWC_2022).answers == more
    changed = Answers(criteria={"DM1": CriterionAnswer(
        met=True, evidence=(LINK,), valid_through={LINK: DAY + timedelta(days=1)})})
    moved = Answers(criteria={"DM2": CriterionAnswer(
        met=True, evidence=(LINK,), valid_through={LINK: DAY})})
    for refused_answers in (changed, moved):  # a past day given anew, or under another
        with pytest.raises(AssessmentError) as refused:
            save_on(refused_answers, later)
        assert refused.value.code == "invalid_valid_through"


def test_a_carried_link_day_passed_does_not_block_the_first_save() -> None:
    carried = CarriedOver(answers=Answers(criteria={"DM1": CriterionAnswer(
        met=True, evidence=(LINK,), valid_through={LINK: DAY})}), carried=("DM1",))
    draft = prefilled(draft_after(3, e.DraftSealed(application=1, on=DAY)), 2, carried)
    saved = decide_save(draft, c.SaveAssessment(answers=carried.answers), application=2,
                        stage="assessing", standard=WWC_2022, now=DAY + timedelta(days=1))
    assert saved.carried == ("DM1",)


def test_carried_documents_bytes_stay_needed_after_the_reapplication() -> None:
    """The collector of unreferenced bytes spares what a reapplication may carry over:
    every submitted document (domain/evidence.py: needed_bytes)."""
    sha = "c" * 64
    history: list[e.Event] = [
        e.ApplicationOpened(number=1, standard_id="wwc-2022", reapplication=False, on=DAY),
        e.DocumentAdded(criterion="DM1", name="p.pdf", media_type="application/pdf", size=3,
                        sha256=sha, by="acc-1", on=DAY),
        e.AssessmentSubmitted(answers=Answers(), documents={"DM1": (doc("c", None),)},
                              on=DAY),
        e.ApplicationOpened(number=2, standard_id="wwc-2022", reapplication=True, on=DAY)]
    assert sha in needed_bytes(history)


def test_a_submission_giving_its_own_answers_is_held_as_the_drafts() -> None:
    """`wwc assessment submit FILE` or an API body with answers: a client that read the
    application (the carried answers) and sends them back would submit them unread, so
    given answers claiming a carried criterion are held until it is confirmed, by a save
    before or by the submission itself; one they no longer claim needs no confirmation."""
    draft = prefilled(draft_after(3, e.DraftSealed(application=1, on=DAY)), 2, CARRIED)
    echoed = c.SubmitAssessment(answers=CARRIED.answers)
    with pytest.raises(TransitionRefused) as refused:
        submission(echoed, 2, draft, DAY, standard=WWC_2022)
    assert (refused.value.code, refused.value.facts) == (
        "unconfirmed_carry_over", {"criterion": "DM1, DM2"})
    own = Answers(criteria={"DM1": CriterionAnswer(met=True)})  # DM2 left out
    with pytest.raises(TransitionRefused, match="not confirmed yet: DM1 "):
        submission(c.SubmitAssessment(answers=own), 2, draft, DAY, standard=WWC_2022)
    confirmed = c.SubmitAssessment(answers=own, confirmed=("DM1",))
    assert submission(confirmed, 2, draft, DAY, standard=WWC_2022).answers == own
    # Sealed (a retry of the submission made): the draft's marks are no longer its own.
    sealed = draft_after(4, e.DraftSealed(application=2, on=DAY))
    assert submission(echoed, 2, sealed, DAY, standard=WWC_2022).answers == CARRIED.answers


def test_answers_given_with_a_submission_are_checked_as_a_save_checks_them() -> None:
    past = Answers(criteria={"DM1": CriterionAnswer(
        met=True, evidence=(LINK,), valid_through={LINK: date(1, 1, 1)})})
    with pytest.raises(AssessmentError) as refused:
        submission(c.SubmitAssessment(answers=past), 1, DraftState(application=1), DAY,
                   standard=WWC_2022)
    assert refused.value.code == "invalid_valid_through"
    assert refused.value.facts["field"] == "criteria.DM1.valid_through"


@pytest.mark.parametrize("typo", ["DG99", "foo", "dm1"])
def test_a_confirmed_code_the_standard_does_not_have_is_refused_naming_the_field(
        typo: str) -> None:
    """A typo in `confirmed` is bad input, refused by a save and by a submission alike
    (before anything is recorded or attached), not silently ignored."""
    draft = prefilled(draft_after(3, e.DraftSealed(application=1, on=DAY)), 2, CARRIED)
    with pytest.raises(AssessmentError) as by_save:
        save(draft, CARRIED.answers, confirmed=("DM1", typo))
    for submitted in (c.SubmitAssessment(confirmed=(typo,)),
                      c.SubmitAssessment(answers=CARRIED.answers, confirmed=("DM1", "DM2", typo))):
        with pytest.raises(AssessmentError) as by_submission:
            submission(submitted, 2, draft, DAY, standard=WWC_2022)
        assert str(by_submission.value) == str(by_save.value)
    refused = by_save.value
    assert str(refused) == f"confirmed: unknown criterion code {typo} for standard wwc-2022"
    assert (refused.code, refused.facts) == (
        "unknown_criterion", {"criterion": typo, "field": "confirmed"})
    assert classify(refused).exit_code == 3  # bad input, at every door
    # A criterion of the standard that is not (or no longer) to confirm goes through: a
    # retry of a save that confirmed it, or one never carried over.
    once = save(draft, CARRIED.answers, confirmed=("DM1",))
    assert save(once, CARRIED.answers, confirmed=("DM1", "DM3")).carried == ("DM2",)
    assert submission(c.SubmitAssessment(confirmed=("DM1", "DM2", "DM3")), 2, once, DAY,
                      standard=WWC_2022).answers == CARRIED.answers


def test_a_confirmation_attaches_only_what_was_still_to_confirm() -> None:
    draft = prefilled(draft_after(3, e.DraftSealed(application=1, on=DAY)), 2, CARRIED)
    assert newly_confirmed(draft, ("DM2", "DM9", "DM2")) == ("DM2",)
    assert newly_confirmed(save(draft, CARRIED.answers, ("DM2",)), ("DM2",)) == ()


@pytest.mark.parametrize("written", ["2026-02-30", "tomorrow", "20260105", "2026-12-03\x00",
                                     "+10000-01-01"])
def test_the_clis_valid_through_that_is_not_a_day_is_bad_input(
        written: str, tmp_path: Path) -> None:
    """`wwc evidence add ... --valid-through` refuses it before anything is sent, as bad
    input (exit 3) naming the option, not as Typer's misuse (exit 2)."""
    file = tmp_path / "policy.pdf"
    file.write_bytes(b"%PDF-1.4\n")
    result = CliRunner().invoke(wwc, ["evidence", "add", "us-x-ny", "DM1", str(file),
                                      "--valid-through", written])
    refused = result.exception
    assert isinstance(refused, AssessmentError), result.output
    assert (refused.code, classify(refused).exit_code) == ("invalid_valid_through", 3)
    assert str(refused).startswith(f"--valid-through: {written!r} is not a date")
