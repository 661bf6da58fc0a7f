"""The program's access policy, written down once more by hand: each route and who may
call it. The app's declared rules must equal it, so a new route (or a changed rule) fails
here until someone decides, in review, who may call it; the end-to-end matrix
(`tests/e2e/test_api_access.py`) then checks the rules are enforced."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import pytest

from infra.web.app import build_app
from infra.web.routing import api_routes

POLICY = {
    ("GET", "/api/registry"): "public",
    ("GET", "/api/registry/{key}"): "public",
    ("GET", "/api/cohorts"): "public",
    ("POST", "/api/cohorts"): "operator",
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "operator",
    ("POST", "/api/session"): "public",
    # What an account whose password an admin set may still do: change it, say who it
    # is, sign out (every other route refuses it until it has changed it).
    ("DELETE", "/api/session"): "self",
    ("PUT", "/api/me/password"): "self",
    ("GET", "/api/me"): "self",
    ("POST", "/api/password-reset"): "public",  # forgot password: the same answer for all
    ("PUT", "/api/me/digest"): "signed_in",
    ("POST", "/api/cities"): "signed_in",
    ("GET", "/api/cities"): "operator",
    ("GET", "/api/cities/{key}"): "city",
    ("GET", "/api/cities/{key}/application"): "city",
    ("PUT", "/api/cities/{key}/assessment"): "city_editor",
    ("POST", "/api/cities/{key}/assessment/preview"): "city_editor",
    ("POST", "/api/cities/{key}/assessment/submit"): "city_editor",
    ("POST", "/api/cities/{key}/clarifications/{clarification_id}/answer"): "city_editor",
    ("GET", "/api/cities/{key}/report"): "city",
    ("GET", "/api/cities/{key}/history"): "city",
    ("POST", "/api/cities/{key}/reapply"): "city_editor",
    ("POST", "/api/cities/{key}/withdraw"): "city_editor",
    # Evidence documents: the city's private data (its editors, the reviewer assigned,
    # the staff); only its editors (and the staff) add or remove them.
    ("POST", "/api/cities/{key}/documents"): "city_editor",
    ("GET", "/api/cities/{key}/documents"): "city",
    ("GET", "/api/cities/{key}/documents/{sha256}"): "city",
    ("DELETE", "/api/cities/{key}/documents/{sha256}"): "city_editor",
    ("POST", "/api/cities/{key}/reviews"): "assigned_reviewer",
    ("POST", "/api/cities/{key}/clarifications"): "assigned_reviewer",
    ("POST", "/api/cities/{key}/review/complete"): "assigned_reviewer",
    # The reviewer's sheet, saved as they go (recorded with the completion).
    ("GET", "/api/cities/{key}/review/sheet"): "assigned_reviewer",
    ("PUT", "/api/cities/{key}/review/sheet"): "assigned_reviewer",
    ("GET", "/api/pipeline"): "operator",
    ("GET", "/api/reviews"): "reviewer",
    ("POST", "/api/cities/{key}/reviewer"): "operator",
    ("POST", "/api/cities/{key}/decision"): "operator",
    ("POST", "/api/cohorts/{cohort_id}/announce"): "operator",
    ("GET", "/api/audit"): "operator",
    ("GET", "/api/stats"): "operator",
    ("GET", "/api/accounts"): "admin",
    ("POST", "/api/accounts"): "admin",
    ("POST", "/api/accounts/{account_id}/disable"): "admin",
    ("POST", "/api/accounts/{account_id}/enable"): "admin",
    ("POST", "/api/accounts/invitations"): "admin",
    ("POST", "/api/accounts/{account_id}/invitation"): "admin",
    ("POST", "/api/accounts/{account_id}/password-reset"): "admin",
    ("GET", "/api/tokens"): "admin",
    ("POST", "/api/tokens"): "admin",
    ("DELETE", "/api/tokens/{token_id}"): "admin",
    # Temporal for operators: the codec endpoint (a browser's preflight for it is public,
    # and answers nothing but CORS headers) and the proxied Temporal UI.
    ("POST", "/codec/decode"): "operator",
    ("POST", "/codec/encode"): "operator",
    ("OPTIONS", "/codec/{operation}"): "public",
    ("GET", "/temporal"): "operator",
    ("GET", "/temporal/{path:path}"): "operator",
    # The portal's pages (not in the OpenAPI document), behind the same guard.
    ("GET", "/"): "public",
    ("GET", "/cities/{key}"): "public",
    ("GET", "/cohorts"): "public",
    ("GET", "/cohorts/{cohort_id}"): "public",
    ("GET", "/certificates/{key}/{awarded_on}"): "public",
    ("GET", "/sign-in"): "public",
    ("POST", "/sign-in"): "public",  # the sign-in form without JavaScript
    ("GET", "/static/{name}"): "public",
    ("POST", "/portal/refusal"): "public",  # a refusal in words; records nothing
    ("GET", "/favicon.ico"): "public",
    # Open data: the page, the files and a certified city's badge (only what is already
    # public is in them: tests/integration/test_open_data.py holds them to it).
    ("GET", "/open-data/"): "public",
    ("GET", "/open-data/registry.csv"): "public",
    ("GET", "/open-data/registry.json"): "public",
    ("GET", "/open-data/history.csv"): "public",
    ("GET", "/open-data/history.json"): "public",
    ("GET", "/open-data/registry.schema.json"): "public",
    ("GET", "/open-data/history.schema.json"): "public",
    ("GET", "/open-data/datapackage.json"): "public",
    ("GET", "/open-data/cohorts.atom"): "public",
    ("GET", "/open-data/catalog.json"): "public",
    ("GET", "/cities/{key}/badge.svg"): "public",
    ("GET", "/cities/{key}/certificate"): "public",
    ("GET", "/docs"): "public",  # Swagger UI, from the server's own files
    ("GET", "/docs/assets/{name}"): "public",
    ("GET", "/portal"): "signed_in",
    ("GET", "/portal/join"): "signed_in",
    ("GET", "/portal/cities/{key}"): "city",
    ("GET", "/portal/cities/{key}/assessment"): "city_editor",
    # The confirmation steps: what will happen, asked once more, then the form.
    ("GET", "/portal/cities/{key}/assessment/submit"): "city_editor",
    ("POST", "/portal/cities/{key}/assessment/submit"): "city_editor",
    ("POST", "/portal/cities/{key}/assessment/confirm"): "city_editor",
    ("POST", "/portal/cities/{key}/decision"): "operator",
    ("GET", "/portal/cohorts/{cohort_id}/announce"): "operator",
    ("POST", "/portal/cohorts/{cohort_id}/announce"): "operator",
    ("GET", "/portal/reviews"): "reviewer",
    ("GET", "/portal/cities/{key}/review"): "assigned_reviewer",
    # A reviewer's history, and one review read-only (theirs: another's is not found).
    ("GET", "/portal/reviews/history"): "reviewer",
    ("GET", "/portal/cities/{key}/reviews/{number}"): "its_reviewer",
    ("GET", "/portal/pipeline"): "operator",
    ("GET", "/portal/cohorts"): "operator",
    ("GET", "/portal/outbox"): "operator",
    # The program in numbers, and each chart's figures as CSV.
    ("GET", "/portal/numbers"): "operator",
    ("GET", "/portal/numbers/{chart}.csv"): "operator",
    ("GET", "/portal/accounts"): "admin",
    ("GET", "/portal/accounts/{account_id}"): "admin",
    ("POST", "/portal/accounts/invite"): "admin",
    ("POST", "/portal/accounts/{account_id}/reset"): "admin",
    ("POST", "/portal/accounts/{account_id}/disable"): "admin",
    ("POST", "/portal/accounts/{account_id}/enable"): "admin",
    # Getting in without a password passed around: forgot password, the page a mailed
    # link opens (its secret is the credential), and one's own password.
    ("GET", "/forgot-password"): "public",
    ("POST", "/forgot-password"): "public",
    ("GET", "/set-password"): "public",
    ("POST", "/set-password"): "public",
    ("GET", "/account/password"): "self",
    ("POST", "/account/password"): "self",
    # What the portal gives to keep (infra/web/portal/download_pages.py): a certificate's
    # PDF as public as its page (announced certifications only), a city's report as its
    # page, and each list's CSV under its page's rule.
    ("GET", "/certificates/{key}/{awarded_on}/certificate.pdf"): "public",
    ("GET", "/portal/cities/{key}/report.pdf"): "city",
    ("GET", "/registry.csv"): "public",
    ("GET", "/portal/pipeline.csv"): "operator",
    ("GET", "/portal/expiring.csv"): "operator",
    ("GET", "/portal/cohorts.csv"): "operator",
    ("GET", "/portal/reviews.csv"): "reviewer",
    ("GET", "/portal/outbox.csv"): "operator",
    ("GET", "/portal/accounts.csv"): "admin",
}


def declared() -> dict[tuple[str, str], Any]:
    # The route table itself (pages are not in the OpenAPI document, and must be here).
    return {(method, route.path): (route.openapi_extra or {}).get("x-wwc-access")
            for route in api_routes(build_app(MagicMock()).routes)
            for method in route.methods or ()}


def test_every_route_has_the_rule_the_policy_gives_it() -> None:
    assert declared() == POLICY


def test_nothing_but_reading_the_registry_and_signing_in_is_open_to_anyone() -> None:
    public = {route for route, rule in POLICY.items() if rule == "public"}
    # Signing in; a browser's CORS preflight for the codec endpoint answers headers,
    # nothing else.
    # A refusal said in words changes nothing either.
    # Asking for a password reset answers the same whoever asks; choosing a password by
    # a mailed link needs the link's secret.
    opened = public - {("POST", "/api/session"), ("POST", "/sign-in"),
                       ("OPTIONS", "/codec/{operation}"), ("POST", "/portal/refusal"),
                       ("POST", "/api/password-reset"), ("POST", "/forgot-password"),
                       ("POST", "/set-password")}
    assert all(method == "GET" for method, _ in opened)


def test_a_route_without_an_access_rule_stops_the_app(monkeypatch: Any) -> None:
    from fastapi import APIRouter

    from infra.web.api import public

    unguarded = APIRouter()
    unguarded.add_api_route("/api/unguarded", lambda: None, methods=["GET"])
    monkeypatch.setattr(public, "router", unguarded)
    with pytest.raises(RuntimeError, match="/api/unguarded"):
        build_app(MagicMock())


def test_a_rule_written_on_a_route_that_does_not_enforce_it_stops_the_app(
        monkeypatch: Any) -> None:
    from fastapi import APIRouter

    from infra.web.api import public

    unenforced = APIRouter()
    unenforced.add_api_route("/api/unenforced", lambda: None, methods=["GET"],
                             openapi_extra={"x-wwc-access": "public"})
    monkeypatch.setattr(public, "router", unenforced)
    with pytest.raises(RuntimeError, match="/api/unenforced"):
        build_app(MagicMock())


def test_no_two_routes_match_the_same_request() -> None:
    # The app orders its table by traffic, not by specificity: that is safe only while
    # each request can match one route at most, whatever the order.
    import re

    from starlette.routing import Match

    routes = list(api_routes(build_app(MagicMock()).routes))
    for route in routes:
        path = re.sub(r"{[^}]+}", "x1", route.path)
        for method in route.methods or ():
            scope = {"type": "http", "method": method, "path": path, "root_path": ""}
            full = [other.path for other in routes
                    if other.matches(scope)[0] is Match.FULL]
            assert full == [route.path], (method, path, full)
