"""The program's staff: the pipeline board (cities per stage, time in stage, reviewers
to assign, decisions to take), certifications expiring soon, the cohort builder, and
(for admins) accounts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from domain.accounts import Role
from domain.city_state import Stage
from infra.readside import queries
from infra.readside.announcements import ReadModelAwaitingAnnouncement
from infra.web.access import Rule
from infra.web.portal.render import page, portal
from infra.web.services import services

router = APIRouter()
EXPIRING_WITHIN = timedelta(days=180)
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


@page(router, "/portal/pipeline", Rule.OPERATOR)
async def pipeline(request: Request) -> HTMLResponse:
    """Every open application by stage with its time in stage; reviewers to assign and
    decisions to take from the board; certifications expiring in the next 180 days."""
    found = services(request)
    await found.fresh.current("pipeline", "registry")
    today = found.program.program_today()
    names = {r.city_key: r.name for r in await queries.registry(found.pool)}
    columns: dict[str, list[BoardCard]] = defaultdict(list)
    for row in await queries.pipeline(found.pool):
        columns[row.stage].append(BoardCard(
            city_key=row.city_key, name=names.get(row.city_key, row.city_key),
            days=(today - row.stage_since).days, reviewer=row.reviewer))
    reviewers = [a for a in await found.directory.page(limit=500)
                 if a.role is Role.REVIEWER and not a.disabled]
    return await portal(request).render(
        request, "portal/pipeline.html", board=[(s.value, columns.get(s.value, []))
                                                for s in BOARD],
        reviewers=reviewers, expiring=await queries.expiring(found.pool,
                                                             today + EXPIRING_WITHIN),
        today=today)


@page(router, "/portal/cohorts", Rule.OPERATOR)
async def cohort_builder(request: Request) -> HTMLResponse:
    """Certified decisions waiting for a cohort, the cohorts to come (announce now or on
    their date) and those announced."""
    found = services(request)
    await found.fresh.current("registry", "cohorts")
    cohorts = await queries.cohorts(found.pool)
    return await portal(request).render(
        request, "portal/cohorts.html",
        # What the cohort itself will announce: the same port its workflow reads.
        waiting=await ReadModelAwaitingAnnouncement(found.pool).cities(),
        upcoming=[c for c in cohorts if c.announced_on is None],
        announced=[c for c in reversed(cohorts) if c.announced_on is not None][:10],
        today=found.program.program_today())


@page(router, "/portal/outbox", Rule.OPERATOR)
async def outbox_page(request: Request, to: Annotated[str | None, Query(max_length=254)]
                      = None) -> HTMLResponse:
    """The program's outgoing mail, newest first: to whom, which message, its status."""
    found = services(request)
    return await portal(request).render(
        request, "portal/outbox.html", rows=await queries.outbox(found.pool, to=to or None),
        to=to or "")


@page(router, "/portal/accounts", Rule.ADMIN)
async def accounts_page(request: Request) -> HTMLResponse:
    """Accounts (no secret is shown), and a form to create one."""
    found = services(request)
    return await portal(request).render(
        request, "portal/accounts.html", accounts=await found.directory.page(limit=500),
        roles=[r.value for r in Role])
