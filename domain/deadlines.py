"""Every wait of an open application, timed: who it waits on, since when, and when it is
due, with the reminders, due dates and nudges the program's timers fire (the rules'
numbers, `ProgramRules`). Pure: the city workflow arms a timer for the earliest pending
one and records it (`DeadlineReached`) when it comes; an answer or a review that arrives
first simply makes it disappear from `pending`.

- a clarification: due `clarification_due_days` after it is asked; a reminder to the city
  `clarification_reminder_days` before; when due, it is flagged to the operators;
- a review: due `review_due_days` after its reviewer is assigned; a reminder to the
  reviewer `review_reminder_days` before; when due, escalation to the operators;
- a draft untouched for `draft_nudge_days`: a nudge to the city (again after each save)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from domain.city_state import Application, Stage
from domain.model import Frozen
from domain.rules import ProgramRules

WaitingOn = Literal["city", "reviewer", "program"]


class Deadline(Frozen):
    key: str
    kind: Literal["clarification", "review", "draft"]
    step: Literal["reminder", "due", "nudge"]
    fires_on: date
    due_on: date
    waiting_on: WaitingOn
    since: date


class Wait(Frozen):
    """What the application waits for now: shown as "waiting on X since DATE, due DATE"."""

    kind: Literal["assessment", "clarification", "assignment", "review", "decision",
                  "announcement"]
    waiting_on: WaitingOn
    since: date
    due_on: date | None = None
    ref: str = ""


def deadlines(app: Application | None, rules: ProgramRules) -> list[Deadline]:
    """Every deadline of the open application as it stands, reached or not, soonest first."""
    if app is None:
        return []
    found: list[Deadline] = []
    if app.stage is Stage.ASSESSING:
        touched = app.draft_touched_on or app.opened_on
        nudge = touched + timedelta(days=rules.draft_nudge_days)
        found.append(Deadline(key=f"draft:{touched}:nudge", kind="draft", step="nudge",
                              fires_on=nudge, due_on=nudge, waiting_on="city", since=touched))
    for question in app.open_clarifications():
        due = question.asked_on + timedelta(days=rules.clarification_due_days)
        found += _reminded(f"clarification:{question.id}", "clarification", due,
                           rules.clarification_reminder_days, "city", question.asked_on)
    if app.stage in (Stage.UNDER_REVIEW, Stage.AWAITING_CLARIFICATION) \
            and app.reviewer_assigned_on is not None:
        due = app.reviewer_assigned_on + timedelta(days=rules.review_due_days)
        found += _reminded(f"review:{app.reviewer_assigned_on}", "review", due,
                           rules.review_reminder_days, "reviewer", app.reviewer_assigned_on)
    return sorted(found, key=lambda d: (d.fires_on, d.key))


def pending(app: Application | None, rules: ProgramRules) -> list[Deadline]:
    """The deadlines still to fire, soonest first."""
    done = set(app.deadlines_reached) if app else set()
    return [d for d in deadlines(app, rules) if d.key not in done]


def find_pending(app: Application | None, rules: ProgramRules, key: str) -> Deadline | None:
    return next((d for d in pending(app, rules) if d.key == key), None)


def waits(app: Application | None, rules: ProgramRules) -> list[Wait]:
    """Who the open application waits on now, since when, and by when."""
    if app is None:
        return []
    due = {(d.kind, d.key.rsplit(":", 1)[0]): d.due_on for d in deadlines(app, rules)
           if d.step != "reminder"}
    match app.stage:
        case Stage.ASSESSING:
            touched = app.draft_touched_on or app.opened_on
            return [Wait(kind="assessment", waiting_on="city", since=app.opened_on,
                         due_on=due.get(("draft", f"draft:{touched}")))]
        case Stage.SUBMITTED:
            return [Wait(kind="assignment", waiting_on="program",
                         since=app.submitted_on or app.opened_on)]
        case Stage.UNDER_REVIEW | Stage.AWAITING_CLARIFICATION:
            found = [Wait(kind="clarification", waiting_on="city", since=q.asked_on,
                          due_on=due.get(("clarification", f"clarification:{q.id}")),
                          ref=str(q.id)) for q in app.open_clarifications()]
            since = app.reviewer_assigned_on or app.submitted_on or app.opened_on
            return [*found, Wait(kind="review", waiting_on="reviewer", since=since,
                                 due_on=due.get(("review", f"review:{since}")))]
        case Stage.REVIEW_COMPLETE:
            return [Wait(kind="decision", waiting_on="program", since=_last_review(app))]
        case Stage.DECIDED:
            decided = app.decision.decided_on if app.decision else app.opened_on
            return [Wait(kind="announcement", waiting_on="program", since=decided)]
    return []


def _reminded(ref: str, kind: Literal["clarification", "review"], due: date, before: int,
              waiting_on: WaitingOn, since: date) -> list[Deadline]:
    steps = [Deadline(key=f"{ref}:due", kind=kind, step="due", fires_on=due, due_on=due,
                      waiting_on=waiting_on, since=since)]
    if before > 0:
        steps.append(Deadline(key=f"{ref}:reminder", kind=kind, step="reminder",
                              fires_on=due - timedelta(days=before), due_on=due,
                              waiting_on=waiting_on, since=since))
    return steps


def _last_review(app: Application) -> date:
    return app.completed_on or app.submitted_on or app.opened_on
