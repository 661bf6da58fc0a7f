"""The portal in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium;
`make test` installs it) against `wwc up` on the embedded stack. Every page a test opens
is scanned by axe-core and photographed under the run's artifacts."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from infra.mail.catcher import stored_messages
from tests.e2e.api_service import ApiService, serving
from tests.e2e.conftest import REPO

CHROMIUM = os.environ.get("WWC_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("WWC_TEST_ARTIFACTS", REPO / ".artifacts")) / "screenshots"
# Without these flags Chromium reaches out to Google's hosts at start and on its own.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
SERIOUS = {"serious", "critical"}


# Module scope, not session: the sync API keeps its own event loop running while it is
# open, and the asyncio tests after this module need none running.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (make test does)")
    with sync_playwright() as found:
        yield found


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiService]:
    with serving(tmp_path_factory.mktemp("wwc-portal")) as service:
        yield service


@dataclass
class Visits:
    """What the tests saw: every page scanned by axe, and its violations."""

    axe: Axe = field(default_factory=Axe)
    scanned: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def check(self, page: Page, name: str, *, screenshots: bool = True) -> None:
        """Scan the page as it stands, and keep a screenshot named `name` (unless told
        not to: a walk that scans the same pages in every language keeps one language's
        pictures, the costly part of a scan)."""
        if screenshots:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            page.screenshot(path=str(ARTIFACTS / f"{name}-top.png"))  # what a visitor sees first
        results: dict[str, Any] = self.axe.run(page).response
        self.scanned.append(name)
        for violation in results["violations"]:
            if violation.get("impact") in SERIOUS:
                nodes = "; ".join(n["target"][0] if isinstance(n["target"][0], str)
                                  else str(n["target"]) for n in violation["nodes"][:3])
                self.violations.append(f"{name}: {violation['id']} ({violation['impact']}): "
                                       f"{violation['help']} at {nodes}")


@pytest.fixture(scope="module")
def visits() -> Visits:
    return Visits()


def new_context(browser: Browser, portal: ApiService, **options: Any) -> BrowserContext:
    context = browser.new_context(base_url=portal.url, viewport={"width": 1280, "height": 900},
                                  **options)
    context.set_default_timeout(30_000)
    return context


def sign_in(page: Page, email: str, password: str, *, keyboard: bool = False) -> None:
    page.goto("/sign-in")
    if keyboard:  # Tab from the top of the page, as someone without a mouse would
        page.locator("#email").focus()
        page.keyboard.type(email)
        page.keyboard.press("Tab")
        page.keyboard.type(password)
        page.keyboard.press("Enter")
    else:
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("form[data-sign-in] button[type=submit]")
    page.wait_for_url(re.compile(r".*/portal.*"))


def mailed_link(portal: ApiService, to: str) -> str:
    """The link in the newest message to `to` that the stack's mail catcher received (the
    worker sends it a moment after the invitation is recorded)."""
    folder = Path(portal.env["WWC_DATA_DIR"]) / "mail"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = [m for m in stored_messages(folder) if str(m["To"]) == to]
        if found:
            body = found[-1].get_body(("plain",))
            assert body is not None
            link = re.search(r"http://\S+/set-password\?\S+", body.get_content())
            assert link is not None, body.get_content()
            return link.group(0)
        time.sleep(0.25)
    raise AssertionError(f"no mail to {to} within 60 s")
