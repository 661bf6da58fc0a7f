"""The draft's rules (domain/drafts.py): saves against a version, sealed by submission,
the open application's answers while assessing, and the nudge's once-a-day touch."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import commands as c
from domain import events as e
from domain.answers import Answers, CriterionAnswer
from domain.city_state import Stage
from domain.drafts import DraftState, decide_save, draft_after, submission, with_draft
from domain.errors import AssessmentError, TransitionRefused
from tests.factories import WWC_2022, CityDriver, answers

D0 = date(2023, 1, 10)
JOIN = c.JoinNetwork(name="Rochester, MN", country="US", population=120_000)


def save(draft: DraftState, expected: int | None, *, stage: str | None = "assessing",
         application: int | None = 1, criteria: int = 3) -> e.DraftSaved:
    return decide_save(draft, c.SaveAssessment(answers=answers(WWC_2022, criteria),
                                               expected_version=expected),
                       application=application, stage=stage, standard=WWC_2022, now=D0)


def test_a_save_against_the_current_version_is_recorded_for_the_open_application() -> None:
    saved = save(DraftState(), 0)
    assert saved.application == 1
    assert len(saved.answers.criteria) == 3
    after = draft_after(1, saved)
    assert (after.version, after.answers, after.saved_on) == (1, saved.answers, D0)
    assert save(after, 1).application == 1  # and the next one against version 1


def test_a_save_against_an_older_version_is_stale() -> None:
    after = draft_after(2, save(DraftState(), 0))
    with pytest.raises(TransitionRefused, match="now version 2, the draft's 1") as refused:
        save(after, 1)
    assert refused.value.code == "stale_version"


def test_no_version_given_saves_over_whatever_is_there() -> None:
    assert save(draft_after(7, save(DraftState(), 0)), None).application == 1


@pytest.mark.parametrize("stage", ["submitted", "under_review", "decided", None])
def test_a_save_outside_the_assessing_stage_is_refused(stage: str | None) -> None:
    with pytest.raises(TransitionRefused) as refused:
        save(DraftState(), 0, stage=stage, application=1 if stage else None)
    assert refused.value.code == ("wrong_stage" if stage else "no_application")


def test_a_sealed_draft_takes_no_save_for_its_application_but_does_for_the_next() -> None:
    sealed = draft_after(4, e.DraftSealed(application=1, on=D0))
    for version in (4, 3):  # the view may still say assessing: the seal decides
        with pytest.raises(TransitionRefused, match="is submitted") as refused:
            save(sealed, version)
        assert refused.value.code == "wrong_stage"
    assert save(sealed, 4, application=2).application == 2  # a reapplication


def test_answers_are_checked_against_the_standard_evidence_not_yet_required() -> None:
    unknown = c.SaveAssessment(answers=Answers(criteria={"ZZ9": CriterionAnswer(met=True)}))
    with pytest.raises(AssessmentError, match="ZZ9"):
        decide_save(DraftState(), unknown, application=1, stage="assessing",
                    standard=WWC_2022, now=D0)
    no_evidence = answers(WWC_2022, 2, evidence=False)
    assert decide_save(DraftState(), c.SaveAssessment(answers=no_evidence), application=1,
                       stage="assessing", standard=WWC_2022, now=D0).answers == no_evidence


def test_the_application_shows_the_drafts_answers_only_while_assessing_its_own() -> None:
    city = CityDriver()
    city(JOIN, D0)
    app = city.state.application
    assert app is not None
    draft = draft_after(1, save(DraftState(), 0))
    assert with_draft(app, draft).answers == draft.answers
    assert with_draft(app, draft.model_copy(update={"application": 2})).answers == app.answers
    assert with_draft(app, draft.model_copy(update={"sealed": True})).answers == app.answers
    submitted = app.model_copy(update={"stage": Stage.SUBMITTED})
    assert with_draft(submitted, draft).answers == submitted.answers


def test_a_submission_takes_the_drafts_answers_and_version() -> None:
    draft = draft_after(3, save(DraftState(), None))
    plain = submission(c.SubmitAssessment(), 1, draft, D0, standard=WWC_2022)
    assert (plain.answers, plain.draft_version) == (draft.answers, 3)
    given = answers(WWC_2022, 5)
    explicit = submission(c.SubmitAssessment(answers=given), 1, draft, D0, standard=WWC_2022)
    assert (explicit.answers, explicit.draft_version) == (given, 3)
    # A draft of an earlier application is not this one's answers.
    assert submission(c.SubmitAssessment(), 2, draft, D0, standard=WWC_2022).answers is None
    # Confirmed at the version it was shown at (2), while a save made it 3: the seal is
    # made at 2, so the workflow refuses it as stale rather than sending unseen answers.
    assert submission(c.SubmitAssessment(draft_version=2), 1, draft, D0,
                      standard=WWC_2022).draft_version == 2


def test_the_workflow_hears_of_a_days_saves_once() -> None:
    city = CityDriver()
    city(JOIN, D0)
    later = date(2023, 2, 1)
    assert [type(x) for x in city(c.TouchDraft(), later)] == [e.DraftTouched]
    assert city(c.TouchDraft(), later) == []
    app = city.state.application
    assert app is not None
    assert app.draft_touched_on == later
    city(c.SubmitAssessment(answers=answers(WWC_2022, 31)), later)
    with pytest.raises(TransitionRefused, match="save a self-assessment"):
        city(c.TouchDraft(), later)


@given(st.lists(st.tuples(st.sampled_from(["save", "seal", "reapply"]),
                          st.integers(min_value=0, max_value=6) | st.none()), max_size=14))
def test_no_save_lands_over_another_version_or_after_its_applications_seal(
        steps: list[tuple[str, int | None]]) -> None:
    """Whatever the order of saves (against any version), seals and reapplications, with
    the city's view still saying "assessing" after a seal: a save is taken only against
    the draft's own version (or none given), never for a sealed application, and a sealed
    application's save is told so rather than told to reload."""
    draft, application, saved = DraftState(), 1, 0
    for kind, expected in steps:
        if kind == "seal":
            draft = draft_after(draft.version + 1,
                                e.DraftSealed(application=application, on=D0))
        elif kind == "reapply":
            application += 1
        elif draft.sealed and draft.application == application:
            with pytest.raises(TransitionRefused) as refused:
                save(draft, expected, application=application)
            assert refused.value.code == "wrong_stage"
        elif expected not in (None, draft.version):
            with pytest.raises(TransitionRefused) as refused:
                save(draft, expected, application=application)
            assert refused.value.code == "stale_version"
        else:
            draft = draft_after(draft.version + 1, save(draft, expected,
                                                        application=application))
            saved += 1
            assert (draft.application, draft.sealed) == (application, False)
    assert draft.version == saved + sum(kind == "seal" for kind, _ in steps)
