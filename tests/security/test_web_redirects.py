"""After a real sign-in, in a real browser (Chromium driven by Playwright), the page goes
where `next` says only when that is a path on this site: `/sign-in?next=/%5Cevil.example/x`
and `next=/%09/evil.example` landed the browser on another site. With JavaScript off the
form posts (the password never in a URL) and lands on the same safe place.

Every request the browser would send to anywhere but this server is refused in the
browser and recorded: the test sends nothing beyond loopback."""

from __future__ import annotations

import functools
import re
import time

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route

from tests.browser.conftest import browser, new_context, playwright, portal
from tests.e2e.api_service import ADMIN_EMAIL, ADMIN_PASSWORD, ApiService

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
__all__ = ["browser", "playwright", "portal"]  # fixtures

# As written in the address bar (the query string, not yet decoded).
PAYLOADS = ["/%5Cevil.example/x", "/%09/evil.example", "//evil.example/x", "/\\evil.example/x",
            "/%2F%2Fevil.example", "/%252F%252Fevil.example", "/%0A/evil.example",
            "https://evil.example/x", "javascript:alert(document.domain)",
            "%2F%2Fevil.example"]
LANDING = "/portal"  # where a sign-in goes by default (an admin's then goes on to its board)


def guarded(browser: Browser, portal: ApiService, **options: bool) -> tuple[
        BrowserContext, list[str]]:
    """A browser context that may reach this server only; what else it tried."""
    context = new_context(browser, portal, **options)
    elsewhere: list[str] = []
    origin = portal.url

    def refuse(route: Route) -> None:
        elsewhere.append(route.request.url)
        route.abort()

    context.route(re.compile(rf"^(?!{re.escape(origin)}/)"), refuse)
    return context, elsewhere


def record(sent: list[str], request: Request) -> None:
    sent.append(request.url)


def settle(page: Page, away_from: str) -> None:
    """Wait until the page has left `away_from` (or 10 s have passed)."""
    deadline = time.monotonic() + 10
    while away_from in page.url and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    page.wait_for_load_state()


def sign_in_with(page: Page, payload: str) -> None:
    page.goto(f"/sign-in?next={payload}")
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", ADMIN_PASSWORD)
    page.click("form[data-sign-in] button[type=submit]")
    settle(page, "/sign-in")


def test_after_signing_in_the_browser_stays_on_this_site(browser: Browser,
                                                         portal: ApiService) -> None:
    for payload in PAYLOADS:
        context, elsewhere = guarded(browser, portal)
        page = context.new_page()
        sign_in_with(page, payload)
        assert elsewhere == [], (payload, elsewhere)
        assert page.url.startswith(f"{portal.url}{LANDING}"), (payload, page.url)
        context.close()
    # A path on this site is followed.
    context, elsewhere = guarded(browser, portal)
    page = context.new_page()
    sign_in_with(page, "/cohorts%3Flang%3Des")
    assert page.url == f"{portal.url}/cohorts?lang=es"
    assert elsewhere == []
    context.close()


def test_without_javascript_the_form_posts_and_lands_on_this_site(
        browser: Browser, portal: ApiService) -> None:
    for payload in ["/%5Cevil.example/x", "/%09/evil.example", "/cohorts%3Flang%3Des"]:
        context, elsewhere = guarded(browser, portal, java_script_enabled=False)
        sent: list[str] = []
        context.on("request", functools.partial(record, sent))
        page = context.new_page()
        sign_in_with(page, payload)
        expected = "/cohorts?lang=es" if payload.startswith("/cohorts") else LANDING
        assert page.url.startswith(f"{portal.url}{expected}"), (payload, page.url)
        assert elsewhere == []
        assert not [url for url in sent if "password" in url or "horse" in url], sent
        assert page.locator("h1").count() > 0
        context.close()
