"""The review team's pages: my queue, the review screen of an application assigned to me
(the city's answer and evidence beside each criterion, verdicts and notes saved as I go,
clarifications, completion), and my history of reviews, each still readable, read-only,
after its decision. An application not assigned to the reviewer, and another reviewer's
review, are not found."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from domain.review_sheets import with_sheet
from infra.application.drafts import accepted_last_cycle
from infra.application.review_sheets import etag as sheet_etag
from infra.readside import queries
from infra.readside.reviews import reviews_by
from infra.web.access import Rule, not_found
from infra.web.portal.render import page, portal
from infra.web.routing import caller_of, city_reviews_of
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
    # A reapplication: what the last review accepted is marked (domain/carry_over.py).
    accepted = (await accepted_last_cycle(found.store, key)
                if application is not None and application.reapplication else {})
    return await portal(request).render(
        request, "portal/review.html", view=view, standard=standard, etag=sheet_etag(sheet),
        accepted=accepted,
        application=with_sheet(application, sheet) if application is not None else None)


@page(router, "/portal/reviews/history", Rule.REVIEWER)
async def history(request: Request, reviewer: Annotated[
        str | None, Query(max_length=320)] = None) -> HTMLResponse:
    """The reviews I did: city, application, outcome and dates, the latest first, each
    leading to its read-only page. The program's staff read any reviewer's
    (`?reviewer=EMAIL`), and pick one from the review team; a reviewer reads only theirs
    (the parameter changes nothing for them)."""
    found = services(request)
    account = caller_of(request).signed_in
    staff = account.role.runs_the_program
    whose = (reviewer or None) if staff else account.email
    records = await reviews_by(found.pool, found.store, whose) if whose else []
    team = await queries.reviewers(found.pool) if staff else []
    return await portal(request).render(request, "portal/review_history.html",
                                        records=records, whose=whose, team=team, staff=staff)


@page(router, "/portal/cities/{key}/reviews/{number}", Rule.ITS_REVIEWER)
async def past_review(request: Request, key: str, number: int) -> HTMLResponse:
    """One review, read-only: the city's answers and evidence, each verdict and note,
    the clarifications, and the outcome; to its reviewer and the staff only, before its
    decision and after."""
    found = services(request)
    record = next((r for r in city_reviews_of(request) if r.number == number), None)
    if record is None:  # the staff asking for an application that had no review
        raise not_found(key)
    standard = found.program.catalog.get(record.application.standard_id)
    return await portal(request).render(request, "portal/past_review.html",
                                        view=admitted_city(request), record=record,
                                        standard=standard)
