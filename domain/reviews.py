"""What each review of a city found, read back from the city's events: the reviewer's
history of reviews (each one still readable after its decision), and, for the city, the
"why" of a decision: each criterion it claimed that the decision does not count as met,
with the reviewer's note. Pure: the events are given, nothing is read or kept here."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from domain import events
from domain.city_state import Application, CityState, Decision
from domain.lifecycle import evolve
from domain.model import Frozen
from domain.standard import Standard


class ReviewRecord(Frozen):
    """One application of a city that had a reviewer, as its review left it."""

    city_key: str
    city_name: str
    # The application as it stood when its cycle ended (decided or withdrawn), or now:
    # answers, the review's verdicts and notes, clarifications, its dates.
    application: Application
    decision: Decision | None = None
    # The criteria the decision counts as met (its report's), for the findings.
    met: tuple[str, ...] = ()
    withdrawn_on: date | None = None

    @property
    def number(self) -> int:
        return self.application.number

    @property
    def reviewer(self) -> str | None:
        return self.application.reviewer

    @property
    def open(self) -> bool:
        """Still under way: neither decided nor withdrawn."""
        return self.decision is None and self.withdrawn_on is None


def review_records(history: Sequence[events.Event]) -> list[ReviewRecord]:
    """Every application of the city that had a reviewer, oldest first: decided ones with
    their decision, those closed by a withdrawal, and the open one (if reviewed)."""
    state = CityState()
    found: list[ReviewRecord] = []
    for stored in history:
        event = events.as_city_event(stored)
        before = state.application
        state = evolve(state, event)
        if before is None or before.reviewer is None:
            continue
        match event:
            case events.CertificationDecided():
                found.append(_record(state, before, decision=state.last_decision,
                                     met=event.report.score.met))
            case events.CityWithdrew() if before.decision is None:
                found.append(_record(state, before, withdrawn_on=event.on))
    if state.application is not None and state.application.reviewer is not None \
            and state.application.decision is None:
        found.append(_record(state, state.application))
    return found


def _record(state: CityState, app: Application, *, decision: Decision | None = None,
            met: Collection[str] = (), withdrawn_on: date | None = None) -> ReviewRecord:
    profile = state.profile
    return ReviewRecord(city_key=profile.city_key if profile else "",
                        city_name=profile.name if profile else "", application=app,
                        decision=decision, met=tuple(met), withdrawn_on=withdrawn_on)


class Finding(Frozen):
    """A criterion the city claimed, as the review and the decision found it."""

    code: str
    met: bool  # counted as met by the decision
    # The review validated it, but a prerequisite is not met, so it earns nothing.
    blocked: bool = False
    note: str = ""  # the reviewer's note on it ("" when none was written)


def findings(standard: Standard, record: ReviewRecord) -> list[Finding]:
    """Each criterion the city claimed, in the standard's order, with whether the
    decision counts it as met and the reviewer's note; and any criterion the city did
    not claim on which the reviewer still wrote a note."""
    app = record.application
    met = set(record.met)
    shown: list[Finding] = []
    for code in standard.codes:
        claimed = app.answers.answer(code).claimed(standard, code)
        note = app.review_notes.get(code, "")
        if not claimed and not note:
            continue
        validated = code in app.reviews and app.reviews[code].claimed(standard, code)
        shown.append(Finding(code=code, met=code in met, note=note,
                             blocked=validated and code not in met))
    return shown


def last_decided(records: Sequence[ReviewRecord]) -> ReviewRecord | None:
    """The review of the city's latest decision (what its report is the report of)."""
    decided = [r for r in records if r.decision is not None]
    return decided[-1] if decided else None
