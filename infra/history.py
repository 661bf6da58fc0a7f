"""A city's events as a timeline: one line of what each says (the CLI's `wwc history` and
the API's history both show these)."""

from __future__ import annotations

from typing import Protocol

from domain import events
from domain.city import city_stream, draft_stream
from infra.eventstore.mapper import decode
from infra.eventstore.model import RecordedEvent


class StreamReader(Protocol):
    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        ...


async def city_records(store: StreamReader, key: str) -> list[RecordedEvent]:
    """The city's events and its drafts' (saved in a stream of their own), in the order
    they were recorded."""
    both = [*await store.read_stream(city_stream(key)),
            *await store.read_stream(draft_stream(key))]
    return sorted(both, key=lambda r: (r.recorded_at, r.position))


def summarize(recorded: RecordedEvent) -> str:
    """One line of a city's timeline."""
    event = decode(recorded)
    match event:
        case events.CityJoined():
            return f"{event.name} ({event.country}, {event.population:,} residents)"
        case events.ApplicationOpened():
            return f"application {event.number} under {event.standard_id}" + (
                " (reapplication)" if event.reapplication else "")
        case events.AssessmentSaved() | events.AssessmentSubmitted():
            return f"{len(event.answers.criteria)} criteria answered"
        case events.DraftSaved():
            return (f"draft of application {event.application}: "
                    f"{len(event.answers.criteria)} criteria answered")
        case events.DraftSealed():
            return f"draft of application {event.application} submitted: no more saves"
        case events.DraftTouched():
            return "the draft was saved: its nudge counts from this day"
        case events.CriterionReviewed():
            if event.answer.items is not None:
                return f"{event.code}: items {', '.join(event.answer.items) or 'none'}"
            return f"{event.code}: {'met' if event.answer.met else 'not met'}"
        case events.ClarificationRequested():
            return f"#{event.clarification_id} on {event.criterion}: {event.question}"
        case events.ClarificationAnswered():
            return f"#{event.clarification_id}: {event.answer}"
        case events.CertificationDecided():
            return f"{event.tier} ({event.points}/{event.total}, {event.percent} %)"
        case events.CertificationAnnounced():
            return (f"{event.tier} in cohort {event.cohort_id}, {event.outcome}, "
                    f"expires {event.expires_on}")
        case events.RenewalReminderSent():
            return f"{event.lead_days} days before {event.expires_on}"
        case events.ReviewerAssigned():
            return f"reviewer {event.reviewer}"
        case events.CityWithdrew():
            return f"reason {event.reason}"
        case events.CertificationLapsed():
            return f"tier {event.tier}, expires_on {event.expires_on}"
        case events.CertificationHeldPendingRenewal():
            return f"expires_on {event.expires_on}"
        case events.DeadlineReached():
            return f"{event.kind} {event.step} (due {event.due_on})"
    return ""
