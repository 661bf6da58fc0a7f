"""The reviewer's sheet: each verdict and note as the reviewer gives it, kept while they
review (the review screen saves it as they go, as the self-assessment saves its draft).

Sheets live in a stream of their own (`review-sheet/<key>`), beside the city's, for the
reasons drafts do (domain/drafts.py): a save per pause through the city's workflow would
cost a workflow task each and fill the city's log, and so its timeline, with every
half-written note. What the city's workflow still owns:

- whether the application is under review (a save is checked against the city's view; a
  save that races the completion is caught by the seal below);
- the completion: it records the sheet's verdicts in the city's stream (only those that
  differ from what is recorded) with the completion, and seals the sheet at the version
  they were read at, so a save that landed meanwhile makes the completion stale (409)
  rather than being left out of it, and no save lands after it.

Verdicts recorded by another door (`wwc review record`, the API's review sheet) stay as
they are until the sheet names the same criterion: the sheet is what the review screen
shows, and the completion records what it shows.

Only the stream's last event matters to a save, so the state is folded from it alone."""

from __future__ import annotations

from datetime import date

from domain import commands, events
from domain.answers import Answers, CriterionAnswer, check_answers
from domain.city_state import Application, Stage
from domain.errors import AssessmentError, TransitionRefused
from domain.model import Frozen
from domain.standard import Standard

# The stages a sheet may be saved in: the review's (as the decider's record commands).
REVIEWING = (Stage.UNDER_REVIEW, Stage.AWAITING_CLARIFICATION)


class SheetState(Frozen):
    version: int = 0  # the sheet stream's version: the ETag a reviewer saves against
    application: int | None = None  # the application the last event was for
    verdicts: tuple[events.SheetVerdict, ...] = ()
    saved_on: date | None = None
    sealed: bool = False  # that application's review was completed with it


def sheet_after(version: int, last: events.ReviewSheetEvent | None) -> SheetState:
    """The sheet, given its stream's version and its last event."""
    match last:
        case None:
            return SheetState(version=version)
        case events.ReviewSheetSaved():
            return SheetState(version=version, application=last.application,
                              verdicts=last.verdicts, saved_on=last.on)
        case events.ReviewSheetSealed():
            return SheetState(version=version, application=last.application, sealed=True)


def verdicts_of(command: commands.SaveReviewSheet) -> tuple[events.SheetVerdict, ...]:
    return tuple(events.SheetVerdict(code=r.code, answer=CriterionAnswer(
        met=r.met, items=r.items), note=r.note) for r in command.reviews)


def decide_save(sheet: SheetState, command: commands.SaveReviewSheet, *,
                application: int | None, stage: str | None, standard: Standard | None,
                now: date) -> events.ReviewSheetSaved:
    """The save of `command` into `sheet`, for the city's open `application` at `stage`
    (as its view shows them), or a `DomainError` saying why not."""
    if application is None or standard is None:
        raise TransitionRefused("cannot save a review sheet: the city has no application "
                                "open", code="no_application")
    if sheet.sealed and sheet.application == application:
        stage = Stage.REVIEW_COMPLETE  # the view has not caught up with the seal yet
    if stage not in REVIEWING:
        shown = (stage or "closed").replace("_", " ")
        raise TransitionRefused(f"cannot save a review sheet: the application is {shown} "
                                "(allowed when under review or awaiting clarification)",
                                code="wrong_stage", facts={"stage": stage or ""})
    if command.expected_version not in (None, sheet.version):
        raise TransitionRefused(
            f"the review sheet changed since it was loaded (now version {sheet.version}, "
            f"the page's {command.expected_version}); reload it", code="stale_version")
    verdicts = verdicts_of(command)
    codes = [v.code for v in verdicts]
    if len(set(codes)) != len(codes):
        raise AssessmentError("a criterion is reviewed twice in one sheet")
    check_answers(standard, Answers(criteria={v.code: v.answer for v in verdicts}),
                  require_evidence=False)
    return events.ReviewSheetSaved(application=application, verdicts=verdicts, on=now)


def _current(application: int | None, stage: str | None, sheet: SheetState) -> bool:
    """Whether `sheet` is the one of the open application's review, still open."""
    return (application is not None and sheet.application == application
            and not sheet.sealed and sheet.saved_on is not None and stage in REVIEWING)


def with_sheet(app: Application, sheet: SheetState) -> Application:
    """The open application as its review screen shows it: each verdict and note on the
    sheet over the recorded one."""
    if not _current(app.number, app.stage, sheet):
        return app
    notes = {**app.review_notes, **{v.code: v.note for v in sheet.verdicts}}
    return app.model_copy(update={
        "reviews": {**app.reviews, **{v.code: v.answer for v in sheet.verdicts}},
        "review_notes": {code: note for code, note in notes.items() if note}})


def completion(command: commands.CompleteReview, application: int | None,
               stage: str | None, sheet: SheetState) -> commands.CompleteReview:
    """The completion the workflow gets: with the sheet's verdicts to record and its
    version to seal it at, when the open `application` (at `stage`, as the city's view
    has them) has a sheet, and the caller gave none."""
    if not _current(application, stage, sheet) or command.sheet_version is not None:
        return command
    return command.model_copy(update={
        "sheet": tuple(commands.RecordCriterionReview(
            code=v.code, met=v.answer.met, items=v.answer.items, note=v.note)
            for v in sheet.verdicts),
        "sheet_version": sheet.version})
