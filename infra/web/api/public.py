"""What anyone may see: announced certified cities, announced cohorts, a certified city's
page, and the service's health. Nothing of an applicant, a city not certified, a decision
still waiting for its announcement, answers, reports or reviewers ever appears here."""

from __future__ import annotations

import base64
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from infra.ops.health import Verdict
from infra.platform.metrics import exposition
from infra.readside import queries
from infra.standards.folder import StandardsFolder
from infra.web.access import Rule, not_found
from infra.web.api.models import (
    PublicCity,
    PublicCityPage,
    PublicCohort,
    PublicCohortCity,
    RegistryPage,
)
from infra.web.routing import route
from infra.web.services import services

router = APIRouter()
PAGE_MAX = 200


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str:
    if not cursor:
        return ""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return "\uffff"  # a cursor past every key: an empty page, not an error


@route(router, "GET", "/api/registry", Rule.PUBLIC, response_model=RegistryPage,
       summary="The registry of certified cities")
async def registry(
    request: Request,
    tier: Annotated[str | None, Query(pattern="^(silver|gold|platinum)$")] = None,
    country: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")] = None,
    standard: Annotated[str | None, Query(max_length=64)] = None,
    cohort: Annotated[str | None, Query(max_length=64)] = None,
    as_of: Annotated[date | None, Query(description="The registry as it stood that day.")]
    = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
) -> RegistryPage:
    """Cities holding an announced certification, by key, a page at a time."""
    # No catch-up per request: writes bring the read models up to date before they answer
    # and the server's background loop follows the rest (well under a second behind).
    found = services(request)
    rows = await queries.public_registry(
        found.pool, as_of=as_of, tier=tier, country=country, standard=standard,
        cohort=cohort, after=decode_cursor(cursor), limit=limit + 1)
    items = tuple(PublicCity.model_validate(r.model_dump()) for r in rows[:limit])
    more = len(rows) > limit
    return RegistryPage(items=items, as_of=as_of,
                        next_cursor=encode_cursor(items[-1].city_key) if more else None)


@route(router, "GET", "/api/registry/{key}", Rule.PUBLIC, response_model=PublicCityPage,
       summary="A certified city's public page")
async def public_city(request: Request, key: str) -> PublicCityPage:
    """Tier, since when, until when, cohort, and the tiers it held before. Only for a
    city certified now: any other key is not found."""
    found = services(request)
    page = await queries.public_city(found.pool, key)
    if page is None:
        raise not_found(key)
    return PublicCityPage.model_validate(page.model_dump())


@route(router, "GET", "/api/cohorts", Rule.PUBLIC, response_model=list[PublicCohort],
       summary="Announced cohorts")
async def cohorts(request: Request) -> list[PublicCohort]:
    """Every cohort announced so far with its cities (a cohort still to come is not shown:
    its members are not announced yet)."""
    found = services(request)
    return [PublicCohort(cohort_id=c.cohort_id, announced_on=c.announced_on,
                         cities=tuple(PublicCohortCity.model_validate(m.model_dump())
                                      for m in c.cities))
            for c in await queries.public_cohorts(found.pool)]


@route(router, "GET", "/healthz", Rule.PUBLIC, summary="Alive")
async def healthz() -> dict[str, str]:
    """The process answers (nothing else is checked)."""
    return {"status": "ok"}


@route(router, "GET", "/readyz", Rule.PUBLIC, summary="Ready to serve",
       responses={503: {"description": "A dependency does not answer, a read model keeps "
                                       "failing, or the read models lag"}})
async def readyz(request: Request) -> Any:
    """Within about a second (`WWC_READINESS_TIMEOUT` per dependency, checked at once):
    PostgreSQL and Temporal each answer (else what went wrong, e.g. `"postgres":
    "timeout after 1.0 s"`), the read models trail the log by at most 10,000 events
    (`lag`), and none keeps failing (`read_models`: each failing one, since when and
    why). `standards` lists the operator standard files skipped, and why: worth fixing,
    but the program runs on the others, so they do not make the service "not ready"."""
    found = services(request)
    verdicts = await found.health.dependencies()
    # Another check is one more entry: verdicts["name"] = Verdict(ok, what to show).
    verdicts["standards"] = Verdict(True, [p.model_dump() for p in StandardsFolder(
        found.settings.effective_standards_dir).problems()])
    ready = all(verdict.ok for verdict in verdicts.values())
    return JSONResponse({"status": "ready" if ready else "not ready",
                         **{name: verdict.said for name, verdict in verdicts.items()}},
                        status_code=200 if ready else 503,
                        headers=None if ready else {"Retry-After": "5"})


@route(router, "GET", "/metrics", Rule.OPERATOR, summary="Prometheus metrics",
       responses={200: {"description": "The Prometheus text format",
                        "content": {"text/plain": {}}}})
async def prometheus_metrics(request: Request) -> Response:
    """Events appended, refusals by code, activity retries, HTTP requests, each read
    model's lag and whether it keeps failing (scrape with an operator's API token). The
    lag is measured within the readiness bound: while PostgreSQL does not answer, the
    last figures are served. The Temporal SDK's own runtime metrics are on
    WWC_TEMPORAL_METRICS_ADDRESS."""
    await services(request).health.lags()
    body, content_type = exposition()
    return Response(body, media_type=content_type)
