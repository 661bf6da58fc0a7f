"""The review team's pages: my queue, and the review screen of an application assigned
to me (the city's answer and evidence beside each criterion, verdicts, clarifications,
completion). An application not assigned to the reviewer is not found."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from domain.review_sheets import with_sheet
from infra.application.review_sheets import etag as sheet_etag
from infra.readside import queries
from infra.web.access import Rule
from infra.web.portal.render import page, portal
from infra.web.routing import caller_of
from infra.web.routing import city_view as admitted_city
from infra.web.services import services

router = APIRouter()


@page(router, "/portal/reviews", Rule.REVIEWER)
async def queue(request: Request) -> HTMLResponse:
    """The applications assigned to me (to the program's staff: every assigned one),
    oldest stage first, with their age."""
    found = services(request)
    account = caller_of(request).signed_in
    await found.fresh.current("pipeline", "registry")
    rows = await queries.reviewer_queue(
        found.pool, None if account.role.runs_the_program else account.email)
    return await portal(request).render(request, "portal/reviews.html", rows=rows,
                                        today=found.program.program_today())


@page(router, "/portal/cities/{key}/review", Rule.ASSIGNED_REVIEWER)
async def review_screen(request: Request, key: str) -> HTMLResponse:
    """Each criterion the city claims, its answer and evidence, and the verdict and note so
    far (the reviewer's sheet as last saved, over what is recorded)."""
    found = services(request)
    view = admitted_city(request)
    application = await found.program.application(key)
    sheet = await found.program.review_sheet(key)
    standard = (found.program.catalog.get(application.standard_id)
                if application is not None else None)
    return await portal(request).render(
        request, "portal/review.html", view=view, standard=standard, etag=sheet_etag(sheet),
        application=with_sheet(application, sheet) if application is not None else None)
