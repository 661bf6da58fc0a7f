"""What anyone may see: announced certified cities, announced cohorts, a certified city's
page, and the service's health. Nothing of an applicant, a city not certified, a decision
still waiting for its announcement, answers, reports or reviewers ever appears here."""

from __future__ import annotations

import base64
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from infra import queries
from infra.http.access import Rule, not_found
from infra.http.models import (
    PublicCity,
    PublicCityPage,
    PublicCohort,
    PublicCohortCity,
    RegistryPage,
    TierPeriod,
)
from infra.http.routing import route
from infra.http.services import services
from infra.metrics import exposition, measure_projection_lag
from infra.standards import StandardsFolder

router = APIRouter()
PAGE_MAX = 200
# Readiness fails when the read models trail the log by more than this many events.
LAG_BOUND = 10_000


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
    items = tuple(PublicCity.model_validate(r) for r in rows[:limit])
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
    return PublicCityPage(**{k: v for k, v in page.items() if k != "history"},
                          history=tuple(TierPeriod.model_validate(p) for p in page["history"]))


@route(router, "GET", "/api/cohorts", Rule.PUBLIC, response_model=list[PublicCohort],
       summary="Announced cohorts")
async def cohorts(request: Request) -> list[PublicCohort]:
    """Every cohort announced so far with its cities (a cohort still to come is not shown:
    its members are not announced yet)."""
    found = services(request)
    return [PublicCohort(cohort_id=c["cohort_id"], announced_on=c["announced_on"],
                         cities=tuple(PublicCohortCity.model_validate(m)
                                      for m in c["cities"]))
            for c in await queries.public_cohorts(found.pool)]


@route(router, "GET", "/healthz", Rule.PUBLIC, summary="Alive")
async def healthz() -> dict[str, str]:
    """The process answers (nothing else is checked)."""
    return {"status": "ok"}


@route(router, "GET", "/readyz", Rule.PUBLIC, summary="Ready to serve",
       responses={503: {"description": "A dependency is down or the read models lag"}})
async def readyz(request: Request) -> Any:
    """PostgreSQL and Temporal reachable, and the read models within reach of the log."""
    found = services(request)
    checks: dict[str, Any] = {}
    try:
        checks["lag"] = await projection_lag(found.pool)
        checks["postgres"] = "ok"
    except Exception as error:  # any failure here means "not ready", said plainly
        checks["postgres"] = f"unreachable: {type(error).__name__}"
    try:
        await found.program.client.service_client.check_health()
        checks["temporal"] = "ok"
    except Exception as error:
        checks["temporal"] = f"unreachable: {type(error).__name__}"
    # Operator standard files skipped (and why): worth fixing, but the program runs on
    # the others, so they do not make the service "not ready".
    checks["standards"] = [p.model_dump() for p in StandardsFolder(
        found.settings.effective_standards_dir).problems()]
    ready = (checks["postgres"] == "ok" and checks["temporal"] == "ok"
             and checks["lag"] <= LAG_BOUND)
    return JSONResponse({"status": "ready" if ready else "not ready", **checks},
                        status_code=200 if ready else 503,
                        headers=None if ready else {"Retry-After": "5"})


async def projection_lag(pool: Any) -> int:
    """Events of its types the slowest read model has not applied yet."""
    return max((await measure_projection_lag(pool)).values(), default=0)


@route(router, "GET", "/metrics", Rule.OPERATOR, summary="Prometheus metrics",
       responses={200: {"description": "The Prometheus text format",
                        "content": {"text/plain": {}}}})
async def prometheus_metrics(request: Request) -> Response:
    """Events appended, refusals by code, activity retries, HTTP requests, and each read
    model's lag (scrape with an operator's API token). The Temporal SDK's own runtime
    metrics are on WWC_TEMPORAL_METRICS_ADDRESS."""
    await measure_projection_lag(services(request).pool)
    body, content_type = exposition()
    return Response(body, media_type=content_type)
