"""Temporal, for operators only: the codec endpoint that opens sealed payloads (Temporal's
remote codec protocol: `POST /codec/decode` and `/codec/encode` with
`{"payloads": [{"metadata": {...}, "data": BASE64}]}`), and the Temporal web UI served
under `/temporal/` from the UI server `WWC_TEMPORAL_UI_BACKEND` names (`wwc up`: the dev
server's, started with `--ui-public-path /temporal --ui-codec-endpoint /codec`: see
`infra/temporal/ui.py`).

So an operator's browser reads the UI and calls the codec at this server's own origin,
with the operator's session, and sees decoded histories; anyone else (the UI's own port,
the stock CLI) sees ciphertext. The codec endpoint changes nothing: it opens payloads for
an operator, and what it seals is marked as sealed by it, which the service's workers
never take as input (`infra/temporal/codec.py`); so it needs no CSRF token, which the
stock UI could not send. A Temporal UI on another origin (`WWC_TEMPORAL_UI_URL`) may call
it across origins (CORS for that origin only, with credentials)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Body, HTTPException, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from infra.temporal.codec import BY_ENDPOINT, EncryptionCodec
from infra.temporal.ui import UI_PATH as UI_PREFIX
from infra.web.access import Denied, Rule
from infra.web.routing import SESSION_COOKIE, route
from infra.web.services import services

router = APIRouter()
# What the UI's answers keep; the rest (hop-by-hop headers, lengths and encodings of a
# body that is sent on decoded) is the proxy's own business.
_KEPT_HEADERS = ("content-type", "cache-control", "etag", "last-modified", "set-cookie",
                 "location", "content-security-policy")
_PROXY_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
_PAYLOADS_EXAMPLE = {"payloads": [{"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA=="},
                                   "data": "..."}]}


def _codec(request: Request) -> EncryptionCodec:
    """The service's keys, as the endpoint uses them: shows what is not ours as it is,
    marks what it seals."""
    found: EncryptionCodec | None = getattr(request.app.state, "codec_endpoint", None)
    if found is None:
        service = services(request).program.payload_codec
        if not isinstance(service, EncryptionCodec):
            raise Denied(404, "payloads are not sealed by this service: nothing to decode")
        found = EncryptionCodec(service.keys, foreign="pass", sealer=BY_ENDPOINT)
        request.app.state.codec_endpoint = found
    return found


def _ui_origin(request: Request) -> str | None:
    """The origin of a Temporal UI elsewhere (WWC_TEMPORAL_UI_URL), if not this server's."""
    url = services(request).settings.temporal_ui_url
    if not url:
        return None
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin if origin != own else None


def _cors(request: Request) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin is None or origin != _ui_origin(request):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "content-type, x-namespace, authorization",
            "Vary": "Origin"}


async def _apply(request: Request, decode: bool) -> Response:
    try:
        payloads = json_format.Parse(await request.body(), Payloads())
    except json_format.ParseError as error:
        raise HTTPException(400, f"not a list of payloads: {error}") from None
    codec = _codec(request)
    done = await (codec.decode if decode else codec.encode)(payloads.payloads)
    return Response(json_format.MessageToJson(Payloads(payloads=done)),
                    media_type="application/json", headers=_cors(request))


@route(router, "POST", "/codec/decode", Rule.OPERATOR, changes_nothing=True,
       summary="Decode sealed Temporal payloads (remote codec protocol)",
       response_class=JSONResponse)
async def codec_decode(request: Request, body: Annotated[dict[str, object], Body(
        examples=[_PAYLOADS_EXAMPLE])]) -> Response:
    """Opens the payloads sealed by this service (what is not sealed is answered as it
    is): for the Temporal UI an operator opens at `/temporal/`, or the stock CLI
    (`temporal workflow show --codec-endpoint URL/codec --codec-auth "Bearer TOKEN"`)."""
    return await _apply(request, decode=True)


@route(router, "POST", "/codec/encode", Rule.OPERATOR, changes_nothing=True,
       summary="Encode Temporal payloads (remote codec protocol)",
       response_class=JSONResponse)
async def codec_encode(request: Request, body: Annotated[dict[str, object], Body(
        examples=[_PAYLOADS_EXAMPLE])]) -> Response:
    """Seals payloads the way the Temporal UI asks when an operator types an input there.
    What it seals is marked as sealed here, and the service never takes it as a command,
    a signal or a workflow's input: commands go through this API or `wwc`."""
    return await _apply(request, decode=False)


@route(router, "OPTIONS", "/codec/{operation}", Rule.PUBLIC, include_in_schema=False)
async def codec_preflight(request: Request, operation: str) -> Response:
    """A browser's preflight from the Temporal UI's origin (WWC_TEMPORAL_UI_URL)."""
    return Response(status_code=204, headers=_cors(request))


@route(router, "GET", UI_PREFIX, Rule.OPERATOR, include_in_schema=False)
async def temporal_ui_root(request: Request) -> Response:
    return RedirectResponse(f"{UI_PREFIX}/", status_code=307)


@route(router, "GET", f"{UI_PREFIX}/{{path:path}}", Rule.OPERATOR, include_in_schema=False)
async def temporal_ui(request: Request, path: str) -> Response:
    """The Temporal web UI, for operators (read-only: its write actions are not
    forwarded; control Temporal with the `temporal` CLI where you have its access)."""
    backend = services(request).settings.temporal_ui_backend
    if not backend:
        raise Denied(404, "no Temporal UI is served here (WWC_TEMPORAL_UI_BACKEND is unset)")
    backend = backend.rstrip("/")
    # Our session stays here: the UI server gets its own cookies only.
    cookies = "; ".join(f"{name}={value}" for name, value in request.cookies.items()
                        if name != SESSION_COOKIE)
    headers = {name: value for name, value in (
        ("accept", request.headers.get("accept")),
        ("accept-language", request.headers.get("accept-language")),
        ("cookie", cookies or None)) if value}
    # The path as it came, still encoded: a workflow id's slash (city%2Fus-...) must reach
    # the UI server as one path segment.
    raw: bytes = request.scope.get("raw_path") or request.url.path.encode()
    url = f"{backend}{raw.decode('latin-1')}"
    if request.url.query:
        url += f"?{request.url.query}"
    async with httpx.AsyncClient(timeout=_PROXY_TIMEOUT) as client:
        try:
            upstream = await client.get(httpx.URL(url), headers=headers)
        except httpx.HTTPError as error:
            raise HTTPException(503, f"the Temporal UI does not answer "
                                     f"({type(error).__name__})") from None
    answer = Response(upstream.content, status_code=upstream.status_code)
    for name in _KEPT_HEADERS:
        for value in upstream.headers.get_list(name):
            if name == "location":
                value = value.removeprefix(backend)
            answer.headers.append(name, value)
    return answer
