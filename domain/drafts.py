"""A city's assessment draft: the editors' answers while they fill the self-assessment.

Drafts live in a stream of their own (`draft/<key>`), beside the city's, and are saved
without going through the city's workflow. An editor saves as often as they like (the
portal saves as they go); each save through the workflow would cost a workflow task and
grow the workflow's history with every keystroke's worth of answers, where the history
should hold the program's decisions. What the workflow still owns:

- whether the application is open and in its assessing stage (the save is checked
  against the city's view; a save that races a submission is caught by the seal below);
- the submission: it seals the draft at the version the submitted answers were read at,
  so a save that landed meanwhile makes the submission stale (409) rather than being
  silently left out of it, and no save lands after it;
- the draft nudge's clock: the first save of a day tells the workflow (`TouchDraft`).

Only the stream's last event matters to a save, so the state is folded from it alone.

A reapplication's draft starts from the answers carried over from the last review
(`domain/carry_over.py`): read before the first save, the draft is those answers
(`prefilled`), each criterion still to confirm; a save keeps the set of criteria to confirm
less those it confirms (`SaveAssessment.confirmed`) or no longer claims; a submission of
the draft is refused while any is left (`unconfirmed_carry_over`). A submission that gives
its own answers (`wwc assessment submit FILE`, an API body with `answers`) is the caller's
statement of every answer, with nothing carried into it unread, so it is not held."""

from __future__ import annotations

from datetime import date

from domain import commands, events
from domain.answers import Answers, check_answers
from domain.carry_over import CarriedOver, check_answers_valid_through
from domain.city_state import Application, Stage
from domain.errors import TransitionRefused
from domain.model import Frozen
from domain.standard import Standard


class DraftState(Frozen):
    version: int = 0  # the draft stream's version: the ETag an editor saves against
    application: int | None = None  # the application the last event was for
    answers: Answers | None = None
    saved_on: date | None = None
    sealed: bool = False  # that application was submitted
    # Criteria carried over from the last review, still to confirm (domain/carry_over.py)
    carried: tuple[str, ...] = ()
    # The draft is the carried-over answers, read before the application's first save.
    prefilled: bool = False


def draft_after(version: int, last: events.DraftEvent | None) -> DraftState:
    """The draft, given its stream's version and its last event."""
    match last:
        case None:
            return DraftState(version=version)
        case events.DraftSaved():
            return DraftState(version=version, application=last.application,
                              answers=last.answers, saved_on=last.on, carried=last.carried)
        case events.DraftSealed():
            return DraftState(version=version, application=last.application, sealed=True)


def decide_save(draft: DraftState, command: commands.SaveAssessment, *,
                application: int | None, stage: str | None, standard: Standard | None,
                now: date) -> events.DraftSaved:
    """The save of `command` into `draft`, for the city's open `application` at `stage`
    (as its view shows them), or a `DomainError` saying why not."""
    if application is None or standard is None:
        raise TransitionRefused("cannot save a self-assessment: the city has no "
                                "application open", code="no_application")
    # The stage first: after a submission, "reload it" would be no help.
    if draft.sealed and draft.application == application:
        stage = Stage.SUBMITTED  # the view has not caught up with the seal yet
    if stage != Stage.ASSESSING:
        shown = (stage or "closed").replace("_", " ")
        raise TransitionRefused(f"cannot save a self-assessment: the application is {shown} "
                                "(allowed when assessing)", code="wrong_stage",
                                facts={"stage": stage or ""})
    if command.expected_version not in (None, draft.version):
        raise TransitionRefused(
            f"the assessment changed since this draft was loaded (now version "
            f"{draft.version}, the draft's {command.expected_version}); reload it",
            code="stale_version")
    check_answers(standard, command.answers, require_evidence=False)
    check_answers_valid_through(command.answers, now)
    # A carried criterion stays to confirm while it is still claimed and not confirmed;
    # one the editors unclaimed (or took out) needs no confirmation.
    criteria = command.answers.criteria
    carried = tuple(code for code in draft.carried
                    if code not in command.confirmed and code in criteria
                    and (criteria[code].met or bool(criteria[code].items)))
    if draft.application != application:
        carried = ()  # a draft of an earlier application carries nothing to this one
    return events.DraftSaved(application=application, answers=command.answers, on=now,
                             carried=carried)


def prefilled(draft: DraftState, application: int, carried: CarriedOver) -> DraftState:
    """The draft of `application` before its first save: the answers carried over from
    the last review (none when there is nothing to carry), at the stream's version."""
    if draft.application == application or not carried.carried:
        return draft
    return DraftState(version=draft.version, application=application,
                      answers=carried.answers, carried=carried.carried, prefilled=True)


def with_draft(app: Application, draft: DraftState) -> Application:
    """The open application as its editors see it: while assessing, the answers are the
    draft's (when it has one for this application)."""
    if (app.stage is not Stage.ASSESSING or draft.sealed or draft.answers is None
            or draft.application != app.number):
        return app
    return app.model_copy(update={"answers": draft.answers, "carried_over": draft.carried})


def submission(command: commands.SubmitAssessment, app_number: int | None,
               draft: DraftState) -> commands.SubmitAssessment:
    """The submission the workflow gets: the draft's answers when none were given, and
    the draft's version to seal it at: the one the caller read the answers at when it
    says (a confirmation step shows the answers, then sends them: a save landing between
    the two makes the seal, so the submission, stale), else the draft's as it stands."""
    answers = command.answers
    current = draft.application == app_number and not draft.sealed
    # Only the draft's answers can hold carried-over criteria not yet confirmed: answers
    # given with the submission (a file, an API body) are the caller's own statement.
    if answers is None:
        check_confirmed(draft, app_number)
    if answers is None and current:
        answers = draft.answers
    version = command.draft_version if command.draft_version is not None else draft.version
    return command.model_copy(update={"answers": answers, "draft_version": version})


def check_confirmed(draft: DraftState, app_number: int | None) -> None:
    """Refuse (`unconfirmed_carry_over`) a submission of the draft of `app_number` while
    a criterion carried over from the last review is not confirmed (the confirmation step
    says so before anything is sent)."""
    if draft.application == app_number and not draft.sealed and draft.carried:
        codes = ", ".join(draft.carried)
        raise TransitionRefused(
            f"criteria carried over from the last review are not confirmed yet: {codes} "
            "(confirm each still holds, or change its answer)",
            code="unconfirmed_carry_over", facts={"criterion": codes})
