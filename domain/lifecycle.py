"""A city's certification lifecycle as a decider.

`decide(state, command, now, ...)` returns the events a command causes or raises a
`DomainError` naming why it is refused (and then nothing is recorded); `evolve(state, event)`
folds one event into the state. Both are pure: the date is passed in, the standards and
program rules are data.

A city holds at most one certification in force and at most one open application; a
reapplication runs while the current certification still holds, and the certification
outlives its expiry date until the new decision when the city reapplied in time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain import commands as c
from domain import events as e
from domain.answers import Answers, CriterionAnswer, check_answers
from domain.catalog import StandardCatalog
from domain.city import city_key
from domain.eligibility import ineligibility_reasons
from domain.errors import AssessmentError, IneligibleCity, TransitionRefused
from domain.report import Report
from domain.rules import ProgramRules
from domain.standard import Standard
from domain.tiers import Outcome, Tier, classify_outcome


class Stage(StrEnum):
    ASSESSING = "assessing"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    AWAITING_CLARIFICATION = "awaiting_clarification"
    REVIEW_COMPLETE = "review_complete"
    DECIDED = "decided"  # certified, waiting for its cohort's announcement


class Status(StrEnum):
    """What operators see and search by; derived from the state, never stored on its own."""

    NOT_JOINED = "not_joined"
    ASSESSING = "assessing"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    AWAITING_CLARIFICATION = "awaiting_clarification"
    REVIEW_COMPLETE = "review_complete"
    AWAITING_ANNOUNCEMENT = "awaiting_announcement"
    NOT_CERTIFIED = "not_certified"
    CERTIFIED = "certified"
    RENEWAL_DUE = "renewal_due"
    REAPPLYING = "reapplying"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"


def derive_status(
    *, joined: bool, withdrawn: bool, certified: bool, reminders_sent: bool,
    stage: Stage | None, lapsed: bool,
) -> Status:
    """The one place that says how a city's facts read as a status (the state and the
    registry projection both use it)."""
    if not joined:
        return Status.NOT_JOINED
    if withdrawn:
        return Status.WITHDRAWN
    if certified:
        if stage is not None:
            return Status.REAPPLYING
        return Status.RENEWAL_DUE if reminders_sent else Status.CERTIFIED
    if stage is not None:
        return Status.AWAITING_ANNOUNCEMENT if stage is Stage.DECIDED else Status(stage.value)
    return Status.LAPSED if lapsed else Status.NOT_CERTIFIED


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Profile(_Frozen):
    city_key: str
    name: str
    country: str
    population: int
    joined_on: date


class Clarification(_Frozen):
    id: int
    criterion: str
    question: str
    asked_on: date
    answer: str | None = None
    evidence: tuple[str, ...] = ()
    answered_on: date | None = None


class Decision(_Frozen):
    standard_id: str
    tier: Tier
    points: int
    total: int
    percent: float
    honor_roll: bool
    decided_on: date


class Application(_Frozen):
    number: int
    standard_id: str
    reapplication: bool
    opened_on: date
    stage: Stage = Stage.ASSESSING
    answers: Answers = Answers()
    submitted_on: date | None = None
    reviewer: str | None = None
    reviews: dict[str, CriterionAnswer] = {}
    clarifications: tuple[Clarification, ...] = ()
    outcomes: dict[str, bool] | None = None
    decision: Decision | None = None

    def open_clarifications(self) -> list[Clarification]:
        return [q for q in self.clarifications if q.answer is None]

    def reviewed_answers(self) -> Answers:
        """What the review team validated: unreviewed criteria count as not met."""
        return Answers(
            criteria=dict(self.reviews),
            outcomes=dict(self.outcomes if self.outcomes is not None else self.answers.outcomes),
        )


class Certification(_Frozen):
    tier: Tier
    standard_id: str
    cohort_id: str
    announced_on: date
    expires_on: date
    reminders_sent: tuple[int, ...] = ()
    held_pending_renewal: bool = False


class CityState(_Frozen):
    version: int = 0  # events folded so far: the stream's expected version
    profile: Profile | None = None
    withdrawn: bool = False
    applications: int = 0
    application: Application | None = None
    certification: Certification | None = None
    last_decision: Decision | None = None
    last_report: Report | None = None
    last_outcome: Outcome | None = None
    lapsed_on: date | None = None

    @property
    def status(self) -> Status:
        app = self.application
        return derive_status(
            joined=self.profile is not None,
            withdrawn=self.withdrawn,
            certified=self.certification is not None,
            reminders_sent=bool(self.certification and self.certification.reminders_sent),
            stage=app.stage if app is not None else None,
            lapsed=self.lapsed_on is not None and self.last_outcome is Outcome.LAPSED,
        )

    @property
    def tier(self) -> Tier:
        return self.certification.tier if self.certification else Tier.NONE


# --- decide ------------------------------------------------------------------------------

def decide(
    state: CityState,
    command: c.Command,
    now: date,
    *,
    standards: StandardCatalog,
    rules: ProgramRules,
) -> list[e.Event]:
    """The events `command` causes on `now`, or a `DomainError` saying why not."""
    match command:
        case c.JoinNetwork():
            return _join(state, command, now, standards, rules)
        case c.Reapply():
            return _reapply(state, command, now, standards, rules)
        case c.Withdraw():
            _require_member(state)
            return [e.CityWithdrew(reason=command.reason, on=now)]
        case c.SendRenewalReminder():
            return _remind(state, command, now, rules)
        case c.Expire():
            return _expire(state, now)
        case c.Announce():
            return _announce(state, command, now, rules)
    app = _require_application(state)
    standard = standards[app.standard_id]
    match command:
        case c.SaveAssessment():
            _require_stage(app, Stage.ASSESSING, "save a self-assessment")
            check_answers(standard, command.answers, require_evidence=False)
            return [e.AssessmentSaved(answers=command.answers, on=now)]
        case c.SubmitAssessment():
            _require_stage(app, Stage.ASSESSING, "submit a self-assessment")
            answers = command.answers if command.answers is not None else app.answers
            if not answers.criteria:
                raise AssessmentError("nothing to submit: no criterion has been answered")
            check_answers(standard, answers, require_evidence=rules.require_evidence)
            return [e.AssessmentSubmitted(answers=answers, on=now)]
        case c.AssignReviewer():
            _require_stage(
                app, (Stage.SUBMITTED, Stage.UNDER_REVIEW, Stage.AWAITING_CLARIFICATION),
                "assign a reviewer",
            )
            return [e.ReviewerAssigned(reviewer=command.reviewer, on=now)]
        case c.RecordCriterionReview():
            _require_stage(app, _REVIEWING, "record a criterion review")
            return [_reviewed(standard, command, now)]
        case c.RecordReviews():
            _require_stage(app, _REVIEWING, "record criterion reviews")
            codes = [r.code for r in command.reviews]
            if len(set(codes)) != len(codes):
                raise AssessmentError("a criterion is reviewed twice in one sheet")
            return [_reviewed(standard, review, now) for review in command.reviews]
        case c.RequestClarification():
            _require_stage(app, _REVIEWING, "request a clarification")
            _require_criterion(standard, command.criterion)
            return [e.ClarificationRequested(clarification_id=len(app.clarifications) + 1,
                                             criterion=command.criterion,
                                             question=command.question, on=now)]
        case c.AnswerClarification():
            return _answer_clarification(app, command, now)
        case c.CompleteReview():
            return _complete_review(app, standard, command, now)
        case c.RecordDecision():
            return _record_decision(state, app, command, now)
    raise TransitionRefused(f"unknown command {type(command).__name__}")


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
            code="wrong_stage",
        )


def _require_criterion(standard: Standard, code: str) -> None:
    if code not in standard.codes:
        raise AssessmentError(f"unknown criterion code {code} for standard {standard.id}",
                              code="unknown_criterion")


def _resolve_standard(
    standards: StandardCatalog, standard_id: str | None, now: date
) -> Standard:
    standard = standards[standard_id] if standard_id else standards.in_force(now)
    standard.require_complete()
    return standard


def _join(
    state: CityState, command: c.JoinNetwork, now: date, standards: StandardCatalog,
    rules: ProgramRules,
) -> list[e.Event]:
    if state.profile is not None and not state.withdrawn:
        raise TransitionRefused("the city has already joined the network", code="already_joined")
    reasons = ineligibility_reasons(rules.eligibility, command.country, command.population, now)
    if reasons:
        raise IneligibleCity(f"{command.name} is not eligible: {'; '.join(reasons)}")
    key = city_key(command.country, command.name)
    if state.profile is not None and state.profile.city_key != key:
        raise TransitionRefused(f"this workflow belongs to {state.profile.city_key}, not {key}")
    standard = _resolve_standard(standards, command.standard_id, now)
    return [
        e.CityJoined(city_key=key, name=command.name, country=command.country,
                     population=command.population, on=now),
        e.ApplicationOpened(number=state.applications + 1, standard_id=standard.id,
                            reapplication=False, on=now),
    ]


def _reapply(
    state: CityState, command: c.Reapply, now: date, standards: StandardCatalog,
    rules: ProgramRules,
) -> list[e.Event]:
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
                code="too_early",
            )
    standard = _resolve_standard(standards, command.standard_id, now)
    return [e.ApplicationOpened(number=state.applications + 1, standard_id=standard.id,
                                reapplication=True, on=now)]


def _reviewed(standard: Standard, review: c.RecordCriterionReview, now: date) -> e.Event:
    answer = CriterionAnswer(met=review.met, items=review.items)
    check_answers(standard, Answers(criteria={review.code: answer}), require_evidence=False)
    return e.CriterionReviewed(code=review.code, answer=answer, note=review.note, on=now)


def _answer_clarification(
    app: Application, command: c.AnswerClarification, now: date
) -> list[e.Event]:
    for question in app.clarifications:
        if question.id == command.clarification_id:
            if question.answer is not None:
                raise TransitionRefused(f"clarification {question.id} is already answered",
                                        code="already_answered")
            return [e.ClarificationAnswered(clarification_id=question.id, answer=command.answer,
                                            evidence=command.evidence, on=now)]
    raise TransitionRefused(f"no clarification {command.clarification_id} was requested",
                            code="unknown_clarification")


def _complete_review(
    app: Application, standard: Standard, command: c.CompleteReview, now: date
) -> list[e.Event]:
    _require_stage(app, _REVIEWING, "complete the review")
    if open_questions := app.open_clarifications():
        ids = ", ".join(str(q.id) for q in open_questions)
        raise TransitionRefused(f"clarification {ids} still awaits the city's answer",
                                code="clarification_open")
    unreviewed = [
        code for code in standard.codes
        if app.answers.answer(code).claimed(standard, code) and code not in app.reviews
    ]
    if unreviewed:
        raise TransitionRefused(
            f"criteria claimed by the city but not yet reviewed: {', '.join(unreviewed)}",
            code="review_incomplete",
        )
    outcomes = command.outcomes if command.outcomes is not None else app.answers.outcomes
    check_answers(standard, Answers(outcomes=outcomes), require_evidence=False)
    return [e.ReviewCompleted(outcomes=dict(outcomes), on=now)]


def ensure_decidable(state: CityState) -> Application:
    """Refuse unless the city's application is ready for a decision (before any scoring)."""
    app = _require_application(state)
    if app.stage is not Stage.REVIEW_COMPLETE:
        raise TransitionRefused(
            "cannot decide before the review is complete (the application is "
            f"{app.stage.value.replace('_', ' ')})", code="review_not_complete",
        )
    return app


def _record_decision(
    state: CityState, app: Application, command: c.RecordDecision, now: date
) -> list[e.Event]:
    ensure_decidable(state)
    result = command.report.score
    if result.standard != app.standard_id:
        raise TransitionRefused(
            f"the score is under {result.standard}, the application under {app.standard_id}"
        )
    decided: list[e.Event] = [e.CertificationDecided(
        standard_id=result.standard, tier=result.tier, points=result.points, total=result.total,
        percent=result.percent, honor_roll=command.report.honor_roll, report=command.report,
        on=now,
    )]
    cert = state.certification
    if result.tier is Tier.NONE and cert is not None and cert.held_pending_renewal:
        # It only held because a renewal was pending; that renewal failed.
        decided.append(e.CertificationLapsed(tier=cert.tier, expires_on=cert.expires_on, on=now))
    return decided


def _announce(
    state: CityState, command: c.Announce, now: date, rules: ProgramRules
) -> list[e.Event]:
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
                                code="future_date")
    if day < decision.decided_on:
        raise TransitionRefused(f"cannot announce on {day}, before the decision of "
                                f"{decision.decided_on}", code="before_decision")
    previous = state.certification.tier if state.certification else None
    return [e.CertificationAnnounced(
        cohort_id=command.cohort_id, standard_id=decision.standard_id, tier=decision.tier,
        previous_tier=previous, outcome=classify_outcome(previous, decision.tier),
        expires_on=rules.expiry(day), on=day,
    )]


def _remind(
    state: CityState, command: c.SendRenewalReminder, now: date, rules: ProgramRules
) -> list[e.Event]:
    _require_member(state)
    cert = state.certification
    if cert is None:
        raise TransitionRefused("the city holds no certification", code="not_certified")
    if command.lead_days not in rules.reminder_lead_days:
        raise TransitionRefused(f"{command.lead_days} days is not a reminder lead time "
                                f"(rules: {list(rules.reminder_lead_days)})")
    if command.lead_days in cert.reminders_sent:
        raise TransitionRefused(f"the {command.lead_days}-day reminder was already sent",
                                code="already_sent")
    if state.application is not None:
        raise TransitionRefused("the city is already reapplying", code="application_open")
    due = cert.expires_on - timedelta(days=command.lead_days)
    if now < due:
        raise TransitionRefused(f"the {command.lead_days}-day reminder is due on {due}",
                                code="too_early")
    return [e.RenewalReminderSent(lead_days=command.lead_days, expires_on=cert.expires_on,
                                  on=now)]


def _expire(state: CityState, now: date) -> list[e.Event]:
    _require_member(state)
    cert = state.certification
    if cert is None or cert.held_pending_renewal:
        raise TransitionRefused("the city holds no certification that can expire",
                                code="not_certified")
    if now < cert.expires_on:
        raise TransitionRefused(f"the certification runs until {cert.expires_on}",
                                code="too_early")
    if state.application is not None:
        return [e.CertificationHeldPendingRenewal(expires_on=cert.expires_on, on=now)]
    return [e.CertificationLapsed(tier=cert.tier, expires_on=cert.expires_on, on=now)]


# --- evolve ------------------------------------------------------------------------------

def evolve(state: CityState, event: e.Event) -> CityState:
    """Fold one event into the state. Total over every city event type."""
    return _apply(state, event).model_copy(update={"version": state.version + 1})


def _apply(state: CityState, event: e.Event) -> CityState:
    app = state.application
    match event:
        case e.CityJoined():
            return state.model_copy(update={
                "profile": Profile(city_key=event.city_key, name=event.name,
                                   country=event.country, population=event.population,
                                   joined_on=event.on),
                "withdrawn": False,
            })
        case e.CityWithdrew():
            return state.model_copy(update={"withdrawn": True, "application": None,
                                            "certification": None})
        case e.ApplicationOpened():
            return state.model_copy(update={
                "applications": event.number,
                "application": Application(number=event.number, standard_id=event.standard_id,
                                           reapplication=event.reapplication,
                                           opened_on=event.on),
            })
        case e.CertificationAnnounced():
            return state.model_copy(update={
                "application": None,
                "certification": Certification(
                    tier=event.tier, standard_id=event.standard_id, cohort_id=event.cohort_id,
                    announced_on=event.on, expires_on=event.expires_on),
                "last_outcome": event.outcome,
                "lapsed_on": None,
            })
        case e.RenewalReminderSent():
            cert = _certification(state)
            return state.model_copy(update={"certification": cert.model_copy(
                update={"reminders_sent": (*cert.reminders_sent, event.lead_days)})})
        case e.CertificationHeldPendingRenewal():
            cert = _certification(state)
            return state.model_copy(update={
                "certification": cert.model_copy(update={"held_pending_renewal": True})})
        case e.CertificationLapsed():
            return state.model_copy(update={"certification": None, "lapsed_on": event.on,
                                            "last_outcome": Outcome.LAPSED})
    if app is None:
        raise ValueError(f"{event.TYPE} needs an open application")
    return state.model_copy(update=_apply_to_application(state, app, event))


def _apply_to_application(
    state: CityState, app: Application, event: e.Event
) -> Mapping[str, object]:
    match event:
        case e.AssessmentSaved():
            return {"application": app.model_copy(update={"answers": event.answers})}
        case e.AssessmentSubmitted():
            return {"application": app.model_copy(update={
                "answers": event.answers, "stage": Stage.SUBMITTED, "submitted_on": event.on})}
        case e.ReviewerAssigned():
            stage = Stage.UNDER_REVIEW if app.stage is Stage.SUBMITTED else app.stage
            return {"application": app.model_copy(
                update={"reviewer": event.reviewer, "stage": stage})}
        case e.CriterionReviewed():
            return {"application": app.model_copy(
                update={"reviews": {**app.reviews, event.code: event.answer}})}
        case e.ClarificationRequested():
            question = Clarification(id=event.clarification_id, criterion=event.criterion,
                                     question=event.question, asked_on=event.on)
            return {"application": app.model_copy(update={
                "clarifications": (*app.clarifications, question),
                "stage": Stage.AWAITING_CLARIFICATION})}
        case e.ClarificationAnswered():
            answered = tuple(
                q.model_copy(update={"answer": event.answer, "evidence": event.evidence,
                                     "answered_on": event.on})
                if q.id == event.clarification_id else q
                for q in app.clarifications
            )
            still_open = any(q.answer is None for q in answered)
            return {"application": app.model_copy(update={
                "clarifications": answered,
                "stage": Stage.AWAITING_CLARIFICATION if still_open else Stage.UNDER_REVIEW})}
        case e.ReviewCompleted():
            return {"application": app.model_copy(
                update={"outcomes": event.outcomes, "stage": Stage.REVIEW_COMPLETE})}
        case e.CertificationDecided():
            decision = Decision(standard_id=event.standard_id, tier=event.tier,
                                points=event.points, total=event.total, percent=event.percent,
                                honor_roll=event.honor_roll, decided_on=event.on)
            update: dict[str, object] = {"last_decision": decision, "last_report": event.report}
            if event.tier is Tier.NONE:
                update["application"] = None  # not certified: the cycle ends with the report
            else:
                update["application"] = app.model_copy(
                    update={"stage": Stage.DECIDED, "decision": decision})
            return update
    raise ValueError(f"event {event.TYPE} does not apply to a city")


def _certification(state: CityState) -> Certification:
    if state.certification is None:
        raise ValueError("event needs a certification in force")
    return state.certification


def fold(events: Sequence[e.Event], state: CityState | None = None) -> CityState:
    current = state or CityState()
    for event in events:
        current = evolve(current, event)
    return current
