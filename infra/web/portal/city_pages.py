"""A city's pages: its editors' home, joining, the dashboard (status, who the application
waits on, clarifications, the report, reapplying, the timeline) and the self-assessment.
The same rules as the API's city routes: another city is not found."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain import commands
from domain.accounts import Role
from domain.city_state import Stage
from domain.deadlines import waits
from domain.documents import Documents
from domain.drafts import check_confirmed, check_confirmed_codes
from domain.eligibility import period_on
from domain.errors import DomainError
from domain.preview import preview
from domain.reviews import findings, last_decided
from domain.standard import Standard
from domain.streams import city_stream
from infra.application.drafts import Drafts, etag
from infra.i18n.words import N_
from infra.platform.errors import CommandRefused
from infra.readside import queries
from infra.readside.history import HistoryEntry, timeline
from infra.readside.reviews import city_reviews
from infra.web.access import Rule, may_see_city
from infra.web.portal.render import (
    form_of,
    form_update_id,
    new_nonce,
    page,
    portal,
    posted,
    problem_of,
)
from infra.web.routing import caller_of
from infra.web.routing import city_view as admitted_city
from infra.web.services import HttpServices, services

router = APIRouter()



@page(router, "/portal", Rule.SIGNED_IN)
async def home(request: Request) -> Response:
    """Each role's starting page: a city editor's cities; the review queue; the board."""
    account = caller_of(request).signed_in
    if account.role is Role.REVIEWER:
        return RedirectResponse("/portal/reviews", status_code=303)
    if account.role.runs_the_program:
        return RedirectResponse("/portal/pipeline", status_code=303)
    found = services(request)
    today = found.program.program_today()
    cities = [(key, await queries.city_view(found.pool, key, today)) for key in account.cities]
    return await portal(request).render(request, "portal/home.html", cities=cities)


@page(router, "/portal/join", Rule.SIGNED_IN)
async def join_page(request: Request) -> HTMLResponse:
    """State interest: the eligibility rule explained before anything is sent."""
    found = services(request)
    today = found.program.program_today()
    rule = period_on(found.program.rules.eligibility, today)
    return await portal(request).render(
        request, "portal/join.html", rule=rule,
        countries=sorted(rule.countries) if rule else [],
        standard=found.program.catalog.in_force(today))


@page(router, "/portal/cities/{key}", Rule.CITY)
async def dashboard(request: Request, key: str,
                    done: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    """The city's status, what it waits on since when, clarifications, the report of its
    latest decision, reapplying and withdrawing, and its timeline with who did what.
    `done=submitted`: the notice after a submission (what happened, what comes next),
    shown while the application is past assessing."""
    found = services(request)
    view = admitted_city(request)
    account = caller_of(request).signed_in
    application = await found.program.application(key)
    report = await found.program.report(key)
    stage = Stage(view.stage) if view.stage else None
    catalog = found.program.catalog
    standard = catalog.get(view.standard_id) if view.standard_id else None
    # The report's own standard: a city not certified has no application or
    # certification left to name one, and its report still reads in the page's language.
    report_standard = catalog.get(report.score.standard) if report else None
    decided = last_decided(await city_reviews(found.store, key)) if report else None
    language = portal(request).language(request, caller_of(request))
    lines = list(reversed(await timeline(found.store, key, language.gettext,
                                         language.formats, _standard_titles(catalog))))
    return await portal(request).render(
        request, "portal/city.html", view=view, application=application, report=report,
        stage=stage, waits=waits(application, found.program.rules), timeline=lines,
        who=await _people(found, lines, language.gettext),
        standard=standard, report_standard=report_standard,
        findings=findings(report_standard, decided) if report_standard and decided else [],
        editor=may_see_city(account, Rule.CITY_EDITOR, key, view),
        staff=account.role.runs_the_program,
        temporal_link=_temporal_link(request, key) if account.role.runs_the_program else None,
        today=found.program.program_today(),
        submitted=done == "submitted" and application is not None
        and application.submitted_on is not None)


@page(router, "/portal/cities/{key}/assessment", Rule.CITY_EDITOR)
async def assessment(request: Request, key: str) -> HTMLResponse:
    """The self-assessment, practice by practice, saved as the editor goes, with the live
    tier preview and the smallest set of criteria that would reach the next tier."""
    return await _assessment_page(request, key)


async def _assessment_page(request: Request, key: str, *, status: int = 200,
                           refusal: CommandRefused | None = None) -> HTMLResponse:
    """The self-assessment page, with why a form it posted was refused (if it was)."""
    found = services(request)
    view = admitted_city(request)
    application, draft = await found.program.application_and_draft(key)
    standard = (found.program.catalog.get(application.standard_id)
                if application is not None else None)
    editable = application is not None and application.stage is Stage.ASSESSING
    carried = draft.carried if editable else ()
    # What confirming a carried criterion attaches again: its last review's documents.
    documents = ((await Drafts(found.store, found.program.catalog).carried(
        key, application.number)).documents if carried and application is not None else {})
    return await portal(request).render(
        request, "portal/assessment.html", view=view, application=application,
        standard=standard, etag=etag(draft), editable=editable,
        carried=carried, carried_documents=documents, nonce=new_nonce(),
        today=found.program.program_today(),
        document_limit=found.program.rules.document_max_bytes, status=status,
        refusal=problem_of(refusal) if refusal is not None else None)


@posted(router, "/portal/cities/{key}/assessment/confirm", Rule.CITY_EDITOR)
async def confirm_carried(request: Request, key: str) -> Response:
    """An editor confirms that a criterion carried over from the last review still
    holds (domain/carry_over.py): the draft is saved as it stands, less that mark. Then
    the assessment again, at that criterion."""
    form = await form_of(request)
    code = form.get("criterion", "")
    program = services(request).program
    application, draft = await program.application_and_draft(key)
    if application is None or draft.answers is None:
        return RedirectResponse(f"/portal/cities/{key}/assessment", status_code=303)
    # A code the standard does not have (a forged or mistyped form) is bad input, said on
    # the page, as the API refuses `?confirm=` with it.
    try:
        check_confirmed_codes(program.catalog[application.standard_id], (code,))
    except DomainError as error:
        return await _assessment_page(request, key, status=422,
                                      refusal=CommandRefused.from_domain(error))
    if code not in draft.carried:
        # Nothing to confirm (confirmed already, or the application moved on).
        return RedirectResponse(f"/portal/cities/{key}/assessment", status_code=303)
    # Refused (a save landed meanwhile): the page, read again, shows where things stand.
    with contextlib.suppress(CommandRefused):
        await program.save_draft(
            key, commands.SaveAssessment(answers=draft.answers, expected_version=draft.version,
                                         confirmed=(code,)),
            context=caller_of(request).context(),
            update_id=form_update_id(request, f"{key}:confirm:{code}", form.get("nonce", "")))
    return RedirectResponse(f"/portal/cities/{key}/assessment#criterion-{code}",
                            status_code=303)


def documents_digest(documents: Documents) -> str:
    """The documents a confirmation step showed, in a word: a document added or removed
    since changes it, and the step is shown again (as for answers saved since)."""
    pairs = sorted(f"{code}:{d.sha256}" for code, docs in documents.items() for d in docs)
    return hashlib.sha256("\n".join(pairs).encode()).hexdigest()[:16]


def _standard_titles(catalog: Mapping[str, Standard]) -> Callable[[str], str]:
    def title(standard_id: str) -> str:
        return catalog[standard_id].title if standard_id in catalog else standard_id
    return title


# Who the program's own steps act as, in a timeline's "who" column (their role follows).
_PROGRAM_ACTORS = {"operator": N_("the command line"), "program-timer": N_("the calendar"),
                   "cohort": N_("the cohort"), "anonymous": N_("anyone")}


async def _people(found: HttpServices, lines: list[HistoryEntry],
                  translate: Callable[[str], str]) -> Callable[[str], str]:
    """Who caused each line, as people read it: an account by its display name, the
    program's own steps in words, never an account id."""
    names = await queries.display_names(found.pool, {e.actor for e in lines} - set(
        _PROGRAM_ACTORS))

    def who(actor: str) -> str:
        if actor in _PROGRAM_ACTORS:
            return translate(_PROGRAM_ACTORS[actor])
        return names.get(actor, actor)
    return who


def _temporal_link(request: Request, key: str) -> str | None:
    settings = services(request).settings
    if not settings.temporal_ui_url:
        return None
    namespace = settings.temporal_namespace or "default"
    return (f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{namespace}/workflows/"
            f"{city_stream(key).replace('/', '%2F')}")


@page(router, "/portal/cities/{key}/assessment/submit", Rule.CITY_EDITOR)
async def submit_step(request: Request, key: str) -> Response:
    """Submitting, asked once more: what will be sent (the criteria claimed, their
    evidence), the tier it would earn (or, plainly, that the city would not be
    certified) and what is missing, from the answers as saved. Nothing is sent from here."""
    found = await _submission(request, key)
    if found is None:  # nothing open to submit: the city's page says where it stands
        return RedirectResponse(f"/portal/cities/{key}", status_code=303)
    return await portal(request).render(request, "portal/submit.html", **found)


@posted(router, "/portal/cities/{key}/assessment/submit", Rule.CITY_EDITOR)
async def submit_confirmed(request: Request, key: str) -> Response:
    """The confirmed submission: the answers shown (the draft at the version the step
    showed; a save since makes it stale and the step is shown again), once however often
    the form is posted. Then the city's page, saying what happened."""
    form = await form_of(request)
    found = await _submission(request, key)
    if found is None:
        return RedirectResponse(f"/portal/cities/{key}", status_code=303)
    shown = form.get("version", "")
    if shown != str(found["version"]) or form.get("documents", "") != found["documents"]:
        # The answers or the documents changed since the step showed them.
        return await portal(request).render(request, "portal/submit.html", status=409,
                                            **{**found, "changed": True})
    if found["preview"].score.tier.value == "none" and form.get("understood") != "yes":
        return await portal(request).render(request, "portal/submit.html", status=422,
                                            **{**found, "unacknowledged": True})
    program = services(request).program
    try:
        await program.send(key, commands.SubmitAssessment(draft_version=int(shown)),
                           context=caller_of(request).context(),
                           update_id=form_update_id(request, f"{key}:submit",
                                                    form.get("nonce", "")))
    except CommandRefused as refused:
        return await portal(request).render(
            request, "portal/submit.html", status=refused.kind.http_status,
            **{**found, "refusal": problem_of(refused)})
    await services(request).after_write()
    return RedirectResponse(f"/portal/cities/{key}?done=submitted", status_code=303)


async def _submission(request: Request, key: str) -> dict[str, Any] | None:
    """What a submission would send now, for the confirmation step (None: no application
    being assessed)."""
    program = services(request).program
    application, draft = await program.application_and_draft(key)
    if application is None or application.stage is not Stage.ASSESSING:
        return None
    standard = program.catalog[application.standard_id]
    answers = application.answers
    claimed = [c for c in standard.criteria if answers.answer(c.code).claimed(standard, c.code)]
    # Carried-over criteria not confirmed: said here, before the step offers to send.
    try:
        check_confirmed(draft, application.number)
        unconfirmed = None
    except DomainError as error:
        unconfirmed = problem_of(CommandRefused.from_domain(error))
    outcomes = [(gate, option) for gate in standard.gates for option in gate.options
                if answers.outcomes.get(option.id)]
    return {"view": admitted_city(request), "application": application, "standard": standard,
            "claimed": claimed, "outcomes": outcomes,
            "preview": preview(standard, answers, application.documents),
            "answered": bool(answers.criteria), "version": draft.version,
            "documents": documents_digest(application.documents),
            "unconfirmed": unconfirmed,
            "to_confirm": [standard.criterion(code) for code in draft.carried
                           if unconfirmed is not None],
            "nonce": new_nonce(), "changed": False, "unacknowledged": False, "refusal": None}
