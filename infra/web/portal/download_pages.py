"""What the portal gives to keep: a certificate and a city's decision report as PDF, and
its lists as CSV ("Download CSV"), in the reader's language, under the same rules as the
pages they come from.

- `/certificates/KEY/DAY/certificate.pdf`: public, as the certificate's page: only an
  announced certification of a city certified now; anything else is not found.
- `/portal/cities/KEY/report.pdf`: the city's latest decision report, for its editors,
  its reviewer and the program's staff (the city page's rule).
- `/registry.csv` (public: only announced certified cities, searched as the registry
  page is), and the staff's lists: the pipeline board and the certifications expiring
  soon, the cohorts, the outbox (operators), the review queue (reviewers: their own).

Every CSV holds exactly the rows and columns its page shows with the same query
(`csv_files.py` says how it is written and why)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from domain.reviews import findings, last_decided
from domain.standard import Standard
from infra.i18n.catalogs import Language
from infra.i18n.words import tier_word
from infra.readside import queries
from infra.readside.decisions import latest_decision
from infra.readside.reviews import city_reviews
from infra.web.access import Rule, not_found
from infra.web.conditional import not_modified, strong_etag
from infra.web.portal.csv_files import csv_response
from infra.web.portal.pdf import (
    CertificateFacts,
    Decision,
    FindingLine,
    PracticeLine,
    ReportFacts,
    certificate_pdf,
    report_pdf,
)
from infra.web.portal.registry_search import RegistrySearch, asked_in_query, search_registry
from infra.web.portal.render import portal
from infra.web.portal.staff_pages import EXPIRING_WITHIN, board, cohort_lists
from infra.web.routing import caller_of, identify, route
from infra.web.routing import city_view as admitted_city
from infra.web.services import services

router = APIRouter()


async def _language(request: Request) -> Language:
    return portal(request).language(request, await identify(request))


def _standard_title(request: Request, standard_id: str) -> str:
    standard = services(request).program.catalog.get(standard_id)
    return standard.title if standard is not None else standard_id


def _pdf(request: Request, body: bytes, filename: str, *, public: bool) -> Response:
    """The document, shown in the browser (inline) under `filename`. Its bytes are the
    same at every request (see pdf.py), so its ETag is too: a reader who holds it gets
    304."""
    etag = strong_etag(body)
    headers = {"ETag": etag, "Content-Disposition": f'inline; filename="{filename}"',
               # The language comes from ?lang=, else the cookie or the browser's.
               "Vary": "Cookie, Accept-Language"}
    if public:
        headers["Cache-Control"] = "public, no-cache"
    if not_modified(request.headers, etag, None):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/pdf", headers=headers)


@route(router, "GET", "/certificates/{key}/{awarded_on}/certificate.pdf", Rule.PUBLIC,
       include_in_schema=False)
async def certificate_file(request: Request, key: str, awarded_on: date) -> Response:
    """The certificate as a PDF: what its page says that does not change (the city, its
    tier, the standard, the cohort, the dates, the deciding event and its hash), and the
    page's address, written and as a QR code, where anyone checks it now. Only for what
    the page shows: a certification not announced, or of a city no longer certified, is
    not found, exactly as its page."""
    found = services(request)
    certificate = await queries.certificate(found.pool, key, awarded_on)
    if certificate is None or certificate.decided is None:
        raise not_found(key)
    language = await _language(request)
    decided = certificate.decided
    base = found.settings.effective_portal_url.rstrip("/")
    body = certificate_pdf(language, CertificateFacts(
        city_name=certificate.city.name, country=certificate.city.country,
        tier=certificate.tier, standard=_standard_title(request, certificate.standard_id),
        cohort_id=certificate.cohort_id, awarded_on=certificate.awarded_on,
        expires_on=certificate.expires_on,
        decision=Decision(number=decided.stream_version,
                          decided_on=decided.decided_on or certificate.awarded_on,
                          hash=decided.hash),
        verify_url=f"{base}/certificates/{key}/{awarded_on.isoformat()}"))
    return _pdf(request, body, f"certificate-{key}-{awarded_on.isoformat()}-{language.code}.pdf",
                public=True)


@route(router, "GET", "/portal/cities/{key}/report.pdf", Rule.CITY, include_in_schema=False)
async def report_file(request: Request, key: str) -> Response:
    """The report of the city's latest decision as a PDF, read from the decision's event
    itself (the report it recorded, its place in the log and its hash) and its review
    (the findings, with the review team's notes): certified or not, what the city's page
    shows of it. Before a first decision there is no report:
    the city's page says where it stands."""
    view = admitted_city(request)
    found = services(request)
    recorded = await latest_decision(found.pool, key)
    if recorded is None:
        return RedirectResponse(f"/portal/cities/{key}", status_code=303)
    language = await _language(request)
    decided, report = recorded.decided, recorded.decided.report
    standard = found.program.catalog.get(decided.standard_id)
    body = report_pdf(language, ReportFacts(
        city_name=view.name or key, country=view.country or "",
        standard=_standard_title(request, decided.standard_id), tier=report.score.tier.value,
        points=report.score.points, total=report.score.total, percent=report.score.percent,
        practices=[PracticeLine(_practice_name(standard, p.code, p.name, language.code),
                                p.met, p.total) for p in report.score.practices],
        next_tier=(report.next_tier.tier.value,
                   [_criterion_line(standard, code, language.code)
                    for code in report.next_tier.criteria])
        if report.next_tier is not None else None,
        gates=[(_gate_label(standard, g.id, g.label, language.code), g.met)
               for g in report.score.gates],
        decision=Decision(number=recorded.event.stream_version, decided_on=decided.on,
                          hash=recorded.event.hash),
        findings=await _findings(request, key, standard, language.code)))
    return _pdf(request, body, f"report-{key}-{decided.on.isoformat()}-{language.code}.pdf",
                public=False)


async def _findings(request: Request, key: str, standard: Standard | None,
                    language: str) -> list[FindingLine]:
    """What the review of the latest decision found, as the city's page shows it: each
    claimed criterion and whether the decision counts it as met, with the review
    team's note."""
    record = last_decided(await city_reviews(services(request).store, key))
    if standard is None or record is None:
        return []
    return [FindingLine(criterion=_criterion_line(standard, f.code, language), met=f.met,
                        blocked=f.blocked, note=f.note) for f in findings(standard, record)]


def _practice_name(standard: Standard | None, code: str, name: str, language: str) -> str:
    found = next((p for p in standard.practices if p.code == code), None) if standard else None
    return found.name_in(language) if found is not None else name


def _criterion_line(standard: Standard | None, code: str, language: str) -> str:
    if standard is None or code not in standard.codes:
        return code
    return f"{code} {standard.criterion(code).label_in(language)}"


def _gate_label(standard: Standard | None, gate_id: str, label: str, language: str) -> str:
    found = next((g for g in standard.gates if g.id == gate_id), None) if standard else None
    return found.label_in(language) if found is not None else label


# --- lists as CSV --------------------------------------------------------------------------

def _today(request: Request) -> str:
    return services(request).program.program_today().isoformat()


@route(router, "GET", "/registry.csv", Rule.PUBLIC, include_in_schema=False)
async def registry_csv(
    request: Request, search: Annotated[RegistrySearch, Depends(asked_in_query)],
) -> Response:
    """The registry as the page shows it for the same search: announced certified cities
    only."""
    _, rows = await search_registry(services(request).pool, search)
    language = await _language(request)
    _ = language.gettext
    return csv_response(
        [_("City"), _("Country"), _("Tier"), _("Standard"), _("Cohort"),
         _("Certified since"), _("Valid until")],
        ([r.name, language.formats.country(r.country), _(tier_word(r.tier)),
          _standard_title(request, r.standard_id), r.cohort_id, r.awarded_on, r.expires_on]
         for r in rows),
        filename=f"registry-{_today(request)}.csv", cache="public, no-cache")


@route(router, "GET", "/portal/pipeline.csv", Rule.OPERATOR, include_in_schema=False)
async def pipeline_csv(request: Request) -> Response:
    """The pipeline board, stage by stage, as the page shows it."""
    _ = (await _language(request)).gettext
    return csv_response(
        [_("Stage"), _("City"), _("Days"), _("Reviewer")],
        ([_(stage.replace("_", " ")), c.name, c.days, c.reviewer]
         for stage, cards in await board(request) for c in cards),
        filename=f"pipeline-{_today(request)}.csv")


@route(router, "GET", "/portal/expiring.csv", Rule.OPERATOR, include_in_schema=False)
async def expiring_csv(request: Request) -> Response:
    """The certifications expiring in the next 180 days, as the pipeline page lists them."""
    found = services(request)
    _ = (await _language(request)).gettext
    rows = await queries.expiring(found.pool, found.program.program_today() + EXPIRING_WITHIN)
    return csv_response(
        [_("City"), _("Tier"), _("Expires"), _("Status")],
        ([r.name, _(tier_word(r.tier)), r.expires_on, _(r.status.replace("_", " "))]
         for r in rows),
        filename=f"expiring-{_today(request)}.csv")


@route(router, "GET", "/portal/cohorts.csv", Rule.OPERATOR, include_in_schema=False)
async def cohorts_csv(request: Request) -> Response:
    """The cohort builder's lists: the cohorts to come, then the last announced."""
    found = services(request)
    await found.fresh.current("registry", "cohorts")
    upcoming, lately = cohort_lists(await queries.cohorts(found.pool))
    _ = (await _language(request)).gettext
    return csv_response(
        [_("Cohort"), _("Announce on"), _("Announced on"), _("Cities")],
        ([c.cohort_id, c.announce_on, c.announced_on,
          len(c.cities) if c.announced_on else None] for c in [*upcoming, *lately]),
        filename=f"cohorts-{_today(request)}.csv")


@route(router, "GET", "/portal/reviews.csv", Rule.REVIEWER, include_in_schema=False)
async def reviews_csv(request: Request) -> Response:
    """The review queue as the page shows it: a reviewer's own; the program's staff see
    every assigned application, with its reviewer."""
    found = services(request)
    account = caller_of(request).signed_in
    staff = account.role.runs_the_program
    await found.fresh.current("pipeline", "registry")
    today = found.program.program_today()
    rows = await queries.reviewer_queue(found.pool, None if staff else account.email)
    _ = (await _language(request)).gettext
    header = [_("City"), _("Stage"), _("Since"), _("Days"), _("Open clarifications")]
    return csv_response(
        [*header, _("Reviewer")] if staff else header,
        ([r.name, _(r.stage.replace("_", " ")), r.stage_since, (today - r.stage_since).days,
          r.open_clarifications, *([r.reviewer] if staff else [])] for r in rows),
        filename=f"reviews-{today.isoformat()}.csv")


@route(router, "GET", "/portal/outbox.csv", Rule.OPERATOR, include_in_schema=False)
async def outbox_csv(request: Request, to: Annotated[str | None, Query(max_length=254)]
                     = None) -> Response:
    """The outbox as the page shows it for the same filter (`to`), newest first."""
    rows = await queries.outbox(services(request).pool, to=to or None)
    _ = (await _language(request)).gettext
    return csv_response(
        [_("Date"), _("To"), _("Language"), _("City"), _("Subject"), _("Status"),
         _("Attempts")],
        ([r.created_at, r.recipient, r.language, r.city_key, r.subject,
          _(r.status) + (f" ({r.last_error})" if r.last_error else ""), r.attempts]
         for r in rows),
        filename=f"outbox-{_today(request)}.csv")
