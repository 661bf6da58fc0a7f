"""What anyone may see: the registry with its filters and map, cohorts, a certified city's
page and its certificates, and the sign-in page. The same read models and the same
privacy rule as the public API: only announced certified cities appear."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.accounts import LANGUAGES
from domain.streams import city_stream
from infra.i18n.refusals import say
from infra.i18n.words import N_
from infra.identity.throttle import Throttled
from infra.postgres.verify import verify_chains
from infra.readside import queries
from infra.readside.documents import decided_documents
from infra.web.access import Denied, Rule, not_found
from infra.web.portal.map import markers, outlines, unmapped
from infra.web.portal.redirects import safe_next
from infra.web.portal.registry_search import TIERS, RegistrySearch, asked_in_query, search_registry
from infra.web.portal.render import INVALID_FIELD, page, portal, refused_field
from infra.web.routing import caller_of, identify, route
from infra.web.services import services
from infra.web.signing_in import SignIn, open_session

router = APIRouter()
WRONG_SIGN_IN = N_("Wrong e-mail or password.")
SIGN_IN_FIELDS = {"email": N_("E-mail"), "password": N_("Password")}


@page(router, "/", Rule.PUBLIC)
async def registry_page(
    request: Request, search: Annotated[RegistrySearch, Depends(asked_in_query)],
) -> HTMLResponse:
    """The registry of certified cities, searched by name and filtered, and the map of
    them. The search is the CSV's too (`/registry.csv`, same query)."""
    found = services(request)
    # Read once: the filters' choices come from every certified city, the rows from those
    # the search keeps.
    everyone, rows = await search_registry(found.pool, search)
    shown = {r.city_key for r in rows}
    places = [p for p in await queries.public_places(found.pool) if p.city_key in shown]
    country_name = portal(request).language(request, caller_of(request)).formats.country
    return await portal(request).render(
        request, "public/registry.html", rows=rows, markers=markers(places),
        unmapped=unmapped(places), outlines=outlines(), tiers=TIERS,
        # By name in the page's language (Brasil, Estados Unidos, ...), not by code.
        countries=sorted({r.country for r in everyone}, key=lambda c: (country_name(c), c)),
        standards=sorted({r.standard_id for r in everyone}),
        cohorts=sorted({r.cohort_id for r in everyone}, reverse=True),
        chosen=search.chosen, csv_query=search.query,
        counts={t: sum(1 for r in rows if r.tier == t) for t in TIERS})


@page(router, "/cities/{key}", Rule.PUBLIC)
async def city_page(request: Request, key: str) -> HTMLResponse:
    """A certified city: tier, since, until, cohort, its tiers over time, certificates."""
    city = await queries.public_city(services(request).pool, key)
    if city is None:
        raise not_found(key)
    return await portal(request).render(request, "public/city.html", city=city)


@page(router, "/cohorts", Rule.PUBLIC)
async def cohorts_page(request: Request) -> HTMLResponse:
    """Every announced cohort and its cities (cohorts still to come are not public)."""
    found = await queries.public_cohorts(services(request).pool)
    return await portal(request).render(request, "public/cohorts.html",
                                        cohorts=list(reversed(found)))


@page(router, "/cohorts/{cohort_id}", Rule.PUBLIC)
async def cohort_page(request: Request, cohort_id: str) -> HTMLResponse:
    """One announced cohort."""
    found = [c for c in await queries.public_cohorts(services(request).pool)
             if c.cohort_id == cohort_id]
    if not found:
        raise not_found(cohort_id)
    return await portal(request).render(request, "public/cohort.html", cohort=found[0])


@page(router, "/certificates/{key}/{awarded_on}", Rule.PUBLIC)
async def certificate_page(request: Request, key: str, awarded_on: date) -> HTMLResponse:
    """A certification anyone can check: tier, standard, dates, cohort, the hash of the
    event that decided it, whether the city's hash chain verifies, now, from its first
    event up to that one (only up to it: the events after it, a new application, its
    review, are private, and even their number would show that they happen), and
    whether the documents it was decided on are unchanged."""
    found = services(request)
    certificate = await queries.certificate(found.pool, key, awarded_on)
    if certificate is None or certificate.decided is None:
        raise not_found(key)
    async with found.pool.acquire() as conn:
        chain = await verify_chains(conn, stream_id=city_stream(key),
                                    through_version=certificate.decided.stream_version)
    # The evidence the decision was made on: each document's stored bytes hashed again
    # (a check stands while the file does not change: `Evidence.check`). Criteria and
    # hashes only: the documents and their names are the city's private data.
    decided = await decided_documents(found.pool, key,
                                      through_version=certificate.decided.stream_version)
    documents = [(code, doc.sha256, await found.evidence.check(doc.sha256))
                 for code, docs in decided.items() for doc in docs]
    return await portal(request).render(
        request, "public/certificate.html", certificate=certificate, city=certificate.city,
        chain=chain, today=found.program.program_today(), documents=documents,
        changed=[d for d in documents if d[2] != "unchanged"],
        base=found.settings.effective_portal_url)


@page(router, "/sign-in", Rule.PUBLIC)
async def sign_in_page(request: Request,
                       next: Annotated[str | None, Query(max_length=500)] = None) -> HTMLResponse:
    """The sign-in form: the page's script posts it to the API's /api/session; without
    JavaScript the browser posts it here (`sign_in_form`)."""
    return await portal(request).render(request, "sign_in.html", next_url=safe_next(next),
                                        email="", problem=None)


@route(router, "POST", "/sign-in", Rule.PUBLIC, include_in_schema=False,
       response_class=HTMLResponse)
async def sign_in_form(request: Request) -> Response:
    """The sign-in form posted by a browser without JavaScript (form-encoded, so the
    password travels in the body, never in a URL): signed in, it goes on to `next` (a
    path on this site only); refused, the form again with the reason."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        # Another site's form would sign this browser in to the account it chose.
        raise Denied(403, "sign in from this site's own sign-in page")
    form = await request.form(max_files=0, max_fields=10)
    email, password = str(form.get("email", ""))[:254], str(form.get("password", ""))[:1024]
    target = safe_next(str(form.get("next", "")))
    if (field := refused_field({"email": email, "password": password}, SIGN_IN_FIELDS,
                               SignIn)) is not None:
        # What the API's sign-in refuses (a NUL, a control character in the e-mail):
        # refused here too, before the attempt is counted, naming the field.
        shown = portal(request)
        language = shown.language(request, await identify(request))
        return await shown.render(
            request, "sign_in.html", status=422, next_url=target,
            email=email, problem=language.gettext(INVALID_FIELD) % {
                "field": language.gettext(field)})
    response = RedirectResponse(target, status_code=303)
    try:
        await open_session(request, response, email, password)
    except (Denied, Throttled) as refused:
        shown = portal(request)
        language = shown.language(request, await identify(request))
        status, code, headers = ((refused.status, None, None)
                                 if isinstance(refused, Denied) else
                                 (429, "throttled", {"Retry-After": str(refused.retry_after)}))
        # In the page's words: a wrong e-mail or password is this page's own refusal.
        said = (language.gettext(WRONG_SIGN_IN) if status == 401
                else say(language, status=status, code=code))
        return await shown.render(
            request, "sign_in.html", status=status, headers=headers, next_url=target,
            email=email, problem=said)
    return response


@route(router, "GET", "/static/{name}", Rule.PUBLIC, include_in_schema=False)
async def static_file(request: Request, name: str) -> Response:
    """The portal's shipped CSS and scripts, by name (nothing else can be asked for)."""
    found = portal(request).static.get(name)
    if found is None:
        raise not_found(name)
    return Response(found.body, media_type=found.media_type,
                    headers={"Cache-Control": "public, max-age=31536000, immutable",
                             "ETag": f'"{found.etag}"', "X-Content-Type-Options": "nosniff"})


class ShownProblem(BaseModel):
    """A problem the API answered to one of the portal's forms, to be said in words."""

    model_config = ConfigDict(extra="ignore")

    status: int = Field(ge=0, le=599)
    code: str | None = Field(default=None, max_length=64)
    facts: dict[str, Annotated[str, StringConstraints(max_length=500)] | int] | None = \
        Field(default=None, max_length=20)
    lang: str | None = Field(default=None, max_length=8)


@route(router, "POST", "/portal/refusal", Rule.PUBLIC, include_in_schema=False,
       changes_nothing=True)
async def refusal_words(request: Request, body: ShownProblem) -> dict[str, str]:
    """The portal's script shows a refusal the API answered (its code and facts) in the
    page's language and words (infra/i18n/refusals.py): one place says them all, the
    pages rendered here and the forms the script sends. Records nothing."""
    shown = portal(request)
    language = (shown.catalogs.get(body.lang) if body.lang in LANGUAGES
                else shown.language(request, await identify(request)))
    return {"message": say(language, status=body.status, code=body.code, facts=body.facts)}


@route(router, "GET", "/favicon.ico", Rule.PUBLIC, include_in_schema=False)
async def favicon(request: Request) -> Response:
    """The portal's icon where browsers and tools look for it by default (pages link the
    SVG, versioned, under /static/). Kept a day: this URL never changes with the icon."""
    found = portal(request).static["favicon.ico"]
    return Response(found.body, media_type=found.media_type,
                    headers={"Cache-Control": "public, max-age=86400",
                             "ETag": f'"{found.etag}"', "X-Content-Type-Options": "nosniff"})
