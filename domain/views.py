"""What operators read about a city: a compact view of its state (query results), and
what a command answers: that view, and whether the command recorded anything."""

from __future__ import annotations

from datetime import date

from domain.catalog import StandardCatalog
from domain.city_state import CityState, Status
from domain.model import Frozen
from domain.standard import Standard
from domain.tiers import Outcome, Tier


class CityView(Frozen):
    city_key: str | None
    name: str | None
    country: str | None
    status: Status
    tier: Tier
    version: int
    program_date: date
    standard_id: str | None = None
    application: int | None = None
    stage: str | None = None
    reviewer: str | None = None
    open_clarifications: tuple[int, ...] = ()
    cohort_id: str | None = None
    awarded_on: date | None = None
    expires_on: date | None = None
    last_decision_tier: Tier | None = None
    last_percent: float | None = None
    last_outcome: Outcome | None = None


class CommandAnswer(CityView):
    """What a command (a workflow update) answers: the city's view after it, and, when
    its effect already held so that nothing new was recorded, why (e.g. "DM1 was already
    recorded as met"). A view from a worker that predates this field reads as recorded."""

    nothing_new: str | None = None


def answer(view: CityView, nothing_new: str | None = None) -> CommandAnswer:
    """`view` as a command's answer."""
    return CommandAnswer(**{**dict(view), "nothing_new": nothing_new})


def city_view(state: CityState, today: date) -> CityView:
    profile, app, cert = state.profile, state.application, state.certification
    decision = state.last_decision
    return CityView(
        city_key=profile.city_key if profile else None,
        name=profile.name if profile else None,
        country=profile.country if profile else None,
        status=state.status,
        tier=state.tier,
        version=state.version,
        program_date=today,
        standard_id=app.standard_id if app else (cert.standard_id if cert else None),
        application=app.number if app else None,
        stage=app.stage.value if app else None,
        reviewer=app.reviewer if app else None,
        open_clarifications=tuple(q.id for q in app.open_clarifications()) if app else (),
        cohort_id=cert.cohort_id if cert else None,
        awarded_on=cert.announced_on if cert else None,
        expires_on=cert.expires_on if cert else None,
        last_decision_tier=decision.tier if decision else None,
        last_percent=decision.percent if decision else None,
        last_outcome=state.last_outcome,
    )


def open_standard(view: CityView, catalog: StandardCatalog) -> Standard | None:
    """The standard of the city's open application (None: no application open, or one
    the catalog does not know)."""
    if view.application is None or view.standard_id is None:
        return None
    return catalog.get(view.standard_id)
