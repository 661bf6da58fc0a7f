"""The program's staff: the pipeline board (cities per stage, time in stage, reviewers
to assign, decisions to take), certifications expiring soon and the cohort builder.
(Accounts, for admins: `accounts_pages.py`.)"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain import commands
from domain.accounts import Role
from domain.city_state import Stage
from infra.platform.errors import CommandRefused
from infra.readside import queries
from infra.readside.announcements import ReadModelAwaitingAnnouncement
from infra.readside.rows import CohortRow
from infra.web.access import Rule
from infra.web.portal.render import (
    form_of,
    form_update_id,
    new_nonce,
    page,
    portal,
    posted,
    problem_of,
)
from infra.web.problems import Problem
from infra.web.routing import caller_of
from infra.web.services import services

router = APIRouter()
EXPIRING_WITHIN = timedelta(days=180)
ANNOUNCED_SHOWN = 10
BOARD = (Stage.ASSESSING, Stage.SUBMITTED, Stage.UNDER_REVIEW, Stage.AWAITING_CLARIFICATION,
         Stage.REVIEW_COMPLETE, Stage.DECIDED)


@dataclass(frozen=True)
class BoardCard:
    """An application on the pipeline board: the city, its days in the stage, its
    reviewer."""

    city_key: str
    name: str
    days: int
    reviewer: str | None


async def board(request: Request) -> list[tuple[str, list[BoardCard]]]:
    """The board's columns, stage by stage, as the pipeline page shows them (its CSV
    too): each open application with its days in the stage and its reviewer."""
    found = services(request)
    await found.fresh.current("pipeline", "registry")
    today = found.program.program_today()
    names = {r.city_key: r.name for r in await queries.registry(found.pool)}
    columns: dict[str, list[BoardCard]] = defaultdict(list)
    for row in await queries.pipeline(found.pool):
        columns[row.stage].append(BoardCard(
            city_key=row.city_key, name=names.get(row.city_key, row.city_key),
            days=(today - row.stage_since).days, reviewer=row.reviewer))
    return [(stage.value, columns.get(stage.value, [])) for stage in BOARD]


@page(router, "/portal/pipeline", Rule.OPERATOR)
async def pipeline(request: Request, decided: Annotated[str | None, Query(max_length=200)]
                   = None) -> HTMLResponse:
    """Every open application by stage with its time in stage; reviewers to assign and
    decisions to take from the board; certifications expiring in the next 180 days.
    `decided=KEY`: the outcome of the decision just taken, as the city's view says it."""
    return await _pipeline(request, decided=decided)


async def _pipeline(request: Request, *, decided: str | None = None,
                    refusal: Problem | None = None, status: int = 200) -> HTMLResponse:
    found = services(request)
    today = found.program.program_today()
    columns = await board(request)
    reviewers = [a for a in await found.directory.page(limit=500)
                 if a.role is Role.REVIEWER and not a.disabled]
    outcome = await queries.city_view(found.pool, decided, today) if decided else None
    return await portal(request).render(
        request, "portal/pipeline.html", status=status, board=columns,
        reviewers=reviewers, expiring=await queries.expiring(found.pool,
                                                             today + EXPIRING_WITHIN),
        today=today, decided=outcome if outcome and outcome.last_decision_tier else None,
        refusal=refusal, nonce=new_nonce())


def cohort_lists(cohorts: list[CohortRow]) -> tuple[list[CohortRow], list[CohortRow]]:
    """The cohort builder's two lists (its CSV's too): the cohorts to come, the first to
    announce first, and the last ten announced, the latest first."""
    return ([c for c in cohorts if c.announced_on is None],
            [c for c in reversed(cohorts) if c.announced_on is not None][:ANNOUNCED_SHOWN])


@page(router, "/portal/cohorts", Rule.OPERATOR)
async def cohort_builder(request: Request, announced: Annotated[
        str | None, Query(max_length=64)] = None) -> HTMLResponse:
    """Certified decisions waiting for a cohort, the cohorts to come (announce now or on
    their date) and those announced. `announced=ID`: the notice after announcing it."""
    found = services(request)
    await found.fresh.current("registry", "cohorts")
    cohorts = await queries.cohorts(found.pool)
    just = next((c for c in cohorts if c.cohort_id == announced and c.announced_on), None)
    upcoming, lately = cohort_lists(cohorts)
    return await portal(request).render(
        request, "portal/cohorts.html",
        # What the cohort itself will announce: the same port its workflow reads.
        waiting=await ReadModelAwaitingAnnouncement(found.pool).cities(),
        upcoming=upcoming, announced=lately,
        today=found.program.program_today(), just_announced=just)


@page(router, "/portal/outbox", Rule.OPERATOR)
async def outbox_page(request: Request, to: Annotated[str | None, Query(max_length=254)]
                      = None) -> HTMLResponse:
    """The program's outgoing mail, newest first: to whom, which message, its status."""
    found = services(request)
    return await portal(request).render(
        request, "portal/outbox.html", rows=await queries.outbox(found.pool, to=to or None),
        to=to or "")


@posted(router, "/portal/cities/{key}/decision", Rule.OPERATOR)
async def decide(request: Request, key: str) -> Response:
    """Decide from the board (a form: no script needed), then the board again with the
    outcome: the tier, or not certified, and who hears of it."""
    form = await form_of(request)
    try:
        await services(request).program.send(
            key, commands.Decide(), context=caller_of(request).context(),
            update_id=form_update_id(request, f"{key}:decide", form.get("nonce", "")))
    except CommandRefused as refused:
        return await _pipeline(request, refusal=problem_of(refused),
                               status=refused.kind.http_status)
    await services(request).after_write("city_views", "pipeline", "registry")
    return RedirectResponse(f"/portal/pipeline?decided={key}", status_code=303)


@page(router, "/portal/cohorts/{cohort_id}/announce", Rule.OPERATOR)
async def announce_step(request: Request, cohort_id: str) -> Response:
    """Announcing a cohort now, asked once more: the cities it will announce (every
    certified decision waiting), publicly and to each city, today. Nothing is sent from
    here."""
    found = await _announcement(request, cohort_id)
    if found is None:  # announced already (or no such cohort): the builder says which
        return RedirectResponse("/portal/cohorts", status_code=303)
    return await portal(request).render(request, "portal/announce.html", **found)


@posted(router, "/portal/cohorts/{cohort_id}/announce", Rule.OPERATOR)
async def announce_confirmed(request: Request, cohort_id: str) -> Response:
    """The confirmed announcement, of the cities the step listed: when the cities waiting
    changed meanwhile, the step is shown again with the new list. Once however often the
    form is posted."""
    form = await form_of(request)
    found = await _announcement(request, cohort_id)
    if found is None:
        return RedirectResponse("/portal/cohorts", status_code=303)
    if form.get("members", "") != found["members"]:
        return await portal(request).render(request, "portal/announce.html", status=409,
                                            **{**found, "changed": True})
    program = services(request).program
    try:
        await program.announce_cohort(cohort_id, update_id=form_update_id(
            request, f"{cohort_id}:announce", form.get("nonce", "")))
    except CommandRefused as refused:
        return await portal(request).render(
            request, "portal/announce.html", status=refused.kind.http_status,
            **{**found, "refusal": problem_of(refused)})
    await services(request).after_write("city_views", "periods", "registry", "cohorts")
    return RedirectResponse(f"/portal/cohorts?announced={cohort_id}", status_code=303)


async def _announcement(request: Request, cohort_id: str) -> dict[str, Any] | None:
    """What announcing the cohort now would announce (None: not a cohort to come)."""
    found = services(request)
    await found.fresh.current("registry", "cohorts")
    cohort = next((c for c in await queries.cohorts(found.pool)
                   if c.cohort_id == cohort_id), None)
    if cohort is None or cohort.announced_on is not None:
        return None
    # What the cohort itself will announce: the same port its workflow reads.
    waiting = await ReadModelAwaitingAnnouncement(found.pool).cities()
    return {"cohort": cohort, "waiting": waiting,
            "members": " ".join(sorted(c.city_key for c in waiting)),
            "nonce": new_nonce(), "changed": False, "refusal": None,
            "today": found.program.program_today()}
