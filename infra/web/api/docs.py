"""The interactive API documentation (`/docs`): Swagger UI served from this server.

FastAPI's own page loads Swagger UI from a CDN at a floating major version, with no
integrity check: whoever controls that CDN (or the path to it) runs script in the page
that holds a signed-in caller's cookies. Here the assets come from a pinned Python
package (`fastapi-offline`, which ships Swagger UI's release files and nothing else we
use), read once at start, served under content-hashed URLs from our origin, and the page
loads no inline script: its strict Content-Security-Policy allows scripts from this
server only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from infra.web.access import Rule, not_found
from infra.web.routing import route

router = APIRouter()
ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
          "swagger-ui.css": "text/css; charset=utf-8"}
# Swagger UI sets styles inline on its elements; scripts come from this server only.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'")


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    version: str


@cache
def assets() -> dict[str, Asset]:
    folder = resources.files("fastapi_offline").joinpath("static")
    found = {}
    for name, media_type in ASSETS.items():
        body = folder.joinpath(name).read_bytes()
        found[name] = Asset(body, media_type, hashlib.sha256(body).hexdigest()[:16])
    return found


def _url(name: str) -> str:
    return f"/docs/assets/{name}?v={assets()[name].version}"


def page(title: str, init_script: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{_url('swagger-ui.css')}">
</head><body><div id="swagger-ui"></div>
<script src="{_url('swagger-ui-bundle.js')}"></script>
<script src="{escape(init_script)}"></script>
</body></html>"""


@route(router, "GET", "/docs", Rule.PUBLIC, include_in_schema=False,
       response_class=HTMLResponse)
async def docs_page(request: Request) -> HTMLResponse:
    """Swagger UI over /openapi.json."""
    init = request.app.state.portal.static_url("api-docs.js")
    return HTMLResponse(page(f"{request.app.title} - Swagger UI", init), headers={
        "Content-Security-Policy": CSP, "Cache-Control": "no-cache",
        "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"})


@route(router, "GET", "/docs/assets/{name}", Rule.PUBLIC, include_in_schema=False)
async def docs_asset(request: Request, name: str) -> Response:
    """Swagger UI's files, by name (nothing else can be asked for)."""
    found = assets().get(name)
    if found is None:
        raise not_found(name)
    return Response(found.body, media_type=found.media_type,
                    headers={"Cache-Control": "public, max-age=31536000, immutable",
                             "ETag": f'"{found.version}"'})
