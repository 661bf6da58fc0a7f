"""The reviewer's sheet, pure (domain/review_sheets.py): saved against its version while
the application is under review, shown over the recorded verdicts, recorded with the
completion (only what differs), and refused once the review is complete."""

from __future__ import annotations

from datetime import date

import pytest

from domain import commands as c
from domain import events as e
from domain.errors import DomainError
from domain.review_sheets import SheetState, completion, decide_save, sheet_after, with_sheet
from tests.factories import WWC_2022, CityDriver, answers

DAY = date(2026, 2, 2)


def under_review() -> CityDriver:
    city = CityDriver()
    city(c.JoinNetwork(name="Recife", country="BR", population=1_488_920), DAY)
    city(c.SubmitAssessment(answers=answers(WWC_2022, 3)), DAY)
    city(c.AssignReviewer(reviewer="ana@rfa.test"), DAY)
    return city


def saved(city: CityDriver, sheet: SheetState, *reviews: c.RecordCriterionReview,
          expected: int | None = None) -> SheetState:
    app = city.state.application
    assert app is not None
    event = decide_save(sheet, c.SaveReviewSheet(reviews=reviews, expected_version=expected),
                        application=app.number, stage=app.stage, standard=WWC_2022, now=DAY)
    return sheet_after(sheet.version + 1, event)


def test_a_sheet_is_shown_over_the_recorded_verdicts_and_recorded_with_the_completion(
        ) -> None:
    city = under_review()
    city(c.RecordCriterionReview(code="DM1", met=True), DAY)
    sheet = saved(city, SheetState(),
                  c.RecordCriterionReview(code="DM1", met=True),  # as recorded: not again
                  c.RecordCriterionReview(code="DM2", met=False, note="Link is 404."),
                  c.RecordCriterionReview(code="DM3", met=True), expected=0)
    app = city.state.application
    assert app is not None
    shown = with_sheet(app, sheet)
    assert (shown.reviews["DM2"].met, shown.review_notes["DM2"]) == (False, "Link is 404.")
    # A completion without the sheet finds DM2 and DM3 unreviewed; with it, they are.
    with pytest.raises(DomainError, match="not yet reviewed: DM2, DM3"):
        city(c.CompleteReview(), DAY)
    done = completion(c.CompleteReview(), app.number, app.stage, sheet)
    assert done.sheet_version == 1
    caused = city(done, DAY)
    assert [type(x) for x in caused] == [e.CriterionReviewed, e.CriterionReviewed,
                                         e.ReviewCompleted]
    assert [(x.code, x.note) for x in caused[:2]] == [("DM2", "Link is 404."), ("DM3", "")]


def test_a_stale_sheet_and_a_sheet_after_the_completion_are_refused() -> None:
    city = under_review()
    sheet = saved(city, SheetState(), c.RecordCriterionReview(code="DM1", met=True))
    with pytest.raises(DomainError, match="changed since it was loaded") as stale:
        saved(city, sheet, c.RecordCriterionReview(code="DM1", met=False), expected=0)
    assert stale.value.code == "stale_version"
    with pytest.raises(DomainError, match="reviewed twice"):
        saved(city, sheet, *[c.RecordCriterionReview(code="DM1", met=True)] * 2)
    with pytest.raises(DomainError, match="unknown criterion"):
        saved(city, sheet, c.RecordCriterionReview(code="XX9", met=True))
    sealed = sheet_after(sheet.version + 1, e.ReviewSheetSealed(application=1, on=DAY))
    with pytest.raises(DomainError, match="the application is review complete") as late:
        saved(city, sealed, c.RecordCriterionReview(code="DM1", met=True))
    assert late.value.code == "wrong_stage"
    app = city.state.application
    assert app is not None
    # A sealed sheet (or another application's) is neither shown nor recorded again.
    assert with_sheet(app, sealed) == app
    assert completion(c.CompleteReview(), app.number, app.stage, sealed) == c.CompleteReview()
