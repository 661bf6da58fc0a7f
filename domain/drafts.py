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
less those it confirms (`SaveAssessment.confirmed`) or no longer claims. A submission is
refused while the answers it sends still claim a criterion to confirm that it does not
confirm itself (`SubmitAssessment.confirmed`): `unconfirmed_carry_over`, the same at every
door. The answers it sends may be the draft's or its own (`wwc assessment submit FILE`, an
API body with `answers`): answers given with the submission are held too, because a client
that reads the application (the carried answers) and sends them back as its own would
otherwise submit them unread. A criterion the given answers no longer claim needs no
confirmation, as in a save; answers given are checked as a save checks them (their links'
valid-through dates), since they are saved by the submission."""

from __future__ import annotations

from datetime import date

from domain import commands, events
from domain.answers import Answers, check_answers
from domain.carry_over import CarriedOver, check_answers_valid_through
from domain.city_state import Application, Stage
from domain.errors import AssessmentError, TransitionRefused
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
    check_confirmed_codes(standard, command.confirmed)
    # The draft's own answers (a sealed draft of this application was refused above).
    check_answers_valid_through(command.answers, now, kept=(
        draft.answers if draft.application == application else None))
    # A carried criterion stays to confirm while it is still claimed and not confirmed;
    # one the editors unclaimed (or took out) needs no confirmation.
    carried = still_to_confirm(draft.carried, command.answers, command.confirmed)
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


def still_to_confirm(carried: tuple[str, ...], answers: Answers,
                     confirmed: tuple[str, ...]) -> tuple[str, ...]:
    """The carried-over criteria still to confirm once `answers` are given with
    `confirmed`: those still claimed (met, or with checklist items) and not confirmed. One
    the answers no longer claim (or leave out) needs no confirmation."""
    criteria = answers.criteria
    return tuple(code for code in carried
                 if code not in confirmed and code in criteria
                 and (criteria[code].met or bool(criteria[code].items)))


def newly_confirmed(draft: DraftState, confirmed: tuple[str, ...]) -> tuple[str, ...]:
    """The criteria of `confirmed` that `draft` still had to confirm: those whose
    carried-over documents a confirmation attaches (one confirmed before, whose document
    an editor may have removed since, is not attached again)."""
    return tuple(code for code in dict.fromkeys(confirmed) if code in draft.carried)


def check_confirmed_codes(standard: Standard, confirmed: tuple[str, ...], *,
                          field: str = "confirmed") -> None:
    """Refuse confirmed codes that are not criteria of `standard` (a typo such as DG99):
    bad input naming the field (`field`: as the door calls it, e.g. the CLI's
    `--confirm`), as `check_answers` refuses an unknown criterion. A criterion of the
    standard that is not to confirm is no error: confirming it again (a retry) changes
    nothing."""
    known = set(standard.codes)
    unknown = [code for code in dict.fromkeys(confirmed) if code not in known]
    if unknown:
        codes = ", ".join(unknown)
        raise AssessmentError(
            f"{field}: unknown criterion code {codes} for standard {standard.id}",
            code="unknown_criterion", facts={"criterion": codes, "field": field})


def submission(command: commands.SubmitAssessment, app_number: int | None,
               draft: DraftState, today: date, *,
               standard: Standard | None) -> commands.SubmitAssessment:
    """The submission the workflow gets: the draft's answers when none were given, and
    the draft's version to seal it at: the one the caller read the answers at when it
    says (a confirmation step shows the answers, then sends them: a save landing between
    the two makes the seal, so the submission, stale), else the draft's as it stands.
    Refused while the answers sent claim a carried-over criterion not confirmed (by a
    save before, or by the submission's `confirmed`), whoever wrote them, and when a
    confirmed code is not a criterion of `standard` (the open application's; None when
    no application is open, which the workflow refuses)."""
    if standard is not None:
        check_confirmed_codes(standard, command.confirmed)
    answers = command.answers
    current = draft.application == app_number and not draft.sealed
    if answers is not None and current:
        check_answers_valid_through(answers, today, kept=draft.answers)
    if answers is None and current:
        answers = draft.answers
    if current and answers is not None:
        _refuse_unconfirmed(still_to_confirm(draft.carried, answers, command.confirmed))
    version = command.draft_version if command.draft_version is not None else draft.version
    return command.model_copy(update={"answers": answers, "draft_version": version})


def check_confirmed(draft: DraftState, app_number: int | None) -> None:
    """Refuse (`unconfirmed_carry_over`) a submission of the draft of `app_number` as it
    stands while a criterion carried over from the last review and still claimed is not
    confirmed: the confirmation step says so before anything is sent, by the rule the
    submission itself applies (`submission`)."""
    if draft.application != app_number or draft.sealed or draft.answers is None:
        return
    _refuse_unconfirmed(still_to_confirm(draft.carried, draft.answers, ()))


def _refuse_unconfirmed(left: tuple[str, ...]) -> None:
    if left:
        codes = ", ".join(left)
        raise TransitionRefused(
            f"criteria carried over from the last review are not confirmed yet: {codes} "
            "(confirm each still holds, or change its answer)",
            code="unconfirmed_carry_over", facts={"criterion": codes})
