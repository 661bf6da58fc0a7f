"""Who hears what: the messages an event of a city causes, to whom (by audience, not by
address: the city's editors, its reviewer, the program's operators) and with which facts.
Pure; the mail activity finds the addresses and each account's language, and renders the
message from its template (`infra/mail/templates/`).

Operational messages (deadlines, decisions) always go; nothing here is optional."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from domain import events
from domain.city_state import CityState
from domain.model import Frozen


class Audience(StrEnum):
    EDITORS = "editors"  # the accounts bound to the city
    REVIEWER = "reviewer"  # the application's reviewer
    OPERATORS = "operators"  # operators and admins


class Notice(Frozen):
    kind: str  # the template's name
    audience: Audience
    facts: dict[str, str]


# Every kind of message, with its audience: the README's table and the templates follow it.
KINDS: dict[str, Audience] = {
    "submission_received": Audience.EDITORS,
    "clarification_asked": Audience.EDITORS,
    "clarification_reminder": Audience.EDITORS,
    "clarification_overdue": Audience.OPERATORS,
    "decision": Audience.EDITORS,
    # A decision that does not certify: its own words (nothing to keep private until an
    # announcement; the report says why, and what would reach a certification).
    "decision_not_certified": Audience.EDITORS,
    "announcement": Audience.EDITORS,
    "renewal_reminder": Audience.EDITORS,
    "lapsed": Audience.EDITORS,
    "draft_nudge": Audience.EDITORS,
    "review_assigned": Audience.REVIEWER,
    "city_answered": Audience.REVIEWER,
    "review_reminder": Audience.REVIEWER,
    "review_escalated": Audience.OPERATORS,
}
# Not caused by a city's event: the operators' weekly digest (workflows/digest.py).
DIGEST_KIND = "weekly_digest"
# Nor these, to one person about their account, with a link to choose a password
# (infra/identity/directory.py records them; workflows/outbox.py has them delivered).
INVITATION_KIND = "invitation"
PASSWORD_RESET_KIND = "password_reset"
MESSAGE_KINDS = frozenset({*KINDS, DIGEST_KIND, INVITATION_KIND, PASSWORD_RESET_KIND})
_DEADLINES = {("clarification", "reminder"): "clarification_reminder",
              ("clarification", "due"): "clarification_overdue",
              ("review", "reminder"): "review_reminder",
              ("review", "due"): "review_escalated",
              ("draft", "nudge"): "draft_nudge"}


def notices_for(event: events.CityEvent, after: CityState,
                clarification_due_days: int, review_due_days: int) -> tuple[Notice, ...]:
    """The messages `event` causes, given the city's state after it."""
    app = after.application
    facts = {"city": after.profile.name if after.profile else "", "on": event.on.isoformat()}
    kind: str | None = None
    match event:
        case events.AssessmentSubmitted():
            kind = "submission_received"
            facts["criteria"] = str(len(event.answers.criteria))
        case events.ClarificationRequested():
            kind = "clarification_asked"
            facts |= {"criterion": event.criterion, "question": event.question,
                      "due_on": (event.on + _days(clarification_due_days)).isoformat()}
        case events.ClarificationAnswered():
            kind = "city_answered"
            facts |= {"clarification": str(event.clarification_id), "answer": event.answer}
        case events.ReviewerAssigned():
            kind = "review_assigned"
            facts |= {"due_on": (event.on + _days(review_due_days)).isoformat()}
        case events.CertificationDecided():
            kind = "decision" if event.tier.certified else "decision_not_certified"
            facts |= {"tier": event.tier.value, "percent": f"{event.percent:g}",
                      "points": str(event.points), "total": str(event.total)}
        case events.CertificationAnnounced():
            kind = "announcement"
            facts |= {"tier": event.tier.value, "cohort": event.cohort_id,
                      "expires_on": event.expires_on.isoformat()}
        case events.RenewalReminderSent():
            kind = "renewal_reminder"
            facts |= {"expires_on": event.expires_on.isoformat(),
                      "days": str(event.lead_days)}
        case events.CertificationLapsed():
            kind = "lapsed"
            facts |= {"tier": event.tier.value, "expires_on": event.expires_on.isoformat()}
        case events.DeadlineReached():
            kind = _DEADLINES.get((event.kind, event.step))
            facts |= {"due_on": event.due_on.isoformat()}
            if event.kind == "clarification" and app is not None:
                number = int(event.key.split(":")[1])
                question = next((q for q in app.clarifications if q.id == number), None)
                if question is not None:
                    facts |= {"criterion": question.criterion, "question": question.question}
            if event.kind == "review" and app is not None:
                facts["reviewer"] = app.reviewer or ""
    if kind is None:
        return ()
    return (Notice(kind=kind, audience=KINDS[kind], facts=facts),)


def _days(n: int) -> timedelta:
    return timedelta(days=n)
