"""A city's events as a timeline: one line of what each says (the CLI's `wwc history` and
the API's history both show these)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Literal, Protocol, TypeAlias, assert_never, cast

from domain import events
from domain.model import Input
from domain.streams import DRAFT_STREAM_PREFIX, city_stream, draft_stream
from infra.eventstore.mapper import decode
from infra.eventstore.model import RecordedEvent
from infra.i18n.formats import PLAIN, Formats, Percent
from infra.i18n.words import N_, tier_word


class StreamReader(Protocol):
    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        ...


async def city_records(store: StreamReader, key: str) -> list[RecordedEvent]:
    """The city's events and its drafts' (saved in a stream of their own), in the order
    they were recorded."""
    both = [*await store.read_stream(city_stream(key)),
            *await store.read_stream(draft_stream(key))]
    return sorted(both, key=lambda r: (r.recorded_at, r.position))


Translate = Callable[[str], str]


def english(message: str) -> str:
    return message


# What a city's timeline shows: its own events and its drafts'. `describe` matches over
# every one of them and ends in `assert_never`, so an event type added to either union
# without a line of its own fails the type check there.
TimelineEvent: TypeAlias = events.CityEvent | events.DraftEvent
_TIMELINE_EVENTS = (*events.CITY_EVENTS, *events.DRAFT_EVENTS)


def summarize(recorded: RecordedEvent, translate: Translate = english,
              formats: Formats = PLAIN, standard_title: Translate = english) -> str:
    """One line of a city's timeline, in English or in what `translate` gives (the
    portal's language: the line's template and the words in it, a tier say), its
    numbers, dates and countries as `formats` writes them (the CLI's and API's fixed
    forms unless told), a standard as `standard_title` names it (its id unless told).
    Empty for an event no city's timeline holds (a cohort's, an account's)."""
    event = decode(recorded)
    if not isinstance(event, _TIMELINE_EVENTS):
        return ""
    template, values = describe(cast(TimelineEvent, event))
    return translate(template) % {
        name: _shown(name, value, translate, formats, standard_title)
        for name, value in values.items()}


Value: TypeAlias = str | int | date | Percent


def _shown(name: str, value: Value, translate: Translate, formats: Formats,
           standard_title: Translate) -> str:
    if isinstance(value, Percent):
        return formats.percent(value.points)
    if isinstance(value, date):
        return formats.date(value)
    if isinstance(value, int):
        return formats.number(value)
    if name == "tier":
        return translate(tier_word(value))
    if name == "country":
        return formats.country(value)
    if name == "standard":
        return standard_title(value)
    return translate(value.replace("_", " ")) if name in _WORDS else value


# The values that are words of the program (translated too, listed in
# infra/i18n/words.py), not names or numbers; a tier is one too (`tier_word`).
_WORDS = frozenset({"outcome", "kind", "step"})


def describe(event: TimelineEvent) -> tuple[str, dict[str, Value]]:
    """A timeline line's template (%-style, named, never empty) and its values: text,
    or a quantity, a date or a share that the reader's conventions write."""
    match event:
        case events.CityJoined():
            return N_("%(name)s (%(country)s, %(population)s residents)"), {
                "name": event.name, "country": event.country,
                "population": event.population}
        case events.ApplicationOpened():
            return (N_("application %(number)s under %(standard)s (reapplication)")
                    if event.reapplication else N_("application %(number)s under %(standard)s"),
                    {"number": str(event.number), "standard": event.standard_id})
        case events.AssessmentSaved() | events.AssessmentSubmitted():
            return N_("%(count)s criteria answered"), {
                "count": str(len(event.answers.criteria))}
        case events.DraftSaved():
            return N_("draft of application %(number)s: %(count)s criteria answered"), {
                "number": str(event.application), "count": str(len(event.answers.criteria))}
        case events.DraftSealed():
            return N_("draft of application %(number)s submitted: no more saves"), {
                "number": str(event.application)}
        case events.DraftTouched():
            return N_("the draft was saved: its nudge counts from this day"), {}
        case events.DocumentAdded():
            return N_("%(criterion)s: document %(name)s added (SHA-256 %(sha256)s)"), {
                "criterion": event.criterion, "name": event.name,
                "sha256": event.sha256[:12]}
        case events.DocumentRemoved():
            return N_("%(criterion)s: document %(name)s removed"), {
                "criterion": event.criterion, "name": event.name}
        case events.CriterionReviewed():
            # The reviewer's note is the city's "why": it reads with the verdict.
            noted = {"note": event.note} if event.note else {}
            if event.answer.items is not None:
                return (N_("%(code)s: items %(items)s. Note: %(note)s") if noted
                        else N_("%(code)s: items %(items)s")), {
                    "code": event.code, "items": ", ".join(event.answer.items) or "-", **noted}
            if event.answer.met:
                return (N_("%(code)s: met. Note: %(note)s") if noted
                        else N_("%(code)s: met")), {"code": event.code, **noted}
            return (N_("%(code)s: not met. Note: %(note)s") if noted
                    else N_("%(code)s: not met")), {"code": event.code, **noted}
        case events.ClarificationRequested():
            return N_("#%(id)s on %(criterion)s: %(question)s"), {
                "id": str(event.clarification_id), "criterion": event.criterion,
                "question": event.question}
        case events.ClarificationAnswered():
            return "#%(id)s: %(answer)s", {"id": str(event.clarification_id),
                                           "answer": event.answer}
        case events.ReviewCompleted():
            return N_("review complete"), {}
        case events.CertificationDecided():
            return "%(tier)s (%(points)s/%(total)s, %(percent)s)", {
                "tier": event.tier.value, "points": str(event.points),
                "total": str(event.total), "percent": Percent(event.percent)}
        case events.CertificationAnnounced():
            return N_("%(tier)s in cohort %(cohort)s, %(outcome)s, expires %(expires_on)s"), {
                "tier": event.tier.value, "cohort": event.cohort_id,
                "outcome": event.outcome.value, "expires_on": event.expires_on}
        case events.RenewalReminderSent():
            return N_("%(days)s days before %(expires_on)s"), {
                "days": str(event.lead_days), "expires_on": event.expires_on}
        case events.ReviewerAssigned():
            return N_("reviewer %(reviewer)s"), {"reviewer": event.reviewer}
        case events.CityWithdrew():
            return N_("reason: %(reason)s"), {"reason": event.reason}
        case events.CertificationLapsed():
            return N_("%(tier)s, expired %(expires_on)s"), {
                "tier": event.tier.value, "expires_on": event.expires_on}
        case events.CertificationHeldPendingRenewal():
            return N_("held while the renewal is decided; expires %(expires_on)s"), {
                "expires_on": event.expires_on}
        case events.DeadlineReached():
            return N_("%(kind)s %(step)s (due %(due_on)s)"), {
                "kind": event.kind, "step": event.step, "due_on": event.due_on}
        case _:
            assert_never(event)


class HistoryEntry(Input):
    """One line of a city's timeline, with who caused it (the API's history, the
    portal's timeline)."""


    # The city's own stream, or its drafts' (each numbers its versions from 1).
    stream: Literal["city", "draft"]
    version: int
    type: str
    on: date | None
    summary: str
    actor: str
    actor_role: str
    correlation_id: str
    recorded_at: str


async def timeline(store: StreamReader, key: str, translate: Translate = english,
                   formats: Formats = PLAIN,
                   standard_title: Translate = english) -> list[HistoryEntry]:
    """The city's events, oldest first, each with who caused it (the API's history and,
    with its language's `translate`, `formats` and standards' titles, the portal's
    timeline)."""
    stored = await city_records(store, key)
    return [HistoryEntry(stream="draft" if r.stream_id.startswith(DRAFT_STREAM_PREFIX)
                         else "city", version=r.stream_version, type=r.event_type,
                         on=date.fromisoformat(r.data["on"]) if "on" in r.data else None,
                         summary=summarize(r, translate, formats, standard_title),
                         actor=str(r.metadata.get("actor", "")),
                         actor_role=str(r.metadata.get("actor_role", "")),
                         correlation_id=str(r.metadata.get("correlation_id", "")),
                         recorded_at=r.recorded_at.isoformat()) for r in stored]
