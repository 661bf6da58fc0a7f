"""A city's certification lifecycle as a decider.

`decide(state, command, now, ...)` returns the events a command causes or raises a
`DomainError` naming why it is refused (and then nothing is recorded); `evolve(state, event)`
folds one event into the state (the state's types are in `domain/city_state.py`). Both are
pure: the date is passed in, the standards and program rules are data.

A city holds at most one certification in force and at most one open application; a
reapplication runs while the current certification still holds, and the certification
outlives its expiry date until the new decision when the city reapplied in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import assert_never

from domain import commands, events, evidence
from domain.answers import Answers, CriterionAnswer, check_answers
from domain.catalog import StandardCatalog
from domain.city_state import (
    Application,
    Certification,
    CityState,
    Clarification,
    Decision,
    Profile,
    Stage,
)
from domain.deadlines import find_pending
from domain.eligibility import ineligibility_reasons, period_on
from domain.errors import AssessmentError, IneligibleCity, TransitionRefused
from domain.rules import ProgramRules
from domain.standard import Standard
from domain.streams import city_key
from domain.tiers import Outcome, Tier, classify_outcome

# --- decide ------------------------------------------------------------------------------

def decide(
    state: CityState,
    command: commands.CityCommand,
    now: date,
    *,
    standards: StandardCatalog,
    rules: ProgramRules,
    record_repeats: bool = False,
    actor: str = "operator",
) -> list[events.CityEvent]:
    """The events `command` causes on `now`, or a `DomainError` saying why not.
    `actor` is who gives it (an account id, as the command's authenticated context
    says): a document added names who added it.

    A command whose effect already holds causes no event (`already_holds` says which and
    why), so a command sent again, by a retry its sender could not tell apart from a first
    try or by someone who did not know it was done, records nothing twice.
    `record_repeats` decides as before that rule, for the workflows whose histories were
    recorded then (their replay must make the same decisions; see workflows/city.py)."""
    if not record_repeats and already_holds(state, command) is not None:
        return []
    match command:
        case commands.JoinNetwork():
            return _join(state, command, now, standards, rules)
        case commands.Reapply():
            return _reapply(state, command, now, standards, rules)
        case commands.Withdraw():
            _require_member(state)
            return [events.CityWithdrew(reason=command.reason, on=now)]
        case commands.SendRenewalReminder():
            return _remind(state, command, now, rules)
        case commands.Expire():
            return _expire(state, now)
        case commands.Announce():
            return _announce(state, command, now, rules)
        case commands.Decide():
            # Scoring is not the decider's to do (it runs in an activity, recorded in
            # history); the decider only says whether a decision may be asked for now.
            ensure_decidable(state)
            return []
        case commands.SaveAssessment():
            app, standard = _open_application(state, standards)
            if command.expected_version not in (None, state.version):
                raise TransitionRefused(
                    f"the assessment changed since this draft was loaded (now version "
                    f"{state.version}, the draft's {command.expected_version}); reload it",
                    code="stale_version")
            _require_stage(app, Stage.ASSESSING, "save a self-assessment")
            check_answers(standard, command.answers, require_evidence=False)
            return [events.AssessmentSaved(answers=command.answers, on=now)]
        case commands.TouchDraft():
            app, _ = _open_application(state, standards)
            _require_stage(app, Stage.ASSESSING, "save a self-assessment")
            # Once a day is enough: the nudge counts in days.
            return [] if app.draft_touched_on == now else [events.DraftTouched(on=now)]
        case commands.SubmitAssessment():
            app, standard = _open_application(state, standards)
            _require_stage(app, Stage.ASSESSING, "submit a self-assessment")
            answers = command.answers if command.answers is not None else app.answers
            if not answers.criteria:
                raise AssessmentError("nothing to submit: no criterion has been answered")
            check_answers(standard, answers, require_evidence=rules.require_evidence,
                          documents=app.documents)
            return [events.AssessmentSubmitted(answers=answers, documents=app.documents,
                                               on=now)]
        case commands.AddDocument():
            app, standard = _open_application(state, standards)
            return evidence.decide_add(app, standard, command, now, actor)
        case commands.RemoveDocument():
            app, _ = _open_application(state, standards)
            return evidence.decide_remove(app, command, now)
        case commands.AssignReviewer():
            app, _ = _open_application(state, standards)
            _require_stage(
                app, (Stage.SUBMITTED, Stage.UNDER_REVIEW, Stage.AWAITING_CLARIFICATION),
                "assign a reviewer",
            )
            if state.profile is not None and state.profile.city_key in command.affiliations:
                raise TransitionRefused(
                    f"{command.reviewer} is affiliated with {state.profile.name} and cannot "
                    "review it (conflict of interest)", code="conflict_of_interest",
                    facts={"reviewer": command.reviewer, "city": state.profile.name})
            return [events.ReviewerAssigned(reviewer=command.reviewer, on=now)]
        case commands.RecordCriterionReview():
            app, standard = _open_application(state, standards)
            _require_stage(app, _REVIEWING, "record a criterion review")
            return [_reviewed(standard, command, now)]
        case commands.RecordReviews():
            app, standard = _open_application(state, standards)
            _require_stage(app, _REVIEWING, "record criterion reviews")
            codes = [r.code for r in command.reviews]
            if len(set(codes)) != len(codes):
                raise AssessmentError("a criterion is reviewed twice in one sheet")
            reviews = command.reviews
            if not record_repeats:
                # Only the verdicts that differ from the ones recorded: the others already
                # hold, and recording them again would log the same verdict twice (what a
                # sheet sent again did). A sheet that changes some verdicts still records
                # those, as the last word on them, as before.
                reviews = tuple(r for r in reviews if not _review_holds(app, r))
            return [_reviewed(standard, review, now) for review in reviews]
        case commands.RequestClarification():
            app, standard = _open_application(state, standards)
            _require_stage(app, _REVIEWING, "request a clarification")
            _require_criterion(standard, command.criterion)
            return [events.ClarificationRequested(
                clarification_id=len(app.clarifications) + 1, criterion=command.criterion,
                question=command.question, on=now)]
        case commands.AnswerClarification():
            app, _ = _open_application(state, standards)
            return _answer_clarification(app, command, now)
        case commands.CompleteReview():
            app, standard = _open_application(state, standards)
            return _complete_review(app, standard, command, now)
        case commands.RecordDecision():
            app, _ = _open_application(state, standards)
            return _record_decision(state, app, command, now)
        case commands.ReachDeadline():
            _require_application(state)
            return _reach_deadline(state, command, now, rules)
        case _:
            assert_never(command)


def already_holds(state: CityState, command: commands.CityCommand) -> str | None:
    """Why `command` would record nothing in `state`: its effect already holds, so it
    means what was already recorded (e.g. "DM1 was already recorded as met"). None when
    it would record something, or be refused.

    A no-op is right where the command sent again means the same thing as the first time;
    where it would mean something else (another answer to an answered clarification,
    other outcomes for a completed review) the decider still refuses it. Each case below
    names its judgement."""
    app = state.application
    match command:
        case commands.AssignReviewer():
            # The same reviewer, still reviewing: assigning again would restart nothing
            # (its due date counts from the first assignment). An affiliation learnt since
            # is not waved through: the decider refuses it.
            if (app is not None and app.stage in _REVIEWING and app.reviewer == command.reviewer
                    and not (state.profile and state.profile.city_key in command.affiliations)):
                return f"{command.reviewer} is already assigned to application {app.number}"
            return None
        case commands.RecordCriterionReview():
            if app is not None and app.stage in _REVIEWING and _review_holds(app, command):
                return f"{command.code} was already recorded as {_verdict(command)}"
            return None
        case commands.RecordReviews():
            # The whole sheet as recorded; a sheet changing some verdicts records those.
            codes = {r.code for r in command.reviews}
            if (app is not None and app.stage in _REVIEWING
                    and len(codes) == len(command.reviews)
                    and all(_review_holds(app, r) for r in command.reviews)):
                return (f"every review on the sheet ({len(codes)}) was already recorded "
                        "as given")
            return None
        case commands.RequestClarification():
            # The same question on the same criterion while it still awaits its answer;
            # once answered, asking it again is a new question (the answer may not do).
            if app is not None and app.stage in _REVIEWING:
                for question in app.open_clarifications():
                    if (question.criterion, question.question) == (command.criterion,
                                                                   command.question):
                        return (f"clarification {question.id} already asks this about "
                                f"{command.criterion}")
            return None
        case commands.AnswerClarification():
            # Exactly the recorded answer and evidence; another answer to an answered
            # clarification is still refused ("already answered").
            for question in app.clarifications if app is not None else ():
                if (question.id == command.clarification_id and question.answer is not None
                        and (question.answer, question.evidence) == (command.answer,
                                                                     command.evidence)):
                    return f"clarification {question.id} was already answered so"
            return None
        case commands.SubmitAssessment():
            # The application was submitted with these answers (or, with none given, with
            # the draft as it was sealed then); other answers are refused (wrong stage).
            if (app is not None and app.stage is not Stage.ASSESSING
                    and command.answers in (None, app.answers)):
                return f"application {app.number} was already submitted with these answers"
            return None
        case commands.AddDocument():
            # The same bytes on the same criterion: one document, whatever its name.
            return evidence.already_attached(app, command)
        case commands.CompleteReview():
            # Completed with the same outcomes, and not yet followed by anything but its
            # decision; other outcomes are refused (the review is closed).
            if app is not None and app.stage in (Stage.REVIEW_COMPLETE, Stage.DECIDED):
                outcomes = (command.outcomes if command.outcomes is not None
                            else app.answers.outcomes)
                if app.outcomes == outcomes:
                    return f"the review of application {app.number} was already completed"
            return None
        case commands.Decide():
            # A certified decision awaiting its announcement. (A decision not certified
            # closes the application and ends the workflow's cycle: a Decide then is
            # refused, "no application in progress", which names what happened.)
            decision = app.decision if app is not None else None
            if app is not None and app.stage is Stage.DECIDED and decision is not None:
                return (f"application {app.number} was already decided: "
                        f"{decision.tier.value} ({decision.percent} %)")
            return None
        case commands.Withdraw():
            # Withdrawn for the same reason; another reason is refused ("withdrawn") rather
            # than dropped without a word.
            if state.withdrawn and state.withdrawal_reason == command.reason:
                return "the city has already withdrawn, for this reason"
            return None
        case (commands.JoinNetwork() | commands.Reapply() | commands.SaveAssessment()
              | commands.TouchDraft() | commands.RecordDecision() | commands.Announce()
              | commands.RemoveDocument()
              | commands.SendRenewalReminder() | commands.Expire() | commands.ReachDeadline()):
            # Join and reapply stay refusals ("already joined", "application open"): they
            # record nothing, and name what holds, where a no-op would hide that the city
            # or its application was there before. A draft save is the last word on the
            # answers (saves are keyed by request id: infra/application/drafts.py); a
            # touch is once a day already. Removing a document that is not attached is
            # refused (`unknown_document`): the door says "not found" rather than "done",
            # which is what a second DELETE answers. The program's own commands (decision, cohort
            # announcement, reminders, expiry, deadlines) are sent by the workflows, which
            # treat a refused repeat as done.
            return None
        case _:
            assert_never(command)


def _review_holds(app: Application, review: commands.RecordCriterionReview) -> bool:
    """The review records exactly what is recorded for its criterion: verdict and note."""
    return (app.reviews.get(review.code) == CriterionAnswer(met=review.met, items=review.items)
            and app.review_notes.get(review.code, "") == review.note)


def _verdict(review: commands.RecordCriterionReview) -> str:
    shown = (f"items {', '.join(review.items) or 'none'}" if review.items is not None
             else "met" if review.met else "not met")
    return f"{shown} with this note" if review.note else shown


def _reach_deadline(state: CityState, command: commands.ReachDeadline, now: date,
                    rules: ProgramRules) -> list[events.CityEvent]:
    found = find_pending(state.application, rules, command.key)
    if found is None:
        raise TransitionRefused(f"no deadline {command.key} is pending (answered, reviewed "
                                "or already reached)", code="no_deadline")
    if found.fires_on > now:
        raise TransitionRefused(f"the deadline {command.key} comes on {found.fires_on}",
                                code="not_due", facts={"due_on": found.fires_on.isoformat()})
    return [events.DeadlineReached(key=found.key, kind=found.kind, step=found.step,
                                   due_on=found.due_on, on=now)]


def _open_application(state: CityState,
                      standards: StandardCatalog) -> tuple[Application, Standard]:
    app = _require_application(state)
    return app, standards[app.standard_id]


_REVIEWING = (Stage.UNDER_REVIEW, Stage.AWAITING_CLARIFICATION)


def _require_member(state: CityState) -> None:
    if state.profile is None:
        raise TransitionRefused("the city has not joined the network", code="not_joined")
    if state.withdrawn:
        raise TransitionRefused("the city has withdrawn from the network", code="withdrawn")


def _require_application(state: CityState) -> Application:
    _require_member(state)
    if state.application is None:
        raise TransitionRefused(
            "the city has no application in progress (reapply to open one)", code="no_application"
        )
    return state.application


def _require_stage(app: Application, stages: Stage | Sequence[Stage], action: str) -> None:
    allowed = (stages,) if isinstance(stages, Stage) else tuple(stages)
    if app.stage not in allowed:
        raise TransitionRefused(
            f"cannot {action}: the application is {app.stage.value.replace('_', ' ')} "
            f"(allowed when {' or '.join(s.value.replace('_', ' ') for s in allowed)})",
            code="wrong_stage", facts={"stage": app.stage.value},
        )


def _require_criterion(standard: Standard, code: str) -> None:
    if code not in standard.codes:
        raise AssessmentError(f"unknown criterion code {code} for standard {standard.id}",
                              code="unknown_criterion", facts={"criterion": code})


def _resolve_standard(
    standards: StandardCatalog, standard_id: str | None, now: date
) -> Standard:
    standard = standards[standard_id] if standard_id else standards.in_force(now)
    standard.require_complete()
    return standard


def _join(
    state: CityState, command: commands.JoinNetwork, now: date, standards: StandardCatalog,
    rules: ProgramRules,
) -> list[events.CityEvent]:
    if state.profile is not None and not state.withdrawn:
        raise TransitionRefused("the city has already joined the network", code="already_joined")
    reasons = ineligibility_reasons(rules.eligibility, command.country, command.population, now)
    if reasons:
        period = period_on(rules.eligibility, now)
        raise IneligibleCity(f"{command.name} is not eligible: {'; '.join(reasons)}", facts={
            "name": command.name, "eligible": period.label if period else "",
            "minimum": period.min_population if period else 0})
    key = city_key(command.country, command.name)
    if state.profile is not None and state.profile.city_key != key:
        raise TransitionRefused(f"this workflow belongs to {state.profile.city_key}, not {key}")
    standard = _resolve_standard(standards, command.standard_id, now)
    return [
        events.CityJoined(city_key=key, name=command.name, country=command.country,
                          population=command.population, on=now,
                          location=(command.location.latitude, command.location.longitude)
                          if command.location else None),
        events.ApplicationOpened(number=state.applications + 1, standard_id=standard.id,
                            reapplication=False, on=now),
    ]


def _reapply(
    state: CityState, command: commands.Reapply, now: date, standards: StandardCatalog,
    rules: ProgramRules,
) -> list[events.CityEvent]:
    _require_member(state)
    if state.application is not None:
        raise TransitionRefused(
            f"application {state.application.number} is still "
            f"{state.application.stage.value.replace('_', ' ')}", code="application_open"
        )
    last = state.last_decision
    if state.certification is None and last is not None and last.tier is Tier.NONE:
        allowed_on = last.decided_on + timedelta(days=rules.not_certified_reapply_wait_days)
        if now < allowed_on:
            raise TransitionRefused(
                f"a city not certified may reapply from {allowed_on.isoformat()}",
                code="too_early", facts={"from_on": allowed_on.isoformat()},
            )
    standard = _resolve_standard(standards, command.standard_id, now)
    return [events.ApplicationOpened(number=state.applications + 1, standard_id=standard.id,
                                reapplication=True, on=now)]


def _reviewed(standard: Standard, review: commands.RecordCriterionReview,
              now: date) -> events.CityEvent:
    answer = CriterionAnswer(met=review.met, items=review.items)
    check_answers(standard, Answers(criteria={review.code: answer}), require_evidence=False)
    return events.CriterionReviewed(code=review.code, answer=answer, note=review.note, on=now)


def _answer_clarification(
    app: Application, command: commands.AnswerClarification, now: date
) -> list[events.CityEvent]:
    for question in app.clarifications:
        if question.id == command.clarification_id:
            if question.answer is not None:
                raise TransitionRefused(f"clarification {question.id} is already answered",
                                        code="already_answered", facts={"number": question.id})
            return [events.ClarificationAnswered(
                clarification_id=question.id, answer=command.answer,
                evidence=command.evidence, on=now)]
    raise TransitionRefused(f"no clarification {command.clarification_id} was requested",
                            code="unknown_clarification",
                            facts={"number": command.clarification_id})


def _complete_review(
    app: Application, standard: Standard, command: commands.CompleteReview, now: date
) -> list[events.CityEvent]:
    _require_stage(app, _REVIEWING, "complete the review")
    # The reviewer's sheet (domain/review_sheets.py) is recorded with the completion: the
    # verdicts on it that differ from the recorded ones, checked as the record commands
    # check theirs; the completion's own checks then count them.
    codes = [r.code for r in command.sheet]
    if len(set(codes)) != len(codes):
        raise AssessmentError("a criterion is reviewed twice in one sheet")
    recorded = [_reviewed(standard, review, now) for review in command.sheet
                if not _review_holds(app, review)]
    for event in recorded:
        app = _application_after(app, event)
    if open_questions := app.open_clarifications():
        ids = ", ".join(str(q.id) for q in open_questions)
        raise TransitionRefused(f"clarification {ids} still awaits the city's answer",
                                code="clarification_open", facts={"numbers": ids})
    unreviewed = [
        code for code in standard.codes
        if app.answers.answer(code).claimed(standard, code) and code not in app.reviews
    ]
    if unreviewed:
        raise TransitionRefused(
            f"criteria claimed by the city but not yet reviewed: {', '.join(unreviewed)}",
            code="review_incomplete", facts={"criteria": ", ".join(unreviewed)},
        )
    outcomes = command.outcomes if command.outcomes is not None else app.answers.outcomes
    check_answers(standard, Answers(outcomes=outcomes), require_evidence=False)
    return [*recorded, events.ReviewCompleted(outcomes=dict(outcomes), on=now)]


def ensure_decidable(state: CityState) -> Application:
    """Refuse unless the city's application is ready for a decision (before any scoring)."""
    app = _require_application(state)
    if app.stage is not Stage.REVIEW_COMPLETE:
        raise TransitionRefused(
            "cannot decide before the review is complete (the application is "
            f"{app.stage.value.replace('_', ' ')})", code="review_not_complete",
            facts={"stage": app.stage.value},
        )
    return app


def _record_decision(
    state: CityState, app: Application, command: commands.RecordDecision, now: date
) -> list[events.CityEvent]:
    ensure_decidable(state)
    result = command.report.score
    if result.standard != app.standard_id:
        raise TransitionRefused(
            f"the score is under {result.standard}, the application under {app.standard_id}"
        )
    decided: list[events.CityEvent] = [events.CertificationDecided(
        standard_id=result.standard, tier=result.tier, points=result.points, total=result.total,
        percent=result.percent, honor_roll=command.report.honor_roll, report=command.report,
        documents=app.documents, on=now,
    )]
    cert = state.certification
    if result.tier is Tier.NONE and cert is not None and cert.held_pending_renewal:
        # It only held because a renewal was pending; that renewal failed.
        decided.append(events.CertificationLapsed(tier=cert.tier, expires_on=cert.expires_on,
                                                  on=now))
    return decided


def _announce(
    state: CityState, command: commands.Announce, now: date, rules: ProgramRules
) -> list[events.CityEvent]:
    _require_member(state)
    app = state.application
    decision = app.decision if app is not None else None
    if app is None or app.stage is not Stage.DECIDED or decision is None:
        where = f"the application is {app.stage.value.replace('_', ' ')}" if app else (
            "no certified decision awaits announcement")
        raise TransitionRefused(
            f"only a certified decision can be announced ({where})", code="not_certified")
    day = command.announced_on or now
    if day > now:
        raise TransitionRefused(f"cannot announce on {day}, a date still to come",
                                code="future_date", facts={"day_on": day.isoformat()})
    if day < decision.decided_on:
        raise TransitionRefused(f"cannot announce on {day}, before the decision of "
                                f"{decision.decided_on}", code="before_decision",
                                facts={"decided_on": decision.decided_on.isoformat()})
    previous = state.certification.tier if state.certification else None
    return [events.CertificationAnnounced(
        cohort_id=command.cohort_id, standard_id=decision.standard_id, tier=decision.tier,
        previous_tier=previous, outcome=classify_outcome(previous, decision.tier),
        expires_on=rules.expiry(day), on=day,
    )]


def _remind(
    state: CityState, command: commands.SendRenewalReminder, now: date, rules: ProgramRules
) -> list[events.CityEvent]:
    _require_member(state)
    cert = state.certification
    if cert is None:
        raise TransitionRefused("the city holds no certification", code="not_certified")
    if command.lead_days not in rules.reminder_lead_days:
        raise TransitionRefused(f"{command.lead_days} days is not a reminder lead time "
                                f"(rules: {list(rules.reminder_lead_days)})")
    if command.lead_days in cert.reminders_sent:
        raise TransitionRefused(f"the {command.lead_days}-day reminder was already sent",
                                code="already_sent", facts={"days": command.lead_days})
    if state.application is not None:
        raise TransitionRefused("the city is already reapplying", code="application_open")
    due = cert.expires_on - timedelta(days=command.lead_days)
    if now < due:
        raise TransitionRefused(f"the {command.lead_days}-day reminder is due on {due}",
                                code="too_early", facts={"from_on": due.isoformat()})
    return [events.RenewalReminderSent(lead_days=command.lead_days, expires_on=cert.expires_on,
                                  on=now)]


def _expire(state: CityState, now: date) -> list[events.CityEvent]:
    _require_member(state)
    cert = state.certification
    if cert is None or cert.held_pending_renewal:
        raise TransitionRefused("the city holds no certification that can expire",
                                code="not_certified")
    if now < cert.expires_on:
        raise TransitionRefused(f"the certification runs until {cert.expires_on}",
                                code="too_early", facts={"from_on": cert.expires_on.isoformat()})
    if state.application is not None:
        return [events.CertificationHeldPendingRenewal(expires_on=cert.expires_on, on=now)]
    return [events.CertificationLapsed(tier=cert.tier, expires_on=cert.expires_on, on=now)]


# --- evolve ------------------------------------------------------------------------------

def evolve(state: CityState, event: events.CityEvent) -> CityState:
    """Fold one event into the state. Total over every city event type."""
    return _apply(state, event).model_copy(update={"version": state.version + 1})


def stage_after(stage: Stage | None, event_type: str, *, clarifications_open: int = 0,
                certified: bool = True) -> Stage | None:
    """The application's stage after an event of `event_type` (None: no application open).

    The one statement of how an application moves; the fold below and the read models
    both use it. `clarifications_open` counts the questions still open after the event,
    `certified` whether a decision certifies."""
    if event_type == events.ReviewerAssigned.TYPE:
        return Stage.UNDER_REVIEW if stage is Stage.SUBMITTED else stage
    if event_type == events.ClarificationAnswered.TYPE:
        return Stage.AWAITING_CLARIFICATION if clarifications_open else Stage.UNDER_REVIEW
    if event_type == events.CertificationDecided.TYPE:
        return Stage.DECIDED if certified else None
    return _STAGE_AFTER.get(event_type, stage)


_STAGE_AFTER: dict[str, Stage | None] = {
    events.ApplicationOpened.TYPE: Stage.ASSESSING,
    events.AssessmentSubmitted.TYPE: Stage.SUBMITTED,
    events.ClarificationRequested.TYPE: Stage.AWAITING_CLARIFICATION,
    events.ReviewCompleted.TYPE: Stage.REVIEW_COMPLETE,
    events.CertificationAnnounced.TYPE: None,
    events.CityWithdrew.TYPE: None,
}


def _apply(state: CityState, event: events.CityEvent) -> CityState:
    match event:
        case events.CityJoined():
            return state.model_copy(update={
                "profile": Profile(city_key=event.city_key, name=event.name,
                                   country=event.country, population=event.population,
                                   joined_on=event.on, location=event.location),
                "withdrawn": False, "withdrawal_reason": None,
            })
        case events.CityWithdrew():
            return state.model_copy(update={"withdrawn": True, "withdrawal_reason": event.reason,
                                            "application": None, "certification": None})
        case events.ApplicationOpened():
            return state.model_copy(update={
                "applications": event.number,
                "application": Application(number=event.number, standard_id=event.standard_id,
                                           reapplication=event.reapplication,
                                           opened_on=event.on),
            })
        case events.CertificationAnnounced():
            return state.model_copy(update={
                "application": None,
                "certification": Certification(
                    tier=event.tier, standard_id=event.standard_id, cohort_id=event.cohort_id,
                    announced_on=event.on, expires_on=event.expires_on),
                "last_outcome": event.outcome,
                "lapsed_on": None,
            })
        case events.RenewalReminderSent():
            cert = _certification(state)
            return state.model_copy(update={"certification": cert.model_copy(
                update={"reminders_sent": (*cert.reminders_sent, event.lead_days)})})
        case events.CertificationHeldPendingRenewal():
            cert = _certification(state)
            return state.model_copy(update={
                "certification": cert.model_copy(update={"held_pending_renewal": True})})
        case events.CertificationLapsed():
            return state.model_copy(update={"certification": None, "lapsed_on": event.on,
                                            "last_outcome": Outcome.LAPSED})
        case events.CertificationDecided():
            decision = Decision(standard_id=event.standard_id, tier=event.tier,
                                points=event.points, total=event.total, percent=event.percent,
                                honor_roll=event.honor_roll, decided_on=event.on)
            app = _application(state, event)
            # Not certified: the cycle ends with the report, and no application stays open.
            return state.model_copy(update={
                "last_decision": decision, "last_report": event.report,
                "application": app.model_copy(update={
                    "stage": Stage.DECIDED, "decision": decision}) if event.tier.certified
                else None})
        case events.DeadlineReached():
            app = _application(state, event)
            return state.model_copy(update={"application": app.model_copy(update={
                "deadlines_reached": (*app.deadlines_reached, event.key)})})
        case (events.AssessmentSaved() | events.AssessmentSubmitted() | events.DraftTouched()
              | events.DocumentAdded() | events.DocumentRemoved()
              | events.ReviewerAssigned() | events.CriterionReviewed()
              | events.ClarificationRequested() | events.ClarificationAnswered()
              | events.ReviewCompleted()):
            app = _application(state, event)
            changed = _application_after(app, event)
            stage = stage_after(app.stage, event.TYPE,
                                clarifications_open=len(changed.open_clarifications()))
            # Stage is never None here: only decisions, announcements and withdrawals close.
            return state.model_copy(update={
                "application": changed.model_copy(update={"stage": stage or app.stage})})
        case _:
            assert_never(event)


def _application_after(app: Application, event: events.CityEvent) -> Application:
    """What an event records on the open application, its stage aside."""
    match event:
        case events.AssessmentSaved():
            return app.model_copy(update={"answers": event.answers,
                                          "draft_touched_on": event.on})
        case events.DraftTouched():
            return app.model_copy(update={"draft_touched_on": event.on})
        case events.AssessmentSubmitted():
            return app.model_copy(update={"answers": event.answers, "submitted_on": event.on})
        case events.DocumentAdded() | events.DocumentRemoved():
            return app.model_copy(update={
                "documents": evidence.documents_after(app.documents, event)})
        case events.ReviewerAssigned():
            return app.model_copy(update={"reviewer": event.reviewer,
                                          "reviewer_assigned_on": event.on})
        case events.CriterionReviewed():
            notes = {**app.review_notes, event.code: event.note}
            return app.model_copy(update={"reviews": {**app.reviews, event.code: event.answer},
                                          "review_notes": {k: v for k, v in notes.items() if v}})
        case events.ClarificationRequested():
            question = Clarification(id=event.clarification_id, criterion=event.criterion,
                                     question=event.question, asked_on=event.on)
            return app.model_copy(update={"clarifications": (*app.clarifications, question)})
        case events.ClarificationAnswered():
            return app.model_copy(update={"clarifications": tuple(
                q.model_copy(update={"answer": event.answer, "evidence": event.evidence,
                                     "answered_on": event.on})
                if q.id == event.clarification_id else q
                for q in app.clarifications)})
        case events.ReviewCompleted():
            return app.model_copy(update={"outcomes": event.outcomes,
                                          "completed_on": event.on})
    raise ValueError(f"event {event.TYPE} does not change an application")


def _application(state: CityState, event: events.Event) -> Application:
    if state.application is None:
        raise ValueError(f"{event.TYPE} needs an open application")
    return state.application


def _certification(state: CityState) -> Certification:
    if state.certification is None:
        raise ValueError("event needs a certification in force")
    return state.certification


def fold(history: Sequence[events.Event], state: CityState | None = None) -> CityState:
    """The state after `history` (stored events: each must be one of a city's)."""
    current = state or CityState()
    for event in history:
        current = evolve(current, events.as_city_event(event))
    return current
