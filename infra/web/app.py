"""The API application: routes, access rules, errors and middleware, over the services
the composition root gives it."""

from __future__ import annotations

from fastapi import FastAPI

from infra.web import problems
from infra.web.api import cities, docs, documents, identity, public, staff, temporal_ui
from infra.web.deadline import Deadline
from infra.web.middleware import AccessLog, BodyLimit
from infra.web.portal import (
    accounts_pages,
    city_pages,
    download_pages,
    numbers_pages,
    open_data_pages,
    password_pages,
    public_pages,
    review_pages,
    staff_pages,
)
from infra.web.portal.render import Portal
from infra.web.public_cache import PublicCache
from infra.web.routing import ACCESS_KEY, GuardedRoute, api_routes
from infra.web.services import HttpServices

DESCRIPTION = """The operations service of the city data-practice certification program.

Sign in with `POST /api/session` (a session cookie, plus a CSRF token to send back in
`X-CSRF-Token` on every state-changing request), or send an API token as
`Authorization: Bearer wwc_...`. Each operation says who may call it. Errors are RFC 9457
problem details with the program's refusal `code`. POSTs accept an `Idempotency-Key`
(kept per account for 24 hours; an answer that holds a secret is never replayed);
saving an assessment draft needs `If-Match` with the ETag it was loaded with."""


def build_app(services: HttpServices) -> FastAPI:
    app = FastAPI(title="WWC certification operations API", version="1.0",
                  description=DESCRIPTION, openapi_url="/openapi.json",
                  # Our own /docs (`docs.py`): Swagger UI from a pinned package, not a CDN.
                  docs_url=None, redoc_url=None,
                  # Our own server span (the access log's, named by route, no city key in
                  # it) is the one HTTP span of a trace; FastAPI's native telemetry would
                  # add its own beside it, and asks OpenTelemetry on every request
                  # whether a provider is set (about a tenth of a cheap read's time).
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.services = services
    # The portal's pages: the same guard and rules as the API, errors as pages.
    app.state.portal = Portal()
    app.state.page_errors = app.state.portal.error_page
    # A city's routes first: they carry most calls (every editor's, every integration's),
    # and a request is matched against the table in order, a few microseconds for each
    # route before its own. No two routes match the same request (a unit test checks),
    # so the order decides nothing else.
    for module in (cities, documents, public, identity, staff, public_pages, city_pages,
                   review_pages, staff_pages, open_data_pages, numbers_pages, download_pages,
                   temporal_ui, docs, accounts_pages, password_pages):
        # The routes themselves rather than `include_router`: FastAPI 0.165 matches an
        # included router's routes twice (the router, then the route inside it), about a
        # tenth of a cheap read's time. These routers add no prefix or dependencies of
        # their own, so a route is the same object either way.
        app.router.routes.extend(module.router.routes)
    problems.install(app)
    routes = list(api_routes(app.routes))
    # A rule is enforced by the route's class (`GuardedRoute` runs the guard first): a rule
    # written into the OpenAPI extras by hand, on a plain route, would guard nothing.
    missing = [f"{sorted(r.methods or ())} {r.path}" for r in routes
               if ACCESS_KEY not in (r.openapi_extra or {}) or not isinstance(r, GuardedRoute)]
    if not routes:  # a table this check cannot read would make it pass vacuously
        raise RuntimeError("no API routes found to check for access rules")
    if missing:  # every route says who may call it; refuse to serve one that does not
        raise RuntimeError(f"routes without an access rule: {', '.join(missing)}")
    # Outermost first: the access log sees every answer, the limit comes before parsing.
    app.add_middleware(BodyLimit)
    app.add_middleware(PublicCache, generations=services.generations)
    # Inside the access log, so a request that ran out of time is logged with its 503.
    app.add_middleware(Deadline, limit=services.settings.request_timeout,
                       health_of=lambda: app.state.services.health)
    app.add_middleware(AccessLog)
    return app
