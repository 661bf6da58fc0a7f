"""The codec endpoint answers a browser's preflight with CORS headers for the configured
Temporal UI's origin only (WWC_TEMPORAL_UI_URL), never for any other."""

from __future__ import annotations

from unittest.mock import MagicMock

import httpx

from infra.platform.config import Settings
from infra.web.app import build_app

UI = "http://temporal-ui.example:8080"


async def preflight(origin: str) -> dict[str, str]:
    services = MagicMock()
    services.settings = Settings(temporal_ui_url=f"{UI}/namespaces")
    services.health.within = 1.0  # the request deadline reads it to leave time for a probe
    transport = httpx.ASGITransport(app=build_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        answer = await client.options("/codec/decode", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace"})
    assert answer.status_code == 204
    return dict(answer.headers)


async def test_the_configured_ui_may_call_the_codec_across_origins() -> None:
    headers = await preflight(UI)
    assert headers["access-control-allow-origin"] == UI
    assert headers["access-control-allow-credentials"] == "true"
    assert "x-namespace" in headers["access-control-allow-headers"]


async def test_no_other_origin_may() -> None:
    for origin in ("http://evil.example", "http://temporal-ui.example:8081", "null"):
        assert "access-control-allow-origin" not in await preflight(origin)
