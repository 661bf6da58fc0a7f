"""The API application: routes, access rules, errors and middleware, over the services
the composition root gives it."""

from __future__ import annotations

from fastapi import FastAPI

from infra.http import problems
from infra.http.middleware import AccessLog, BodyLimit, Idempotency
from infra.http.public_cache import PublicCache
from infra.http.routes import cities, identity, public, staff
from infra.http.routing import ACCESS_KEY, api_routes
from infra.http.services import HttpServices
from infra.portal.render import Portal
from infra.portal.routes import city as city_pages
from infra.portal.routes import public as public_pages
from infra.portal.routes import review as review_pages
from infra.portal.routes import staff as staff_pages

DESCRIPTION = """The operations service of the city data-practice certification program.

Sign in with `POST /api/session` (a session cookie, plus a CSRF token to send back in
`X-CSRF-Token` on every state-changing request), or send an API token as
`Authorization: Bearer wwc_...`. Each operation says who may call it. Errors are RFC 9457
problem details with the program's refusal `code`. POSTs accept an `Idempotency-Key`;
saving an assessment draft needs `If-Match` with the ETag it was loaded with."""


def build_app(services: HttpServices) -> FastAPI:
    app = FastAPI(title="WWC certification operations API", version="1.0",
                  description=DESCRIPTION, openapi_url="/openapi.json", docs_url="/docs",
                  redoc_url=None)
    app.state.services = services
    # The portal's pages: the same guard and rules as the API, errors as pages.
    app.state.portal = Portal()
    app.state.page_errors = app.state.portal.error_page
    for module in (public, identity, cities, staff, public_pages, city_pages, review_pages,
                   staff_pages):
        app.include_router(module.router)
    problems.install(app)
    routes = list(api_routes(app.routes))
    missing = [f"{sorted(r.methods or ())} {r.path}" for r in routes
               if ACCESS_KEY not in (r.openapi_extra or {})]
    if not routes:  # a table this check cannot read would make it pass vacuously
        raise RuntimeError("no API routes found to check for access rules")
    if missing:  # every route says who may call it; refuse to serve one that does not
        raise RuntimeError(f"routes without an access rule: {', '.join(missing)}")
    # Outermost first: the access log sees every answer, the limit comes before parsing.
    app.add_middleware(Idempotency, pool_of=lambda: app.state.services.pool)
    app.add_middleware(BodyLimit)
    app.add_middleware(PublicCache, generations=services.generations)
    app.add_middleware(AccessLog)
    return app
