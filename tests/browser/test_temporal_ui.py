"""The stock Temporal web UI, in Chromium, against `wwc up`: an operator signed in to the
portal opens it under the API's `/temporal/` and reads decoded payloads (the UI calls the
API's codec endpoint with the operator's session); anyone opening the UI's own port reads
ciphertext, and the API's `/temporal/` sends them to sign in. The two screenshots are the
README's (docs/screenshots/temporal-ui-*.png)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import ARTIFACTS, sign_in
from tests.e2e.conftest import WWC, clean_env, wwc_up

pytestmark = pytest.mark.browser
CITY = "us-rock-hill-sc"
WORKFLOW_PAGE = f"/temporal/namespaces/default/workflows/{quote(f'city/{CITY}', safe='')}"
OPERATOR = "op@program.test"
DECODED = re.compile('"city_key": "us-rock-hill-sc"')  # the workflow's input, opened
SEALED = re.compile("[A-Za-z0-9+/]{60,}")  # the same input: base64 of its ciphertext


@dataclass
class Served:
    api: str
    ui_port: str  # the dev server's own UI, with no session and no codec behind it
    password: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("temporal-ui")
    env = clean_env(data_dir)

    def wwc(*args: str) -> str:
        done = subprocess.run([WWC, *args], env=env, capture_output=True, text=True,
                              timeout=180, check=False)
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    made = wwc("users", "add", OPERATOR, "--role", "operator")
    password = re.search(r"one-time password: (\S+)", made)
    assert password is not None
    with wwc_up(env, data_dir / "up.log"):
        api = f"http://{env['WWC_HTTP_ADDRESS']}"
        # A one-time password opens nothing until it is changed: the operator's own.
        chosen = "the operator's own passphrase"
        with httpx.Client(base_url=api, timeout=90) as http:
            signed = http.post("/api/session", json={"email": OPERATOR,
                                                     "password": password.group(1)})
            changed = http.put("/api/me/password", json={
                "current_password": password.group(1), "new_password": chosen},
                headers={"X-CSRF-Token": signed.json()["csrf_token"]})
            assert changed.status_code == 200, changed.text
        wwc("join", "--name", "Rock Hill, SC", "--country", "US", "--population", "74372")
        server = json.loads((data_dir / "temporal.json").read_text())
        yield Served(api, server["ui_url"], chosen)


def workflow_page(page: Page, url: str, shows: re.Pattern[str]) -> str:
    """What the city's workflow page says once it `shows` the pattern (the UI is a heavy
    page, slow under load)."""
    page.goto(url)
    page.wait_for_function("pattern => new RegExp(pattern).test(document.body.innerText)",
                           arg=shows.pattern, timeout=150_000)
    page.wait_for_timeout(2_000)
    return page.inner_text("main")


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_an_operator_reads_decoded_payloads(browser: Browser, served: Served) -> None:
    context = browser.new_context(base_url=served.api, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    page = context.new_page()
    decoded = []
    page.on("response", lambda r: decoded.append(r.status)
            if r.url.startswith(f"{served.api}/codec/decode") else None)
    sign_in(page, OPERATOR, served.password)
    shown = workflow_page(page, WORKFLOW_PAGE, DECODED)
    shoot(page, "temporal-ui-operator")
    assert DECODED.search(shown)
    assert "Codec Server could not connect" not in shown
    assert decoded
    assert set(decoded) == {200}
    context.close()


def test_anyone_else_reads_ciphertext(browser: Browser, served: Served) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    page = context.new_page()
    refused = []
    page.on("response", lambda r: refused.append(r.status) if "/codec/decode" in r.url else None)
    shown = workflow_page(page, f"{served.ui_port}{WORKFLOW_PAGE}", SEALED)
    shoot(page, "temporal-ui-anyone")
    assert "city_key" not in shown
    assert refused
    assert 200 not in refused  # no codec answers there
    # The API's /temporal/ is for operators: anyone else is sent to sign in.
    page.goto(f"{served.api}/temporal/")
    assert "/sign-in" in page.url
    context.close()


def test_screenshots_are_where_the_readme_shows_them() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    for name in ("temporal-ui-operator", "temporal-ui-anyone"):
        assert (docs / f"{name}.png").exists(), name
