"""A city's application: what its editors do (join, assessment, clarifications, reapply,
withdraw) and see (status, application, report, history); what its reviewer does (the
review sheet, clarifications, completion). Another city is not found."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from domain import commands
from domain.accounts import Role
from domain.answers import Answers
from domain.city_state import Application
from domain.preview import Preview, preview
from domain.report import Report
from domain.review_sheets import SheetState
from domain.streams import city_key
from domain.views import CityView, CommandAnswer
from infra.application import review_sheets
from infra.application.drafts import etag
from infra.platform.errors import NotFound, UsageError
from infra.readside.as_of import city_as_of
from infra.readside.history import HistoryEntry, timeline
from infra.web.access import Denied, Rule
from infra.web.api.models import (
    ClarificationAnswer,
    ClarificationQuestion,
    CompleteRequest,
    JoinRequest,
    ReapplyRequest,
    Reason,
    ReviewSheet,
    SheetSave,
    SubmitRequest,
)
from infra.web.routing import Link, caller_of, city_json, route, update_id
from infra.web.routing import city_view as admitted_city
from infra.web.services import services

router = APIRouter()


def _version_from(if_match: str | None, kind: str = "v",
                  what: str = "the assessment you edited, so two editors never overwrite "
                              "each other's answers") -> int:
    """The version an If-Match names: `W/"v3"` for an assessment's draft, `W/"s3"` for a
    review sheet."""
    if not if_match:
        raise Denied(428, f"send If-Match with the ETag of {what}")
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.startswith(kind) or not tag[1:].isdigit():
        raise UsageError(f"If-Match {if_match!r} is not an ETag of this API")
    return int(tag[1:])


async def send_command(request: Request, key: str,
                       command: commands.CityCommand) -> CommandAnswer:
    caller = caller_of(request)
    found = services(request)
    view = await found.program.send(
        key, command, context=caller.context(),
        update_id=update_id(request, f"{key}:{type(command).__name__}"))
    await found.after_write()
    return view


# Where a command's answer leads: every operation on the city it names (OpenAPI links, by
# operation id; the staff's own are in `staff.py`). Clients follow a city from its join;
# the stateful fuzzing of `tests/e2e/test_api_fuzz.py` walks a city's lifecycle by them.
_KEY = {"key": "$response.body#/city_key"}
CITY_LINKS: dict[str, Link] = {
    name: (operation, _KEY) for name, operation in (
        ("Status", "status"), ("Application", "application"), ("Preview", "preview_assessment"),
        ("Submit", "submit"), ("Report", "report"), ("History", "history"),
        ("Reapply", "reapply"), ("Withdraw", "withdraw"), ("RecordReviews", "record_reviews"),
        ("Clarify", "clarify"), ("CompleteReview", "complete"),
        ("AssignReviewer", "assign_reviewer"), ("Decide", "decide"))}


# --- the city's editors ------------------------------------------------------------------

@route(router, "POST", "/api/cities", Rule.SIGNED_IN, status_code=201,
       response_model=CommandAnswer, summary="Join the network (state interest)",
       links=CITY_LINKS)
async def join(request: Request, body: JoinRequest) -> CommandAnswer:
    """Open the city's first application. A city editor joins for its own cities only;
    the program's staff for any. Eligibility (30,000 residents, the Americas) is checked
    before anything is recorded."""
    caller = caller_of(request)
    account = caller.signed_in
    command = commands.JoinNetwork(name=body.name, country=body.country,
                                   population=body.population, standard_id=body.standard_id,
                                   location=body.location)
    key = city_key(command.country, command.name)
    if not account.role.runs_the_program and not (
            account.role is Role.CITY_EDITOR and key in account.cities):
        raise Denied(403, f"you may join only for your own cities ({key} is not one)")
    found = services(request)
    view = await found.program.join(
        command, context=caller.context(), update_id=update_id(request, f"{key}:join"))
    await found.after_write()
    return view


@route(router, "GET", "/api/cities/{key}", Rule.CITY, response_model=CityView,
       summary="A city's status")
async def status(request: Request, key: str, as_of: Annotated[
        date | None, Query(description="The city as it stood at the end of that day.")] = None
                 ) -> CityView | Response:
    """The live status (or, with `as_of`, the status folded from its event log up to
    that day)."""
    if as_of is None:  # the kept view's JSON, as FastAPI would have made it
        return Response(city_json(request), media_type="application/json")
    return await city_as_of(services(request).store, key, as_of)


@route(router, "GET", "/api/cities/{key}/application", Rule.CITY,
       response_model=Application, summary="The open application, answers and reviews")
async def application(request: Request, response: Response, key: str) -> Application:
    """The answers, evidence, reviews and clarifications of the open application, with
    its ETag (send it as If-Match when saving the draft)."""
    found, draft = await services(request).program.application_and_draft(key)
    if found is None:
        raise NotFound(f"city {key!r} has no application open")
    response.headers["ETag"] = etag(draft)
    return found


@route(router, "PUT", "/api/cities/{key}/assessment", Rule.CITY_EDITOR,
       response_model=CommandAnswer, summary="Save the assessment draft",
       links=CITY_LINKS,
       responses={428: {"description": "If-Match is missing"}})
async def save_draft(request: Request, response: Response, key: str, body: Answers,
                     if_match: Annotated[str | None, Header()] = None,
                     confirm: Annotated[list[str] | None, Query(
                         description="Criteria carried over from the last review "
                         "(the application's `carried_over`) confirmed to still hold; a code "
                         "the standard does not have is refused (422, `unknown_criterion`).")
                     ] = None) -> CommandAnswer:
    """Save the answers so far (evidence not yet required). `If-Match` must carry the
    ETag the draft was loaded with; a draft changed since answers 409 and records
    nothing. A reapplication's draft starts from the last review's answers; the
    submission waits until each carried-over criterion is confirmed (`confirm`)."""
    expected = _version_from(if_match)
    # Drafts have a stream of their own: no workflow update, and nothing the read models
    # show changes (see domain/drafts.py).
    view, draft = await services(request).program.save_draft(
        key, commands.SaveAssessment(answers=body, expected_version=expected,
                                     confirmed=tuple(confirm or ())),
        context=caller_of(request).context(), update_id=update_id(request, f"{key}:save"),
        view=admitted_city(request))
    response.headers["ETag"] = etag(draft)
    return view


@route(router, "POST", "/api/cities/{key}/assessment/preview", Rule.CITY_EDITOR,
       response_model=Preview, summary="Preview the tier of these answers")
async def preview_assessment(request: Request, key: str, body: Answers) -> Preview:
    """Scores the given answers with the program's scorer and records nothing: the tier
    they would earn, the smallest set of criteria that would reach the next tier, and
    the evidence still missing before the assessment can be submitted (the documents
    attached to the open application count as evidence)."""
    view = admitted_city(request)
    program = services(request).program
    catalog = program.catalog
    if view.standard_id is None or view.standard_id not in catalog:
        raise NotFound(f"city {key!r} has no standard to score against")
    # The documents attached count as evidence, as they will at the submission.
    app = await program.application(key) if view.application is not None else None
    return preview(catalog[view.standard_id], body, app.documents if app else None)


@route(router, "POST", "/api/cities/{key}/assessment/submit", Rule.CITY_EDITOR,
       response_model=CommandAnswer, summary="Submit the assessment for review",
       links=CITY_LINKS)
async def submit(request: Request, key: str, body: SubmitRequest,
                 confirm: Annotated[list[str] | None, Query(
                     description="Criteria carried over from the last review "
                     "(the application's `carried_over`) confirmed to still hold; a code "
                     "the standard does not have is refused (422, `unknown_criterion`).")
                 ] = None) -> CommandAnswer:
    """Submit the given answers, or the saved draft; every claimed criterion needs its
    evidence. On a reapplication, answers (given or saved) that claim a criterion carried
    over from the last review are refused (`unconfirmed_carry_over`) until it is
    confirmed: by a save, or here (`confirm`)."""
    return await send_command(request, key, commands.SubmitAssessment(
        answers=body.answers, confirmed=tuple(confirm or ())))


@route(router, "POST", "/api/cities/{key}/clarifications/{clarification_id}/answer",
       Rule.CITY_EDITOR, response_model=CommandAnswer, summary="Answer a clarification",
       links=CITY_LINKS)
async def answer(request: Request, key: str, clarification_id: int,
                 body: ClarificationAnswer) -> CommandAnswer:
    """The city's answer to the review team's question, with evidence links."""
    return await send_command(request, key, commands.AnswerClarification(
        clarification_id=clarification_id, answer=body.answer, evidence=body.evidence))


@route(router, "GET", "/api/cities/{key}/report", Rule.CITY, response_model=Report,
       summary="The report of the latest decision")
async def report(request: Request, key: str) -> Report:
    """Strengths, areas to improve and the shortest path to the next tier. Private to
    the city and the program: never published."""
    found = await services(request).program.report(key)
    if found is None:
        raise NotFound(f"city {key!r} has no decision yet, so no report")
    return found


@route(router, "GET", "/api/cities/{key}/history", Rule.CITY,
       response_model=list[HistoryEntry], summary="The city's timeline, with who did what")
async def history(request: Request, key: str) -> list[HistoryEntry]:
    """Every event of the city with the account (and role) that caused it and the
    request's correlation id."""
    return await timeline(services(request).store, key)


@route(router, "POST", "/api/cities/{key}/reapply", Rule.CITY_EDITOR,
       response_model=CommandAnswer, summary="Reapply (renew or aim higher)",
       links=CITY_LINKS)
async def reapply(request: Request, key: str, body: ReapplyRequest) -> CommandAnswer:
    """Open a new application; a current certification holds until its decision."""
    return await send_command(request, key, commands.Reapply(standard_id=body.standard_id))


@route(router, "POST", "/api/cities/{key}/withdraw", Rule.CITY_EDITOR,
       response_model=CommandAnswer, summary="Withdraw from the network",
       links=CITY_LINKS)
async def withdraw(request: Request, key: str, body: Reason) -> CommandAnswer:
    """Leave the network (the city may join again later)."""
    return await send_command(request, key, commands.Withdraw(reason=body.reason))


# --- the assigned reviewer ---------------------------------------------------------------

@route(router, "POST", "/api/cities/{key}/reviews", Rule.ASSIGNED_REVIEWER,
       response_model=CommandAnswer, summary="Record a review sheet",
       links=CITY_LINKS)
async def record_reviews(request: Request, key: str, body: ReviewSheet) -> CommandAnswer:
    """The review team's verdict on one or more criteria: met, not met, or the checklist
    items found met."""
    return await send_command(request, key, commands.RecordReviews(reviews=tuple(
        commands.RecordCriterionReview(code=v.code, met=v.met, items=v.items, note=v.note)
        for v in body.reviews)))


@route(router, "GET", "/api/cities/{key}/review/sheet", Rule.ASSIGNED_REVIEWER,
       response_model=SheetState, summary="The reviewer's sheet, as last saved")
async def review_sheet(request: Request, response: Response, key: str) -> SheetState:
    """The verdicts and notes saved so far on the application under review (not yet
    recorded in the city's log: the completion records them), with the ETag to save over
    it."""
    sheet = await services(request).program.review_sheet(key)
    response.headers["ETag"] = review_sheets.etag(sheet)
    return sheet


@route(router, "PUT", "/api/cities/{key}/review/sheet", Rule.ASSIGNED_REVIEWER,
       response_model=CommandAnswer, summary="Save the reviewer's sheet",
       links=CITY_LINKS,
       responses={428: {"description": "If-Match is missing"}})
async def save_review_sheet(request: Request, response: Response, key: str, body: SheetSave,
                            if_match: Annotated[str | None, Header()] = None
                            ) -> CommandAnswer:
    """Keep the reviewer's verdicts and notes as they stand, as often as they change (the
    review screen saves as the reviewer goes). `If-Match` must carry the sheet's ETag
    (`GET .../review/sheet`, or the last save's); a sheet changed since answers 409
    `stale_version` and records nothing. Completing the review records the sheet's
    verdicts in the city's log."""
    expected = _version_from(if_match, "s", "the review sheet you edited, so two people "
                                            "never overwrite each other's verdicts")
    view, sheet = await services(request).program.save_review_sheet(
        key, commands.SaveReviewSheet(reviews=tuple(
            commands.RecordCriterionReview(code=v.code, met=v.met, items=v.items, note=v.note)
            for v in body.reviews), expected_version=expected),
        context=caller_of(request).context(), update_id=update_id(request, f"{key}:sheet"),
        view=admitted_city(request))
    response.headers["ETag"] = review_sheets.etag(sheet)
    return view


@route(router, "POST", "/api/cities/{key}/clarifications", Rule.ASSIGNED_REVIEWER,
       response_model=CommandAnswer, summary="Ask the city a clarification",
       links=CITY_LINKS)
async def clarify(request: Request, key: str, body: ClarificationQuestion) -> CommandAnswer:
    """The review waits for the city's answer."""
    return await send_command(request, key, commands.RequestClarification(
        criterion=body.criterion, question=body.question))


@route(router, "POST", "/api/cities/{key}/review/complete", Rule.ASSIGNED_REVIEWER,
       response_model=CommandAnswer, summary="Complete the review",
       links=CITY_LINKS)
async def complete(request: Request, key: str, body: CompleteRequest) -> CommandAnswer:
    """Every claimed criterion reviewed and no clarification open; optionally the outcome
    benchmarks as validated. The verdicts on the reviewer's sheet (`.../review/sheet`)
    are recorded with it; a sheet saved again meanwhile makes it 409 `stale_version`."""
    return await send_command(request, key, commands.CompleteReview(outcomes=body.outcomes))

